//! Minimal driver: `cargo run -p st80-core --example trace -- IMAGE CYCLES [2|3]` prints the
//! execution trace (for comparing with Xerox's trace2/trace3 while developing the core).
use st80_core::interpreter::TraceLevel;
use st80_core::{Host, Interpreter};

struct Tracer;
impl Host for Tracer {
    fn millisecond_clock(&mut self, cycles: u64) -> u32 {
        (cycles / 1000) as u32
    }
    fn seconds_since_1901(&mut self, cycles: u64) -> u32 {
        3_900_000_000u32.wrapping_add((cycles / 1_000_000) as u32)
    }
    fn trace(&mut self, line: &str) {
        println!("{line}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&args[1]).expect("read image");
    let (memory, _) = st80_core::image::load(&bytes).expect("load image");
    let mut vm = Interpreter::new(memory).expect("start");
    let cycles: u64 = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(499);
    match args.get(3).map(String::as_str) {
        Some("2") => vm.set_trace(Some(TraceLevel::Bytecodes)),
        Some("3") => vm.set_trace(Some(TraceLevel::Sends)),
        _ => {}
    }
    vm.xerox_trace_compat = args.get(4).is_some_and(|a| a == "compat");
    let stop = vm.run(&mut Tracer, cycles);
    if let (Some(path), Some(d)) = (std::env::var_os("PBM"), vm.display()) {
        let mut out = format!("P1\n{} {}\n", d.width, d.height).into_bytes();
        for y in 0..d.height {
            for x in 0..d.width {
                out.push(if d.pixel(x, y) { b'1' } else { b'0' });
            }
            out.push(b'\n');
        }
        std::fs::write(path, out).unwrap();
    }
    eprintln!("stopped: {stop:?} after {} cycles, {:?}", vm.cycles(), vm.stats);
}
