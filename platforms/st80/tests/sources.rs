//! Sources out of the box: the Xerox image, run with `Smalltalk-80.sources` beside it, has
//! the real source of its methods (with comments) and logs what is accepted to
//! `Smalltalk-80.changes` (made when missing), while its image file stays as it was. (The
//! browser showing it is the `tests/cases/browser-comment` replay.)

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
mod common;

use common::*;

/// A scratch directory holding a copy of the Xerox image and its sources file.
fn setup(name: &str) -> Option<PathBuf> {
    let dir = scratch(name);
    copy_image(XEROX_V2, &dir, "VirtualImage")?;
    copy_beside(XEROX_V2, "Smalltalk-80.sources", &dir)?;
    Some(dir)
}

/// `st80 eval IMAGE ARGS...`: the lines printed.
fn eval_lines(image: &Path, args: &[&str]) -> Vec<String> {
    let mut argv: Vec<&OsStr> = vec![image.as_os_str()];
    argv.extend(args.iter().map(OsStr::new));
    eval_ok(&argv)
}

const COMMENT: &str = "Answer a String whose characters are a description of the receiver.";

#[test]
fn the_xerox_image_shows_real_source_and_logs_what_is_accepted() {
    let Some(dir) = setup("accept") else { return };
    let image = dir.join("VirtualImage");
    let changes = dir.join("Smalltalk-80.changes");
    let before = std::fs::read(&image).unwrap();
    let out = eval_lines(
        &image,
        &[
            "(Object sourceCodeAt: #printString) asString",
            "Object compile: 'st80Answer\r\t\"a method the user accepted\"\r\t^42' classified: 'testing'. 3 st80Answer",
            "(Object sourceCodeAt: #st80Answer) asString",
            "Smalltalk changes printString",
        ],
    );
    assert!(out.iter().any(|l| l.contains(COMMENT)), "{out:?}");
    assert!(out.iter().any(|l| l == "42"), "{out:?}");
    // The accepted method's source (with its comment) is read back from the changes file.
    assert!(out.iter().filter(|l| l.contains("a method the user accepted")).count() == 1, "{out:?}");
    // The set-up's own classes are not in the user's change set.
    assert!(!out.iter().any(|l| l.contains("Posix")), "{out:?}");
    let logged = String::from_utf8_lossy(&std::fs::read(&changes).expect("the changes file was made")).into_owned();
    assert!(logged.contains("!Object methodsFor: 'testing'!"), "{logged}");
    assert!(logged.contains("st80Answer\r\t\"a method the user accepted\"\r\t^42! !"), "{logged}");
    assert!(!logged.contains("PosixFileDirectory"), "the set-up is not logged: {logged}");
    assert_eq!(std::fs::read(&image).unwrap(), before, "the image file was written");

    // A second session appends to the same changes file.
    eval_lines(&image, &["Object compile: 'st80Second ^2' classified: 'testing'. nil"]);
    let logged2 = String::from_utf8_lossy(&std::fs::read(&changes).unwrap()).into_owned();
    assert!(logged2.starts_with(&logged) && logged2.contains("st80Second ^2! !"), "{logged2}");
    assert_eq!(std::fs::read(&image).unwrap(), before);
}

#[test]
fn without_sources_or_with_no_sources_the_image_runs_as_it_is() {
    let Some(dir) = setup("plain") else { return };
    let image = dir.join("VirtualImage");
    let out = eval_lines(&image, &["--no-sources", "SourceFiles", "Smalltalk includesKey: #PosixFileDirectory"]);
    assert_eq!(out, ["nil", "false"]);
    assert!(!dir.join("Smalltalk-80.changes").exists());
    std::fs::remove_file(dir.join("Smalltalk-80.sources")).unwrap();
    let out = eval_lines(&image, &["SourceFiles", "(Object sourceCodeAt: #printString) asString"]);
    assert_eq!(out[0], "nil");
    assert!(!out.iter().any(|l| l.contains(COMMENT)), "decompiled: {out:?}");
    assert!(!dir.join("Smalltalk-80.changes").exists());
}

/// dbanay's snapshot.im has its own file system and SourceFiles: left alone.
#[test]
fn an_image_with_a_file_system_is_left_alone() {
    let Some(image) = image(DBANAY_SNAPSHOT) else { return };
    // dbanay's PosixFile has doPrimCommand:name:page:, which posix-files.st does not define.
    let out = eval_lines(
        &image,
        &["(Smalltalk at: #PosixFile) includesSelector: #doPrimCommand:name:page:", "SourceFiles size"],
    );
    assert_eq!(out, ["true", "2"], "{out:?}");
}
