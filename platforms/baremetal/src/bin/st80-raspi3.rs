#![no_std]
#![no_main]
core::arch::global_asm!(include_str!("../boot.S"));
#[no_mangle]
extern "C" fn kernel_main() -> ! {
    st80_baremetal::arch::halt()
}
