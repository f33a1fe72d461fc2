//! `st80 run`: the options of both kinds of run, and `st80 run --headless`: run a number of
//! bytecodes with the deterministic host, optionally replaying an input log, then write a
//! screenshot and the display hash. (The window is `desktop_cmd`.)

use crate::session::{self, HostArgs, Session, Setup, BOOT_CYCLES};
use crate::{one_line, Failure};
use clap::{Args, ValueEnum};
use st80_core::interpreter::TraceLevel;
use st80_core::{Interpreter, StopReason};
use st80_host_std::{display_hash, display_to_png, replay};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Bytecodes a headless run executes unless --cycles says otherwise (the desktop is drawn by
/// about 200,000).
pub const DEFAULT_CYCLES: u64 = 3_000_000;

/// `--trace`: what the execution trace shows.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trace {
    /// Every bytecode (like Xerox's trace2).
    #[value(name = "2")]
    Bytecodes,
    /// Sends and returns (like Xerox's trace3).
    #[value(name = "3")]
    Sends,
}

/// `--buttons`: which physical mouse button is which Smalltalk button (desktop).
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Buttons {
    /// Left = red, right = yellow, middle = blue.
    #[default]
    Default,
    /// Left = red, middle = yellow, right = blue, as on the Xerox machines.
    Xerox,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The image file (either byte order).
    pub image: PathBuf,
    /// Run without a window, with a deterministic clock.
    #[arg(long)]
    pub headless: bool,
    /// Number of bytecodes to run (headless default 3,000,000; the desktop runs until
    /// the window is closed unless given).
    #[arg(long)]
    pub cycles: Option<u64>,
    /// Write the Display form to this PNG file after the run.
    #[arg(long, value_name = "FILE.png", value_parser = png_path)]
    pub screenshot: Option<PathBuf>,
    /// Write the display hash (16 hex digits and a newline; see `st80_host_std::display_hash`)
    /// to this file after the run: what tests and the cross-architecture matrix compare.
    #[arg(long, value_name = "FILE")]
    pub hash_out: Option<PathBuf>,
    /// Stream an execution trace to stdout: 2 = every bytecode (like Xerox's trace2),
    /// 3 = sends and returns (like trace3).
    #[arg(long, value_name = "2|3", value_enum, hide_possible_values = true)]
    pub trace: Option<Trace>,
    /// Fail primitive 18 (makePoint) like the Xerox VM that wrote trace3, so that `--trace 3`
    /// matches that file beyond cycle 1679.
    #[arg(long)]
    pub xerox_trace_compat: bool,
    /// Feed the input events of this log (see `st80_host_std::replay`) at their cycles.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// Record every input event with the cycle it arrived at (desktop).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Integer window scale (desktop; default: automatic on HiDPI screens).
    #[arg(long, value_name = "N")]
    pub scale: Option<u32>,
    /// Start in full screen (desktop; F11 toggles).
    #[arg(long)]
    pub fullscreen: bool,
    /// Mouse button mapping (desktop): `default` is left = red, right = yellow,
    /// middle = blue; `xerox` is left = red, middle = yellow, right = blue.
    #[arg(long, value_name = "default|xerox", value_enum, default_value_t, hide_possible_values = true)]
    pub buttons: Buttons,
    /// Quit at once when the window is closed, without asking to save (desktop).
    #[arg(long)]
    pub no_confirm: bool,
    #[command(flatten)]
    pub host: HostArgs,
}

/// Screenshots are PNG files; another extension would give a file that does not hold what its
/// name says, so it is refused before anything runs.
fn png_path(arg: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(arg);
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("png") => Ok(path),
        _ => Err(format!("{arg}: screenshots are written as PNG; give a file name ending in .png")),
    }
}

/// The input log of --replay.
pub fn read_replay(log: &Path) -> Result<Vec<replay::Stamped>, Failure> {
    let text =
        std::fs::read_to_string(log).map_err(|e| Failure::bad_input(format!("{}: cannot read: {e}", log.display())))?;
    replay::parse(&text).map_err(|e| Failure::bad_input(format!("{}: {e}", log.display())))
}

