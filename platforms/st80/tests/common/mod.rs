//! Helpers shared by the integration tests that run the `st80` binary.
#![allow(dead_code)] // each test binary uses a different subset

use std::ffi::OsStr;
use std::process::{Command, Output};

/// Runs `st80` with `RUST_LOG=warn` and the extra environment `env`.
pub fn st80_env(args: &[&OsStr], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_st80"));
    cmd.args(args).env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the st80 binary runs")
}

/// Runs `st80` with `RUST_LOG=warn`.
pub fn st80(args: &[&OsStr]) -> Output {
    st80_env(args, &[])
}

/// Runs `st80` logging errors only (for tests that read stderr closely).
pub fn st80_quiet(args: &[&OsStr]) -> Output {
    st80_env(args, &[("RUST_LOG", "error")])
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
