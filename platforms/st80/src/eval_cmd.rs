//! `st80 eval`: evaluate Smalltalk expressions in an image without a window, through the
//! image's own Compiler (see `st80_core::embed`), and print each result's printString.

use crate::session::{self, describe_error, timeout, HostArgs, Setup};
use crate::{Failure, Status};
use clap::Args;
use st80_core::EvalOutcome;
use std::io::{self, Write};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The image file (either byte order). It is never written.
    pub image: PathBuf,
    /// Smalltalk-80 expressions (`_` is assignment); each result is printed on its own line.
    /// Put `--` before them if one starts with `-`.
    #[arg(required = true)]
    pub exprs: Vec<String>,
    /// Give up on an expression after this many seconds (exit status 3).
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// After the expressions, save the image here (as `filein --save`); snapshots the
    /// expressions take (`Smalltalk snapshot`) are written here too.
    #[arg(long, value_name = "OUT")]
    pub save: Option<PathBuf>,
    #[command(flatten)]
    pub host: HostArgs,
}

pub fn eval(args: &EvalArgs) -> Result<(), Failure> {
    let setup = Setup { snapshots: args.save.clone(), ..Setup::default() };
    let mut session = session::open(&args.image, &args.host, setup)?.boot_or_fail()?;
    session.open_sources(&args.host);
    // Every expression is evaluated, each result printed on stdout and each error on stderr
    // (naming the expression), so one mistake does not hide what the others answer.
    let (mut failed, mut timed_out) = (0, 0);
    for (n, expr) in args.exprs.iter().enumerate() {
        let outcome = match session.evaluate(expr, timeout(args.timeout)) {
            Ok(outcome) => outcome,
            Err(f) if f.status == Status::TimedOut => {
                eprintln!("st80: expression {}: {}", n + 1, f.message);
                timed_out += 1;
                continue;
            }
            Err(f) => return Err(f),
        };
        match outcome {
            EvalOutcome::Value(v) => {
                let mut out = io::stdout().lock();
                let _ = writeln!(out, "{v}");
                let _ = out.flush();
            }
            err => {
                eprintln!("st80: expression {}: {}", n + 1, describe_error(&err));
                failed += 1;
            }
        }
    }
    let total = args.exprs.len();
    // A failed expression leaves the image in a state nobody asked to keep: no --save then.
    let not_saved = if args.save.is_some() { ", the image was not saved" } else { "" };
    if timed_out > 0 {
        return Err(Failure::new(
            Status::TimedOut,
            format!("{timed_out} of {total} expression(s) timed out, {failed} failed{not_saved}"),
        ));
    }
    if failed > 0 {
        return Err(Failure::failed(format!("{failed} of {total} expression(s) failed{not_saved}")));
    }
    if let Some(out) = &args.save {
        session.save_image(out, timeout(args.timeout))?;
    }
    Ok(())
}
