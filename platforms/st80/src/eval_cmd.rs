//! `st80 eval`, `st80 filein` and `st80 bench`: driving an image without a window through the
//! image's own Compiler (see `st80_core::embed`).

use crate::{bad_image, load, one_line, Failure, HostArgs};
use clap::Args;
use st80_core::image::ByteOrder;
use st80_core::{EvalOutcome, Interpreter, StopReason};
use st80_headless::HeadlessHost;
use st80_host_std::HostFiles;
use std::cell::RefCell;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Bytecodes run before the first evaluation, so the image finishes resuming from its
/// snapshot (the v2 desktop is drawn after about 200,000).
const BOOT_CYCLES: u64 = 1_000_000;
/// Bytecodes between checks of the wall-clock timeout.
const SLICE: u64 = 2_000_000;

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The image file (either byte order). It is never written.
    pub image: PathBuf,
    /// Smalltalk-80 expressions (`_` is assignment); each result is printed on its own line.
    /// Put `--` before them if one starts with `-`.
    #[arg(required = true)]
    pub exprs: Vec<String>,
    /// Give up on an expression after this many seconds (exit status 3).
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// After the expressions, save the image here (as `filein --save`); snapshots the
    /// expressions take (`Smalltalk snapshot`) are written here too.
    #[arg(long, value_name = "OUT")]
    pub save: Option<PathBuf>,
    #[command(flatten)]
    pub host: HostArgs,
}

#[derive(Args, Debug)]
pub struct FileinArgs {
    /// The image file (either byte order).
    pub image: PathBuf,
    /// Source files in chunk format (`!`-delimited, as Smalltalk-80.sources).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the resulting image here (same byte order as loaded unless --save-byte-order).
    #[arg(long, value_name = "OUT")]
    pub save: Option<PathBuf>,
    /// Give up on a chunk after this many seconds (exit status 3).
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    pub timeout: f64,
    #[command(flatten)]
    pub host: HostArgs,
}

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
}

/// A booted image with a headless host, ready to evaluate.
pub struct Session {
    pub vm: Interpreter,
    pub host: HeadlessHost,
    pub image: PathBuf,
}

impl Session {
    /// Boots `image` on the clock `host_args` asks for.
    pub fn open(image: &Path, host_args: &HostArgs, host: HeadlessHost) -> Result<Session, Failure> {
        let (memory, info) = load(image)?;
        let mut vm = Interpreter::new(memory).map_err(|e| bad_image(image, e))?;
        host_args.configure_clock(&mut vm);
        vm.snapshot_byte_order = match host_args.save_byte_order.as_deref() {
            Some("be") => ByteOrder::Big,
            Some("le") => ByteOrder::Little,
            _ => info.byte_order,
        };
        let mut session = Session { vm, host, image: image.to_path_buf() };
        session.host.set_files(host_files(image, host_args, session.host.snapshot_path())?);
        if host_args.transcript {
            session.vm.set_transcript_echo(true);
            session.host.transcript_to(Box::new(io::stdout()));
        }
        match st80_headless::run(&mut session.vm, &mut session.host, BOOT_CYCLES) {
            StopReason::CyclesDone => Ok(session),
            other => Err(Failure::new(1, format!("{}: the image stopped while starting: {other:?}", image.display()))),
        }
    }

    /// Evaluates one expression; a timeout is exit status 3, a VM stop status 1.
    pub fn evaluate(&mut self, source: &str, timeout: Duration) -> Result<EvalOutcome, Failure> {
        self.vm.start_evaluation(source).map_err(|e| Failure::new(1, format!("{}: {e}", self.image.display())))?;
        let started = Instant::now();
        loop {
            match st80_headless::run(&mut self.vm, &mut self.host, SLICE) {
                StopReason::Evaluated => {
                    return self
                        .vm
                        .evaluation_outcome()
                        .ok_or_else(|| Failure::new(1, "the evaluation ended without a result"));
                }
                StopReason::CyclesDone | StopReason::Idle { .. } => {}
                StopReason::Quit => return Err(Failure::new(1, "the image quit during the evaluation")),
                StopReason::Error(e) => {
                    return Err(Failure::new(1, format!("the virtual machine stopped: {}", one_line(&e))))
                }
            }
            if started.elapsed() >= timeout {
                self.vm.cancel_evaluation();
                return Err(Failure::new(3, format!("evaluation timed out after {} s", timeout.as_secs_f64())));
            }
        }
    }
}

