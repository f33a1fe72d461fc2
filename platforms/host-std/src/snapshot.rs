//! Crash-safe image writing: a snapshot replaces the image file in one step.

use st80_core::SnapshotError;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Replaces the image at `path` with `bytes` so that a crash at any moment leaves either the
/// old or the new image, never a mix: the bytes go to a temporary file in the same directory
/// (`.NAME.tmp-PID-N`, with the old file's permissions), which is flushed to disk (fsync) and
/// then renamed over `path`; the previous image is kept as `path` + `.bak` (a hard link, so it
/// costs no copy, made before the rename, so `path` is the old image until the new one
/// replaces it in one step); finally the directory is synced. On any error the temporary
/// files are removed and `path` (and its `.bak`) are as they were.
///
/// Built with the `fault-injection` feature (for tests only), two environment variables
/// inject faults:
/// * `ST80_SNAPSHOT_WRITE_CHUNK_DELAY_US=N` writes in chunks of
///   `ST80_SNAPSHOT_WRITE_CHUNK_BYTES` (default 4096) bytes, sleeping N microseconds after
///   each, so a test can kill the process mid-write;
/// * `ST80_SNAPSHOT_FAULT=enospc|eio` fails the write half-way as a full disk (or an I/O
///   error) would.
pub fn write_image_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    if path.is_dir() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "is a directory"));
    }
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    temp_name.push(format!(".tmp-{}-{n}", std::process::id()));
    let temp = dir.join(temp_name);
    let mut bak_temp = temp.as_os_str().to_owned();
    bak_temp.push(".bak");
    let bak_temp = PathBuf::from(bak_temp);
    let result = (|| {
        {
            // Closed at the end of this block, before the renames.
            let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temp)?;
            if let Ok(meta) = std::fs::metadata(path) {
                let _ = file.set_permissions(meta.permissions());
            }
            write_with_faults(&mut file, bytes)?;
            file.sync_all()?;
        }
        if path.exists() {
            let mut bak = path.as_os_str().to_owned();
            bak.push(".bak");
            if std::fs::hard_link(path, &bak_temp).is_err() {
                std::fs::copy(path, &bak_temp)?;
            }
            std::fs::rename(&bak_temp, PathBuf::from(bak))?;
        }
        std::fs::rename(&temp, path)?;
        // Make the renames durable (a no-op where directories cannot be opened).
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
        let _ = std::fs::remove_file(&bak_temp);
    }
    result
}

#[cfg(not(feature = "fault-injection"))]
fn write_with_faults(file: &mut std::fs::File, bytes: &[u8]) -> io::Result<()> {
    file.write_all(bytes)
}

/// `write_all`, with the test hooks of [`write_image_atomically`].
#[cfg(feature = "fault-injection")]
fn write_with_faults(file: &mut std::fs::File, bytes: &[u8]) -> io::Result<()> {
    let env_num = |name: &str| std::env::var(name).ok().and_then(|v| v.trim().parse::<u64>().ok());
    let fault = std::env::var("ST80_SNAPSHOT_FAULT").ok();
    let (bytes, injected) = match fault.as_deref() {
        Some("enospc") => (&bytes[..bytes.len() / 2], Some(io::Error::from_raw_os_error(crate::files::ENOSPC))),
        Some("eio") => (&bytes[..bytes.len() / 2], Some(io::Error::from_raw_os_error(crate::files::EIO))),
        _ => (bytes, None),
    };
    match env_num("ST80_SNAPSHOT_WRITE_CHUNK_DELAY_US") {
        Some(delay) => {
            let chunk = env_num("ST80_SNAPSHOT_WRITE_CHUNK_BYTES").unwrap_or(4096).max(1) as usize;
            for part in bytes.chunks(chunk) {
                file.write_all(part)?;
                std::thread::sleep(std::time::Duration::from_micros(delay));
            }
        }
        None => file.write_all(bytes)?,
    }
    match injected {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A host's `save_snapshot`: writes `image` to `path` with [`write_image_atomically`]; no path
/// means this host keeps no snapshots. Errors name the file.
pub fn save_snapshot(path: Option<&Path>, image: &[u8]) -> Result<(), SnapshotError> {
    let path = path.ok_or(SnapshotError::NoStorage)?;
    write_image_atomically(path, image).map_err(|e| SnapshotError::Failed(format!("{}: {e}", path.display())))
}
