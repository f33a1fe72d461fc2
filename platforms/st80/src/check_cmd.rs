//! `st80 check IMAGE`: verifies an image file without running it (see `st80_core::check`).
//! Prints `ok` and exits 0, or one line per problem and exits 1; a file that cannot be read or
//! is no image at all is one `st80: FILE: problem` line and exit status 2.

use crate::{bad_image, Failure};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The image file (either byte order).
    pub image: PathBuf,
}

pub fn check(args: &CheckArgs) -> Result<(), Failure> {
    let path: &Path = &args.image;
    if path.is_dir() {
        return Err(bad_image(path, "is a directory, not an image file"));
    }
    let bytes = std::fs::read(path).map_err(|e| bad_image(path, format!("cannot read: {e}")))?;
    let report = st80_core::check::check(&bytes).map_err(|e| bad_image(path, e))?;
    if report.is_ok() {
        println!("ok");
        return Ok(());
    }
    // A closed pipe (`st80 check IMAGE | head`) ends the listing, not the program.
    let mut out = std::io::stdout().lock();
    for problem in &report.problems {
        if writeln!(out, "{problem}").is_err() {
            break;
        }
    }
    Err(Failure::failed(format!(
        "{}: {} problem{} in {} objects ({})",
        path.display(),
        report.problems.len(),
        if report.problems.len() == 1 { "" } else { "s" },
        report.live_objects,
        report.byte_order
    )))
}
