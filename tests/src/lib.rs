//! The test-support module of st80's tests: the real images, scratch directories, running the
//! `st80` binary, evaluating in-process, comparing traces, and a synthetic image. The end-to-end
//! tests of the core and hosts are in `tests/tests/`; those of the `st80` command are in
//! `platforms/st80/tests/`, whose `common` module only adds what Cargo tells that package alone
//! (the binary's path, its scratch root).
//!
//! The real Smalltalk-80 images are third-party files that never enter the repository. They are
//! looked up in `$ST80_IMAGES`, by default `../shared/images` next to the workspace root (a
//! relative `$ST80_IMAGES` is taken relative to the workspace root too, since every test
//! binary runs in its own package directory). A missing image makes a test print why and
//! return early (skip), except under `CI=true`, where it fails.

use st80_core::image::{self as image_file, ByteOrder};
use st80_core::{EvalOutcome, Interpreter, StopReason};
use st80_headless::HeadlessHost;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
pub fn interpreter(name: &str) -> Option<Interpreter> {
    Some(interpreter_from(name, &image_bytes(name)?))
}

/// Starts the image in `bytes` (named `what` in panics) on the virtual clock.
pub fn interpreter_from(what: &str, bytes: &[u8]) -> Interpreter {
    let (memory, _info) = image_file::load(bytes).unwrap_or_else(|e| panic!("loading {what}: {e}"));
    let mut vm = Interpreter::new(memory).unwrap_or_else(|e| panic!("starting {what}: {e}"));
    vm.use_virtual_clock(st80_core::VirtualClock::default());
    vm
}

/// The byte order of the image file at `path`.
pub fn byte_order(path: &Path) -> ByteOrder {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    image_file::load(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display())).1.byte_order
}

// ---------------------------------------------------------------------------------------------
// Scratch directories and copies of the images.

/// A fresh, empty directory at `path` (whatever was there is removed).
pub fn fresh_dir(path: impl AsRef<Path>) -> PathBuf {
    let dir = path.as_ref().to_path_buf();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// Copies the test image `name` into `dir` as `as_name`, or None to skip (see [`image`]).
/// Read and written rather than copied: the copy must not keep the original's read-only mode.
pub fn copy_image(name: &str, dir: &Path, as_name: &str) -> Option<PathBuf> {
    let src = image(name)?;
    let dst = dir.join(as_name);
    std::fs::write(&dst, std::fs::read(&src).unwrap()).unwrap();
    Some(dst)
}

/// Copies `file` (e.g. `Smalltalk-80.sources`) from beside the test image `name` into `dir`,
/// writable.
pub fn copy_beside(name: &str, file: &str, dir: &Path) -> Option<PathBuf> {
    let from = image(name)?.with_file_name(file);
    let dst = dir.join(file);
    std::fs::write(&dst, std::fs::read(&from).unwrap_or_else(|e| panic!("{}: {e}", from.display()))).unwrap();
    Some(dst)
}

// ---------------------------------------------------------------------------------------------
// Running the `st80` binary (its path comes from the calling package: `CARGO_BIN_EXE_st80`).

/// Runs the st80 binary `exe` with `RUST_LOG=warn` and the extra environment `env`.
pub fn run_st80<S: AsRef<OsStr>>(exe: &str, args: &[S], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(exe);
    cmd.args(args).env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the st80 binary runs")
}

/// Bytes of output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The lines `st80 eval` printed, after checking that it succeeded (`what` names the call in
/// the panic).
pub fn output_lines(out: &Output, what: &str) -> Vec<String> {
    assert!(out.status.success(), "{what}: {:?}\n{}{}", out.status, text(&out.stdout), text(&out.stderr));
    text(&out.stdout).lines().map(str::to_owned).collect()
}

/// The display hash `st80 run --hash-out FILE` wrote (16 hex digits).
pub fn read_hash(file: &Path) -> String {
    let hash = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("no display hash in {}: {e}", file.display()));
    let hash = hash.trim_end().to_string();
    assert!(hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()), "{}: {hash:?}", file.display());
    hash
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

/// Evaluates `source` with the image's own Compiler (as `st80 eval` does) and answers its
/// outcome. Panics if the VM stops or the evaluation runs more than `max_cycles` bytecodes.
pub fn evaluate_outcome(vm: &mut Interpreter, host: &mut HeadlessHost, source: &str, max_cycles: u64) -> EvalOutcome {
    vm.start_evaluation(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    let start = vm.cycles();
    loop {
        match st80_headless::run(vm, host, 1_000_000) {
            StopReason::Evaluated => break,
            StopReason::CyclesDone if vm.cycles() - start < max_cycles => {}
            other => panic!("{source}: the VM stopped: {other:?} after {} cycles", vm.cycles() - start),
        }
    }
    vm.evaluation_outcome().unwrap_or_else(|| panic!("{source}: no outcome"))
}

/// [`evaluate_outcome`] as text: the printString, or `error: MESSAGE` for a runtime error,
/// `compile error: MESSAGE` for a compile error.
pub fn evaluate(vm: &mut Interpreter, host: &mut HeadlessHost, source: &str, max_cycles: u64) -> String {
    match evaluate_outcome(vm, host, source, max_cycles) {
        EvalOutcome::Value(v) => v,
        EvalOutcome::RuntimeError { message, .. } => format!("error: {message}"),
        EvalOutcome::CompileError { message, .. } => format!("compile error: {message}"),
    }
}

// ---------------------------------------------------------------------------------------------
// A synthetic image, for tests that must run without the real images.

/// A tiny valid image made here: one class that is its own class, the guaranteed objects as
/// its instances, and a word-indexable class with one instance. It loads, summarizes and
/// saves, but has no methods to run.
pub fn synthetic_image(order: ByteOrder) -> Vec<u8> {
    use st80_core::object_memory::*;
    let mut m = ObjectMemory::new();
    let class: Oop = 200;
    let spec = integer_object_of(0) | SPEC_POINTERS | SPEC_INDEXABLE;
    m.load_object(class, class, Format::Pointers, false, &[NIL, NIL, spec, NIL]);
    for oop in [NIL, FALSE, TRUE, SCHEDULER_ASSOCIATION, SPECIAL_SELECTORS, CLASS_METHOD_CONTEXT] {
        m.load_object(oop, class, Format::Pointers, false, &[NIL, oop, class]);
    }
    let words = integer_object_of(0) | SPEC_WORDS | SPEC_INDEXABLE;
    m.load_object(300, 300, Format::Pointers, false, &[NIL, NIL, words, NIL]);
    m.load_object(302, 300, Format::Pointers, false, &[0x1234, 0xabcd]);
    m.finish_loading();
    let bytes = image_file::save(&m, order).expect("the synthetic image saves");
    let (again, info) = image_file::load(&bytes).expect("the synthetic image loads");
    assert_eq!(info.byte_order, order);
    assert_eq!(again.object_count(), m.object_count());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_images_load_in_both_byte_orders() {
        for order in [ByteOrder::Big, ByteOrder::Little] {
            let bytes = synthetic_image(order);
            let (memory, info) = image_file::load(&bytes).unwrap();
            assert_eq!(info.byte_order, order);
            let summary = st80_core::summary::summarize(&memory, &info);
            assert!(!summary.to_string().is_empty());
        }
    }

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
