//! The image's file primitives (128, 130-133) on dbanay's snapshot.im: files written from
//! Smalltalk are read on the host and back, directories are listed, files renamed and deleted,
//! names that climb out of the files directory fail, a class is filed in from a host file and
//! its source read back from the changes file, and the sources file stays read-only.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::*;

/// A scratch directory `NAME/root` holding snapshot.im, and Smalltalk-80.sources and .changes
/// in `NAME/elsewhere` (passed with --sources/--changes), or None to skip.
fn setup(name: &str) -> Option<(PathBuf, PathBuf, PathBuf)> {
    let base = scratch(name);
    let (root, elsewhere) = (fresh_dir(base.join("root")), fresh_dir(base.join("elsewhere")));
    copy_image(DBANAY_SNAPSHOT, &root, "snapshot.im")?;
    for f in ["Smalltalk-80.sources", "Smalltalk-80.changes"] {
        copy_beside(DBANAY_SNAPSHOT, f, &elsewhere)?;
    }
    Some((base, root, elsewhere))
}

/// `st80 eval --sources S --changes C root/snapshot.im EXPRS...`.
fn eval_in(root: &Path, elsewhere: &Path, exprs: &[&str]) -> Output {
    let img = root.join("snapshot.im");
    let (s, c) = (elsewhere.join("Smalltalk-80.sources"), elsewhere.join("Smalltalk-80.changes"));
    let mut args: Vec<&OsStr> =
        vec!["--sources".as_ref(), s.as_os_str(), "--changes".as_ref(), c.as_os_str(), img.as_os_str()];
    args.extend(exprs.iter().map(OsStr::new));
    eval(&args)
}

fn eval_ok(root: &Path, elsewhere: &Path, exprs: &[&str]) -> Vec<String> {
    output_lines(&eval_in(root, elsewhere, exprs), &format!("{exprs:?}"))
}

#[test]
fn files_are_written_read_listed_renamed_and_deleted() {
    let Some((_base, root, elsewhere)) = setup("basic") else { return };
    // Written from Smalltalk, read on the host.
    let out = eval_ok(
        &root,
        &elsewhere,
        &["(FileStream fileNamed: 'from-image.txt') nextPutAll: 'written by Smalltalk'; close. #done"],
    );
    assert_eq!(out, vec!["done"]);
    assert_eq!(std::fs::read_to_string(root.join("from-image.txt")).unwrap(), "written by Smalltalk");
    // Written on the host (three pages and a bit), read in Smalltalk.
    let host_text: String = (0..1600).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    std::fs::write(root.join("from-host.txt"), &host_text).unwrap();
    let out = eval_ok(
        &root,
        &elsewhere,
        &[
            "(FileStream oldFileNamed: 'from-host.txt') contentsOfEntireFile size",
            "(FileStream oldFileNamed: 'from-host.txt') contentsOfEntireFile copyFrom: 1500 to: 1510",
            "Disk fileNames",
        ],
    );
    assert_eq!(out[0], "1600");
    assert_eq!(out[1], format!("'{}'", &host_text[1499..1510]));
    for name in ["from-host.txt", "from-image.txt", "snapshot.im", "Smalltalk-80.sources", "Smalltalk-80.changes"] {
        assert!(out[2].contains(&format!("'{name}'")), "{name} listed in {}", out[2]);
    }
    // Rename and delete.
    let out = eval_ok(
        &root,
        &elsewhere,
        &[
            "Disk rename: (Disk findKey: 'from-image.txt') newName: 'renamed.txt'. #renamed",
            "Disk removeKey: 'from-host.txt'. #deleted",
        ],
    );
    assert_eq!(out, vec!["renamed", "deleted"]);
    assert!(!root.join("from-image.txt").exists());
    assert_eq!(std::fs::read_to_string(root.join("renamed.txt")).unwrap(), "written by Smalltalk");
    assert!(!root.join("from-host.txt").exists());
}

