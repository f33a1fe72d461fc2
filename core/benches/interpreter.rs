//! `cargo bench -p st80-core`: bytecodes per second on the real Xerox image (from
//! `$ST80_IMAGES`, default `../shared/images`), for three workloads: booting to the desktop,
//! the idle desktop, and the image's own compiler (`Benchmark new testCompiler`-like work:
//! compiling and decompiling a class). Plain timing, no harness dependency.

use st80_core::{EvalOutcome, Interpreter, NullHost, StopReason, VirtualClock};
use std::time::Instant;

fn image() -> Option<Vec<u8>> {
    let dir = std::env::var("ST80_IMAGES")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/images").into());
    std::fs::read(format!("{dir}/xerox-v2/VirtualImage")).ok()
}

fn report(name: &str, cycles: u64, sends: u64, started: Instant) {
    let s = started.elapsed().as_secs_f64();
    println!(
        "{name:<24} {cycles:>11} bytecodes {s:>7.3} s  {:>6.1} M bytecodes/s  {:>5.1} M sends/s",
        cycles as f64 / s / 1e6,
        sends as f64 / s / 1e6
    );
}

fn main() {
    let Some(bytes) = image() else {
        println!("skipped: no xerox-v2/VirtualImage under $ST80_IMAGES");
        return;
    };
    let vm = || {
        let mut vm = Interpreter::new(st80_core::image::load(&bytes).unwrap().0).unwrap();
        vm.use_virtual_clock(VirtualClock::default());
        vm
    };

    let started = Instant::now();
    let mut v = vm();
    v.run(&mut NullHost, 1_000_000);
    report("boot (1M)", v.cycles(), v.stats.sends, started);

    let (c, s, started) = (v.cycles(), v.stats.sends, Instant::now());
    v.run(&mut NullHost, 50_000_000);
    report("idle desktop (50M)", v.cycles() - c, v.stats.sends - s, started);

    let work =
        "| t | t _ 0. 1 to: 200 do: [:i | t _ t + (Object compile: 'zork ^3 + 4 * 5' classified: 'bench') size. \
                t _ t + (InputSensor decompile: #mousePoint) printString size]. Object removeSelector: #zork. t";
    let (c, s, started) = (v.cycles(), v.stats.sends, Instant::now());
    v.start_evaluation(work).unwrap();
    while v.run(&mut NullHost, 10_000_000) != StopReason::Evaluated {}
    assert!(matches!(v.evaluation_outcome(), Some(EvalOutcome::Value(_))));
    report("compile + decompile", v.cycles() - c, v.stats.sends - s, started);
}
