//! `st80 run IMAGE` without --headless: the Smalltalk-80 desktop in an SDL2 window (see the
//! `st80-desktop` crate). Built with the `desktop` cargo feature (on by default); without it
//! this command explains that and exits with status 2.

use crate::run_cmd::RunArgs;
use crate::Failure;

#[cfg(not(feature = "desktop"))]
pub fn run(args: &RunArgs) -> Result<(), Failure> {
    Err(Failure::bad_input(format!(
        "{}: this st80 was built without the desktop window (cargo feature `desktop`); \
         run it with --headless, e.g. st80 run {} --headless --screenshot desk.png",
        args.image.display(),
        args.image.display()
    )))
}

#[cfg(feature = "desktop")]
pub fn run(args: &RunArgs) -> Result<(), Failure> {
    use crate::one_line;
    use crate::run_cmd::{read_replay, write_outputs, Buttons};
    use crate::session::{self, Setup, BOOT_CYCLES};
    use st80_desktop::{ButtonMap, Options, Outcome};
    use std::io::{BufWriter, Write};
    use std::time::Instant;

    if args.trace.is_some() {
        return Err(Failure::bad_input("--trace needs --headless"));
    }
    if args.host.start_date.is_some() {
        return Err(Failure::bad_input("--start-date needs --headless (the desktop shows the host's clock)"));
    }
    // The desktop shows the host's clock; snapshots (and the close dialog's Save) replace the
    // image.
    let setup =
        Setup { snapshots: Some(args.image.clone()), real_clock: true, xerox_trace_compat: args.xerox_trace_compat };
    let mut session = session::open(&args.image, &args.host, setup)?;
    let replay = match &args.replay {
        Some(log) => read_replay(log)?,
        None => Vec::new(),
    };
    let record: Option<Box<dyn Write>> = match &args.record {
        Some(file) => Some(Box::new(BufWriter::new(
            std::fs::File::create(file)
                .map_err(|e| Failure::bad_input(format!("{}: cannot write: {e}", file.display())))?,
        ))),
        None => None,
    };
    if args.scale == Some(0) {
        return Err(Failure::bad_input("--scale must be 1 or more"));
    }
    if !args.host.no_sources && args.cycles.unwrap_or(u64::MAX) > BOOT_CYCLES {
        // Sources out of the box, before the window opens: the image resumes and the set-up
        // runs on the windowless host, whose files (the image keeps handles into them) then go
        // to the desktop. `st80 run --headless` does the same.
        if session.boot() == st80_core::StopReason::CyclesDone {
            session.open_sources(&args.host);
        }
    }
    let files = session.host.take_files();
    let mut vm = session.vm;
    let name = args.image.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let options = Options {
        title: format!("st80 - {name}"),
        scale: args.scale,
        fullscreen: args.fullscreen,
        buttons: match args.buttons {
            Buttons::Default => ButtonMap::Default,
            Buttons::Xerox => ButtonMap::Xerox,
        },
        confirm_close: !args.no_confirm,
        snapshot_path: Some(args.image.clone()),
        record,
        replay,
        max_cycles: args.cycles,
        transcript: args.host.transcript,
        files,
    };
    let started = Instant::now();
    let report = match st80_desktop::run(&mut vm, options) {
        Ok(report) => report,
        Err(st80_desktop::Error::NoDisplay(e)) => {
            // One line on the terminal: a message box cannot be shown either.
            let hint = st80_desktop::NO_DISPLAY_HINT.replace("IMAGE", &args.image.display().to_string());
            return Err(Failure::bad_input(format!("{}: {}; {hint}", args.image.display(), one_line(&e))));
        }
        Err(e) => {
            let e = e.to_string();
            let message = format!("{}: {}", args.image.display(), one_line(&e));
            st80_desktop::show_error("Smalltalk-80", &message);
            return Err(Failure::failed(message));
        }
    };
    // (What showing the Display cost; the share is of the time since the last input, what the
    // image did on its own after the user's last action.)
    let mut summary = format!(
        "st80: {}: ran {} cycles in {:.2} s ({} frames drawn in {:.3} s; after the last input {:.3} s, {:.1} % of it drawing): {}",
        args.image.display(),
        vm.cycles(),
        started.elapsed().as_secs_f64(),
        report.frames,
        report.display_time.as_secs_f64(),
        report.after_input.as_secs_f64(),
        report.display_share(),
        match report.outcome {
            Outcome::ImageQuit => "the image quit",
            Outcome::Closed => "window closed",
            Outcome::CyclesDone => "cycles done",
        }
    );
    let status = write_outputs(&vm, args, &mut summary);
    eprintln!("{summary}");
    status
}
