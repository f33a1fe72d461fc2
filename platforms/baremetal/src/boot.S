// The entry point of the kernel, shared by every board: QEMU (ELF on `virt`, kernel8.img on
// `raspi3b`) and the Raspberry Pi firmware jump here with the MMU off, on every core at once
// (raspi) or on core 0 only (virt), at EL3, EL2 or EL1. Core 0 drops to EL1, turns on the
// FP/SIMD unit (Rust uses it), sets up the stack, clears .bss and calls `kernel_main`; the
// other cores sleep for ever.
.section .text.boot, "ax"
.global _start
_start:
    mrs     x1, mpidr_el1
    and     x1, x1, #0xff
    cbz     x1, 1f
0:  wfe
    b       0b
1:  mrs     x1, CurrentEL
    lsr     x1, x1, #2
    cmp     x1, #3
    b.ne    2f
    // EL3 -> EL2 set-up below, then straight to EL1: non-secure, EL2 present, AArch64 below.
    mov     x2, #0x5b1
    msr     scr_el3, x2
    mov     x2, #0x3c5
    msr     spsr_el3, x2
    adr     x2, 2f
    msr     elr_el3, x2
    eret
2:  cmp     x1, #2
    b.ne    3f
    // EL2 -> EL1: EL1 is AArch64, no FP/SIMD traps, the counters readable from EL1.
    mov     x2, #(1 << 31)
    msr     hcr_el2, x2
    mov     x2, #0x33ff
    msr     cptr_el2, x2
    msr     hstr_el2, xzr
    mrs     x2, cnthctl_el2
    orr     x2, x2, #3
    msr     cnthctl_el2, x2
    msr     cntvoff_el2, xzr
    mov     x2, #0x3c5
    msr     spsr_el2, x2
    adr     x2, 3f
    msr     elr_el2, x2
    eret
3:  mov     x2, #(3 << 20)
    msr     cpacr_el1, x2
    isb
    ldr     x2, =__stack_top
    mov     sp, x2
    ldr     x2, =__bss_start
    ldr     x3, =__bss_end
4:  cmp     x2, x3
    b.hs    5f
    str     xzr, [x2], #8
    b       4b
5:  bl      kernel_main
6:  wfe
    b       6b
