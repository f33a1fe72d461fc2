//! `st80 soak IMAGE`: a seeded random user (`st80_host_std::soak`) drives the image headless
//! for a given wall-clock time, on a scratch copy of the image and its sources and changes
//! (the user may save, file out or quit). Every few seconds a sample of the VM's health goes
//! to a CSV file: bytecodes, objects (all, and those the last collection kept), free
//! object-table entries, heap words, collections,
//! resident memory and the display hash. When the image quits, the soak checks the image file
//! in the scratch directory (`st80_core::check`: a save the random user made must be sound)
//! and starts it again; so it does when the image stops responding (neither its screen nor
//! its memory changes for --unresponsive-after seconds of input), which is counted. docs/reliability.md has the campaigns and their curves.
//!
//! It fails (exit 1) when the VM stops with an error, resident memory passes --max-rss-mb, or
//! a saved image does not pass the check. A full object table is not a failure: the random
//! user opens windows by the thousand, and the image's own low-space handling must cope.

use crate::session::{self, HostArgs, Session, Setup};
use crate::{one_line, Failure};
use clap::Args;
use st80_core::StopReason;
use st80_host_std::soak::RandomUser;
use st80_host_std::{display_hash, replay};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Input events the image has not taken yet above which no new gesture is made (an image busy
/// in a long computation polls nothing).
const MAX_PENDING_EVENTS: usize = 2_000;

#[derive(Args, Debug)]
pub struct SoakArgs {
    /// The image file (either byte order); it is copied, never written.
    pub image: PathBuf,
    /// The random user's seed: the same seed gives the same input.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How long to run, wall clock.
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    pub seconds: f64,
    /// Seconds between two samples.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub sample_every: f64,
    /// Write the samples here as CSV.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Write the input as a replay log here (one per start of the image, separated by a
    /// comment line), to reproduce a run with `st80 run --headless --replay`.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Fail when resident memory passes this many MB.
    #[arg(long, default_value_t = 256, value_name = "MB")]
    pub max_rss_mb: u64,
    /// Restart the image when neither its screen nor its memory has changed for this long
    /// while the random user kept giving it input (it stopped responding).
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub unresponsive_after: f64,
    /// Keep the scratch directory (it is printed) instead of removing it.
    #[arg(long)]
    pub keep: bool,
}

/// One CSV row.
struct Sample {
    seconds: f64,
    starts: u32,
    cycles: u64,
    live_objects: usize,
    survivors: usize,
    free_oops: usize,
    heap_words: usize,
    collections: u64,
    rss_kb: Option<u64>,
    display_hash: String,
}

const CSV_HEADER: &str =
    "seconds,starts,cycles,live_objects,survivors,free_oops,heap_words,collections,rss_kb,display_hash";

impl Sample {
    fn csv(&self) -> String {
        format!(
            "{:.1},{},{},{},{},{},{},{},{},{}",
            self.seconds,
            self.starts,
            self.cycles,
            self.live_objects,
            self.survivors,
            self.free_oops,
            self.heap_words,
            self.collections,
            self.rss_kb.map_or(String::new(), |k| k.to_string()),
            self.display_hash
        )
    }
}

/// Resident memory of this process in kB, where the host tells (Linux).
fn rss_kb() -> Option<u64> {
    crate::process_memory_kb("VmRSS")
}

/// Copies the image and the sources and changes files beside it into a new scratch directory.
fn scratch_copy(image: &Path) -> Result<(PathBuf, PathBuf), Failure> {
    let name = image.file_name().ok_or_else(|| Failure::bad_input(format!("{}: not a file", image.display())))?;
    let dir = std::env::temp_dir().join(format!("st80-soak-{}", std::process::id()));
    let cannot = |what: &Path, e: std::io::Error| Failure::failed(format!("{}: cannot copy: {e}", what.display()));
    std::fs::create_dir_all(&dir).map_err(|e| cannot(&dir, e))?;
    std::fs::copy(image, dir.join(name))
        .map_err(|e| Failure::bad_input(format!("{}: cannot read: {e}", image.display())))?;
    writable(&dir.join(name)).map_err(|e| cannot(&dir.join(name), e))?;
    let beside = image.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if let Ok(entries) = std::fs::read_dir(beside) {
        for entry in entries.flatten() {
            let path = entry.path();
            if matches!(path.extension().and_then(|e| e.to_str()), Some("sources" | "changes")) {
                let copy = dir.join(entry.file_name());
                std::fs::copy(&path, &copy).map_err(|e| cannot(&path, e))?;
                writable(&copy).map_err(|e| cannot(&copy, e))?;
            }
        }
    }
    let copy = dir.join(name);
    Ok((dir, copy))
}

/// The copies are the random user's to write (a save, the changes file), whatever the
/// originals' modes.
fn writable(path: &Path) -> std::io::Result<()> {
    let mut permissions = std::fs::metadata(path)?.permissions();
    #[allow(clippy::permissions_set_readonly_false)] // a scratch copy that only this process uses
    permissions.set_readonly(false);
    std::fs::set_permissions(path, permissions)
}

/// Opens and boots the scratch image (the desktop's set-up: host files, sources, snapshots
/// back to the scratch image).
fn start(image: &Path, dir: &Path) -> Result<Session, Failure> {
    let args = HostArgs { files: Some(dir.to_path_buf()), ..HostArgs::default() };
    let mut session = session::open(image, &args, Setup { snapshots: Some(image.to_path_buf()), ..Setup::default() })?;
    match session.boot() {
        StopReason::CyclesDone | StopReason::Idle { .. } => {}
        other => {
            return Err(Failure::failed(format!("{}: the image stopped while starting: {other:?}", image.display())))
        }
    }
    session.open_sources(&args);
    Ok(session)
}

pub fn soak(args: &SoakArgs) -> Result<(), Failure> {
    let (dir, image) = scratch_copy(&args.image)?;
    let result = soak_in(args, &image);
    if args.keep || result.is_err() {
        eprintln!("st80: soak: scratch directory kept: {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn create(path: &Path) -> Result<BufWriter<File>, Failure> {
    File::create(path)
        .map(BufWriter::new)
        .map_err(|e| Failure::failed(format!("{}: cannot write: {e}", path.display())))
}

fn soak_in(args: &SoakArgs, image: &Path) -> Result<(), Failure> {
    let dir = image.parent().unwrap_or(Path::new("."));
    let mut csv = args.csv.as_deref().map(create).transpose()?;
    let mut log = args.log.as_deref().map(create).transpose()?;
    let write_err = |path: &Option<PathBuf>, e: std::io::Error| {
        Failure::failed(format!("{}: cannot write: {e}", path.as_deref().unwrap_or(Path::new("-")).display()))
    };
    if let Some(out) = csv.as_mut() {
        writeln!(out, "{CSV_HEADER}").map_err(|e| write_err(&args.csv, e))?;
    }

    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.seconds.max(0.0));
    let sample_every = Duration::from_secs_f64(args.sample_every.max(0.1));
    let mut next_sample = started;
    let mut session = start(image, dir)?;
    let mut starts = 1u32;
    let mut user = new_user(args.seed, &session);
    let (mut gestures, mut max_rss, mut max_live) = (0u64, 0u64, 0usize);
    let mut hashes = std::collections::HashSet::new();
    // When the image last showed a sign of life (another screen, a collection), and how often
    // it stopped responding.
    let unresponsive_after = Duration::from_secs_f64(args.unresponsive_after.max(1.0));
    let (mut last_change, mut last_seen, mut unresponsive) = (started, (String::new(), 0u64), 0u32);
    let mut restart = false;
    if let Some(out) = log.as_mut() {
        writeln!(out, "# st80 soak --seed {}: start 1", args.seed).map_err(|e| write_err(&args.log, e))?;
    }
    loop {
        let now = Instant::now();
        if now >= next_sample || now >= deadline {
            let vm = &session.vm;
            let hash = vm.display().map(|form| display_hash(&form)).unwrap_or_default();
            hashes.insert(hash.clone());
            let sample = Sample {
                seconds: started.elapsed().as_secs_f64(),
                starts,
                cycles: vm.cycles(),
                live_objects: vm.memory.object_count(),
                survivors: vm.memory.survivors_of_last_collection(),
                free_oops: vm.memory.oops_left(),
                heap_words: vm.memory.heap_words_used(),
                collections: vm.memory.gc_count,
                rss_kb: rss_kb(),
                display_hash: hash,
            };
            max_rss = max_rss.max(sample.rss_kb.unwrap_or(0));
            max_live = max_live.max(sample.survivors);
            if let Some(out) = csv.as_mut() {
                writeln!(out, "{}", sample.csv()).map_err(|e| write_err(&args.csv, e))?;
            }
            if sample.rss_kb.is_some_and(|kb| kb > args.max_rss_mb * 1024) {
                return Err(Failure::failed(format!(
                    "soak: resident memory {} MB passed --max-rss-mb {} after {:.0} s",
                    sample.rss_kb.unwrap_or(0) / 1024,
                    args.max_rss_mb,
                    sample.seconds
                )));
            }
            let seen = (sample.display_hash.clone(), sample.collections);
            if seen != last_seen {
                (last_seen, last_change) = (seen, now);
            } else if now.duration_since(last_change) >= unresponsive_after {
                unresponsive += 1;
                if let Some(form) = session.vm.display() {
                    let _ = std::fs::write(
                        dir.join(format!("unresponsive-{unresponsive}.png")),
                        st80_host_std::display_to_png(&form),
                    );
                }
                restart = true;
            }
            if now >= deadline {
                break;
            }
            next_sample += sample_every;
        }
        if std::mem::take(&mut restart) {
            // As a user would: start the image again (from what is on disk).
            check_saved(image)?;
            session = start(image, dir)?;
            starts += 1;
            user = new_user(args.seed.wrapping_add(starts as u64), &session);
            last_change = Instant::now();
            if let Some(out) = log.as_mut() {
                writeln!(out, "# start {starts} (the image stopped responding)")
                    .map_err(|e| write_err(&args.log, e))?;
            }
            continue;
        }

        // The next gesture, unless the image has not taken the last ones yet.
        let mut until = session.vm.cycles() + 200_000;
        if session.vm.pending_events() < MAX_PENDING_EVENTS {
            let events = user.gesture(session.vm.cycles() + 1);
            if let Some(out) = log.as_mut() {
                for (cycle, event) in &events {
                    writeln!(out, "{}", replay::format(*cycle, event)).map_err(|e| write_err(&args.log, e))?;
                }
            }
            until = events.last().map_or(until, |e| e.0 + 1);
            replay::schedule(&mut session.vm, &events);
            gestures += 1;
        }
        let cycles = until.saturating_sub(session.vm.cycles()).max(1);
        match st80_headless::run(&mut session.vm, &mut session.host, cycles) {
            StopReason::CyclesDone | StopReason::Idle { .. } | StopReason::Evaluated => {}
            StopReason::Quit => {
                // The random user chose quit (perhaps after a save): what is on disk must be a
                // sound image, and it must start again.
                check_saved(image)?;
                session = start(image, dir)?;
                starts += 1;
                user = new_user(args.seed.wrapping_add(starts as u64), &session);
                if let Some(out) = log.as_mut() {
                    writeln!(out, "# start {starts}").map_err(|e| write_err(&args.log, e))?;
                }
            }
            StopReason::Error(e) => {
                let screen = dir.join("stopped.png");
                if let Some(form) = session.vm.display() {
                    let _ = std::fs::write(&screen, st80_host_std::display_to_png(&form));
                }
                return Err(Failure::failed(format!(
                    "soak: the virtual machine stopped after {:.0} s, {gestures} gestures (seed {}; its screen: {}): {}",
                    started.elapsed().as_secs_f64(),
                    args.seed,
                    screen.display(),
                    one_line(&e)
                )));
            }
        }
        if let Some(form) = session.vm.display() {
            user.resize(form.width, form.height);
        }
    }
    for (out, path) in [(csv.as_mut(), &args.csv), (log.as_mut(), &args.log)] {
        if let Some(out) = out {
            out.flush().map_err(|e| write_err(path, e))?;
        }
    }
    println!(
        "soak: {:.0} s, seed {}, {gestures} gestures, {starts} start{} ({unresponsive} after the image stopped responding), {} screens, peak {} objects after a collection, peak resident {} MB: ok",
        started.elapsed().as_secs_f64(),
        args.seed,
        if starts == 1 { "" } else { "s" },
        hashes.len(),
        max_live,
        max_rss / 1024
    );
    Ok(())
}

fn new_user(seed: u64, session: &Session) -> RandomUser {
    let (w, h) = session.vm.display().map_or((640, 480), |f| (f.width, f.height));
    RandomUser::new(seed, w, h)
}

/// The image file after a quit: the original copy or what the random user saved.
fn check_saved(image: &Path) -> Result<(), Failure> {
    let bytes = std::fs::read(image).map_err(|e| Failure::failed(format!("{}: cannot read: {e}", image.display())))?;
    let report =
        st80_core::check::check(&bytes).map_err(|e| Failure::failed(format!("soak: saved image unusable: {e}")))?;
    if report.is_ok() {
        return Ok(());
    }
    Err(Failure::failed(format!(
        "soak: the saved image has {} problems, first: {}",
        report.problems.len(),
        report.problems[0]
    )))
}
