//! Opening a VM from the command line options. Every command that runs an image (`run`
//! headless and in a window, `eval`, `filein`, `bench`) starts with [`open`]: the image loaded,
//! the interpreter made, the snapshot byte order, the clock, the host files, the snapshot
//! storage and the Transcript set up from [`HostArgs`]; then [`Session::boot`] resumes the
//! image and [`Session::open_sources`] gives it its sources. Evaluating expressions
//! ([`Session::evaluate`]) and saving ([`Session::save_image`]) are shared by eval, filein and
//! bench.

use crate::{bad_image, load, one_line, Failure, Status};
use clap::{Args, ValueEnum};
use st80_core::{ByteOrder, EvalOutcome, Interpreter, StopReason};
use st80_headless::HeadlessHost;
use st80_host_std::HostFiles;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Bytecodes an image runs to resume from its snapshot before the start-up set-up and the
/// first evaluation (the v2 desktop is drawn after about 200,000).
pub const BOOT_CYCLES: u64 = 1_000_000;
/// Bytecodes between checks of the wall-clock timeout of an evaluation.
const SLICE: u64 = 2_000_000;

/// `--save-byte-order`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveByteOrder {
    /// Big-endian, as the Xerox image.
    Be,
    /// Little-endian.
    Le,
}

impl From<SaveByteOrder> for ByteOrder {
    fn from(order: SaveByteOrder) -> ByteOrder {
        match order {
            SaveByteOrder::Be => ByteOrder::Big,
            SaveByteOrder::Le => ByteOrder::Little,
        }
    }
}

/// Options about the host side shared by the commands that run an image.
#[derive(Args, Debug, Clone, Default)]
pub struct HostArgs {
    /// Mirror what the image writes on its Transcript to stdout.
    #[arg(long)]
    pub transcript: bool,
    /// Byte order of images written by snapshots and --save (default: as loaded).
    #[arg(long, value_name = "be|le", value_enum)]
    pub save_byte_order: Option<SaveByteOrder>,
    /// The one directory the image's file primitives may use (default: the image's).
    #[arg(long, value_name = "DIR")]
    pub files: Option<PathBuf>,
    /// The sources file (default: Smalltalk-80.sources beside the image).
    #[arg(long, value_name = "FILE")]
    pub sources: Option<PathBuf>,
    /// The changes file (default: Smalltalk-80.changes beside the image).
    #[arg(long, value_name = "FILE")]
    pub changes: Option<PathBuf>,
    /// Where the virtual clock of headless runs, eval and filein starts, local time:
    /// YYYY-MM-DD[THH:MM[:SS]], or `now` (default 2025-12-31T16:00).
    #[arg(long, value_name = "DATE", value_parser = st80_host_std::clock::parse_start_date)]
    pub start_date: Option<u32>,
    /// Headless runs, eval and filein use the host's clocks (local time, as the desktop does)
    /// instead of the virtual clock; runs are then no longer reproducible.
    #[arg(long, conflicts_with = "start_date")]
    pub real_clock: bool,
    /// Run an image without a file system (the Xerox image) as it is: do not give it the host's
    /// files and open Smalltalk-80.sources and Smalltalk-80.changes at start-up (run, eval).
    #[arg(long)]
    pub no_sources: bool,
}

/// What differs between the commands when a VM is opened.
#[derive(Default)]
pub struct Setup {
    /// Where snapshots the image takes are written (crash-safely); None fails them.
    pub snapshots: Option<PathBuf>,
    /// The host's clocks whatever --real-clock says (the desktop, benchmarks).
    pub real_clock: bool,
    /// `--xerox-trace-compat` (see `Interpreter::xerox_trace_compat`).
    pub xerox_trace_compat: bool,
}

/// An image opened on a headless host (the desktop takes the VM and the host's files over
/// once the image has booted).
pub struct Session {
    pub vm: Interpreter,
    pub host: HeadlessHost,
    pub image: PathBuf,
}

/// Opens `image` as `args` and `setup` say. Every problem with the image or the files
/// directory is one `FILE: problem` failure with status 2.
pub fn open(image: &Path, args: &HostArgs, setup: Setup) -> Result<Session, Failure> {
    let (memory, info) = load(image)?;
    let mut vm = Interpreter::new(memory).map_err(|e| bad_image(image, e))?;
    vm.xerox_trace_compat = setup.xerox_trace_compat;
    vm.snapshot_byte_order = args.save_byte_order.map_or(info.byte_order, ByteOrder::from);
    // Windowless runs are on the deterministic clock, its wall clock starting at --start-date.
    if !(setup.real_clock || args.real_clock) {
        let start = args.start_date.unwrap_or(st80_core::clock::START_SECONDS_SINCE_1901);
        vm.use_virtual_clock(st80_core::VirtualClock::default().starting_at(start));
    }
    let mut host = HeadlessHost::new();
    if let Some(path) = &setup.snapshots {
        host.save_snapshots_to(path.clone());
    }
    host.set_files(host_files(image, args, setup.snapshots.as_deref())?);
    if args.transcript {
        vm.set_transcript_echo(true);
        host.transcript_to(Box::new(io::stdout()));
    }
    Ok(Session { vm, host, image: image.to_path_buf() })
}

