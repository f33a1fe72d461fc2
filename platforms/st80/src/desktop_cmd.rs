//! `st80 run IMAGE` without --headless: the Smalltalk-80 desktop in an SDL2 window (see the
//! `st80-desktop` crate). Built with the `desktop` cargo feature (on by default); without it
//! this command explains that and exits with status 2.

use crate::{Failure, RunArgs};

#[cfg(not(feature = "desktop"))]
pub fn run(args: &RunArgs) -> Result<(), Failure> {
    Err(Failure::new(
        2,
        format!(
            "{}: this st80 was built without the desktop window (cargo feature `desktop`); \
             run it with --headless, e.g. st80 run {} --headless --screenshot desk.png",
            args.image.display(),
            args.image.display()
        ),
    ))
}

#[cfg(feature = "desktop")]
pub fn run(args: &RunArgs) -> Result<(), Failure> {
    use crate::{bad_image, load, one_line};
    use st80_core::{ByteOrder, Interpreter};
    use st80_desktop::{ButtonMap, Options, Outcome};
    use std::io::{BufWriter, Write};
    use std::time::Instant;

    if args.trace.is_some() {
        return Err(Failure::new(2, "--trace needs --headless"));
    }
    if args.host.start_date.is_some() {
        return Err(Failure::new(2, "--start-date needs --headless (the desktop shows the host's clock)"));
    }
    let (memory, info) = load(&args.image)?;
    let mut vm = Interpreter::new(memory).map_err(|e| bad_image(&args.image, e))?;
    vm.xerox_trace_compat = args.xerox_trace_compat;
    vm.snapshot_byte_order = match args.host.save_byte_order.as_deref() {
        Some("be") => ByteOrder::Big,
        Some("le") => ByteOrder::Little,
        _ => info.byte_order,
    };
    let replay = match &args.replay {
        Some(log) => {
            let text = std::fs::read_to_string(log)
                .map_err(|e| Failure::new(2, format!("{}: cannot read: {e}", log.display())))?;
            st80_host_std::replay::parse(&text).map_err(|e| Failure::new(2, format!("{}: {e}", log.display())))?
        }
        None => Vec::new(),
    };
    let record: Option<Box<dyn Write>> = match &args.record {
        Some(file) => Some(Box::new(BufWriter::new(
            std::fs::File::create(file)
                .map_err(|e| Failure::new(2, format!("{}: cannot write: {e}", file.display())))?,
        ))),
        None => None,
    };
    if args.scale == Some(0) {
        return Err(Failure::new(2, "--scale must be 1 or more"));
    }
    let mut files = Some(crate::eval_cmd::host_files(&args.image, &args.host, Some(&args.image))?);
    if !args.host.no_sources && args.cycles.unwrap_or(u64::MAX) > crate::BOOT_CYCLES {
        // Sources out of the box, before the window opens: the image resumes and the set-up
        // runs on a windowless host holding the same files (the image keeps handles into them),
        // which then go to the desktop. `st80 run --headless` does the same.
        let mut boot = st80_headless::HeadlessHost::new();
        boot.set_files(files.take().expect("files"));
        if args.host.transcript {
            vm.set_transcript_echo(true);
            boot.transcript_to(Box::new(std::io::stdout()));
        }
        if st80_headless::run(&mut vm, &mut boot, crate::BOOT_CYCLES) == st80_core::StopReason::CyclesDone {
            crate::open_sources(&mut vm, &mut boot, &args.host, &args.image);
        }
        files = boot.take_files();
    }
    let name = args.image.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let options = Options {
        title: format!("st80 - {name}"),
        scale: args.scale,
        fullscreen: args.fullscreen,
        buttons: if args.buttons == "xerox" { ButtonMap::Xerox } else { ButtonMap::Default },
        confirm_close: !args.no_confirm,
        snapshot_path: Some(args.image.clone()),
        record,
        replay,
        max_cycles: args.cycles,
        transcript: args.host.transcript,
        files,
    };
    let started = Instant::now();
    let outcome = match st80_desktop::run(&mut vm, options) {
        Ok(outcome) => outcome,
        Err(st80_desktop::Error::NoDisplay(e)) => {
            // One line on the terminal: a message box cannot be shown either.
            let hint = st80_desktop::NO_DISPLAY_HINT.replace("IMAGE", &args.image.display().to_string());
            return Err(Failure::new(2, format!("{}: {}; {hint}", args.image.display(), one_line(&e))));
        }
        Err(e) => {
            let e = e.to_string();
            let message = format!("{}: {}", args.image.display(), one_line(&e));
            st80_desktop::show_error("Smalltalk-80", &message);
            return Err(Failure::new(1, message));
        }
    };
    let mut summary = format!(
        "st80: {}: ran {} cycles in {:.2} s: {}",
        args.image.display(),
        vm.cycles(),
        started.elapsed().as_secs_f64(),
        match outcome {
            Outcome::ImageQuit => "the image quit",
            Outcome::Closed => "window closed",
            Outcome::CyclesDone => "cycles done",
        }
    );
    let status = match &args.screenshot {
        Some(file) => crate::run_cmd::write_screenshot(&vm, file, &mut summary),
        None => Ok(()),
    };
    eprintln!("{summary}");
    status
}
