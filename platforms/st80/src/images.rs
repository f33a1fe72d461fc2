//! The images st80 knows (images/manifest.toml, built into the binary), the directory they
//! live in, `st80 list`, and what `st80` with no arguments opens.
//!
//! The image directory is, first match wins: `--dir DIR`, `$ST80_IMAGES` (the layout the tests
//! use, so a developer's `../shared/images` works as it is), or `st80` in the platform's data
//! directory (`~/.local/share/st80` on Linux, `~/Library/Application Support/st80` on macOS,
//! `%APPDATA%\st80` on Windows). Files sit there at their manifest `path`
//! (`dbanay/snapshot.im`).

use crate::Failure;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

const MANIFEST: &str = include_str!("../../../images/manifest.toml");

#[derive(Deserialize, Debug)]
pub struct Manifest {
    #[serde(rename = "file")]
    pub files: Vec<FileEntry>,
    #[serde(rename = "set")]
    pub sets: Vec<ImageSet>,
}

/// One `[[file]]` of the manifest.
#[derive(Deserialize, Debug, Clone)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub url: Option<String>,
    pub source: String,
}

/// One `[[set]]`: an image and the files that go with it.
#[derive(Deserialize, Debug, Clone)]
pub struct ImageSet {
    pub name: String,
    #[serde(default)]
    pub default: bool,
    pub image: String,
    pub files: Vec<String>,
    pub about: String,
}

impl Manifest {
    /// The built-in manifest (a unit test checks that it parses and is consistent).
    pub fn get() -> Manifest {
        toml::from_str(MANIFEST).expect("images/manifest.toml is valid (checked by a unit test)")
    }

    pub fn file(&self, path: &str) -> Option<&FileEntry> {
        self.files.iter().find(|f| f.path == path)
    }

    pub fn default_set(&self) -> &ImageSet {
        self.sets.iter().find(|s| s.default).expect("the manifest has a default set (checked by a unit test)")
    }

    /// The files of a set, in the set's order.
    pub fn files_of(&self, set: &ImageSet) -> Vec<FileEntry> {
        set.files.iter().filter_map(|p| self.file(p).cloned()).collect()
    }

    /// The size in bytes of all the files of a set.
    pub fn set_size(&self, set: &ImageSet) -> u64 {
        self.files_of(set).iter().map(|f| f.size).sum()
    }
}

/// The image directory (see the module comment) and what chose it.
pub fn image_dir(dir: Option<&Path>) -> Result<(PathBuf, &'static str), Failure> {
    if let Some(dir) = dir {
        return Ok((dir.to_path_buf(), "--dir"));
    }
    if let Some(dir) = std::env::var_os("ST80_IMAGES").filter(|d| !d.is_empty()) {
        return Ok((PathBuf::from(dir), "$ST80_IMAGES"));
    }
    match dirs::data_dir() {
        Some(data) => Ok((data.join("st80"), "the per-user default")),
        None => {
            Err(Failure::bad_input("no per-user data directory is known here: give one with --dir DIR or $ST80_IMAGES"))
        }
    }
}

/// What is on disk at a manifest file's place.
#[derive(Debug, PartialEq, Eq)]
pub enum State {
    Missing,
    /// Size and sha256 as in the manifest.
    Good,
    /// There, but not the file the manifest names (for an image: saved since it was fetched).
    Different,
    Unreadable(String),
}

/// Lower-case hex, as sha256 values are written in the manifest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn state_of(path: &Path, entry: &FileEntry) -> State {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return State::Missing,
        Err(e) => return State::Unreadable(e.to_string()),
    };
    if !meta.is_file() {
        return State::Unreadable("not a regular file".into());
    }
    if meta.len() != entry.size {
        return State::Different;
    }
    let mut hasher = Sha256::new();
    let read = std::fs::File::open(path).and_then(|mut f| io::copy(&mut f, &mut hasher));
    match read {
        Err(e) => State::Unreadable(e.to_string()),
        Ok(_) => {
            if hex(&hasher.finalize()) == entry.sha256 {
                State::Good
            } else {
                State::Different
            }
        }
    }
}