/// The files the image's file primitives see (see `HostFiles::for_image`): the --files
/// directory (default: the image's), --sources and --changes (default: beside the image), and
/// the image file snapshots go to (`snapshot`), which only the VM writes.
fn host_files(image: &Path, args: &HostArgs, snapshot: Option<&Path>) -> Result<HostFiles, Failure> {
    let root = args.files.as_deref();
    HostFiles::for_image(image, root, args.sources.as_deref(), args.changes.as_deref(), snapshot).map_err(|e| {
        let dir = root.map(Path::to_path_buf).unwrap_or_else(|| image.parent().unwrap_or(Path::new(".")).to_path_buf());
        Failure::bad_input(format!("{}: cannot use as the files directory: {e}", dir.display()))
    })
}

impl Session {
    /// Runs [`BOOT_CYCLES`] bytecodes: the image resumes from its snapshot. On the real clock
    /// the boot ends early once the image has settled: idle twice in a row with nothing drawn
    /// in between and no timer due (it waits for input). The rest of the cycles would only be
    /// its idle loop between sleeps, seconds before a benchmark or the desktop's window. (The
    /// virtual clock never goes idle, so headless runs boot exactly as many cycles.)
    pub fn boot(&mut self) -> StopReason {
        let end = self.vm.cycles().saturating_add(BOOT_CYCLES);
        let mut quiet_idles = 0;
        while self.vm.cycles() < end {
            match self.vm.run(&mut self.host, end - self.vm.cycles()) {
                StopReason::CyclesDone => {}
                StopReason::Idle { wake_at } => {
                    // (The damage is the boot's to take: the window, opened after it, draws
                    // the whole Display first.)
                    quiet_idles = if self.vm.take_damage().is_some() { 0 } else { quiet_idles + 1 };
                    if quiet_idles >= 2 && !self.vm.timer_pending() {
                        break;
                    }
                    st80_headless::idle_until(&mut self.host, wake_at);
                }
                other => return other,
            }
        }
        StopReason::CyclesDone
    }

    /// [`boot`](Self::boot), where anything but running all the cycles is a failure (eval,
    /// filein and bench).
    pub fn boot_or_fail(mut self) -> Result<Session, Failure> {
        match self.boot() {
            StopReason::CyclesDone => Ok(self),
            other => {
                Err(Failure::failed(format!("{}: the image stopped while starting: {other:?}", self.image.display())))
            }
        }
    }

    /// Sources out of the box (see `st80_host_std::sources`), unless --no-sources: run after the
    /// image has resumed, before the user's input or expressions.
    pub fn open_sources(&mut self, args: &HostArgs) {
        if args.no_sources {
            return;
        }
        use st80_host_std::sources::{self, Setup};
        let image = self.image.display();
        match sources::open_sources(&mut self.vm, &mut self.host, |h| h.files_mut()) {
            Ok(Setup::Opened) => log::info!("{image}: filed in the host file system; SourceFiles opened"),
            Ok(Setup::NotNeeded(why)) => log::info!("{image}: sources: {why}"),
            Err(e) => log::warn!("{image}: cannot open the sources: {e}"),
        }
    }

    /// Evaluates one expression; a timeout is exit status 3, a VM stop status 1.
    pub fn evaluate(&mut self, source: &str, timeout: Duration) -> Result<EvalOutcome, Failure> {
        self.vm.start_evaluation(source).map_err(|e| Failure::failed(format!("{}: {e}", self.image.display())))?;
        let started = Instant::now();
        loop {
            match st80_headless::run(&mut self.vm, &mut self.host, SLICE) {
                StopReason::Evaluated => {
                    return self
                        .vm
                        .evaluation_outcome()
                        .ok_or_else(|| Failure::failed("the evaluation ended without a result"));
                }
                StopReason::CyclesDone | StopReason::Idle { .. } => {}
                StopReason::Quit => return Err(Failure::failed("the image quit during the evaluation")),
                StopReason::Error(e) => {
                    return Err(Failure::failed(format!("the virtual machine stopped: {}", one_line(&e))))
                }
            }
            if started.elapsed() >= timeout {
                self.vm.cancel_evaluation();
                return Err(Failure::new(
                    Status::TimedOut,
                    format!("evaluation timed out after {} s", timeout.as_secs_f64()),
                ));
            }
        }
    }

    /// Runs the image's own snapshot code (so the saved image resumes like any snapshot),
    /// which hands the image to the host (primitive 97) to write, atomically, to `out` (the
    /// session's snapshot path).
    pub fn save_image(&mut self, out: &Path, limit: Duration) -> Result<(), Failure> {
        match self.evaluate("Smalltalk snapshotAs: 'snapshot' thenQuit: false", limit)? {
            EvalOutcome::Value(v) if v == "true" => {
                eprintln!("st80: saved {}", out.display());
                Ok(())
            }
            other => Err(Failure::failed(format!("{}: not saved: {}", out.display(), describe_error(&other)))),
        }
    }
}

/// A `--timeout SECONDS` value as a duration.
pub fn timeout(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds.clamp(0.0, 1e9))
}

/// The text of an error outcome for stderr: the message, then the short stack (or, for a
/// compile error, the code with the error's position marked) indented.
pub fn describe_error(outcome: &EvalOutcome) -> String {
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
