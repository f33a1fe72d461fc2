//! The heap the core allocates from: everything from the end of the kernel (`__heap_start`,
//! see link.ld) to the end of the RAM the board gives us.

use linked_list_allocator::LockedHeap;

#[global_allocator]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

extern "C" {
    static __heap_start: u8;
}

/// Gives the allocator the memory from the end of the kernel up to `ram_end`; answers its size.
pub fn init(ram_end: usize) -> usize {
    // SAFETY: only the address of the linker symbol is taken.
    let start = core::ptr::addr_of!(__heap_start) as usize;
    let size = ram_end.saturating_sub(start);
    // SAFETY: [start, ram_end) is RAM that nothing else uses (the kernel, its stack and .bss
    // end at __heap_start), and init is called once, before the first allocation.
    unsafe { ALLOCATOR.lock().init(start as *mut u8, size) };
    size
}

/// Bytes still free in the heap.
pub fn free() -> usize {
    ALLOCATOR.lock().free()
}
