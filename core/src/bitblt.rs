//! BitBlt (Blue Book ch. 18 and ch. 29 "copyBits"). STUB: being written.
use crate::host::Rect;
use crate::object_memory::*;

pub fn copy_bits(_memory: &mut ObjectMemory, _bitblt: Oop) -> Result<Rect, ()> {
    Err(())
}
