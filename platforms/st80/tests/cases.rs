//! Scripted UI sessions as data, one test per folder of `tests/cases/` (see
//! `tests/cases/README.md`): each holds `replay.txt` (an input log, see
//! `st80_host_std::replay`) and `expect.toml` ([`Expect`]). The image runs with
//! `st80 run IMAGE --headless --replay replay.txt --cycles N --hash-out FILE`, and the display
//! hash must be `hash`. The screenshot goes to Cargo's target/tmp/cases/NAME/NAME.png for a
//! look. With `sources = true` the image runs from a scratch copy of it with
//! `Smalltalk-80.sources` beside it (the start-up set-up then opens the sources and makes a
//! changes file there), and the image file must be unchanged afterwards.
//!
//! `ST80_UPDATE_HASHES=1 cargo test --release -p st80-cli --test cases` writes the hashes the
//! runs drew into the `expect.toml` files instead of comparing (look at the screenshots first).

use serde::Deserialize;
use std::path::{Path, PathBuf};
mod common;

use common::*;

/// `expect.toml`. Unknown keys are errors, so a misspelt key cannot silently be ignored.
#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// The test image (a name under $ST80_IMAGES, e.g. `xerox-v2/VirtualImage`).
    image: String,
    /// Bytecodes to run.
    cycles: u64,
    /// The display hash after the run (16 hex digits).
    hash: String,
    /// Run a copy of the image with its `Smalltalk-80.sources` beside it.
    #[serde(default)]
    sources: bool,
}

fn cases_dir() -> PathBuf {
    workspace_root().join("tests/cases")
}

fn read_expect(file: &Path) -> Expect {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// Replaces the `hash = "..."` line of `file`, keeping the comments.
fn update_hash(file: &Path, hash: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut found = false;
    let lines: Vec<String> = text
        .lines()
        .map(|line| match line.split_once('=') {
            Some((key, _)) if key.trim() == "hash" => {
                found = true;
                format!("hash = \"{hash}\"")
            }
            _ => line.to_string(),
        })
        .collect();
    assert!(found, "{}: no hash line to update", file.display());
    std::fs::write(file, lines.join("\n") + "\n").unwrap();
}

fn run_case(name: &str) {
    let dir = cases_dir().join(name);
    let expect_file = dir.join("expect.toml");
    let expect = read_expect(&expect_file);
    let out_dir = scratch(name);
    let Some(mut image) = image(&expect.image) else { return };
    if expect.sources {
        image = copy_image(&expect.image, &out_dir, "image").unwrap();
        copy_beside(&expect.image, "Smalltalk-80.sources", &out_dir).unwrap();
    }
    let before = std::fs::read(&image).unwrap();
    let png = out_dir.join(format!("{name}.png"));
    let run = run_headless(
        &image,
        &[
            "--replay".as_ref(),
            dir.join("replay.txt").as_os_str(),
            "--cycles".as_ref(),
            expect.cycles.to_string().as_ref(),
            "--screenshot".as_ref(),
            png.as_os_str(),
        ],
        &out_dir,
        name,
    );
    let Some(hash) = run.hash else { panic!("{name}: st80 failed: {}", text(&run.out.stderr)) };
    if expect.sources {
        assert!(std::fs::read(&image).unwrap() == before, "{name}: the image file changed");
    }
    if std::env::var_os("ST80_UPDATE_HASHES").is_some_and(|v| v == "1") {
        if hash != expect.hash {
            update_hash(&expect_file, &hash);
            eprintln!("{name}: hash {} -> {hash} (look at {})", expect.hash, png.display());
        }
        return;
    }
    assert_eq!(hash, expect.hash, "{name}: display hash (look at {})", png.display());
}

/// One test per case folder; [`every_case_folder_is_listed`] checks that the list is complete.
macro_rules! cases {
    ($($test:ident: $folder:literal,)*) => {
        const FOLDERS: &[&str] = &[$($folder),*];
        $(
            #[test]
            fn $test() {
                run_case($folder);
            }
        )*
    };
}

cases! {
    autoscroll_drag_select: "autoscroll-drag-select",
    browser_comment: "browser-comment",
    early_input: "early-input",
    screen_menu: "screen-menu",
    workspace_print_it: "workspace-print-it",
}

#[test]
fn every_case_folder_is_listed() {
    let mut folders: Vec<String> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    assert_eq!(folders, FOLDERS, "list every folder of tests/cases in the cases! macro of this file");
    for folder in &folders {
        let dir = cases_dir().join(folder);
        assert!(dir.join("replay.txt").is_file(), "{folder}: no replay.txt");
        read_expect(&dir.join("expect.toml"));
    }
}

#[test]
fn expectations_reject_unknown_and_missing_keys() {
    let good = "image = \"x\"\ncycles = 5\nhash = \"0123456789abcdef\"\n";
    assert_eq!(
        toml::from_str::<Expect>(good).unwrap(),
        Expect { image: "x".into(), cycles: 5, hash: "0123456789abcdef".into(), sources: false }
    );
    let misspelt = toml::from_str::<Expect>(&format!("{good}source = true\n")).unwrap_err();
    assert!(misspelt.to_string().contains("unknown field `source`"), "{misspelt}");
    let missing = toml::from_str::<Expect>("image = \"x\"\ncycles = 5\n").unwrap_err();
    assert!(missing.to_string().contains("missing field `hash`"), "{missing}");
    let wrong_type = toml::from_str::<Expect>("image = \"x\"\ncycles = \"5\"\nhash = \"h\"\n").unwrap_err();
    assert!(wrong_type.to_string().contains("cycles"), "{wrong_type}");
}

#[test]
fn updating_a_hash_keeps_the_comments() {
    let file = scratch("update").join("expect.toml");
    std::fs::write(&file, "# a comment\nimage = \"x\"\ncycles = 5\nhash = \"0000000000000000\"\n# after\n").unwrap();
    update_hash(&file, "0123456789abcdef");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "# a comment\nimage = \"x\"\ncycles = 5\nhash = \"0123456789abcdef\"\n# after\n"
    );
}