/// The files the image's file primitives see (see `HostFiles::for_image`): the --files
/// directory (default: the image's), --sources and --changes (default: beside the image), and
/// the image file snapshots go to (`snapshot`, default the image itself), which only the VM
/// writes.
pub fn host_files(image: &Path, args: &HostArgs, snapshot: Option<&Path>) -> Result<HostFiles, Failure> {
    let root = args.files.as_deref();
    HostFiles::for_image(image, root, args.sources.as_deref(), args.changes.as_deref(), snapshot).map_err(|e| {
        let dir = root.map(Path::to_path_buf).unwrap_or_else(|| image.parent().unwrap_or(Path::new(".")).to_path_buf());
        Failure::new(2, format!("{}: cannot use as the files directory: {e}", dir.display()))
    })
}

/// Runs the image's own snapshot code, which hands the image to the host (primitive 97) to
/// write to `out`.
fn save_image(session: &mut Session, out: &Path, limit: Duration) -> Result<(), Failure> {
    match session.evaluate("Smalltalk snapshotAs: 'snapshot' thenQuit: false", limit)? {
        EvalOutcome::Value(v) if v == "true" => {
            eprintln!("st80: saved {}", out.display());
            Ok(())
        }
        other => Err(Failure::new(1, format!("{}: not saved: {}", out.display(), describe_error(&other)))),
    }
}

fn timeout(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds.clamp(0.0, 1e9))
}

/// The text of an error outcome for stderr: the message, then the short stack (or, for a
/// compile error, the code with the error's position marked) indented.
fn describe_error(outcome: &EvalOutcome) -> String {
    match outcome {
        EvalOutcome::Value(v) => v.clone(),
        EvalOutcome::CompileError { message, code } => {
            // The image's compiler inserts its message (ending in "->") into the code where the
            // error is; show the code once, with the spot marked, and the message once.
            let text = message.trim().trim_end_matches("->").trim_end();
            let marked = match code.find(message.as_str()) {
                Some(at) => format!("{} <-here {}", code[..at].trim_end(), code[at + message.len()..].trim_start()),
                None => code.clone(),
            };
            format!("compile error: {text}\n    {}", marked.trim_end().replace('\n', "\n    "))
        }
        EvalOutcome::RuntimeError { message, stack } => {
            let mut s = format!("error: {message}");
            for line in stack.lines().filter(|l| !l.is_empty()) {
                s.push_str("\n    ");
                s.push_str(line);
            }
            s
        }
    }
}