#[test]
fn names_outside_the_files_directory_fail() {
    let Some((base, root, elsewhere)) = setup("escape") else { return };
    std::fs::write(base.join("outside.txt"), "outside").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(base.join("outside.txt"), root.join("link.txt")).unwrap();
    for expr in [
        "(FileStream fileNamed: '../escaped.txt') nextPutAll: 'x'; close",
        "(FileStream oldFileNamed: '../outside.txt') contentsOfEntireFile",
        "(FileStream fileNamed: '/tmp/st80-escaped.txt') nextPutAll: 'x'; close",
        "(FileStream oldFileNamed: 'link.txt') contentsOfEntireFile",
        "(FileStream fileNamed: 'link.txt') nextPutAll: 'overwritten'; close",
    ] {
        let out = eval_in(&root, &elsewhere, &[expr]);
        assert_eq!(out.status.code(), Some(1), "{expr} should fail: {}", text(&out.stdout));
        assert!(text(&out.stderr).contains("error"), "{expr}: {}", text(&out.stderr));
    }
    assert!(!base.join("escaped.txt").exists());
    assert!(!Path::new("/tmp/st80-escaped.txt").exists());
    assert_eq!(std::fs::read_to_string(base.join("outside.txt")).unwrap(), "outside");
}

#[test]
fn a_class_filed_in_from_a_host_file_is_usable_and_recorded() {
    let Some((_base, root, elsewhere)) = setup("filein") else { return };
    let sources_before = std::fs::read(elsewhere.join("Smalltalk-80.sources")).unwrap();
    let changes_before = std::fs::read(elsewhere.join("Smalltalk-80.changes")).unwrap();
    let st = "Object subclass: #FiledIn\r\tinstanceVariableNames: ''\r\tclassVariableNames: ''\r\t\
              poolDictionaries: ''\r\tcategory: 'St80-Files'!\r\r!FiledIn methodsFor: 'answers'!\r\
              answer\r\t\"from a host file\"\r\t^6 * 7! !\r";
    std::fs::write(root.join("filedin.st"), st).unwrap();
    let out = eval_ok(
        &root,
        &elsewhere,
        &[
            "(FileStream oldFileNamed: 'filedin.st') fileIn. #filedIn",
            "FiledIn new answer",
            "(FiledIn sourceCodeAt: #answer) asString",
            "(Object sourceCodeAt: #printString) size > 50",
            "Smalltalk changes printString",
        ],
    );
    // (The source's line ends split it over several output lines.)
    assert_eq!(&out[..2], &["filedIn", "42"]);
    let all = out.join("\n");
    assert!(all.contains("\"from a host file\""), "source read back from the changes file: {all}");
    assert_eq!(out[out.len() - 2], "true", "source read from the sources file given with --sources");
    let changes = std::fs::read(elsewhere.join("Smalltalk-80.changes")).unwrap();
    assert!(changes.len() > changes_before.len() && changes.starts_with(&changes_before));
    assert!(text(&changes).contains("from a host file"));
    assert_eq!(std::fs::read(elsewhere.join("Smalltalk-80.sources")).unwrap(), sources_before, "sources untouched");
    // The sources file is read-only to the image.
    let out = eval_in(
        &root,
        &elsewhere,
        &["(FileStream oldFileNamed: 'Smalltalk-80.sources') readWrite; nextPutAll: 'clobbered'; close"],
    );
    assert_eq!(out.status.code(), Some(1), "writing the sources file must fail: {}", text(&out.stdout));
    assert_eq!(std::fs::read(elsewhere.join("Smalltalk-80.sources")).unwrap(), sources_before);
    // File out a class: its source (from the sources file) appears in a host file.
    let out = eval_ok(
        &root,
        &elsewhere,
        &["| f | f _ FileStream fileNamed: 'Point.st'. Point fileOutOn: f. f close. #filedOut"],
    );
    assert_eq!(out, vec!["filedOut"]);
    let filed_out = text(&std::fs::read(root.join("Point.st")).unwrap());
    assert!(filed_out.contains("!Point methodsFor: 'accessing'!"), "{}", &filed_out[..filed_out.len().min(500)]);
}
