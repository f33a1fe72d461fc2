//! `st80 bench`: run the image's own Benchmark standard tests (Blue Book Benchmark class,
//! `Benchmark setStandardTests`) on the host's clock, and report seconds, bytecodes and sends
//! per test, as a table or (--json) as one JSON object.

use crate::session::{self, describe_error, timeout, HostArgs, Setup};
use crate::{one_line, Failure, Status};
use clap::Args;
use serde::Serialize;
use st80_core::EvalOutcome;
use std::cell::RefCell;
use std::io::{self, Write};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The image file (the Xerox v2 image has the Benchmark class).
    pub image: PathBuf,
    /// Print the results as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Run only these tests (selectors of Benchmark, e.g. testLoadInstVar).
    #[arg(long = "test", value_name = "SELECTOR")]
    pub tests: Vec<String>,
    /// Give up on one test after this many seconds.
    #[arg(long, default_value_t = 300.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// After the tests, time this many full garbage collections of the heap they leave (0:
    /// none, e.g. under callgrind, where they would count as the suite's work).
    #[arg(long, default_value_t = 11, value_name = "N")]
    pub gc_samples: usize,
}

/// The --json output.
#[derive(Serialize, Debug)]
struct Report {
    tests: Vec<TestResult>,
    total_seconds: f64,
    bytecodes: u64,
    sends: u64,
    bytecodes_per_second: u64,
    sends_per_second: u64,
    /// Garbage collections during the tests.
    gcs: u64,
    /// Of those, the full ones (the others collected only the young objects).
    full_gcs: u64,
    /// A full collection of the heap the tests leave, timed `--gc-samples` times after them
    /// (the suite's own collections run mid-send, where nothing can time them from outside);
    /// null with `--gc-samples 0`.
    gc_pause_ms: Option<GcPause>,
}

/// Milliseconds of a full garbage collection.
#[derive(Serialize, Debug)]
struct GcPause {
    median: f64,
    max: f64,
}

