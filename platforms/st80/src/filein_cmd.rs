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
    #[arg(required = true)]
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

pub fn filein(args: &FileinArgs) -> Result<(), Failure> {
    // No sources set-up here: the files may be what sets up the image's file system
    // (images/posix-files.st).
    let setup = Setup { snapshots: args.save.clone(), ..Setup::default() };
    let mut session = session::open(&args.image, &args.host, setup)?.boot_or_fail()?;
    let limit = timeout(args.timeout);
    let mut errors = 0;
    for file in &args.files {
        let bytes =
            std::fs::read(file).map_err(|e| Failure::bad_input(format!("{}: cannot read: {e}", file.display())))?;
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
}
