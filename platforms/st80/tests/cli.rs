//! Runs the built `st80` binary. (These live in the bin's own package because only there does
//! Cargo provide `CARGO_BIN_EXE_st80`.)

use std::path::Path;
mod common;

use common::*;

fn info_of(name: &str, byte_order: &str, display: &str) {
    let Some(path) = image(name) else { return };
    let out = st80(&["info".as_ref(), path.as_os_str()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "st80 info {name}: {:?}\n{stdout}{}", out.status, text(&out.stderr));
    assert!(stdout.contains(&format!("byte order:      {byte_order}")), "{stdout}");
    for field in ["objects:", "heap words:", "classes:", "active process:  oop"] {
        let line =
            stdout.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("no {field:?} line in:\n{stdout}"));
        assert!(line.chars().any(|c| c.is_ascii_digit()), "{field} has no number: {line}");
    }
    assert!(stdout.contains("priority 4"), "{stdout}");
    assert!(stdout.contains(&format!("display:         {display}")), "{stdout}");
}

#[test]
fn info_xerox_big_endian() {
    info_of(XEROX_V2, "big-endian", "640 x 480");
}

#[test]
fn info_dbanay_little_endian() {
    info_of(DBANAY_LSB, "little-endian", "640 x 480");
}

#[test]
fn info_dbanay_snapshot() {
    info_of(DBANAY_SNAPSHOT, "little-endian", "1024 x 808");
}

#[test]
fn both_byte_orders_summarize_the_same() {
    let (Some(be), Some(le)) = (image(XEROX_V2), image(DBANAY_LSB)) else {
        return;
    };
    let a = text(&st80(&["info".as_ref(), be.as_os_str()]).stdout);
    let b = text(&st80(&["info".as_ref(), le.as_os_str()]).stdout);
    let strip = |s: &str| -> Vec<String> {
        s.lines().filter(|l| !l.starts_with("image:") && !l.starts_with("byte order:")).map(str::to_owned).collect()
    };
    assert_eq!(strip(&a), strip(&b));
}

