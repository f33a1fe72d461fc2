//! `st80 fetch [NAME...]`: downloads the images listed in images/manifest.toml into the image
//! directory (see `images`), checking each file's size and sha256 as it arrives. A download goes
//! to `FILE.part` beside its destination and is renamed into place only when it verifies, so
//! a failed or interrupted fetch never leaves a wrong file under the real name. A file already
//! there with the right sha256 is not downloaded again; one that differs (an image saved since
//! it was fetched) is left alone unless `--force`, which keeps it as `FILE.bak`.
//!
//! Addresses: `--mirror URL` or `$ST80_IMAGES_URL` (then every file comes from URL/<path>,
//! which is also how the tests serve files from 127.0.0.1), else the manifest's `url`. The
//! download itself needs the cargo feature `fetch` (on by default; HTTPS through rustls).

use crate::images::{image_dir, FileEntry, Manifest};
use crate::Failure;
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Args, Debug)]
pub struct FetchArgs {
    /// What to fetch: an image set (`st80 list` shows them), a file's manifest path
    /// (dbanay/snapshot.im), a directory of them (dbanay), or `all` [default: the default set]
    names: Vec<String>,
    /// The image directory [default: $ST80_IMAGES, else st80 in the per-user data directory]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Download every file from URL/<path>, a mirror of the image directory's layout, instead
    /// of its own address [env: ST80_IMAGES_URL]
    #[arg(long, value_name = "URL")]
    mirror: Option<String>,
    /// Give up on a server that sends nothing for this many seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
    /// Replace files that differ from the manifest (e.g. an image saved since it was
    /// fetched); the old file is kept as FILE.bak
    #[arg(long)]
    force: bool,
}

/// Where and how to download.
pub struct Source {
    pub mirror: Option<String>,
    pub timeout: Duration,
}

impl Source {
    pub fn from_env() -> Source {
        Source {
            mirror: std::env::var("ST80_IMAGES_URL").ok().filter(|m| !m.is_empty()),
            timeout: Duration::from_secs(30),
        }
    }
}

pub fn fetch(args: &FetchArgs) -> Result<(), Failure> {
    let manifest = Manifest::get();
    let files = select(&manifest, &args.names)?;
    let (dir, _) = image_dir(args.dir.as_deref())?;
    let mut source = Source::from_env();
    if args.mirror.is_some() {
        source.mirror = args.mirror.clone();
    }
    source.timeout = Duration::from_secs(args.timeout.max(1));
    fetch_files(&dir, &files, &source, args.force)
}

