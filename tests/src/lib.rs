//! Shared helpers for st80's end-to-end tests (the tests themselves are in `tests/tests/`).
//!
//! The real Smalltalk-80 images are third-party files that never enter the repository. They are
//! looked up in `$ST80_IMAGES`, by default `../shared/images` next to the workspace root (a
//! relative `$ST80_IMAGES` is taken relative to the workspace root too, since every test
//! binary runs in its own package directory). A missing image makes a test print why and
//! return early (skip), except under `CI=true`, where it fails.

use std::path::{Path, PathBuf};

/// The workspace root (the directory holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// The directory holding the test images.
pub fn images_dir() -> PathBuf {
    match std::env::var_os("ST80_IMAGES") {
        Some(dir) if !dir.is_empty() => workspace_root().join(dir),
        _ => workspace_root().join("../shared/images"),
    }
}

/// True when running under CI (`CI=true`), where missing images are failures.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The path of image file `name` (e.g. `"xerox-v2/VirtualImage"`) inside [`images_dir`], or
/// None after printing why the calling test is skipped. Panics under CI instead of skipping.
pub fn image(name: &str) -> Option<PathBuf> {
    let path = images_dir().join(name);
    if path.is_file() {
        return Some(path);
    }
    let why = format!(
        "test image {} not found (set ST80_IMAGES to the directory holding xerox-v2/ and dbanay/)",
        path.display()
    );
    if in_ci() {
        panic!("{why}; CI=true, so this is a failure, not a skip");
    }
    eprintln!("SKIPPED: {why}");
    None
}

/// Reads image file `name`, or None (see [`image`]).
pub fn image_bytes(name: &str) -> Option<Vec<u8>> {
    let path = image(name)?;
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Image names used by the tests.
pub const XEROX_V2: &str = "xerox-v2/VirtualImage";
pub const DBANAY_LSB: &str = "dbanay/VirtualImageLSB";
pub const DBANAY_SNAPSHOT: &str = "dbanay/snapshot.im";

/// Loads and starts an image, panicking with a readable message on failure.
pub fn interpreter(name: &str) -> Option<st80_core::Interpreter> {
    let bytes = image_bytes(name)?;
    let (memory, _info) = st80_core::image::load(&bytes).unwrap_or_else(|e| panic!("loading {name}: {e}"));
    let mut vm = st80_core::Interpreter::new(memory).unwrap_or_else(|e| panic!("starting {name}: {e}"));
    vm.use_virtual_clock(st80_core::VirtualClock::default());
    Some(vm)
}

/// Splits a text file into lines whatever its line ends (CR, LF or CR LF).
pub fn lines_of(text: &str) -> Vec<String> {
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut lines: Vec<String> = normalized.split('\n').map(str::to_owned).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// Compares trace lines; on a mismatch, panics naming the first differing line (1-based, as
/// counted in `expected`, plus `line_offset` to match the reference file), with both versions
/// and a few lines of context. Trailing blanks are ignored (Xerox's traces have some).
pub fn assert_same_lines(what: &str, expected: &[String], actual: &[String], line_offset: usize) {
    let n = expected.len().max(actual.len());
    for i in 0..n {
        let e = expected.get(i).map(|s| s.trim_end());
        let a = actual.get(i).map(|s| s.trim_end());
        if e == a {
            continue;
        }
        let mut msg = format!(
            "{what}: first difference at line {} of the reference (line {} of our trace)\n  expected: {:?}\n  actual:   {:?}\ncontext (reference | ours):\n",
            i + 1 + line_offset,
            i + 1,
            e.unwrap_or("<end of reference>"),
            a.unwrap_or("<end of our trace>"),
        );
        for j in i.saturating_sub(5)..(i + 3).min(n) {
            msg.push_str(&format!(
                "{:>6}{} {:<60} | {}\n",
                j + 1 + line_offset,
                if j == i { '>' } else { ' ' },
                expected.get(j).map_or("<end>", |s| s.as_str()),
                actual.get(j).map_or("<end>", |s| s.as_str()),
            ));
        }
        panic!("{msg}");
    }
}

/// Evaluates `source` with the image's own Compiler (as `st80 eval` does) and answers the
/// printString, or `error: MESSAGE` for a runtime error, `compile error: MESSAGE` for a compile
/// error. Panics if the VM stops or the evaluation runs more than `max_cycles` bytecodes.
pub fn evaluate(
    vm: &mut st80_core::Interpreter,
    host: &mut st80_headless::HeadlessHost,
    source: &str,
    max_cycles: u64,
) -> String {
    use st80_core::{EvalOutcome, StopReason};
    vm.start_evaluation(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    let start = vm.cycles();
    loop {
        match st80_headless::run(vm, host, 1_000_000) {
            StopReason::Evaluated => break,
            StopReason::CyclesDone if vm.cycles() - start < max_cycles => {}
            other => panic!("{source}: the VM stopped: {other:?} after {} cycles", vm.cycles() - start),
        }
    }
    match vm.evaluation_outcome() {
        Some(EvalOutcome::Value(v)) => v,
        Some(EvalOutcome::RuntimeError { message, .. }) => format!("error: {message}"),
        Some(EvalOutcome::CompileError { message, .. }) => format!("compile error: {message}"),
        None => panic!("{source}: no outcome"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_normalizes_line_ends() {
        assert_eq!(lines_of("a\rb\r\nc\n\n"), vec!["a", "b", "c"]);
    }

    #[test]
    fn same_lines_ignore_trailing_blanks() {
        let a = vec!["x ".to_string(), "y".to_string()];
        let b = vec!["x".to_string(), "y".to_string()];
        assert_same_lines("t", &a, &b, 0);
    }

    #[test]
    #[should_panic(expected = "first difference at line 4 of the reference")]
    fn same_lines_report_the_first_difference() {
        let a = vec!["x".to_string(), "y".to_string()];
        let b = vec!["x".to_string(), "z".to_string()];
        assert_same_lines("t", &a, &b, 2);
    }
}
