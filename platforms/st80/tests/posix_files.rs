//! `images/posix-files.st` gives the Xerox v2 image (made for an Alto disk) the POSIX file
//! system of the host file primitives: it is filed into a scratch copy of the image and saved,
//! then the saved image writes files the host reads, reads files the host wrote, lists the
//! directory, renames and deletes, files a class in from a host file (its source then comes
//! from the changes file) and files classes out (with the source and comments of the sources
//! file). Filed into an image with no changes file beside it, it makes none.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Output;
mod common;

use common::*;

/// A scratch directory `NAME` with `build/` holding copies of the Xerox image and its sources
/// file (and an empty changes file if `with_changes`), and an empty `files/` for the image's
/// files; or None to skip.
fn setup(name: &str, with_changes: bool) -> Option<(PathBuf, PathBuf)> {
    let base = scratch(name);
    let (build, files) = (fresh_dir(base.join("build")), fresh_dir(base.join("files")));
    copy_image(XEROX_V2, &build, "VirtualImage")?;
    copy_beside(XEROX_V2, "Smalltalk-80.sources", &build)?;
    if with_changes {
        std::fs::write(build.join("Smalltalk-80.changes"), "").unwrap();
    }
    Some((build, files))
}

/// Files images/posix-files.st into `build/VirtualImage`, saving `build/posix.image`; answers
/// what the image wrote on its Transcript.
fn file_in(build: &Path) -> String {
    let st = workspace_root().join("images/posix-files.st");
    let out = st80_quiet(&[
        OsStr::new("filein"),
        build.join("VirtualImage").as_os_str(),
        st.as_os_str(),
        OsStr::new("--save"),
        build.join("posix.image").as_os_str(),
        OsStr::new("--transcript"),
    ]);
    assert!(out.status.success(), "filein: {}\n{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

/// `st80 eval build/posix.image --files FILES EXPRS...`.
fn eval_in(build: &Path, files: &Path, exprs: &[&str]) -> Output {
    let mut args: Vec<OsString> = vec![build.join("posix.image").into(), "--files".into(), files.into()];
    args.extend(exprs.iter().map(OsString::from));
    eval(&args)
}

fn eval_ok(build: &Path, files: &Path, exprs: &[&str]) -> Vec<String> {
    output_lines(&eval_in(build, files, exprs), &format!("{exprs:?}"))
}

#[test]
fn the_v2_image_writes_reads_and_lists_host_files() {
    let Some((build, files)) = setup("basic", true) else { return };
    let transcript = file_in(&build);
    assert!(transcript.contains("Disk and SourceFiles are the host's files."), "{transcript}");
    let out = eval_ok(
        &build,
        &files,
        &[
            "Disk printString",
            "SourceFiles printString",
            "(FileStream fileNamed: 'x.st') nextPutAll: 'hello'; close. #written",
            // Three pages and a bit, a number at a time.
            "| f | f _ FileStream fileNamed: 'numbers.txt'. 1 to: 500 do: [:i | f print: i; space]. f close. #numbers",
        ],
    );
    assert_eq!(
        out,
        vec![
            "'a closed PosixFileDirectory on '''''",
            "'(a FileStream on ''Smalltalk-80.sources'' a FileStream on ''Smalltalk-80.changes'' )'",
            "written",
            "numbers"
        ]
    );
    assert_eq!(std::fs::read_to_string(files.join("x.st")).unwrap(), "hello");
    let numbers: String = (1..=500).map(|i| format!("{i} ")).collect();
    assert!(numbers.len() > 3 * 512);
    assert_eq!(std::fs::read_to_string(files.join("numbers.txt")).unwrap(), numbers);

    // Written on the host, read in Smalltalk; files appended to, overwritten, listed.
    let host_text: String = (0..1600).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    std::fs::write(files.join("from-host.txt"), &host_text).unwrap();
    std::fs::write(files.join("page.txt"), "p".repeat(512)).unwrap();
    let out = eval_ok(
        &build,
        &files,
        &[
            "(FileStream oldFileNamed: 'x.st') contentsOfEntireFile",
            "(FileStream oldFileNamed: 'from-host.txt') contentsOfEntireFile size",
            "(FileStream oldFileNamed: 'from-host.txt') contentsOfEntireFile copyFrom: 1500 to: 1510",
            "| f | f _ FileStream oldFileNamed: 'from-host.txt'. f position: 1030. f next: 4",
            "(FileStream oldFileNamed: 'page.txt') setToEnd; nextPutAll: 'END'; close. #appended",
            "(FileStream fileNamed: 'numbers.txt') nextPutAll: 'short'; close. #shortened",
            "Disk fileNames",
            "Disk filesMatching: '*.txt'",
            "Disk includesKey: 'x.st'",
            "Disk includesKey: 'y.st'",
        ],
    );
    assert_eq!(out[0], "'hello'");
    assert_eq!(out[1], "1600");
    assert_eq!(out[2], format!("'{}'", &host_text[1499..1510]));
    assert_eq!(out[3], format!("'{}'", &host_text[1030..1034]));
    assert_eq!(&out[4..6], &["appended", "shortened"]);
    assert_eq!(
        out[6],
        "('Smalltalk-80.changes' 'Smalltalk-80.sources' 'from-host.txt' 'numbers.txt' 'page.txt' 'snapshot.im' \
         'x.st' )"
    );
    assert_eq!(out[7], "('from-host.txt' 'numbers.txt' 'page.txt' )");
    assert_eq!(&out[8..], &["true", "false"]);
    assert_eq!(std::fs::read_to_string(files.join("page.txt")).unwrap(), format!("{}END", "p".repeat(512)));
    assert_eq!(std::fs::read_to_string(files.join("numbers.txt")).unwrap(), "short");

    // Rename and delete; missing files and names outside the directory are errors.
    let out = eval_ok(
        &build,
        &files,
        &["Disk rename: (Disk findKey: 'x.st') newName: 'y.st'. #renamed", "Disk removeKey: 'from-host.txt'. #deleted"],
    );
    assert_eq!(out, vec!["renamed", "deleted"]);
    assert!(!files.join("x.st").exists() && !files.join("from-host.txt").exists());
    assert_eq!(std::fs::read_to_string(files.join("y.st")).unwrap(), "hello");
    for (expr, message) in [
        ("(FileStream oldFileNamed: 'missing.txt') contentsOfEntireFile", "missing.txt file not found"),
        ("(FileStream fileNamed: '../escaped.txt') nextPutAll: 'x'; close", "create:, Permission denied"),
        (
            "(FileStream oldFileNamed: 'Smalltalk-80.sources') readWrite; nextPutAll: 'clobbered'; close",
            "write:, Permission denied",
        ),
    ] {
        let out = eval_in(&build, &files, &[expr]);
        assert_eq!(out.status.code(), Some(1), "{expr} should fail: {}", text(&out.stdout));
        assert!(text(&out.stderr).contains(message), "{expr}: {}", text(&out.stderr));
    }
    assert!(!files.parent().unwrap().join("escaped.txt").exists());
}

#[test]
fn the_v2_image_files_classes_in_and_out() {
    let Some((build, files)) = setup("classes", true) else { return };
    file_in(&build);
    let sources_before = std::fs::read(build.join("Smalltalk-80.sources")).unwrap();
    let st = "Object subclass: #Greeter\r\tinstanceVariableNames: 'name'\r\tclassVariableNames: ''\r\t\
              poolDictionaries: ''\r\tcategory: 'Demo-Posix'!\r\r!Greeter methodsFor: 'greeting'!\r\
              greet\r\t\"from a host file\"\r\t^'hello from ', (6 * 7) printString! !\r";
    std::fs::write(files.join("greeter.st"), st).unwrap();
    let out = eval_ok(
        &build,
        &files,
        &[
            "(FileStream oldFileNamed: 'greeter.st') fileIn. #filedIn",
            "Greeter new greet",
            "(Greeter sourceCodeAt: #greet) asString = ('greet', (String with: Character cr with: Character tab), \
             '\"from a host file\"', (String with: Character cr with: Character tab), '^''hello from '', (6 * 7) \
             printString')",
            "Greeter fileOut. #greeterOut",
            "| f | f _ FileStream fileNamed: 'Point.st'. Point fileOutOn: f. f close. #pointOut",
        ],
    );
    assert_eq!(out, vec!["filedIn", "'hello from 42'", "true", "greeterOut", "pointOut"]);
    // The filed-in source went to the changes file.
    let changes = text(&std::fs::read(build.join("Smalltalk-80.changes")).unwrap());
    assert!(changes.contains("\"from a host file\""), "{changes}");
    // File-outs: the source (with comments) from the changes and sources files.
    let greeter = text(&std::fs::read(files.join("Greeter.st")).unwrap());
    assert!(greeter.contains("Object subclass: #Greeter"), "{greeter}");
    assert!(greeter.contains("!Greeter methodsFor: 'greeting'!"), "{greeter}");
    assert!(greeter.contains("\"from a host file\""), "{greeter}");
    let point = text(&std::fs::read(files.join("Point.st")).unwrap());
    assert!(point.contains("Object subclass: #Point"), "{}", &point[..point.len().min(400)]);
    assert!(point.contains("!Point methodsFor: 'accessing'!"), "{}", &point[..point.len().min(400)]);
    assert!(point.contains("\"Answer the x coordinate.\""), "source from the sources file");
    assert!(point.trim_end().ends_with("! !"), "{}", &point[point.len().saturating_sub(200)..]);
    // A class filed out is filed back in (into the image the file-in was saved in).
    std::fs::rename(files.join("Greeter.st"), files.join("Greeter2.st")).unwrap();
    let out = eval_ok(
        &build,
        &files,
        &["(FileStream oldFileNamed: 'Greeter2.st') fileIn. Greeter new greet", "Greeter category"],
    );
    assert_eq!(out, vec!["'hello from 42'", "Demo-Posix"]);
    assert_eq!(std::fs::read(build.join("Smalltalk-80.sources")).unwrap(), sources_before, "sources untouched");
}

#[test]
fn without_a_changes_file_the_file_in_makes_none() {
    let Some((build, files)) = setup("no-changes", false) else { return };
    let transcript = file_in(&build);
    assert!(transcript.contains("SourceFiles is not set"), "{transcript}");
    assert!(!build.join("Smalltalk-80.changes").exists(), "the file-in made a changes file");
    let out = eval_ok(
        &build,
        &files,
        &[
            "SourceFiles isNil",
            "(FileStream fileNamed: 'a.txt') nextPutAll: 'a'; close. Disk fileNames",
            "PosixFileDirectory install",
            "(Point sourceCodeAt: #x) asString size",
        ],
    );
    assert_eq!(
        out,
        vec!["true", "('Smalltalk-80.sources' 'a.txt' 'snapshot.im' )", "true", "33"],
        "install opens the sources and makes the changes file"
    );
    assert!(build.join("Smalltalk-80.changes").exists());
}
