//! `cargo run -p st80-core --example eval -- IMAGE EXPR...`: prints each expression's value.
use st80_core::{EvalOutcome, Host, Interpreter, StopReason};

struct Clock;
impl Host for Clock {
    fn millisecond_clock(&mut self, cycles: u64) -> u32 {
        (cycles / 1000) as u32
    }
    fn seconds_since_1901(&mut self, cycles: u64) -> u32 {
        3_900_000_000u32.wrapping_add((cycles / 1_000_000) as u32)
    }
    fn transcript(&mut self, text: &str) {
        print!("{text}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&args[1]).expect("read image");
    let (memory, _) = st80_core::image::load(&bytes).expect("load image");
    let mut vm = Interpreter::new(memory).expect("start");
    vm.run(&mut Clock, 1_000_000);
    vm.set_transcript_echo(true);
    for expr in &args[2..] {
        vm.start_evaluation(expr).unwrap();
        loop {
            match vm.run(&mut Clock, 10_000_000) {
                StopReason::Evaluated => break,
                StopReason::CyclesDone => continue,
                other => panic!("{other:?}"),
            }
        }
        match vm.evaluation_outcome().unwrap() {
            EvalOutcome::Value(v) => println!("{v}"),
            e => println!("ERROR {e:?}"),
        }
    }
    eprintln!("{} cycles, {:?}", vm.cycles(), vm.stats);
}
