//! The test support of the `st80` command's tests: everything of `st80_tests` (images, scratch
//! directories, evaluation, hashes), plus what only this package knows, the binary's path and
//! Cargo's scratch directory for it.
#![allow(dead_code, unused_imports)] // each test binary uses a different subset

pub use st80_tests::*;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The st80 binary under test.
pub const ST80: &str = env!("CARGO_BIN_EXE_st80");

/// A fresh, empty scratch directory `target/tmp/TEST-FILE/NAME` for one test.
pub fn scratch(name: &str) -> PathBuf {
    fresh_dir(Path::new(env!("CARGO_TARGET_TMPDIR")).join(env!("CARGO_CRATE_NAME")).join(name))
}

/// Runs `st80 ARGS` with `RUST_LOG=warn`.
pub fn st80<S: AsRef<OsStr>>(args: &[S]) -> Output {
    run_st80(ST80, args, &[])
}

/// Runs `st80 ARGS` with `RUST_LOG=warn` and the extra environment `env`.
pub fn st80_env<S: AsRef<OsStr>>(args: &[S], env: &[(&str, &str)]) -> Output {
    run_st80(ST80, args, env)
}

/// Runs `st80 ARGS` logging errors only (for tests that read stderr closely).
pub fn st80_quiet<S: AsRef<OsStr>>(args: &[S]) -> Output {
    run_st80(ST80, args, &[("RUST_LOG", "error")])
}

/// `st80 eval ARGS...` (options, the image and expressions, in any order clap takes), logging
/// errors only; the lines printed, after checking that it succeeded.
pub fn eval_ok<S: AsRef<OsStr>>(args: &[S]) -> Vec<String> {
    let what: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
    output_lines(&eval(args), &format!("st80 eval {what:?}"))
}

/// `st80 eval ARGS...`, logging errors only.
pub fn eval<S: AsRef<OsStr>>(args: &[S]) -> Output {
    let mut argv: Vec<&OsStr> = vec![OsStr::new("eval")];
    argv.extend(args.iter().map(AsRef::as_ref));
    st80_quiet(&argv)
}

/// What `st80 run IMAGE --headless ARGS... --hash-out FILE` did: its output and the display
/// hash it wrote (None if it failed).
pub struct Headless {
    pub out: Output,
    pub hash: Option<String>,
}

/// Runs `image` headless with `args` (e.g. --cycles, --replay, --screenshot) and reads the
/// display hash back from `dir/NAME.hash`.
pub fn run_headless<S: AsRef<OsStr>>(image: &Path, args: &[S], dir: &Path, name: &str) -> Headless {
    let hash_file = dir.join(format!("{name}.hash"));
    let _ = std::fs::remove_file(&hash_file);
    let mut argv: Vec<&OsStr> = vec!["run".as_ref(), image.as_os_str(), "--headless".as_ref()];
    argv.extend(args.iter().map(AsRef::as_ref));
    argv.extend(["--hash-out".as_ref(), hash_file.as_os_str()]);
    let out = st80(&argv);
    let hash = out.status.success().then(|| read_hash(&hash_file));
    Headless { out, hash }
}