/// Times `samples` full collections of `vm`'s heap (None for none).
fn time_collections(vm: &mut st80_core::interpreter::Interpreter, samples: usize) -> Option<GcPause> {
    if samples == 0 {
        return None;
    }
    let mut ms: Vec<f64> = (0..samples)
        .map(|_| {
            let started = Instant::now();
            vm.collect_garbage_now();
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let round = |ms: f64| (ms * 1e3).round() / 1e3;
    Some(GcPause { median: round(ms[samples / 2]), max: round(ms[samples - 1]) })
}

/// One benchmark's result.
#[derive(Serialize, Debug)]
struct TestResult {
    name: String,
    seconds: f64,
    bytecodes: u64,
    sends: u64,
    ok: bool,
    /// What the test wrote on the Transcript, or why it failed.
    report: String,
}

/// Microsecond resolution, as the timings have.
fn micros(seconds: f64) -> f64 {
    (seconds * 1e6).round() / 1e6
}

fn per_second(count: u64, seconds: f64) -> u64 {
    (count as f64 / seconds.max(1e-9)).round() as u64
}

pub fn bench(args: &BenchArgs) -> Result<(), Failure> {
    // The benchmarks measure real time.
    let setup = Setup { real_clock: true, ..Setup::default() };
    let mut session = session::open(&args.image, &HostArgs::default(), setup)?;
    let transcript = Rc::new(RefCell::new(Vec::<u8>::new()));
    session.host.transcript_to(Box::new(SharedBuffer(transcript.clone())));
    let mut session = session.boot_or_fail()?;
    session.vm.set_transcript_echo(true);
    let limit = timeout(args.timeout);
    let tests: Vec<String> = if args.tests.is_empty() {
        let list = "| s | Benchmark setStandardTests. s _ WriteStream on: (String new: 100). \
                    (Benchmark classPool at: #StandardTests) do: [:t | s nextPutAll: t; space]. s contents";
        match session.evaluate(list, limit)? {
            EvalOutcome::Value(v) => v.trim_matches('\'').split_whitespace().map(String::from).collect(),
            other => {
                return Err(Failure::failed(format!("cannot list the Benchmark tests: {}", describe_error(&other))))
            }
        }
    } else {
        // A name that is not a test would only give a doesNotUnderstand: stack later.
        for name in &args.tests {
            let valid = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && matches!(
                    session.evaluate(&format!("Benchmark canUnderstand: #{name}"), limit)?,
                    EvalOutcome::Value(v) if v == "true"
                );
            if !valid {
                return Err(Failure::bad_input(format!(
                    "--test {name}: Benchmark has no such test (tests are selectors such as testLoadInstVar)"
                )));
            }
        }
        args.tests.clone()
    };
    let mut results = Vec::new();
    let total_start = Instant::now();
    let (cycles0, sends0, gcs0) = (session.vm.cycles(), session.vm.stats.sends, session.vm.stats.gcs);
    let full_gcs0 = session.vm.memory.full_gc_count;
    for (i, name) in tests.iter().enumerate() {
        eprint!("st80 bench: [{}/{}] {name} ... ", i + 1, tests.len());
        transcript.borrow_mut().clear();
        let (c, s) = (session.vm.cycles(), session.vm.stats.sends);
        let started = Instant::now();
        let outcome = session.evaluate(&format!("Benchmark new {name}"), limit);
        let seconds = started.elapsed().as_secs_f64();
        let transcript = String::from_utf8_lossy(&transcript.borrow()).trim().to_string();
        let error = match outcome {
            Ok(EvalOutcome::Value(_)) => None,
            Ok(other) => Some(one_line(&describe_error(&other))),
            Err(f) if f.status == Status::TimedOut => Some(f.message),
            Err(f) => return Err(f),
        };
        eprintln!("{:.3} s{}", seconds, error.as_ref().map(|e| format!(" ({e})")).unwrap_or_default());
        results.push(TestResult {
            name: name.clone(),
            seconds: micros(seconds),
            bytecodes: session.vm.cycles() - c,
            sends: session.vm.stats.sends - s,
            ok: error.is_none(),
            report: error.unwrap_or(transcript),
        });
    }
    let total = total_start.elapsed().as_secs_f64();
    let cycles = session.vm.cycles() - cycles0;
    let sends = session.vm.stats.sends - sends0;
    let gcs = session.vm.stats.gcs - gcs0;
    let full_gcs = session.vm.memory.full_gc_count - full_gcs0;
    let gc_pause = time_collections(&mut session.vm, args.gc_samples);
    let failed = results.iter().filter(|r| !r.ok).count();
    if args.json {
        let report = Report {
            tests: results,
            total_seconds: micros(total),
            bytecodes: cycles,
            sends,
            bytecodes_per_second: per_second(cycles, total),
            sends_per_second: per_second(sends, total),
            gcs,
            full_gcs,
            gc_pause_ms: gc_pause,
        };
        println!("{}", serde_json::to_string(&report).expect("the report serializes"));
    } else {
        for r in &results {
            let what = if r.ok { one_line(&r.report) } else { r.report.clone() };
            println!("{:<28} {:>9.3} s  {what}", r.name, r.seconds);
        }
        println!(
            "{:<28} {:>9.3} s  {} bytecodes ({:.1} M/s), {} sends ({:.1} M/s)",
            "total",
            total,
            cycles,
            cycles as f64 / total.max(1e-9) / 1e6,
            sends,
            sends as f64 / total.max(1e-9) / 1e6
        );
        let pause = gc_pause.map_or(String::new(), |p| {
            format!(
                "; a full collection of their heap takes {:.3} ms (median of {}, max {:.3})",
                p.median, args.gc_samples, p.max
            )
        });
        println!("{:<28} {gcs} during the tests ({full_gcs} full){pause}", "garbage collections");
    }
    if failed > 0 {
        return Err(Failure::failed(format!("{failed} benchmark(s) failed")));
    }
    Ok(())
}

/// A `Write` into a shared buffer (the Transcript of a benchmark).
struct SharedBuffer(Rc<RefCell<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_report_keeps_its_fields() {
        let report = Report {
            tests: vec![TestResult {
                name: "testLoadInstVar".into(),
                seconds: micros(0.123_456_78),
                bytecodes: 10,
                sends: 2,
                ok: true,
                report: "a \"quoted\"\nline".into(),
            }],
            total_seconds: 0.5,
            bytecodes: 10,
            sends: 2,
            bytecodes_per_second: per_second(10, 0.5),
            sends_per_second: per_second(2, 0.5),
            gcs: 3,
            full_gcs: 1,
            gc_pause_ms: Some(GcPause { median: 0.25, max: 0.5 }),
        };
        let json: serde_json::Value = serde_json::from_str(&serde_json::to_string(&report).unwrap()).unwrap();
        let test = &json["tests"][0];
        assert_eq!(test["name"], "testLoadInstVar");
        assert_eq!(test["seconds"], 0.123457);
        assert_eq!((test["bytecodes"].as_u64(), test["sends"].as_u64()), (Some(10), Some(2)));
        assert_eq!(test["ok"], true);
        assert_eq!(test["report"], "a \"quoted\"\nline");
        assert_eq!(json["total_seconds"], 0.5);
        assert_eq!((json["bytecodes"].as_u64(), json["sends"].as_u64()), (Some(10), Some(2)));
        assert_eq!((json["bytecodes_per_second"].as_u64(), json["sends_per_second"].as_u64()), (Some(20), Some(4)));
        assert_eq!((json["gcs"].as_u64(), json["full_gcs"].as_u64()), (Some(3), Some(1)));
        assert_eq!(
            (json["gc_pause_ms"]["median"].as_f64(), json["gc_pause_ms"]["max"].as_f64()),
            (Some(0.25), Some(0.5))
        );
    }
}
