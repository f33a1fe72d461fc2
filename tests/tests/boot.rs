//! Booting the real images headless: the screen they draw, in both byte orders.
//!
//! The Display is compared by `st80_host_std::display_hash` (FNV-1a-64 over the size and the
//! visible pixels, the same on every architecture), and written as a PNG under Cargo's
//! `target/tmp/` for a person to look at.

use st80_core::{Interpreter, StopReason};
use st80_headless::HeadlessHost;
use st80_host_std::{display_hash, display_to_png};
use st80_tests::{interpreter, DBANAY_LSB, XEROX_V2};
use std::path::PathBuf;

/// The display hash of xerox-v2/VirtualImage after 1_000_000 cycles on the virtual clock
/// (recorded after looking at target/tmp/boot-xerox-v2-1M.png: the Smalltalk-80 desktop as the
/// image draws it at start-up).
const BOOT_HASH_1M: Option<&str> = Some("af07c3228941cb6c");

/// Runs `vm` for `cycles`, failing on anything but a clean stop.
fn run(name: &str, vm: &mut Interpreter, cycles: u64) -> HeadlessHost {
    let mut host = HeadlessHost::new();
    let stop = st80_headless::run(vm, &mut host, cycles);
    assert_eq!(stop, StopReason::CyclesDone, "{name} stopped after {} cycles", vm.cycles());
    host
}

/// Writes the current Display as `target/tmp/<file>` and returns its hash and path.
fn screenshot(vm: &Interpreter, file: &str) -> (String, PathBuf) {
    let form = vm.display().expect("the image has set a Display form");
    assert!(form.width > 0 && form.height > 0);
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(file);
    std::fs::write(&path, display_to_png(&form)).unwrap();
    (display_hash(&form), path)
}

#[test]
fn boot_draws_the_recorded_screen() {
    let Some(mut vm) = interpreter(XEROX_V2) else {
        return;
    };
    run(XEROX_V2, &mut vm, 1_000_000);
    let (hash, png) = screenshot(&vm, "boot-xerox-v2-1M.png");
    let form = vm.display().unwrap();
    let (width, height) = (form.width as i32, form.height as i32);
    let damage = vm.take_damage().expect("nothing was drawn");
    assert!(damage.x >= 0 && damage.y >= 0 && damage.x + damage.w <= width && damage.y + damage.h <= height);
    assert_eq!(vm.take_damage(), None, "taking the damage empties it");
    match BOOT_HASH_1M {
        Some(expected) => assert_eq!(hash, expected, "the screen after 1M cycles changed; see {}", png.display()),
        None => panic!(
            "no boot hash recorded yet. After 1M cycles the display ({width} x {height}) hashes to \
             {hash}; check {} and set BOOT_HASH_1M in tests/tests/boot.rs",
            png.display()
        ),
    }
}

/// The big-endian original and dbanay's little-endian copy are the same image, so with the
/// same deterministic host they must draw exactly the same screen.
#[test]
fn both_byte_orders_draw_the_same_screen() {
    let (Some(mut be), Some(mut le)) = (interpreter(XEROX_V2), interpreter(DBANAY_LSB)) else {
        return;
    };
    run(XEROX_V2, &mut be, 2_000_000);
    run(DBANAY_LSB, &mut le, 2_000_000);
    let (be_hash, be_png) = screenshot(&be, "xerox-v2-2M.png");
    let (le_hash, le_png) = screenshot(&le, "dbanay-lsb-2M.png");
    assert_eq!(
        be_hash,
        le_hash,
        "the byte orders drew different screens: compare {} and {}",
        be_png.display(),
        le_png.display()
    );
}
