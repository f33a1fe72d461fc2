//! AArch64 at EL1 with nothing beneath: exception vectors that report what went wrong, an
//! identity-mapped MMU with the caches on, and the generic timer as the millisecond clock.

use core::arch::{asm, global_asm};
use core::ptr::addr_of_mut;

// Every exception is fatal here (the kernel polls, it takes no interrupts): each vector
// passes its number to `st80_exception`, which prints the syndrome and stops.
global_asm!(
    r#"
.section .text.vectors, "ax"
.balign 2048
.global st80_vectors
st80_vectors:
.irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
.balign 0x80
    mov     x0, #\i
    b       st80_exception
.endr
"#
);

#[no_mangle]
extern "C" fn st80_exception(vector: u64) -> ! {
    let (esr, elr, far): (u64, u64, u64);
    // SAFETY: reading EL1 system registers has no side effects.
    unsafe {
        asm!("mrs {}, esr_el1", out(reg) esr);
        asm!("mrs {}, elr_el1", out(reg) elr);
        asm!("mrs {}, far_el1", out(reg) far);
    }
    crate::println!("\nst80: CPU exception {vector}: ESR {esr:#x} at {elr:#x} (address {far:#x})");
    halt()
}

/// Installs the exception vectors.
pub fn init_exceptions() {
    extern "C" {
        static st80_vectors: u8;
    }
    // SAFETY: the table is 2 KiB aligned code in .text; VBAR_EL1 only redirects exceptions.
    unsafe {
        let base = core::ptr::addr_of!(st80_vectors) as u64;
        asm!("msr vbar_el1, {}", "isb", in(reg) base);
    }
}

/// Stops this core for ever.
pub fn halt() -> ! {
    loop {
        // SAFETY: waits for an event; nothing else.
        unsafe { asm!("wfe") };
    }
}

/// Waits a little (until the next event, or not at all where events are not modelled); the
/// idle loop calls this between looks at the clock and the input devices.
pub fn relax() {
    // SAFETY: as in `halt`.
    unsafe { asm!("wfe") };
}

/// The generic timer's counter (CNTVCT_EL0) and its frequency.
pub fn counter() -> u64 {
    let c: u64;
    // SAFETY: reading the virtual counter, allowed at EL1 (and EL0).
    unsafe { asm!("isb", "mrs {}, cntvct_el0", out(reg) c) };
    c
}

pub fn counter_frequency() -> u64 {
    let f: u64;
    // SAFETY: reading CNTFRQ_EL0.
    unsafe { asm!("mrs {}, cntfrq_el0", out(reg) f) };
    f.max(1)
}

/// Milliseconds since the counter started (at power-on).
pub fn millis() -> u64 {
    (counter() as u128 * 1000 / counter_frequency() as u128) as u64
}

/// Microseconds since the counter started.
pub fn micros() -> u64 {
    (counter() as u128 * 1_000_000 / counter_frequency() as u128) as u64
}

/// Busy-waits `us` microseconds.
pub fn delay_us(us: u64) {
    let end = micros() + us;
    while micros() < end {}
}

/// How a region of the physical address space is mapped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Memory {
    /// RAM: write-back cacheable.
    Normal,
    /// RAM another bus master reads without cache maintenance (a framebuffer).
    NonCacheable,
    /// Device registers.
    Device,
    /// Nothing there: any access faults.
    Unmapped,
}

#[repr(C, align(4096))]
struct Table([u64; 512]);

/// The translation tables: one level-1 table of four 1 GiB entries, each a level-2 table of
/// 2 MiB blocks, identity-mapping the first 4 GiB.
static mut LEVEL1: Table = Table([0; 512]);
static mut LEVEL2: [Table; 4] = [const { Table([0; 512]) }; 4];

/// Memory attribute indices (MAIR_EL1): 0 device nGnRnE, 1 normal write-back, 2 normal
/// non-cacheable.
const MAIR: u64 = (0xff << 8) | (0x44 << 16);

/// Identity-maps the first 4 GiB in 2 MiB blocks as `kind` says and turns on the MMU and the
/// caches (needed on real hardware: without them memory is device memory, slow, and has no
/// exclusive monitor for the allocator's lock).
pub fn enable_mmu(kind: impl Fn(u64) -> Memory) {
    const BLOCK: u64 = 0b01;
    const TABLE: u64 = 0b11;
    const AF: u64 = 1 << 10;
    const INNER_SHAREABLE: u64 = 3 << 8;
    const NEVER_EXECUTE: u64 = (1 << 54) | (1 << 53);
    // SAFETY: runs once at boot, single core, before anything else uses the tables.
    unsafe {
        let l1 = &mut *addr_of_mut!(LEVEL1);
        let l2 = &mut *addr_of_mut!(LEVEL2);
        for (gib, table) in l2.iter_mut().enumerate() {
            for (i, entry) in table.0.iter_mut().enumerate() {
                let addr = ((gib as u64) << 30) | ((i as u64) << 21);
                *entry = match kind(addr) {
                    Memory::Normal => addr | BLOCK | AF | INNER_SHAREABLE | (1 << 2),
                    Memory::NonCacheable => addr | BLOCK | AF | INNER_SHAREABLE | (2 << 2) | NEVER_EXECUTE,
                    Memory::Device => addr | BLOCK | AF | NEVER_EXECUTE,
                    Memory::Unmapped => 0,
                };
            }
            l1.0[gib] = table as *const Table as u64 | TABLE;
        }
        // 4 GiB of virtual addresses (T0SZ 32) with 4 KiB pages, walks cacheable and inner
        // shareable, no TTBR1 walks (EPD1), 32-bit physical addresses.
        let tcr: u64 = 32 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23);
        asm!(
            "dsb ish",
            "msr mair_el1, {mair}",
            "msr tcr_el1, {tcr}",
            "msr ttbr0_el1, {ttbr}",
            "isb",
            "tlbi vmalle1",
            "dsb ish",
            "isb",
            "mrs {t}, sctlr_el1",
            "orr {t}, {t}, #1",         // M: the MMU
            "orr {t}, {t}, #(1 << 2)",  // C: data cache
            "orr {t}, {t}, #(1 << 12)", // I: instruction cache
            "bic {t}, {t}, #(1 << 1)",  // A: no alignment faults
            "msr sctlr_el1, {t}",
            "isb",
            mair = in(reg) MAIR,
            tcr = in(reg) tcr,
            ttbr = in(reg) l1 as *const Table as u64,
            t = out(reg) _,
        );
    }
}

/// Cleans the data cache over `[addr, addr + len)` to the point of coherency, so another bus
/// master (the GPU) sees what the CPU wrote.
pub fn clean_dcache(addr: usize, len: usize) {
    let mut a = addr & !63;
    while a < addr + len {
        // SAFETY: cache maintenance by address has no effect on program state.
        unsafe { asm!("dc cvac, {}", in(reg) a) };
        a += 64;
    }
    // SAFETY: a barrier.
    unsafe { asm!("dsb sy") };
}

/// Cleans and invalidates the data cache over `[addr, addr + len)`: what the CPU wrote
/// reaches memory, and what another bus master writes there later is read from memory.
pub fn flush_dcache(addr: usize, len: usize) {
    let mut a = addr & !63;
    while a < addr + len {
        // SAFETY: cache maintenance by address has no effect on program state.
        unsafe { asm!("dc civac, {}", in(reg) a) };
        a += 64;
    }
    // SAFETY: a barrier.
    unsafe { asm!("dsb sy") };
}
