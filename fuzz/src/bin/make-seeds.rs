//! Writes the seed corpora into fuzz/corpus/<target>/ (run by fuzz/run.sh): small images in
//! both byte orders, replay logs, chunk files and primitive calls.

use st80_core::image::{self, ByteOrder};
use st80_core::object_memory::*;
use std::path::Path;

/// A tiny image: a class that is its own class, the guaranteed objects as its instances, a
/// word object, a byte object and a CompiledMethod.
fn tiny_image(order: ByteOrder) -> Vec<u8> {
    let mut m = ObjectMemory::new();
    let class: Oop = 200;
    let spec = integer_object_of(0) | SPEC_POINTERS | SPEC_INDEXABLE;
    m.load_object(class, class, Format::Pointers, false, &[NIL, NIL, spec, NIL]);
    for oop in [NIL, FALSE, TRUE, SCHEDULER_ASSOCIATION, SPECIAL_SELECTORS, CLASS_METHOD_CONTEXT] {
        m.load_object(oop, class, Format::Pointers, false, &[NIL, oop, class]);
    }
    let words = integer_object_of(0) | SPEC_WORDS | SPEC_INDEXABLE;
    m.load_object(300, 300, Format::Pointers, false, &[NIL, NIL, words, NIL]);
    m.load_object(302, 300, Format::Words, false, &[0x1234, 0xabcd]);
    let bytes = integer_object_of(0) | SPEC_INDEXABLE;
    m.load_object(CLASS_STRING, class, Format::Pointers, false, &[NIL, NIL, bytes, NIL]);
    m.load_object(304, CLASS_STRING, Format::Bytes, true, &[0x4142, 0x4300]);
    m.load_object(CLASS_COMPILED_METHOD, class, Format::Pointers, false, &[NIL, NIL, bytes, NIL]);
    let header = integer_object_of(0) | (1 << 1);
    m.load_object(306, CLASS_COMPILED_METHOD, Format::Bytes, false, &[header, 304, 0x7800]);
    m.finish_loading();
    image::save(&m, order).expect("the tiny image saves")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for target in ["image_load", "round_trip", "check"] {
        write(&root.join(target), "tiny-be", &tiny_image(ByteOrder::Big));
        write(&root.join(target), "tiny-le", &tiny_image(ByteOrder::Little));
    }
    let dir = root.join("replay_parse");
    write(&dir, "log", b"# a session\n10 mouse 300 200\n20 button blue down # menu\n30 button blue up\n40 key a\n50 key return\n60 keydown shift\n61 keyup shift\n70 type 3 + 4\n");
    let dir = root.join("chunk_reader");
    write(&dir, "class", b"Object subclass: #A\r\tinstanceVariableNames: 'a'\r\tclassVariableNames: ''\r\tpoolDictionaries: ''\r\tcategory: 'X'!\r\r!A methodsFor: 'x'!\rfoo\r\t^'!!'! !\r");
    let dir = root.join("primitives");
    for (i, p) in [1u8, 60, 61, 62, 70, 71, 72, 73, 74, 80, 81, 83, 85, 96, 105].iter().enumerate() {
        let nargs = match p {
            61 | 74 => 2,
            62 | 70 | 85 | 96 => 0,
            105 => 4,
            _ => 1,
        };
        let mut seed = vec![*p, nargs, 50];
        for k in 0..=nargs as u16 {
            seed.extend_from_slice(&((k * 77 + i as u16 * 2) | (k & 1)).to_le_bytes());
        }
        write(&dir, &format!("p{p}"), &seed);
    }
}
