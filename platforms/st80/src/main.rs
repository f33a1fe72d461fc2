//! `st80`: inspect and run Smalltalk-80 images.
//!
//! ```text
//! st80 info IMAGE
//! st80 run IMAGE --headless [--cycles N] [--screenshot FILE.png] [--trace 2|3]
//! st80 IMAGE ...            (same as `st80 run IMAGE ...`)
//! ```
//!
//! Exit status: 0 on success, 1 when the VM stopped with an error or an output file could not
//! be written, 2 for usage errors and for image files that cannot be used (with one line on
//! stderr: `st80: FILE: problem`).

use clap::{Args, Parser, Subcommand};
use st80_core::interpreter::TraceLevel;
use st80_core::{image, summary, ImageInfo, Interpreter, ObjectMemory, StopReason};
use st80_headless::{display_hash, display_to_png, HeadlessHost};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser, Debug)]
#[command(
    name = "st80",
    version,
    about = "A Smalltalk-80 virtual machine for the original 1983 Xerox image",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `st80 IMAGE ...` is short for `st80 run IMAGE ...`.
    #[command(flatten)]
    run: Option<RunArgs>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Describe an image: byte order, sizes, classes, active process, display size.
    Info {
        /// The image file (either byte order).
        image: PathBuf,
    },
    /// Run an image.
    Run(RunArgs),
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The image file (either byte order).
    image: PathBuf,
    /// Run without a window, with a deterministic clock (the only mode in this build).
    #[arg(long)]
    headless: bool,
    /// Number of bytecodes to run.
    #[arg(long, default_value_t = 3_000_000)]
    cycles: u64,
    /// Write the Display form to this PNG file after the run.
    #[arg(long, value_name = "FILE.png")]
    screenshot: Option<PathBuf>,
    /// Stream an execution trace to stdout: 2 = every bytecode (like Xerox's trace2),
    /// 3 = sends and returns (like trace3).
    #[arg(long, value_name = "2|3", value_parser = clap::value_parser!(u8).range(2..=3))]
    trace: Option<u8>,
    /// Fail primitive 18 (makePoint) like the Xerox VM that wrote trace3, so that `--trace 3`
    /// matches that file beyond cycle 1679.
    #[arg(long)]
    xerox_trace_compat: bool,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).format_timestamp(None).init();
    let cli = Cli::parse();
    let result = match (cli.command, cli.run) {
        (Some(Command::Info { image }), _) => info(&image),
        (Some(Command::Run(args)), _) | (None, Some(args)) => run(&args),
        (None, None) => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { status, message }) => {
            eprintln!("st80: {message}");
            ExitCode::from(status)
        }
    }
}

/// Why the command failed: one line for stderr (without the `st80: ` prefix) and the exit
/// status.
struct Failure {
    status: u8,
    message: String,
}

/// A problem with the image file named `path` (exit status 2).
fn bad_image(path: &Path, problem: impl std::fmt::Display) -> Failure {
    Failure { status: 2, message: format!("{}: {}", path.display(), one_line(&problem.to_string())) }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads and parses an image file; every problem becomes one `FILE: problem` line.
fn load(path: &Path) -> Result<(ObjectMemory, ImageInfo), Failure> {
    if path.is_dir() {
        return Err(bad_image(path, "is a directory, not an image file"));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        bad_image(
            path,
            match e.kind() {
                io::ErrorKind::NotFound => "no such file".to_string(),
                io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ => format!("cannot read: {e}"),
            },
        )
    })?;
    let (memory, info) = image::load(&bytes).map_err(|e| bad_image(path, e))?;
    log::info!("{}: loaded a {} image, {} objects", path.display(), info.byte_order, memory.object_count());
    Ok((memory, info))
}

fn info(path: &Path) -> Result<(), Failure> {
    let (memory, info) = load(path)?;
    let summary = summary::summarize(&memory, &info);
    println!("image:           {}", path.display());
    println!("{summary}");
    Ok(())
}

fn run(args: &RunArgs) -> Result<(), Failure> {
    if !args.headless {
        return Err(Failure {
            status: 2,
            message: format!(
                "{}: only --headless is available in this build (the desktop window comes \
                 later); try: st80 run {} --headless --screenshot desk.png",
                args.image.display(),
                args.image.display()
            ),
        });
    }
    let (memory, _info) = load(&args.image)?;
    let mut vm = Interpreter::new(memory).map_err(|e| bad_image(&args.image, e))?;
    vm.xerox_trace_compat = args.xerox_trace_compat;
    let mut host = HeadlessHost::new();
    if let Some(level) = args.trace {
        vm.set_trace(Some(if level == 2 { TraceLevel::Bytecodes } else { TraceLevel::Sends }));
        host.trace_to(Box::new(io::stdout().lock()));
    }
    let started = Instant::now();
    let stop = vm.run(&mut host, args.cycles);
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
    let mut status = Ok(());
    if let Some(file) = &args.screenshot {
        match vm.display() {
            Some(form) => {
                let png = display_to_png(&form);
                match std::fs::write(file, png) {
                    Ok(()) => summary.push_str(&format!(
                        "; wrote {} ({} x {}, hash {})",
                        file.display(),
                        form.width,
                        form.height,
                        display_hash(&form)
                    )),
                    Err(e) => {
                        status = Err(Failure { status: 1, message: format!("{}: cannot write: {e}", file.display()) })
                    }
                }
            }
            None => {
                status = Err(Failure {
                    status: 1,
                    message: format!("{}: not written: the image has no Display form yet", file.display()),
                })
            }
        }
    }
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
