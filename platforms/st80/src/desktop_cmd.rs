//! `st80 run IMAGE` without --headless: the Smalltalk-80 desktop in an SDL2 window.

use crate::{Failure, RunArgs};

pub fn run(args: &RunArgs) -> Result<(), Failure> {
    Err(Failure::new(
        2,
        format!(
            "{}: the desktop window is not in this build yet; try: st80 run {} --headless --screenshot desk.png",
            args.image.display(),
            args.image.display()
        ),
    ))
}