/// `st80 list`: the image sets, whether they are here, and where.
pub fn list(dir: Option<&Path>) -> Result<(), Failure> {
    let manifest = Manifest::get();
    let (dir, why) = image_dir(dir)?;
    println!("image directory: {} ({why})", dir.display());
    for set in &manifest.sets {
        let files = manifest.files_of(set);
        let states: Vec<State> = files.iter().map(|f| state_of(&dir.join(&f.path), f)).collect();
        let missing = states.iter().filter(|s| **s == State::Missing).count();
        let status = if missing == files.len() {
            "not fetched".to_string()
        } else if missing > 0 {
            format!("{missing} of {} files missing", files.len())
        } else if states.iter().any(|s| matches!(s, State::Unreadable(_))) {
            "unreadable".to_string()
        } else if states.contains(&State::Different) {
            "here (changed since fetched)".to_string()
        } else {
            "here".to_string()
        };
        let mark = if set.default { " (default)" } else { "" };
        println!();
        println!("{}{mark}: {}", set.name, set.about);
        println!("  {status}: {}", dir.join(&set.image).display());
        if missing > 0 {
            if files.iter().all(|f| f.url.is_some()) {
                println!("  get it with: st80 fetch {}", set.name);
            } else {
                println!("  no public download address: copy its files there by hand (see st80 fetch {})", set.name);
            }
        }
    }
    println!();
    println!("`st80` with no arguments opens the default image; `st80 IMAGE` opens any other.");
    Ok(())
}

/// The image `st80` opens when it is given no arguments: the default set's image when it is
/// there; otherwise one line saying how to get it, or, on a terminal, an offer to fetch it.
pub fn default_image() -> Result<PathBuf, Failure> {
    let manifest = Manifest::get();
    let set = manifest.default_set();
    let (dir, _) = image_dir(None)?;
    let image = dir.join(&set.image);
    if image.is_file() {
        return Ok(image);
    }
    let size_mb = manifest.set_size(set) as f64 / 1e6;
    if io::stdin().is_terminal() && io::stderr().is_terminal() && cfg!(feature = "fetch") {
        eprint!(
            "st80: no image yet. Download the default image ({}: {}, {size_mb:.1} MB) into {}? [Y/n] ",
            set.name,
            set.about,
            dir.display()
        );
        io::stderr().flush().ok();
        let mut answer = String::new();
        io::stdin().read_line(&mut answer).ok();
        if matches!(answer.trim(), "" | "y" | "Y" | "yes" | "Yes") {
            crate::fetch_cmd::fetch_files(&dir, &manifest.files_of(set), &crate::fetch_cmd::Source::from_env(), false)?;
            return Ok(image);
        }
    }
    Err(Failure::bad_input(format!(
        "no image yet: `st80 fetch` downloads the default one ({}, {size_mb:.1} MB) into {}; \
             or open any image with `st80 IMAGE` (`st80 --help` for more)",
        set.name,
        dir.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_parses_and_its_sets_name_known_files() {
        let m = Manifest::get();
        assert_eq!(m.sets.iter().filter(|s| s.default).count(), 1, "exactly one default set");
        for set in &m.sets {
            assert!(set.files.contains(&set.image), "set {} does not fetch its own image", set.name);
            for f in &set.files {
                assert!(m.file(f).is_some(), "set {} names {f}, which is not a [[file]]", set.name);
            }
        }
        for f in &m.files {
            assert_eq!(f.sha256.len(), 64, "{}: sha256", f.path);
            assert!(f.url.as_deref().is_none_or(|u| u.starts_with("https://")), "{}: url", f.path);
        }
        // The default image can be downloaded without a mirror.
        assert!(m.files_of(m.default_set()).iter().all(|f| f.url.is_some()));
    }
}
