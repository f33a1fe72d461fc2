//! `st80 run --headless`: run a number of bytecodes with the deterministic host, optionally
//! replaying an input log, then write a screenshot.

use crate::{bad_image, load, one_line, Failure, RunArgs};
use st80_core::interpreter::TraceLevel;
use st80_core::{Interpreter, StopReason};
use st80_host_std::{display_hash, display_to_png, replay};
use std::io::{self, Write};
use std::path::Path;
use std::time::Instant;

/// Bytecodes a headless run executes unless --cycles says otherwise (the desktop is drawn by
/// about 200,000).
pub const DEFAULT_CYCLES: u64 = 3_000_000;

pub fn run(args: &RunArgs) -> Result<(), Failure> {
    let (memory, info) = load(&args.image)?;
    let mut vm = Interpreter::new(memory).map_err(|e| bad_image(&args.image, e))?;
    vm.xerox_trace_compat = args.xerox_trace_compat;
    vm.snapshot_byte_order = match args.host.save_byte_order.as_deref() {
        Some("be") => st80_core::ByteOrder::Big,
        Some("le") => st80_core::ByteOrder::Little,
        _ => info.byte_order,
    };
    args.host.configure_clock(&mut vm);
    let mut host = st80_headless::HeadlessHost::new();
    // A snapshot (the screen menu's "save") replaces the image, crash-safely.
    host.save_snapshots_to(args.image.clone());
    host.set_files(crate::eval_cmd::host_files(&args.image, &args.host, Some(&args.image))?);
    if args.host.transcript {
        vm.set_transcript_echo(true);
        host.transcript_to(Box::new(io::stdout()));
    }
    if let Some(log) = &args.replay {
        let text = std::fs::read_to_string(log)
            .map_err(|e| Failure::new(2, format!("{}: cannot read: {e}", log.display())))?;
        let events = replay::parse(&text).map_err(|e| Failure::new(2, format!("{}: {e}", log.display())))?;
        replay::schedule(&mut vm, &events);
    }
    if args.record.is_some() {
        return Err(Failure::new(2, "--record needs the desktop window (there is no input to record headless)"));
    }
    if let Some(level) = args.trace {
        vm.set_trace(Some(if level == 2 { TraceLevel::Bytecodes } else { TraceLevel::Sends }));
        host.trace_to(Box::new(io::stdout().lock()));
    }
    let started = Instant::now();
    let total = args.cycles.unwrap_or(DEFAULT_CYCLES);
    let mut stop = StopReason::CyclesDone;
    // Sources out of the box once the image has resumed, as on the desktop (so a session
    // recorded there replays the same here); never in a trace, which must match Xerox's.
    if args.trace.is_none() && !args.xerox_trace_compat && total > crate::BOOT_CYCLES {
        stop = st80_headless::run(&mut vm, &mut host, crate::BOOT_CYCLES);
        if stop == StopReason::CyclesDone {
            crate::open_sources(&mut vm, &mut host, &args.host, &args.image);
        }
    }
    if stop == StopReason::CyclesDone {
        let rest = total.saturating_sub(vm.cycles());
        stop = st80_headless::run(&mut vm, &mut host, rest);
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
    let mut summary = format!(
        "st80: {}: ran {cycles} cycles in {:.2} s ({mips:.1} M bytecodes/s): {}",
        args.image.display(),
        elapsed.as_secs_f64(),
        match &stop {
            StopReason::CyclesDone => "cycles done".to_string(),
            StopReason::Quit => "the image quit".to_string(),
            StopReason::Error(e) => format!("error: {}", one_line(e)),
            other => format!("{other:?}"),
        }
    );
    let status = match &args.screenshot {
        Some(file) => write_screenshot(&vm, file, &mut summary),
        None => Ok(()),
    };
    eprintln!("{summary}");
    let _ = io::stderr().flush();
    status?;
    match stop {
        StopReason::Error(_) => {
            Err(Failure { status: 1, message: format!("{}: the virtual machine stopped", args.image.display()) })
        }
        _ => Ok(()),
    }
}

/// Writes the Display form as a PNG and appends "wrote FILE (W x H, hash H)" to `summary`
/// (the hash is what tests and the cross-architecture matrix compare).
pub fn write_screenshot(vm: &Interpreter, file: &Path, summary: &mut String) -> Result<(), Failure> {
    let form = vm.display().ok_or_else(|| {
        Failure::new(1, format!("{}: not written: the image has no Display form yet", file.display()))
    })?;
    std::fs::write(file, display_to_png(&form))
        .map_err(|e| Failure::new(1, format!("{}: cannot write: {e}", file.display())))?;
    summary.push_str(&format!(
        "; wrote {} ({} x {}, hash {})",
        file.display(),
        form.width,
        form.height,
        display_hash(&form)
    ));
    Ok(())
}
