//! st80 as the operating system of a board: the Smalltalk-80 VM of `st80-core`, unchanged,
//! on AArch64 machines with nothing beneath it, as Xerox's licensees ran it in 1983.
//!
//! Each board is one kernel (`src/bin/*.rs`) made of its drivers and the pieces here:
//! * [`console`]: the log console (a UART), `print!`/`println!`;
//! * [`arch`]: the AArch64 set-up (exception vectors, MMU and caches, the generic timer);
//! * [`heap`]: the allocator the core's `alloc` uses;
//! * [`fb`]: drawing the 1-bit Display (and the cursor) on a 32-bit framebuffer;
//! * [`dwc2`], [`usb`]: the Pi's USB host controller, hubs, HID keyboards and mice;
//! * [`session`]: the one `st80_core::Host` implementation, over a [`session::Board`], and
//!   the loop that runs the image, pushes input and pulls damage.
#![no_std]

extern crate alloc;

pub mod arch;
pub mod cardstore;
pub mod console;
pub mod dwc2;
pub mod fb;
pub mod heap;
pub mod keyboard;
pub mod sdhci;
pub mod session;
pub mod snapstore;
pub mod usb;
pub mod virtio;

/// The image embedded at build time (`ST80_IMAGE`; empty when the build had none).
pub static IMAGE: &[u8] = include_bytes!(env!("ST80_IMAGE_PATH"));

/// `ST80_CYCLES` at build time: run that many bytecodes on the deterministic clock, report
/// the display hash and stop.
pub fn test_cycles() -> Option<u64> {
    env!("ST80_CYCLES").parse().ok()
}

/// `ST80_EVAL` at build time: after the test run, evaluate this and stop.
pub fn test_eval() -> Option<&'static str> {
    Some(env!("ST80_EVAL")).filter(|e| !e.is_empty())
}

/// `ST80_RECORD=1` at build time: after the test run, take input on the deterministic clock and
/// print each event the image takes with its cycle, as a `st80 run --replay` log line, until
/// the console receives ^D (the input test compares the screen with a headless replay).
pub fn test_record() -> bool {
    !env!("ST80_RECORD").is_empty()
}

/// The wall-clock time of the build, in seconds since 1970 (for boards without a real-time
/// clock).
pub fn build_unix_time() -> u64 {
    env!("ST80_BUILD_UNIX_TIME").parse().unwrap_or(0)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("\nst80: panic: {info}");
    arch::halt()
}
