//! Primitives with random receivers and arguments against the booted Xerox image
//! ($ST80_IMAGES/xerox-v2/VirtualImage, or $ST80_FUZZ_IMAGE): each input names a primitive,
//! an argument count and the oops (see `st80_core::fuzzing::run_primitive_input`); the
//! primitive runs on a fresh copy of the image, then the image runs on for a few hundred
//! bytecodes. Never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use st80_core::{fuzzing, image, ObjectMemory, Oop};
use std::sync::OnceLock;

fn pristine() -> &'static (ObjectMemory, Vec<Oop>) {
    static P: OnceLock<(ObjectMemory, Vec<Oop>)> = OnceLock::new();
    P.get_or_init(|| {
        let path = std::env::var("ST80_FUZZ_IMAGE").unwrap_or_else(|_| {
            let dir = std::env::var("ST80_IMAGES").unwrap_or_else(|_| "../../shared/images".into());
            format!("{dir}/xerox-v2/VirtualImage")
        });
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (set ST80_IMAGES)"));
        let (memory, _) = image::load(&bytes).unwrap();
        let objects = memory.all_objects().collect();
        (memory, objects)
    })
}

fuzz_target!(|data: &[u8]| {
    let (memory, objects) = pristine();
    let _ = fuzzing::run_primitive_input(memory, objects, data);
});
