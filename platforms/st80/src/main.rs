//! `st80`: inspect and run Smalltalk-80 images.
//!
//! ```text
//! st80 info IMAGE
//! st80 check IMAGE
//! st80 run IMAGE [--headless] [--cycles N] [--screenshot FILE.png] [--trace 2|3] ...
//! st80 eval IMAGE EXPR...
//! st80 filein IMAGE FILE.st... [--save OUT]
//! st80 bench IMAGE [--json]
//! st80 fetch [NAME...]      (download images; `st80 list` shows them)
//! st80 IMAGE ...            (same as `st80 run IMAGE ...`)
//! st80                      (the default image, from the image directory)
//! ```
//!
//! One module per command: `run_cmd` (headless runs, replay), `desktop_cmd` (the SDL window),
//! `eval_cmd`, `filein_cmd` (with `chunks`, the chunk-format reader), `bench_cmd`, `fetch_cmd`
//! and `images` (fetch, list, the default image). `session` opens a VM from the command line
//! options for all of them.
//!
//! Exit status ([`Status`]): 0 on success, 1 when the VM stopped with an error or an output
//! file could not be written, 2 for usage errors and for image files that cannot be used (with
//! one line on stderr: `st80: FILE: problem`), 3 when an evaluation timed out.

mod bench_cmd;
mod check_cmd;
mod chunks;
mod desktop_cmd;
mod eval_cmd;
mod fetch_cmd;
mod filein_cmd;
mod images;
mod run_cmd;
mod session;
mod soak_cmd;

use clap::{Parser, Subcommand};
use st80_core::{image, summary, ImageInfo, ObjectMemory};
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "st80",
    version,
    about = "A Smalltalk-80 virtual machine for the original 1983 Xerox image",
    after_help = "`st80 IMAGE ...` is short for `st80 run IMAGE ...`; `st80` alone opens the default \
                  image (`st80 fetch` downloads it, `st80 list` shows the images)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommand names; anything else first on the command line is an image to run.
const COMMANDS: [&str; 10] = ["info", "check", "run", "eval", "filein", "bench", "soak", "fetch", "list", "help"];

#[derive(Subcommand, Debug)]
enum Command {
    /// Describe an image: byte order, sizes, classes, active process, display size.
    Info {
        /// The image file (either byte order).
        image: PathBuf,
    },
    /// Verify an image file without running it: prints `ok`, or one line per problem (exit 1).
    Check(check_cmd::CheckArgs),
    /// Run an image: in a window, or with --headless for a number of bytecodes.
    Run(run_cmd::RunArgs),
    /// Evaluate Smalltalk expressions in the image and print each result's printString.
    Eval(eval_cmd::EvalArgs),
    /// File in chunk-format source files (the format of Smalltalk-80.sources).
    Filein(filein_cmd::FileinArgs),
    /// Run the image's own Benchmark standard tests without a window.
    Bench(bench_cmd::BenchArgs),
    /// Drive the image with a seeded random user for a while (a scratch copy); report its health.
    Soak(soak_cmd::SoakArgs),
    /// Download images (the default set unless named) into the image directory.
    Fetch(fetch_cmd::FetchArgs),
    /// Show the images st80 knows, whether they are here, and where (also `st80 --list`).
    List {
        /// The image directory [default: $ST80_IMAGES, else the per-user data directory]
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).format_timestamp(None).init();
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.len() == 1 {
        match images::default_image() {
            Ok(image) => argv.extend(["run".into(), image.into_os_string()]),
            Err(failure) => return exit(Err(failure)),
        }
    } else if argv[1] == "--list" {
        argv[1] = "list".into();
    }
    if let Some(first) = argv.get(1).and_then(|a| a.to_str()) {
        if !first.starts_with('-') && !COMMANDS.contains(&first) {
            argv.insert(1, "run".into());
        }
    }
    let cli = Cli::parse_from(argv);
    let result = match cli.command {
        Command::Info { image } => info(&image),
        Command::Check(args) => check_cmd::check(&args),
        Command::Run(args) => {
            if args.headless {
                run_cmd::run(&args)
            } else {
                desktop_cmd::run(&args)
            }
        }
        Command::Eval(args) => eval_cmd::eval(&args),
        Command::Filein(args) => filein_cmd::filein(&args),
        Command::Bench(args) => bench_cmd::bench(&args),
        Command::Soak(args) => soak_cmd::soak(&args),
        Command::Fetch(args) => fetch_cmd::fetch(&args),
        Command::List { dir } => images::list(dir.as_deref()),
    };
    exit(result)
}

fn exit(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { status, message }) => {
            eprintln!("st80: {message}");
            ExitCode::from(status as u8)
        }
    }
}

/// The exit status of `st80` (clap's own usage errors exit with 2 too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    /// The VM stopped with an error, an expression or chunk failed, or an output file could
    /// not be written.
    Failed = 1,
    /// A usage error, or a file (image, replay log, files directory) that cannot be used.
    BadInput = 2,
    /// An evaluation did not finish within --timeout.
    TimedOut = 3,
}

/// Why the command failed: one line for stderr (without the `st80: ` prefix) and the exit
/// status.
pub struct Failure {
    pub status: Status,
    pub message: String,
}

impl Failure {
    pub fn new(status: Status, message: impl Into<String>) -> Failure {
        Failure { status, message: message.into() }
    }

    /// Status 1: see [`Status::Failed`].
    pub fn failed(message: impl Into<String>) -> Failure {
        Failure::new(Status::Failed, message)
    }

    /// Status 2: see [`Status::BadInput`].
    pub fn bad_input(message: impl Into<String>) -> Failure {
        Failure::new(Status::BadInput, message)
    }
}

/// A problem with the image file named `path` (exit status 2).
pub fn bad_image(path: &Path, problem: impl std::fmt::Display) -> Failure {
    Failure::bad_input(format!("{}: {}", path.display(), one_line(&problem.to_string())))
}

/// A memory figure of this process in kB from `/proc/self/status` (`VmRSS`: resident now,
/// `VmHWM`: the peak), where the host tells (Linux).
pub fn process_memory_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.strip_prefix(field).is_some_and(|rest| rest.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads and parses an image file; every problem becomes one `FILE: problem` line.
pub fn load(path: &Path) -> Result<(ObjectMemory, ImageInfo), Failure> {
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