/// `st80 info FILE` must fail with exactly one stderr line naming FILE and status 2.
fn assert_bad(path: &Path, problem: &str) {
    for args in [vec!["info".as_ref(), path.as_os_str()], vec!["run".as_ref(), path.as_os_str(), "--headless".as_ref()]]
    {
        let out = st80(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: stdout {:?}", text(&out.stdout));
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: not one line: {stderr:?}");
        let prefix = format!("st80: {}: ", path.display());
        assert!(lines[0].starts_with(&prefix), "{args:?}: {stderr:?}");
        assert!(lines[0].contains(problem), "{args:?}: {stderr:?}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn bad_files_give_one_line_and_status_2() {
    let scratch = scratch("bad-files");
    let scratch = |name: &str| scratch.join(name);
    assert_bad(&scratch("does-not-exist.im"), "no such file");
    let dir = scratch("a-directory");
    std::fs::create_dir_all(&dir).unwrap();
    assert_bad(&dir, "is a directory");

    let empty = scratch("empty.im");
    std::fs::write(&empty, b"").unwrap();
    assert_bad(&empty, "not a Smalltalk-80 image");

    let text_file = scratch("text.im");
    std::fs::write(&text_file, "Hello, world!\n".repeat(100)).unwrap();
    assert_bad(&text_file, "not a Smalltalk-80 image");

    let mut squeak = vec![0u8; 64 * 1024];
    squeak[..4].copy_from_slice(&6502u32.to_le_bytes());
    let squeak_file = scratch("squeak.image");
    std::fs::write(&squeak_file, &squeak).unwrap();
    assert_bad(&squeak_file, "Squeak");

    if let Some(real) = image(XEROX_V2) {
        let bytes = std::fs::read(real).unwrap();
        let truncated = scratch("truncated.im");
        std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
        assert_bad(&truncated, "truncated");
    }
}

#[test]
fn run_of_a_missing_image_names_it_and_exits_2() {
    for args in [&["run", "whatever.im"][..], &["whatever.im"], &["whatever.im", "--headless"]] {
        let out = st80(&args.iter().map(std::ffi::OsStr::new).collect::<Vec<_>>());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.starts_with("st80: whatever.im: "), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn usage_errors_exit_2() {
    // (`st80` alone opens the default image: see tests/fetch.rs; here there is none.)
    let empty = scratch("no-images");
    assert_eq!(st80_env::<&str>(&[], &[("ST80_IMAGES", empty.to_str().unwrap())]).status.code(), Some(2));
    let out = st80(&["run", "x.im", "--trace", "4"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(st80(&["info"]).status.code(), Some(2));
    assert!(st80(&["--help"]).status.success());
}

#[test]
fn a_screenshot_that_is_not_png_is_refused_before_running() {
    let file = scratch("not-png").join("desk.jpg");
    for headless in [true, false] {
        let mut args: Vec<&std::ffi::OsStr> =
            vec!["run".as_ref(), "x.im".as_ref(), "--screenshot".as_ref(), file.as_os_str()];
        if headless {
            args.push("--headless".as_ref());
        }
        let out = st80(&args);
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out.stderr).contains("give a file name ending in .png"), "{}", text(&out.stderr));
        assert!(!file.exists());
    }
}

/// Needs the interpreter: runs the image headless and checks the screenshot is a PNG of the
/// Display's size.
#[test]
fn run_headless_writes_a_screenshot() {
    let Some(path) = image(XEROX_V2) else { return };
    let png = scratch("run-headless").join("run-headless.png");
    let out = st80(&[
        "run".as_ref(),
        path.as_os_str(),
        "--headless".as_ref(),
        "--cycles".as_ref(),
        "200000".as_ref(),
        "--screenshot".as_ref(),
        png.as_os_str(),
    ]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(stderr.contains("ran 200000 cycles"), "{stderr}");
    // The peak resident memory, where the host tells (Linux): a number of MB, not zero.
    if cfg!(target_os = "linux") {
        let peak = stderr.split("peak RSS ").nth(1).and_then(|rest| rest.split(" MB").next());
        let mb: f64 = peak.and_then(|mb| mb.parse().ok()).unwrap_or_else(|| panic!("no peak RSS: {stderr}"));
        assert!(mb > 1.0 && mb < 1000.0, "{stderr}");
    }
    let bytes = std::fs::read(&png).expect("the screenshot was written");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR width and height, big-endian, at bytes 16..24.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert!(width >= 100 && height >= 100, "{width} x {height}");
}

/// `--hash-out` writes the display hash alone, with or without a screenshot: after 1,000,000
/// cycles the one `tests/tests/boot.rs` recorded for the same boot in-process.
#[test]
fn hash_out_writes_the_display_hash() {
    let Some(path) = image(XEROX_V2) else { return };
    let dir = scratch("hash-out");
    let png = dir.join("boot.png");
    let with_png = run_headless(
        &path,
        &["--cycles".as_ref(), "1000000".as_ref(), "--screenshot".as_ref(), png.as_os_str()],
        &dir,
        "with-png",
    );
    assert!(with_png.out.status.success(), "{}", text(&with_png.out.stderr));
    assert_eq!(std::fs::read_to_string(dir.join("with-png.hash")).unwrap(), "af07c3228941cb6c\n");
    assert!(png.exists());
    let alone = run_headless(&path, &["--cycles", "1000000"], &dir, "alone");
    assert!(alone.out.status.success(), "{}", text(&alone.out.stderr));
    assert_eq!(alone.hash.as_deref(), Some("af07c3228941cb6c"));
    // Nothing to hash before the image has a Display: status 1, the file named.
    let out = st80(&[
        "run".as_ref(),
        path.as_os_str(),
        "--headless".as_ref(),
        "--cycles".as_ref(),
        "1".as_ref(),
        "--hash-out".as_ref(),
        dir.join("none.hash").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("none.hash: not written: the image has no Display form yet"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.join("none.hash").exists());
}

/// `st80 info` on images made here, so it runs without the real images too.
#[test]
fn info_of_a_synthetic_image_in_both_byte_orders() {
    let dir = scratch("synthetic");
    for (order, name) in [(st80_core::ByteOrder::Big, "big-endian"), (st80_core::ByteOrder::Little, "little-endian")] {
        let file = dir.join(format!("{name}.im"));
        std::fs::write(&file, synthetic_image(order)).unwrap();
        let out = st80(&["info".as_ref(), file.as_os_str()]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        assert!(stdout.contains(&format!("byte order:      {name}")), "{stdout}");
        assert!(stdout.contains(&format!("image:           {}", file.display())), "{stdout}");
    }
}

/// Needs the interpreter: `--trace 2` streams the trace to stdout, one line per event.
#[test]
fn run_trace_streams_to_stdout() {
    let Some(path) = image(XEROX_V2) else { return };
    let out = st80(&[
        "run".as_ref(),
        path.as_os_str(),
        "--headless".as_ref(),
        "--cycles".as_ref(),
        "20".as_ref(),
        "--trace".as_ref(),
        "2".as_ref(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().next(), Some("Bytecode <131> Single Extended Send"), "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with("Bytecode")).count(), 20);
}

/// Needs the interpreter: `--trace 3 --xerox-trace-compat` reproduces all of Xerox's trace3.
#[test]
fn run_trace3_with_compat_reproduces_xerox_trace3() {
    let (Some(path), Some(reference)) = (image(XEROX_V2), image("xerox-v2/trace3")) else {
        return;
    };
    let out = st80(&[
        "run".as_ref(),
        path.as_os_str(),
        "--headless".as_ref(),
        "--cycles".as_ref(),
        "1979".as_ref(),
        "--trace".as_ref(),
        "3".as_ref(),
        "--xerox-trace-compat".as_ref(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected = st80_tests::lines_of(&text(&std::fs::read(reference).unwrap()));
    let actual = st80_tests::lines_of(&text(&out.stdout));
    st80_tests::assert_same_lines("st80 --trace 3", &expected[2..], &actual, 2);
}

/// A damaged replay log or source file is one `st80: FILE: line N: problem` line and status 2,
/// and nothing is written (the image file, a --save or --screenshot output).
#[test]
fn damaged_logs_and_sources_give_one_line_and_status_2() {
    let Some(real) = image(XEROX_V2) else { return };
    let dir = scratch("damaged-inputs");
    let img = dir.join("VirtualImage");
    std::fs::copy(&real, &img).unwrap();
    let before = std::fs::read(&img).unwrap();
    let one_line = |args: &[&std::ffi::OsStr], file: &Path, problem: &str| {
        let out = st80(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.starts_with('[')).collect();
        assert_eq!(lines.len(), 1, "{args:?}: {stderr}");
        assert!(lines[0].starts_with(&format!("st80: {}: ", file.display())), "{stderr}");
        assert!(lines[0].contains(problem), "{problem:?} in {stderr}");
    };
    let log = dir.join("bad.log");
    std::fs::write(&log, "100 mouse 3 4\n200 mouse 3\n").unwrap();
    let png = dir.join("out.png");
    one_line(
        &[
            "run".as_ref(),
            img.as_os_str(),
            "--headless".as_ref(),
            "--replay".as_ref(),
            log.as_os_str(),
            "--screenshot".as_ref(),
            png.as_os_str(),
        ],
        &log,
        "line 2: mouse takes X Y",
    );
    let binary_log = dir.join("binary.log");
    std::fs::write(&binary_log, [0xffu8, 0xfe, 0, 1]).unwrap();
    one_line(
        &["run".as_ref(), img.as_os_str(), "--headless".as_ref(), "--replay".as_ref(), binary_log.as_os_str()],
        &binary_log,
        "cannot read",
    );
    let source = dir.join("binary.st");
    std::fs::write(&source, b"3 + 4!\n\x00\x01\x02").unwrap();
    let saved = dir.join("saved.im");
    one_line(
        &["filein".as_ref(), img.as_os_str(), source.as_os_str(), "--save".as_ref(), saved.as_os_str()],
        &source,
        "line 2: byte 0x00 at offset 7: not chunk-format source text",
    );
    assert!(!png.exists() && !saved.exists(), "nothing written");
    assert_eq!(std::fs::read(&img).unwrap(), before, "the image is unchanged");
}