pub fn eval(args: &EvalArgs) -> Result<(), Failure> {
    let mut host = HeadlessHost::new();
    if let Some(out) = &args.save {
        host.save_snapshots_to(out.clone());
    }
    let mut session = Session::open(&args.image, &args.host, host)?;
    crate::open_sources(&mut session.vm, &mut session.host, &args.host, &args.image);
    // Every expression is evaluated, each result printed on stdout and each error on stderr
    // (naming the expression), so one mistake does not hide what the others answer.
    let (mut failed, mut timed_out) = (0, 0);
    for (n, expr) in args.exprs.iter().enumerate() {
        let outcome = match session.evaluate(expr, timeout(args.timeout)) {
            Ok(outcome) => outcome,
            Err(f) if f.status == 3 => {
                eprintln!("st80: expression {}: {}", n + 1, f.message);
                timed_out += 1;
                continue;
            }
            Err(f) => return Err(f),
        };
        match outcome {
            EvalOutcome::Value(v) => {
                let mut out = io::stdout().lock();
                let _ = writeln!(out, "{v}");
                let _ = out.flush();
            }
            err => {
                eprintln!("st80: expression {}: {}", n + 1, describe_error(&err));
                failed += 1;
            }
        }
    }
    let total = args.exprs.len();
    // A failed expression leaves the image in a state nobody asked to keep: no --save then.
    let not_saved = if args.save.is_some() { ", the image was not saved" } else { "" };
    if timed_out > 0 {
        return Err(Failure::new(
            3,
            format!("{timed_out} of {total} expression(s) timed out, {failed} failed{not_saved}"),
        ));
    }
    if failed > 0 {
        return Err(Failure::new(1, format!("{failed} of {total} expression(s) failed{not_saved}")));
    }
    if let Some(out) = &args.save {
        save_image(&mut session, out, timeout(args.timeout))?;
    }
    Ok(())
}

/// Reads chunk-format source the way the image does (`PositionableStream>>nextChunk`,
/// `ReadWriteStream>>fileIn`), keeping track of line numbers for error messages.
pub struct ChunkReader {
    chars: Vec<char>,
    pos: usize,
    line: usize,
}

impl ChunkReader {
    pub fn new(source: &str) -> ChunkReader {
        ChunkReader { chars: source.chars().collect(), pos: 0, line: 1 }
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn bump(&mut self) -> char {
        let c = self.chars[self.pos];
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
        }
        c
    }

    pub fn skip_separators(&mut self) {
        while !self.at_end() && matches!(self.chars[self.pos], ' ' | '\t' | '\r' | '\n' | '\x0c') {
            self.bump();
        }
    }

    /// `peekFor: $!`: consumes a `!` if it is next.
    pub fn peek_for_bang(&mut self) -> bool {
        if !self.at_end() && self.chars[self.pos] == '!' {
            self.bump();
            true
        } else {
            false
        }
    }

    /// `nextChunk`: the text up to the next lone `!` (`!!` stands for `!`), and its first line.
    pub fn next_chunk(&mut self) -> (String, usize) {
        self.skip_separators();
        let line = self.line;
        let mut text = String::new();
        while !self.at_end() {
            let c = self.bump();
            if c == '!' {
                if self.peek_for_bang() {
                    text.push('!');
                    continue;
                }
                break;
            }
            text.push(c);
        }
        (text, line)
    }
}

/// A Smalltalk string literal holding `text`.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The line (1-based, within the chunk) of a compile error: the compiler inserted its message
/// into the code at the error's position.
fn error_line(chunk: &str, code: &str, message: &str) -> usize {
    let at = code.find(message).unwrap_or(0);
    let prefix: String = code.chars().take(at).collect();
    debug_assert!(chunk.len() + message.len() >= prefix.len());
    prefix.matches('\n').count()
}