/// The manifest files that `names` stand for, each once, in manifest order within a name.
fn select(manifest: &Manifest, names: &[String]) -> Result<Vec<FileEntry>, Failure> {
    let mut chosen: Vec<FileEntry> = Vec::new();
    let default = [manifest.default_set().name.clone()];
    let names = if names.is_empty() { &default[..] } else { names };
    for name in names {
        let found: Vec<FileEntry> = if name == "all" {
            manifest.files.clone()
        } else if let Some(set) = manifest.sets.iter().find(|s| &s.name == name) {
            manifest.files_of(set)
        } else {
            let prefix = format!("{}/", name.trim_end_matches('/'));
            manifest
                .files
                .iter()
                .filter(|f| &f.path == name || f.path.replace('/', "-") == *name || f.path.starts_with(&prefix))
                .cloned()
                .collect()
        };
        if found.is_empty() {
            let sets: Vec<&str> = manifest.sets.iter().map(|s| s.name.as_str()).collect();
            return Err(Failure::bad_input(format!(
                "fetch: no image or file named '{name}'; known sets: {}, all; or a file: {}",
                sets.join(", "),
                manifest.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        for f in found {
            if !chosen.iter().any(|c| c.path == f.path) {
                chosen.push(f);
            }
        }
    }
    Ok(chosen)
}

/// Fetches `files` into `dir`, one line each on stdout (problems on stderr). Fails with status
/// 1 when any could not be fetched.
pub fn fetch_files(dir: &Path, files: &[FileEntry], source: &Source, force: bool) -> Result<(), Failure> {
    let mut failed = Vec::new();
    for entry in files {
        match download::fetch_one(dir, entry, source, force) {
            Ok(done) => println!("{done}"),
            Err(problem) => {
                eprintln!("st80: {problem}");
                failed.push(entry.path.as_str());
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::failed(format!(
            "fetch: {} of {} files not fetched: {}",
            failed.len(),
            files.len(),
            failed.join(", ")
        )))
    }
}

/// The download address of `entry`, or why there is none.
fn address(entry: &FileEntry, source: &Source, dest: &Path) -> Result<String, String> {
    match (&source.mirror, &entry.url) {
        (Some(mirror), _) => Ok(format!("{}/{}", mirror.trim_end_matches('/'), entry.path)),
        (None, Some(url)) => Ok(url.clone()),
        (None, None) => Err(format!(
            "{}: no public download address is known for this file (it comes from: {}). Copy it \
             by hand to {} (sha256 {}, {} bytes), or give a mirror of the image directory's \
             layout with --mirror URL or $ST80_IMAGES_URL",
            entry.path,
            entry.source,
            dest.display(),
            entry.sha256,
            entry.size
        )),
    }
}

#[cfg(not(feature = "fetch"))]
mod download {
    use super::*;

    pub fn fetch_one(dir: &Path, entry: &FileEntry, source: &Source, _force: bool) -> Result<String, String> {
        let dest = dir.join(&entry.path);
        if crate::images::state_of(&dest, entry) == crate::images::State::Good {
            return Ok(format!("{}: already here, sha256 ok ({})", entry.path, dest.display()));
        }
        let url = address(entry, source, &dest)?;
        Err(format!(
            "{}: this st80 was built without downloads (cargo feature `fetch`): download {url} \
             to {} by hand (sha256 {})",
            entry.path,
            dest.display(),
            entry.sha256
        ))
    }
}

#[cfg(feature = "fetch")]
mod download {
    use super::*;
    use crate::images::{state_of, State};
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use sha2::{Digest, Sha256};
    use std::fs::File;
    use std::io::{Read, Write};

    /// Tries per file when the network fails (timeouts, refused connections, 5xx, short
    /// downloads); a wrong checksum is not retried.
    const ATTEMPTS: u32 = 3;

    /// Why a download failed, and whether trying again may help.
    struct Problem {
        message: String,
        transient: bool,
    }

    pub fn fetch_one(dir: &Path, entry: &FileEntry, source: &Source, force: bool) -> Result<String, String> {
        let dest = dir.join(&entry.path);
        let replacing = match state_of(&dest, entry) {
            State::Good => return Ok(format!("{}: already here, sha256 ok ({})", entry.path, dest.display())),
            State::Missing => false,
            State::Different if force => true,
            State::Different => {
                return Err(format!(
                    "{}: {} is there but is not the file the manifest names (saved since it was \
                     fetched?): left alone; `st80 fetch --force {}` replaces it and keeps it as {}.bak",
                    entry.path,
                    dest.display(),
                    entry.path,
                    dest.display()
                ))
            }
            State::Unreadable(e) => return Err(format!("{}: {}: {e}", entry.path, dest.display())),
        };
        let url = address(entry, source, &dest)?;
        let parent = dest.parent().unwrap_or(dir);
        let created = !parent.exists();
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("{}: cannot create {}: {e}", entry.path, parent.display()))?;
        let part = PathBuf::from(format!("{}.part", dest.display()));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(source.timeout))
            .timeout_recv_response(Some(source.timeout))
            .timeout_per_read(Some(source.timeout))
            .user_agent(concat!("st80/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        eprintln!("st80: {}: downloading {url}", entry.path);
        let mut attempt = 1;
        loop {
            match download(&agent, &url, entry, &part) {
                Ok(()) => break,
                Err(problem) => {
                    let _ = std::fs::remove_file(&part);
                    if problem.transient && attempt < ATTEMPTS {
                        attempt += 1;
                        eprintln!("st80: {}: {}; trying again ({attempt} of {ATTEMPTS})", entry.path, problem.message);
                        std::thread::sleep(Duration::from_secs(1));
                        continue;
                    }
                    if created {
                        let _ = std::fs::remove_dir(parent); // only if still empty
                    }
                    return Err(format!("{}: {url}: {}", entry.path, problem.message));
                }
            }
        }
        if replacing {
            let bak = PathBuf::from(format!("{}.bak", dest.display()));
            if let Err(e) = std::fs::rename(&dest, &bak) {
                let _ = std::fs::remove_file(&part);
                return Err(format!("{}: cannot keep the old file as {}: {e}", entry.path, bak.display()));
            }
        }
        if let Err(e) = std::fs::rename(&part, &dest) {
            let _ = std::fs::remove_file(&part);
            return Err(format!("{}: cannot write {}: {e}", entry.path, dest.display()));
        }
        Ok(format!("{}: downloaded {} bytes, sha256 ok -> {}", entry.path, entry.size, dest.display()))
    }

    /// Downloads `url` into `part`, checking the size and sha256 against `entry`.
    fn download(agent: &ureq::Agent, url: &str, entry: &FileEntry, part: &Path) -> Result<(), Problem> {
        let mut response = agent.get(url).call().map_err(http_problem)?;
        let mut reader = response.body_mut().as_reader();
        let mut file = File::create(part)
            .map_err(|e| Problem { message: format!("cannot write {}: {e}", part.display()), transient: false })?;
        let bar = ProgressBar::with_draw_target(Some(entry.size), ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
                .expect("a valid progress template")
                .progress_chars("=> "),
        );
        bar.set_message(entry.path.clone());
        let mut hasher = Sha256::new();
        let mut got: u64 = 0;
        let mut buf = vec![0u8; 64 * 1024];
        let result = loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(io_problem(e, got, entry.size)),
            };
            got += n as u64;
            if got > entry.size {
                break Err(Problem {
                    message: format!("the server sent more than the {} bytes the manifest gives: rejected", entry.size),
                    transient: false,
                });
            }
            hasher.update(&buf[..n]);
            if let Err(e) = file.write_all(&buf[..n]) {
                break Err(Problem { message: format!("cannot write {}: {e}", part.display()), transient: false });
            }
            bar.inc(n as u64);
        };
        bar.finish_and_clear();
        result?;
        if got < entry.size {
            return Err(Problem {
                message: format!("the download stopped after {got} of {} bytes", entry.size),
                transient: true,
            });
        }
        let sha = crate::images::hex(&hasher.finalize());
        if sha != entry.sha256 {
            return Err(Problem {
                message: format!(
                    "the file downloaded has sha256 {sha}, not the {} the manifest gives: rejected \
                     (has the file at this address changed?)",
                    entry.sha256
                ),
                transient: false,
            });
        }
        file.sync_all()
            .map_err(|e| Problem { message: format!("cannot write {}: {e}", part.display()), transient: false })
    }

    fn http_problem(e: ureq::Error) -> Problem {
        match e {
            ureq::Error::StatusCode(code) => Problem {
                message: format!("the server answered HTTP {code}{}", if code == 404 { " (not found)" } else { "" }),
                transient: code >= 500,
            },
            ureq::Error::Timeout(_) => Problem { message: "the server did not answer in time".into(), transient: true },
            ureq::Error::Io(e) => io_problem(e, 0, 0),
            ureq::Error::HostNotFound => {
                Problem { message: "host not found (is this machine offline?)".into(), transient: true }
            }
            ureq::Error::ConnectionFailed => Problem { message: "could not connect".into(), transient: true },
            other => Problem { message: crate::one_line(&other.to_string()), transient: false },
        }
    }

    fn io_problem(e: std::io::Error, got: u64, size: u64) -> Problem {
        use std::io::ErrorKind::*;
        let message = match e.kind() {
            TimedOut | WouldBlock => "the server stopped sending (timed out)".to_string(),
            UnexpectedEof if size > 0 => format!("the download stopped after {got} of {size} bytes"),
            ConnectionRefused => "connection refused".to_string(),
            _ if size > 0 => format!("the download broke off after {got} of {size} bytes: {e}"),
            _ => crate::one_line(&e.to_string()),
        };
        Problem { message, transient: true }
    }
}
