//! `st80 filein`: file chunk-format source files into an image (as `ReadWriteStream>>fileIn`
//! does, through the image's own Compiler), reporting every failed chunk with its file and
//! line, and optionally save the result.

use crate::chunks::ChunkReader;
use crate::session::{self, describe_error, timeout, HostArgs, Setup};
use crate::{one_line, Failure};
use clap::Args;
use st80_core::EvalOutcome;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct FileinArgs {
    /// The image file (either byte order).
    pub image: PathBuf,
    /// Source files in chunk format (`!`-delimited, as Smalltalk-80.sources).
    /// (Its own id: `--files`, the host's files directory, is another argument.)
    #[arg(required = true, id = "source_files", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Write the resulting image here (same byte order as loaded unless --save-byte-order).
    #[arg(long, value_name = "OUT")]
    pub save: Option<PathBuf>,
    /// Give up on a chunk after this many seconds (exit status 3).
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    pub timeout: f64,
    #[command(flatten)]
    pub host: HostArgs,
}

/// A Smalltalk string literal holding `text`.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The line (0-based, within the chunk) of a compile error: the compiler inserted its message
/// into the code at the error's position.
fn error_line(code: &str, message: &str) -> usize {
    let at = code.find(message).unwrap_or(0);
    code[..at].matches('\n').count()
}

/// Source text has no control characters but tab, line ends and form feed (and NUL padding at
/// the end): anything else (a binary file, an image given by mistake) is refused before the
/// image sees it.
fn check_text(bytes: &[u8]) -> Result<(), String> {
    // Files from Xerox's tapes end in NUL padding to a whole block (Smalltalk-80.sources).
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let bytes = &bytes[..end];
    let Some(at) = bytes.iter().position(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)) else {
        return Ok(());
    };
    let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n' || b == b'\r').count()
        - bytes[..at].windows(2).filter(|w| w == b"\r\n").count();
    Err(format!("line {line}: byte 0x{:02x} at offset {at}: not chunk-format source text", bytes[at]))
}

pub fn filein(args: &FileinArgs) -> Result<(), Failure> {
    // No sources set-up here: the files may be what sets up the image's file system
    // (images/posix-files.st).
    let setup = Setup { snapshots: args.save.clone(), ..Setup::default() };
    let mut session = session::open(&args.image, &args.host, setup)?.boot_or_fail()?;
    let limit = timeout(args.timeout);
    let mut errors = 0;
    let mut empty_readers = 0;
    for file in &args.files {
        let bytes =
            std::fs::read(file).map_err(|e| Failure::bad_input(format!("{}: cannot read: {e}", file.display())))?;
        check_text(&bytes).map_err(|e| Failure::bad_input(format!("{}: {e}", file.display())))?;
        // Sources use CR line ends; accept LF and CRLF too, and give the image CRs.
        let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n").replace('\r', "\n");
        let mut reader = ChunkReader::new(&text);
        let mut report = |outcome: &EvalOutcome, line: usize| {
            errors += 1;
            match outcome {
                EvalOutcome::CompileError { message, code } => {
                    let line = line + error_line(code, message);
                    eprintln!("{}:{line}: {}", file.display(), one_line(&describe_error(outcome)));
                }
                other => eprintln!("{}:{line}: {}", file.display(), describe_error(other)),
            }
        };
        // As `ReadWriteStream>>fileIn`: a chunk is evaluated, unless a `!` precedes it; then it
        // is a reader (e.g. `Foo methodsFor: 'x'`) that compiles the chunks after it, one by
        // one here so that every compile error is reported, up to an empty chunk.
        loop {
            reader.skip_separators();
            if reader.at_end() {
                break;
            }
            let bang = reader.peek_for_bang();
            let (chunk, line) = reader.next_chunk();
            if !bang {
                if chunk.trim().is_empty() {
                    continue;
                }
                let outcome = session.evaluate(&chunk.replace('\n', "\r"), limit)?;
                if !matches!(outcome, EvalOutcome::Value(_)) {
                    report(&outcome, line);
                }
                continue;
            }
            if chunk.trim().is_empty() {
                empty_readers += 1;
                eprintln!("{}:{line}: `!` starts a reader chunk here, but the chunk is empty", file.display());
                continue;
            }
            let expr = format!("Smalltalk at: #ST80FileInReader put: ({}). nil", chunk.replace('\n', "\r"));
            let outcome = session.evaluate(&expr, limit)?;
            let reader_ok = matches!(outcome, EvalOutcome::Value(_));
            if !reader_ok {
                report(&outcome, line);
            }
            loop {
                let (method, line) = reader.next_chunk();
                if method.trim().is_empty() {
                    break;
                }
                if !reader_ok {
                    continue;
                }
                let body = method.replace('\n', "\r").replace('!', "!!");
                let expr = format!("ST80FileInReader scanFrom: (ReadStream on: {}). nil", quoted(&(body + "!")));
                let outcome = session.evaluate(&expr, limit)?;
                if !matches!(outcome, EvalOutcome::Value(_)) {
                    report(&outcome, line);
                }
            }
            session.evaluate("Smalltalk removeKey: #ST80FileInReader ifAbsent: []. nil", limit)?;
        }
    }
    if let Some(out) = &args.save {
        session.save_image(out, limit)?;
    }
    errors += empty_readers;
    if errors > 0 {
        return Err(Failure::failed(format!("{errors} chunk(s) failed to file in")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_error_lines() {
        assert_eq!(quoted("it's"), "'it''s'");
        assert_eq!(error_line("a\nb Nothing more expected ->c", "Nothing more expected ->"), 1);
    }

    #[test]
    fn binary_files_are_not_source_text() {
        assert_eq!(check_text(b"3 + 4!\r\n\tx\x0c!\0\0\0"), Ok(()));
        assert_eq!(
            check_text(b"a\r\nb\nc\x00d"),
            Err("line 3: byte 0x00 at offset 6: not chunk-format source text".into())
        );
        assert_eq!(check_text(b"\x01\x02"), Err("line 1: byte 0x01 at offset 0: not chunk-format source text".into()));
    }
}
