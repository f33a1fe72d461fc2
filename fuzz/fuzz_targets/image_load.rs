//! The image loader on arbitrary bytes (either byte order: the header decides): an image or an
//! error, never a panic; a loaded image can be summarized.
#![no_main]
use libfuzzer_sys::fuzz_target;
use st80_core::{image, summary};

fuzz_target!(|data: &[u8]| {
    if let Ok((memory, info)) = image::load(data) {
        let _ = summary::summarize(&memory, &info);
    }
});