pub fn run(args: &RunArgs) -> Result<(), Failure> {
    // A snapshot (the screen menu's "save") replaces the image, crash-safely.
    let setup =
        Setup { snapshots: Some(args.image.clone()), xerox_trace_compat: args.xerox_trace_compat, ..Setup::default() };
    let mut session = session::open(&args.image, &args.host, setup)?;
    if let Some(log) = &args.replay {
        replay::schedule(&mut session.vm, &read_replay(log)?);
    }
    if args.record.is_some() {
        return Err(Failure::bad_input("--record needs the desktop window (there is no input to record headless)"));
    }
    if let Some(trace) = args.trace {
        session.vm.set_trace(Some(match trace {
            Trace::Bytecodes => TraceLevel::Bytecodes,
            Trace::Sends => TraceLevel::Sends,
        }));
        session.host.trace_to(Box::new(io::stdout().lock()));
    }
    let started = Instant::now();
    let total = args.cycles.unwrap_or(DEFAULT_CYCLES);
    let mut stop = StopReason::CyclesDone;
    // Sources out of the box once the image has resumed, as on the desktop (so a session
    // recorded there replays the same here); never in a trace, which must match Xerox's.
    if args.trace.is_none() && !args.xerox_trace_compat && total > BOOT_CYCLES {
        stop = session.boot();
        if stop == StopReason::CyclesDone {
            session.open_sources(&args.host);
        }
    }
    let Session { vm, host, .. } = &mut session;
    if stop == StopReason::CyclesDone {
        let rest = total.saturating_sub(vm.cycles());
        stop = st80_headless::run(vm, host, rest);
    }
    let elapsed = started.elapsed();
    if let Err(e) = host.flush() {
        // A closed pipe (e.g. `| head`) is the reader's choice, not our failure.
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("st80: writing the trace: {e}");
        }
    }
    let cycles = vm.cycles();
    let mips = cycles as f64 / elapsed.as_secs_f64().max(1e-9) / 1e6;
    // (The peak includes the libraries the binary loads: SDL2's, in a build with the desktop.)
    let peak = crate::process_memory_kb("VmHWM")
        .map_or(String::new(), |kb| format!(", peak RSS {:.1} MB", kb as f64 / 1024.0));
    let mut summary = format!(
        "st80: {}: ran {cycles} cycles in {:.2} s ({mips:.1} M bytecodes/s{peak}): {}",
        args.image.display(),
        elapsed.as_secs_f64(),
        match &stop {
            StopReason::CyclesDone => "cycles done".to_string(),
            StopReason::Quit => "the image quit".to_string(),
            StopReason::Error(e) => format!("error: {}", one_line(e)),
            other => format!("{other:?}"),
        }
    );
    let status = write_outputs(vm, args, &mut summary);
    eprintln!("{summary}");
    let _ = io::stderr().flush();
    status?;
    match stop {
        StopReason::Error(_) => Err(Failure::failed(format!("{}: the virtual machine stopped", args.image.display()))),
        _ => Ok(()),
    }
}

/// After a run (headless or desktop): writes the Display form as a PNG (--screenshot) and its
/// hash (--hash-out), and appends "wrote FILE (W x H, hash H)" to `summary` for people.
pub fn write_outputs(vm: &Interpreter, args: &RunArgs, summary: &mut String) -> Result<(), Failure> {
    if args.screenshot.is_none() && args.hash_out.is_none() {
        return Ok(());
    }
    let named = args.screenshot.as_ref().or(args.hash_out.as_ref()).expect("one of them");
    let form = vm.display().ok_or_else(|| {
        Failure::failed(format!("{}: not written: the image has no Display form yet", named.display()))
    })?;
    let hash = display_hash(&form);
    if let Some(file) = &args.screenshot {
        std::fs::write(file, display_to_png(&form))
            .map_err(|e| Failure::failed(format!("{}: cannot write: {e}", file.display())))?;
        summary.push_str(&format!("; wrote {} ({} x {}, hash {hash})", file.display(), form.width, form.height));
    }
    if let Some(file) = &args.hash_out {
        std::fs::write(file, format!("{hash}\n"))
            .map_err(|e| Failure::failed(format!("{}: cannot write: {e}", file.display())))?;
        if args.screenshot.is_none() {
            summary.push_str(&format!("; display hash {hash} written to {}", file.display()));
        }
    }
    Ok(())
}
