//! The log console: whatever byte sink the board registers (its UART), behind `print!` and
//! `println!`. Before a board registers one, output is dropped.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicUsize, Ordering};

static PUTC: AtomicUsize = AtomicUsize::new(0);

/// Sends the console's bytes to `putc` from now on.
pub fn set_output(putc: fn(u8)) {
    PUTC.store(putc as usize, Ordering::Release);
}

fn putc(byte: u8) {
    let f = PUTC.load(Ordering::Acquire);
    if f != 0 {
        // SAFETY: only `set_output` stores here, and it stores a `fn(u8)`.
        let f: fn(u8) = unsafe { core::mem::transmute::<usize, fn(u8)>(f) };
        f(byte);
    }
}

pub struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                putc(b'\r');
            }
            putc(b);
        }
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments) {
    let _ = Console.write_fmt(args);
}

#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::_print(format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::console::_print(format_args!("{}\n", format_args!($($arg)*))) };
}