pub fn filein(args: &FileinArgs) -> Result<(), Failure> {
    let mut host = HeadlessHost::new();
    if let Some(out) = &args.save {
        host.save_snapshots_to(out.clone());
    }
    let mut session = Session::open(&args.image, &args.host, host)?;
    let limit = timeout(args.timeout);
    let mut errors = 0;
    for file in &args.files {
        let bytes =
            std::fs::read(file).map_err(|e| Failure::new(2, format!("{}: cannot read: {e}", file.display())))?;
        // Sources use CR line ends; accept LF and CRLF too, and give the image CRs.
        let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n").replace('\r', "\n");
        let mut reader = ChunkReader::new(&text);
        let mut report = |outcome: &EvalOutcome, chunk: &str, line: usize| {
            errors += 1;
            match outcome {
                EvalOutcome::CompileError { message, code } => {
                    let line = line + error_line(chunk, code, message);
                    eprintln!("{}:{line}: {}", file.display(), one_line(&describe_error(outcome)));
                }
                other => eprintln!("{}:{line}: {}", file.display(), describe_error(other)),
            }
        };
        // As `ReadWriteStream>>fileIn`: a chunk is evaluated, unless a `!` precedes it; then it
        // is a reader (e.g. `Foo methodsFor: 'x'`) that compiles the chunks after it, one by
        // one here so that every compile error is reported, up to an empty chunk.
        loop {
            reader.skip_separators();
            if reader.at_end() {
                break;
            }
            let bang = reader.peek_for_bang();
            let (chunk, line) = reader.next_chunk();
            if !bang {
                if chunk.trim().is_empty() {
                    continue;
                }
                let outcome = session.evaluate(&chunk.replace('\n', "\r"), limit)?;
                if !matches!(outcome, EvalOutcome::Value(_)) {
                    report(&outcome, &chunk, line);
                }
                continue;
            }
            let expr = format!("Smalltalk at: #ST80FileInReader put: ({}). nil", chunk.replace('\n', "\r"));
            let outcome = session.evaluate(&expr, limit)?;
            let reader_ok = matches!(outcome, EvalOutcome::Value(_));
            if !reader_ok {
                report(&outcome, &chunk, line);
            }
            loop {
                let (method, line) = reader.next_chunk();
                if method.trim().is_empty() {
                    break;
                }
                if !reader_ok {
                    continue;
                }
                let body = method.replace('\n', "\r").replace('!', "!!");
                let expr = format!("ST80FileInReader scanFrom: (ReadStream on: {}). nil", quoted(&(body + "!")));
                let outcome = session.evaluate(&expr, limit)?;
                if !matches!(outcome, EvalOutcome::Value(_)) {
                    report(&outcome, &method, line);
                }
            }
            session.evaluate("Smalltalk removeKey: #ST80FileInReader ifAbsent: []. nil", limit)?;
        }
    }
    if let Some(out) = &args.save {
        // The image's own snapshot code runs (so the saved image resumes like any snapshot);
        // primitive 97 hands the bytes to the host, which writes `out` atomically.
        save_image(&mut session, out, limit)?;
    }
    if errors > 0 {
        return Err(Failure::new(1, format!("{errors} chunk(s) failed to file in")));
    }
    Ok(())
}

/// One benchmark result.
struct BenchResult {
    name: String,
    seconds: f64,
    cycles: u64,
    sends: u64,
    report: String,
    error: Option<String>,
}

