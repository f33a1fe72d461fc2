//! Sources out of the box: the Xerox v2 image has no file system for host files and its
//! `SourceFiles` is nil, so its browsers show decompiled methods without comments and what the
//! user accepts is logged nowhere. [`open_sources`] gives such an image, in memory, the POSIX
//! file system of `images/posix-files.st` and opens `Smalltalk-80.sources` (read-only) and
//! `Smalltalk-80.changes` (made if missing) as its `SourceFiles`, with the image's own code,
//! before the user's session starts. The image file is not touched: only a snapshot the user
//! asks for saves the result.
//!
//! Why at start-up, in memory, rather than shipping a prepared image: the images are Xerox's
//! files and are never modified or copied by this project; filing our classes in at each
//! start leaves them as they are and costs a fraction of a second.

use crate::files::{Access, HostFiles, CHANGES_NAME, SOURCES_NAME};
use st80_core::{EvalOutcome, Host, Interpreter, StopReason};

/// Our POSIX file system for the v2 image (see `images/README.md`).
pub const POSIX_FILES_ST: &str = include_str!("../../../images/posix-files.st");

/// Bytecodes an evaluation of the set-up may take (filing in takes about 20 million).
const MAX_CYCLES: u64 = 400_000_000;

/// What [`open_sources`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setup {
    /// `SourceFiles` is now the host's sources and changes files.
    Opened,
    /// Nothing done, and why (the image already has a file system or `SourceFiles`, or there
    /// is no sources file).
    NotNeeded(String),
}

/// The class and method definitions of `posix-files.st`, without its closing statements:
/// those would be logged to the changes file once `SourceFiles` is set, so the set-up opens
/// the files itself.
fn definitions() -> &'static str {
    let end = POSIX_FILES_ST.find("\nDisk _ PosixFileDirectory new.").unwrap_or(POSIX_FILES_ST.len());
    &POSIX_FILES_ST[..end]
}

/// A Smalltalk string literal holding `text` with CR line ends.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace("\r\n", "\r").replace('\n', "\r").replace('\'', "''"))
}

/// Evaluates `source` with the image's Compiler, running `vm` on `host` until it is done.
pub fn evaluate<H: Host>(vm: &mut Interpreter, host: &mut H, source: &str) -> Result<EvalOutcome, String> {
    vm.start_evaluation(source)?;
    let start = vm.cycles();
    loop {
        match vm.run(host, 1_000_000) {
            StopReason::Evaluated => return vm.evaluation_outcome().ok_or_else(|| "no result".to_string()),
            // (An idle image on the host's clock is run on: the set-up has no time to lose.)
            StopReason::CyclesDone | StopReason::Idle { .. } if vm.cycles() - start < MAX_CYCLES => {}
            StopReason::CyclesDone | StopReason::Idle { .. } => {
                vm.cancel_evaluation();
                return Err(format!("still running after {MAX_CYCLES} bytecodes"));
            }
            StopReason::Quit => return Err("the image quit".to_string()),
            StopReason::Error(e) => return Err(format!("the virtual machine stopped: {e}")),
        }
    }
}

fn value(outcome: EvalOutcome) -> Result<String, String> {
    match outcome {
        EvalOutcome::Value(v) => Ok(v),
        EvalOutcome::CompileError { message, .. } => Err(format!("compile error: {message}")),
        EvalOutcome::RuntimeError { message, stack } => Err(format!("{message} ({})", stack.replace('\n', ", "))),
    }
}

/// Gives an image without a file system (the Xerox v2 image) the host's files and opens its
/// `SourceFiles`, as the module documentation says; `files` must be the file system `host`
/// serves to the image. Run it after the image has resumed (a million bytecodes or so) and
/// before the user's input. An image that has `PosixFileDirectory` or a `SourceFiles`
/// already (dbanay's `snapshot.im`, an image saved after this set-up) is left alone.
pub fn open_sources<H: Host>(
    vm: &mut Interpreter,
    host: &mut H,
    files: impl Fn(&mut H) -> Option<&mut HostFiles>,
) -> Result<Setup, String> {
    // The host's side first, so that an image that gets nothing runs exactly as without us.
    let fs = files(host).ok_or("no host files")?;
    let (sources, _) = fs.mapped(SOURCES_NAME).ok_or("no sources file mapped")?;
    if !sources.is_file() {
        return Ok(Setup::NotNeeded(format!("{} not found", sources.display())));
    }
    let (changes, access) = fs.mapped(CHANGES_NAME).ok_or("no changes file mapped")?;
    let changes = changes.to_path_buf();
    let missing = !changes.exists();
    let dir_read_only = changes.parent().and_then(|d| d.metadata().ok()).is_some_and(|m| m.permissions().readonly());
    if missing && (access != Access::ReadWrite || dir_read_only) {
        return Ok(Setup::NotNeeded(format!("{} is missing and cannot be made", changes.display())));
    }
    let check = "(Smalltalk includesKey: #PosixFileDirectory) | SourceFiles notNil \
                 | (Smalltalk includesKey: #FileDirectory) not";
    if value(evaluate(vm, host, check)?)? != "false" {
        return Ok(Setup::NotNeeded("the image has a file system or SourceFiles already".into()));
    }
    if missing {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&changes)
            .map_err(|e| format!("{}: cannot create: {e}", changes.display()))?;
    }
    // File the classes in (unlogged: SourceFiles is still nil) with the Transcript aside (the
    // file-in's progress notes are not the user's business), and keep them out of the user's
    // change set, so a fileOut of "changes" holds only what the user did.
    let file_in = format!(
        "| empty transcript | empty _ Smalltalk changes isEmpty. transcript _ Transcript. \
         Smalltalk at: #Transcript put: TextCollector new. \
         (ReadWriteStream with: {}) reset; fileIn. \
         Smalltalk at: #Transcript put: transcript. \
         empty ifTrue: [Smalltalk changes initialize]. \
         Disk _ (Smalltalk at: #PosixFileDirectory) new. \
         (Smalltalk at: #PosixFileDirectory) install",
        literal(definitions())
    );
    match value(evaluate(vm, host, &file_in)?)?.as_str() {
        "true" => Ok(Setup::Opened),
        other => Err(format!("PosixFileDirectory install answered {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definitions_end_before_the_closing_statements() {
        let defs = definitions();
        assert!(defs.len() < POSIX_FILES_ST.len(), "posix-files.st lost its closing statements");
        assert!(defs.contains("install"));
        assert!(!defs.contains("Disk _ PosixFileDirectory new."));
        assert_eq!(literal("a'b\nc"), "'a''b\rc'");
    }
}
