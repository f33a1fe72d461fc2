//! `st80 check` on arbitrary bytes: a report or an error, never a panic; an image the checker
//! passes loads.
#![no_main]
use libfuzzer_sys::fuzz_target;
use st80_core::{check, image};

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = check::check(data) {
        for p in &report.problems {
            let _ = p.to_string();
        }
        if report.is_ok() {
            if let Err(e) = image::load(data) {
                panic!("check passed an image the loader refuses: {e}");
            }
        }
    }
});