pub fn bench(args: &BenchArgs) -> Result<(), Failure> {
    let transcript = Rc::new(RefCell::new(Vec::<u8>::new()));
    let mut host = HeadlessHost::new();
    host.transcript_to(Box::new(SharedBuffer(transcript.clone())));
    // The benchmarks measure real time.
    let real_time = HostArgs { real_clock: true, ..HostArgs::default() };
    let mut session = Session::open(&args.image, &real_time, host)?;
    session.vm.set_transcript_echo(true);
    let limit = timeout(args.timeout);
    let tests: Vec<String> = if args.tests.is_empty() {
        let list = "| s | Benchmark setStandardTests. s _ WriteStream on: (String new: 100). \
                    (Benchmark classPool at: #StandardTests) do: [:t | s nextPutAll: t; space]. s contents";
        match session.evaluate(list, limit)? {
            EvalOutcome::Value(v) => v.trim_matches('\'').split_whitespace().map(String::from).collect(),
            other => {
                return Err(Failure::new(1, format!("cannot list the Benchmark tests: {}", describe_error(&other))))
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
                return Err(Failure::new(
                    2,
                    format!("--test {name}: Benchmark has no such test (tests are selectors such as testLoadInstVar)"),
                ));
            }
        }
        args.tests.clone()
    };
    let mut results = Vec::new();
    let total_start = Instant::now();
    let (cycles0, sends0) = (session.vm.cycles(), session.vm.stats.sends);
    for (i, name) in tests.iter().enumerate() {
        eprint!("st80 bench: [{}/{}] {name} ... ", i + 1, tests.len());
        transcript.borrow_mut().clear();
        let (c, s) = (session.vm.cycles(), session.vm.stats.sends);
        let started = Instant::now();
        let outcome = session.evaluate(&format!("Benchmark new {name}"), limit);
        let seconds = started.elapsed().as_secs_f64();
        let report = String::from_utf8_lossy(&transcript.borrow()).trim().to_string();
        let error = match outcome {
            Ok(EvalOutcome::Value(_)) => None,
            Ok(other) => Some(one_line(&describe_error(&other))),
            Err(f) if f.status == 3 => Some(f.message),
            Err(f) => return Err(f),
        };
        eprintln!("{:.3} s{}", seconds, error.as_ref().map(|e| format!(" ({e})")).unwrap_or_default());
        results.push(BenchResult {
            name: name.clone(),
            seconds,
            cycles: session.vm.cycles() - c,
            sends: session.vm.stats.sends - s,
            report,
            error,
        });
    }
    let total = total_start.elapsed().as_secs_f64();
    let cycles = session.vm.cycles() - cycles0;
    let sends = session.vm.stats.sends - sends0;
    if args.json {
        println!("{}", bench_json(&results, total, cycles, sends));
    } else {
        for r in &results {
            let what = r.error.clone().unwrap_or_else(|| one_line(&r.report));
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
    }
    let failed = results.iter().filter(|r| r.error.is_some()).count();
    if failed > 0 {
        return Err(Failure::new(1, format!("{failed} benchmark(s) failed")));
    }
    Ok(())
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn bench_json(results: &[BenchResult], total: f64, cycles: u64, sends: u64) -> String {
    let tests: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "{{\"name\":{},\"seconds\":{:.6},\"bytecodes\":{},\"sends\":{},\"ok\":{},\"report\":{}}}",
                json_string(&r.name),
                r.seconds,
                r.cycles,
                r.sends,
                r.error.is_none(),
                json_string(r.error.as_deref().unwrap_or(&r.report))
            )
        })
        .collect();
    format!(
        "{{\"tests\":[{}],\"total_seconds\":{total:.6},\"bytecodes\":{cycles},\"sends\":{sends},\
         \"bytecodes_per_second\":{:.0},\"sends_per_second\":{:.0}}}",
        tests.join(","),
        cycles as f64 / total.max(1e-9),
        sends as f64 / total.max(1e-9)
    )
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
    fn chunks_follow_next_chunk() {
        let mut r = ChunkReader::new("Object subclass: #Foo!\n\n!Foo methodsFor: 'x'!\nbar\n\t^'a!!b'! !\n3 + 4!");
        assert!(!r.peek_for_bang());
        assert_eq!(r.next_chunk(), ("Object subclass: #Foo".into(), 1));
        r.skip_separators();
        assert!(r.peek_for_bang());
        assert_eq!(r.next_chunk(), ("Foo methodsFor: 'x'".into(), 3));
        assert_eq!(r.next_chunk(), ("bar\n\t^'a!b'".into(), 4));
        assert_eq!(r.next_chunk(), ("".into(), 5), "the empty chunk ends the methods");
        r.skip_separators();
        assert!(!r.peek_for_bang());
        assert_eq!(r.next_chunk(), ("3 + 4".into(), 6));
        assert!(r.at_end());
    }

    #[test]
    fn quoting_and_error_lines() {
        assert_eq!(quoted("it's"), "'it''s'");
        assert_eq!(error_line("a\nb c", "a\nb Nothing more expected ->c", "Nothing more expected ->"), 1);
        assert!(json_string("a\"\n").contains("\\\"\\n"));
    }
}
