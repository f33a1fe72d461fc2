//! `cargo bench -p st80-core --bench micro`: microbenchmarks of the interpreter's parts, each a
//! small Smalltalk loop run in the booted Xerox v2 image (from `$ST80_IMAGES`, default
//! `../shared/images`), plus the collector on a synthetic memory. Plain wall-clock timing, no
//! harness dependency; `docs/performance.md` explains how these relate to the callgrind counts.

use st80_core::object_memory::{integer_object_of, Format, ObjectMemory, NIL, SPEC_POINTERS};
use st80_core::{EvalOutcome, Interpreter, NullHost, StopReason, VirtualClock};
use std::time::Instant;

fn image() -> Option<Vec<u8>> {
    let dir = std::env::var("ST80_IMAGES")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/images").into());
    std::fs::read(format!("{dir}/xerox-v2/VirtualImage")).ok()
}

/// Runs `source` to completion; prints its time, bytecodes and the time per loop iteration.
fn measure(vm: &mut Interpreter, name: &str, iterations: u64, source: &str) {
    let (cycles, sends, started) = (vm.cycles(), vm.stats.sends, Instant::now());
    vm.start_evaluation(source).unwrap();
    while vm.run(&mut NullHost, 10_000_000) != StopReason::Evaluated {}
    let s = started.elapsed().as_secs_f64();
    match vm.evaluation_outcome() {
        Some(EvalOutcome::Value(_)) => {}
        other => panic!("{name}: {other:?}"),
    }
    let (cycles, sends) = (vm.cycles() - cycles, vm.stats.sends - sends);
    println!(
        "{name:<16} {:>9.3} ms {cycles:>10} bytecodes {:>6.1} M bytecodes/s {:>6.1} M sends/s {:>8.1} ns/iteration",
        s * 1e3,
        cycles as f64 / s / 1e6,
        sends as f64 / s / 1e6,
        s * 1e9 / iterations as f64
    );
}

/// The collector alone: a memory holding `live` objects of 8 fields in a linked list, with
/// `garbage` short-lived ones allocated between collections.
fn collector(live: usize, garbage: usize, rounds: usize) {
    let mut m = ObjectMemory::new();
    let spec = integer_object_of(0) | SPEC_POINTERS | (8 << 1);
    m.load_object(100, 100, Format::Pointers, false, &[NIL, NIL, spec]);
    m.load_object(NIL, 100, Format::Pointers, false, &[]);
    m.finish_loading();
    let mut head = NIL;
    for _ in 0..live {
        let o = m.instantiate_class(100, 0).unwrap();
        m.store_pointer(0, o, head);
        head = o;
    }
    let started = Instant::now();
    for _ in 0..rounds {
        for _ in 0..garbage {
            m.instantiate_class(100, 0).unwrap();
        }
        m.collect_garbage(&[head]);
    }
    let s = started.elapsed().as_secs_f64();
    println!(
        "{:<16} {:>9.3} ms {rounds} collections of {live} live + {garbage} dead objects: {:.1} us each",
        "allocate + GC",
        s * 1e3,
        s * 1e6 / rounds as f64
    );
}

fn main() {
    collector(20_000, 10_000, 50);
    let Some(bytes) = image() else {
        println!("skipped the interpreter's microbenchmarks: no xerox-v2/VirtualImage under $ST80_IMAGES");
        return;
    };
    let mut vm = Interpreter::new(st80_core::image::load(&bytes).unwrap().0).unwrap();
    vm.use_virtual_clock(VirtualClock::default());
    vm.run(&mut NullHost, 1_000_000);

    // (SmallIntegers have 15 bits: loops nest to stay below 16383.)
    // Pushes, stores and the loop's inlined SmallInteger arithmetic and jumps: no real sends.
    measure(
        &mut vm,
        "dispatch",
        300_000,
        "| a b | a _ 0. 1 to: 300 do: [:j | 1 to: 1000 do: [:i | b _ a. a _ b. b _ nil. a _ i]]. a",
    );
    // One real send and return per iteration (Integer>>even, which sends \\ and =).
    measure(
        &mut vm,
        "send/return",
        200_000,
        "| n | n _ 0. 1 to: 200 do: [:j | 1 to: 1000 do: [:i | i even ifTrue: [n _ n + 1]]]. n",
    );
    // Object creation (primitive 70/71) and the collections it causes.
    measure(
        &mut vm,
        "allocation",
        100_000,
        "| a | 1 to: 100 do: [:j | 1 to: 1000 do: [:i | a _ Array new: 4]]. a size",
    );
    // BitBlt: the Benchmark's 400x400 reverse with a halftone, on the Display.
    measure(&mut vm, "BitBlt copy", 500, "| b | b _ Benchmark new sampleBitBLT. 1 to: 500 do: [:i | b copyBits]. 0");
    // Text scanning (primitive scanCharacters), as in Benchmark>>testTextScanning.
    measure(
        &mut vm,
        "text scanning",
        2_000,
        "| para scanner stops | para _ Paragraph withText: 'Hi there, folks' asText. \
         scanner _ DisplayScanner new. \
         scanner displayLines: (1 to: para numberOfLines) in: para clippedBy: Display boundingBox. \
         stops _ scanner instVarAt: 17. \
         1 to: 2000 do: [:i | scanner destX: 0. scanner scanCharactersFrom: 1 to: 16 in: 'Hi there, folks!' \
            rightX: 400 stopConditions: stops displaying: true]. 0",
    );
}
