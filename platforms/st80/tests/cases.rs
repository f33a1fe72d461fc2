//! Scripted UI sessions as data: every folder under `tests/cases/` holds `replay.txt` (an input
//! log, see `st80_headless::replay`) and `expect.toml` (`image`, `cycles`, `hash`). Each is run
//! with `st80 run IMAGE --headless --replay replay.txt --cycles N` and the Display hash must be
//! `hash`. The screenshot goes to Cargo's target/tmp/cases/NAME.png for a look. Adding a case
//! needs no Rust code. With `sources = true` the image runs from a scratch copy of it with
//! `Smalltalk-80.sources` beside it (the start-up set-up then opens the sources and makes a
//! changes file there), and the image file must be unchanged afterwards.

use st80_tests::{image, workspace_root};
use std::path::Path;
use std::process::Command;

fn field<'a>(toml: &'a str, key: &str) -> Option<&'a str> {
    toml.lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().trim_matches('"'))
}

fn run_case(dir: &Path) -> Result<(), String> {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let expect = std::fs::read_to_string(dir.join("expect.toml")).map_err(|e| format!("{name}: expect.toml: {e}"))?;
    let img = field(&expect, "image").ok_or(format!("{name}: no image"))?;
    let cycles = field(&expect, "cycles").ok_or(format!("{name}: no cycles"))?;
    let hash = field(&expect, "hash").ok_or(format!("{name}: no hash"))?;
    let Some(mut path) = image(img) else { return Ok(()) };
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cases");
    std::fs::create_dir_all(&out_dir).unwrap();
    let sources = field(&expect, "sources") == Some("true");
    if sources {
        let copy = out_dir.join(format!("{name}-image"));
        let _ = std::fs::remove_dir_all(&copy);
        std::fs::create_dir_all(&copy).unwrap();
        let from = path.parent().unwrap().join("Smalltalk-80.sources");
        std::fs::copy(&from, copy.join("Smalltalk-80.sources")).map_err(|e| format!("{}: {e}", from.display()))?;
        std::fs::write(copy.join("image"), std::fs::read(&path).unwrap()).unwrap();
        path = copy.join("image");
    }
    let before = std::fs::read(&path).unwrap();
    let png = out_dir.join(format!("{name}.png"));
    let out = Command::new(env!("CARGO_BIN_EXE_st80"))
        .args(["run".as_ref(), path.as_os_str(), "--headless".as_ref(), "--replay".as_ref()])
        .arg(dir.join("replay.txt"))
        .args(["--cycles", cycles, "--screenshot"])
        .arg(&png)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("{name}: st80 failed: {err}"));
    }
    if sources && std::fs::read(&path).unwrap() != before {
        return Err(format!("{name}: the image file changed"));
    }
    let got = err.split("hash ").nth(1).map(|s| s.trim_end_matches(|c: char| !c.is_ascii_hexdigit())).unwrap_or("");
    if got != hash {
        return Err(format!("{name}: display hash {got}, expected {hash} (look at {})", png.display()));
    }
    Ok(())
}

#[test]
fn every_case_folder_replays_to_its_expected_display() {
    let root = workspace_root().join("tests/cases");
    let mut dirs: Vec<_> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    assert!(dirs.len() >= 2, "cases in {}", root.display());
    let failures: Vec<String> = dirs.iter().filter_map(|d| run_case(d).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
