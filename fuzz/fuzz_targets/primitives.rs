//! Primitives with random receivers and arguments against the booted Xerox image
//! ($ST80_IMAGES/xerox-v2/VirtualImage, or $ST80_FUZZ_IMAGE): each input names a primitive,
//! an argument count and the oops (odd values are SmallIntegers, even ones pick a live object);
//! the primitive runs on a fresh copy of the image, then the image runs on for a few hundred
//! bytecodes. Never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use st80_core::{image, Interpreter, NullHost, ObjectMemory, Oop};
use std::sync::OnceLock;

struct Pristine {
    memory: ObjectMemory,
    objects: Vec<Oop>,
}

fn pristine() -> &'static Pristine {
    static P: OnceLock<Pristine> = OnceLock::new();
    P.get_or_init(|| {
        let path = std::env::var("ST80_FUZZ_IMAGE").unwrap_or_else(|_| {
            let dir = std::env::var("ST80_IMAGES").unwrap_or_else(|_| "../../shared/images".into());
            format!("{dir}/xerox-v2/VirtualImage")
        });
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (set ST80_IMAGES)"));
        let (memory, _) = image::load(&bytes).unwrap();
        let objects = memory.all_objects().collect();
        Pristine { memory, objects }
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let p = pristine();
    let index = data[0] as u16;
    let nargs = (data[1] % 7) as usize;
    let cycles = data[2] as u64 * 4;
    let oops: Vec<Oop> = data[3..]
        .chunks_exact(2)
        .take(nargs + 1)
        .map(|c| {
            let v = u16::from_le_bytes([c[0], c[1]]);
            if v & 1 == 1 {
                v
            } else {
                p.objects[(v as usize >> 1) % p.objects.len()]
            }
        })
        .collect();
    if oops.len() < nargs + 1 {
        return;
    }
    let mut vm = Interpreter::new(p.memory.clone()).unwrap();
    vm.use_virtual_clock(st80_core::VirtualClock::default());
    let mut host = NullHost;
    if vm.fuzz_primitive(&mut host, index, oops[0], &oops[1..]).is_some() {
        vm.run(&mut host, cycles);
    }
});
