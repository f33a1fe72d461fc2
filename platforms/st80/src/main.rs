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
//! `eval_cmd` (eval, filein, bench), `fetch_cmd` and `images` (fetch, list, the default image).
//!
//! Exit status: 0 on success, 1 when the VM stopped with an error or an output file could not
//! be written, 2 for usage errors and for image files that cannot be used (with one line on
//! stderr: `st80: FILE: problem`).

mod check_cmd;
mod desktop_cmd;
mod eval_cmd;
mod fetch_cmd;
mod images;
mod run_cmd;

use clap::{Args, Parser, Subcommand};
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
const COMMANDS: [&str; 9] = ["info", "check", "run", "eval", "filein", "bench", "fetch", "list", "help"];

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
    Run(RunArgs),
    /// Evaluate Smalltalk expressions in the image and print each result's printString.
    Eval(eval_cmd::EvalArgs),
    /// File in chunk-format source files (the format of Smalltalk-80.sources).
    Filein(eval_cmd::FileinArgs),
    /// Run the image's own Benchmark standard tests without a window.
    Bench(eval_cmd::BenchArgs),
    /// Download images (the default set unless named) into the image directory.
    Fetch(fetch_cmd::FetchArgs),
    /// Show the images st80 knows, whether they are here, and where (also `st80 --list`).
    List {
        /// The image directory [default: $ST80_IMAGES, else the per-user data directory]
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Options about the host side shared by the commands that run an image.
#[derive(Args, Debug, Clone, Default)]
pub struct HostArgs {
    /// Mirror what the image writes on its Transcript to stdout.
    #[arg(long)]
    pub transcript: bool,
    /// Byte order of images written by snapshots and --save (default: as loaded).
    #[arg(long, value_name = "be|le", value_parser = ["be", "le"])]
    pub save_byte_order: Option<String>,
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

impl HostArgs {
    /// Puts a windowless run on the deterministic clock, its wall clock starting at
    /// --start-date (or the default), unless --real-clock.
    pub fn configure_clock(&self, vm: &mut st80_core::Interpreter) {
        if !self.real_clock {
            let start = self.start_date.unwrap_or(st80_core::clock::START_SECONDS_SINCE_1901);
            vm.use_virtual_clock(st80_core::VirtualClock::default().starting_at(start));
        }
    }
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The image file (either byte order).
    image: PathBuf,
    /// Run without a window, with a deterministic clock.
    #[arg(long)]
    headless: bool,
    /// Number of bytecodes to run (headless default 3,000,000; the desktop runs until
    /// the window is closed unless given).
    #[arg(long)]
    cycles: Option<u64>,
    /// Write the Display form to this PNG file after the run.
    #[arg(long, value_name = "FILE.png", value_parser = png_path)]
    screenshot: Option<PathBuf>,
    /// Stream an execution trace to stdout: 2 = every bytecode (like Xerox's trace2),
    /// 3 = sends and returns (like trace3).
    #[arg(long, value_name = "2|3", value_parser = clap::value_parser!(u8).range(2..=3))]
    trace: Option<u8>,
    /// Fail primitive 18 (makePoint) like the Xerox VM that wrote trace3, so that `--trace 3`
    /// matches that file beyond cycle 1679.
    #[arg(long)]
    xerox_trace_compat: bool,
    /// Feed the input events of this log (see `st80_host_std::replay`) at their cycles.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
    /// Record every input event with the cycle it arrived at (desktop).
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Integer window scale (desktop; default: automatic on HiDPI screens).
    #[arg(long, value_name = "N")]
    scale: Option<u32>,
    /// Start in full screen (desktop; F11 toggles).
    #[arg(long)]
    fullscreen: bool,
    /// Mouse button mapping (desktop): `default` is left = red, right = yellow,
    /// middle = blue; `xerox` is left = red, middle = yellow, right = blue.
    #[arg(long, value_name = "default|xerox", default_value = "default", value_parser = ["default", "xerox"])]
    buttons: String,
    /// Quit at once when the window is closed, without asking to save (desktop).
    #[arg(long)]
    no_confirm: bool,
    #[command(flatten)]
    host: HostArgs,
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
        Command::Filein(args) => eval_cmd::filein(&args),
        Command::Bench(args) => eval_cmd::bench(&args),
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
            ExitCode::from(status)
        }
    }
}

/// Bytecodes an image runs to resume from its snapshot before the start-up set-up (the v2
/// desktop is drawn after about 200,000).
pub const BOOT_CYCLES: u64 = 1_000_000;

/// Sources out of the box (see `st80_host_std::sources`), unless --no-sources: run after the
/// image has resumed, before the user's input or expressions.
pub fn open_sources(
    vm: &mut st80_core::Interpreter,
    host: &mut st80_headless::HeadlessHost,
    args: &HostArgs,
    image: &Path,
) {
    if args.no_sources {
        return;
    }
    use st80_host_std::sources::{self, Setup};
    match sources::open_sources(vm, host, |h| h.files_mut()) {
        Ok(Setup::Opened) => log::info!("{}: filed in the host file system; SourceFiles opened", image.display()),
        Ok(Setup::NotNeeded(why)) => log::info!("{}: sources: {why}", image.display()),
        Err(e) => log::warn!("{}: cannot open the sources: {e}", image.display()),
    }
}

/// Why the command failed: one line for stderr (without the `st80: ` prefix) and the exit
/// status.
pub struct Failure {
    pub status: u8,
    pub message: String,
}

impl Failure {
    pub fn new(status: u8, message: impl Into<String>) -> Failure {
        Failure { status, message: message.into() }
    }
}

/// A problem with the image file named `path` (exit status 2).
pub fn bad_image(path: &Path, problem: impl std::fmt::Display) -> Failure {
    Failure { status: 2, message: format!("{}: {}", path.display(), one_line(&problem.to_string())) }
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
