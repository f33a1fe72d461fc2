//! Save -> load: whatever the loader accepts saves in both byte orders, loads back with the same
//! objects, and saving that again gives the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use st80_core::image::{self, ByteOrder};

fuzz_target!(|data: &[u8]| {
    let Ok((memory, _)) = image::load(data) else { return };
    for order in [ByteOrder::Big, ByteOrder::Little] {
        let Ok(saved) = image::save(&memory, order) else { continue };
        let (again, info) = image::load(&saved).expect("a saved image loads");
        assert_eq!(info.byte_order, order);
        assert!(again.all_objects().eq(memory.all_objects()), "the same oops come back");
        assert_eq!(image::save(&again, order).expect("saves again"), saved, "saving is a fixpoint");
    }
});
