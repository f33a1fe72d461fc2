//! [`WebHost`]: what the core asks of the browser page while it runs bytecodes: the browser's
//! clocks, a place for snapshots (the page stores them in IndexedDB), and the image's files
//! ([`MemFiles`]). Input, the Display, the cursor and idleness cross the boundary through the
//! interpreter itself (see [`crate::Session`]); the deterministic mode (`?cycles=N`) puts the
//! interpreter on the core's virtual clock, the same one headless runs use.

use crate::files::MemFiles;
use st80_core::host::{FileSystem, Host, SnapshotError};

/// Seconds from 1 January 1901 to 1 January 1970 (69 years, 17 of them leap years).
const SECONDS_1901_TO_1970: f64 = ((69 * 365 + 17) as u64 * 86_400) as f64;

pub struct WebHost {
    /// `performance.now()` when the session started.
    start: f64,
    /// A snapshot written by the image (primitive 97), for the page to store.
    pub snapshot: Option<Vec<u8>>,
    pub files: MemFiles,
}

impl Default for WebHost {
    fn default() -> Self {
        WebHost { start: now_ms(), snapshot: None, files: MemFiles::new() }
    }
}

impl Host for WebHost {
    fn millisecond_clock(&mut self) -> u32 {
        (now_ms() - self.start).max(0.0) as u64 as u32
    }

    fn seconds_since_1901(&mut self) -> u32 {
        (local_unix_seconds() + SECONDS_1901_TO_1970) as u32
    }

    fn save_snapshot(&mut self, image: &[u8]) -> Result<(), SnapshotError> {
        self.snapshot = Some(image.to_vec());
        Ok(())
    }

    fn file_system(&mut self) -> Option<&mut dyn FileSystem> {
        Some(&mut self.files)
    }
}

#[cfg(target_arch = "wasm32")]
mod js {
    use wasm_bindgen::prelude::*;
    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = performance, js_name = now)]
        pub fn performance_now() -> f64;
        #[wasm_bindgen(js_namespace = Date, js_name = now)]
        pub fn date_now() -> f64;
        /// Minutes west of UTC now (`new Date().getTimezoneOffset()`), from www/st80.js.
        #[wasm_bindgen(js_name = st80TimezoneOffset)]
        pub fn timezone_offset_minutes() -> f64;
    }
}

/// A monotonic millisecond clock.
#[cfg(target_arch = "wasm32")]
fn now_ms() -> f64 {
    js::performance_now()
}

#[cfg(not(target_arch = "wasm32"))]
fn now_ms() -> f64 {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// Seconds since 1970 in local time.
#[cfg(target_arch = "wasm32")]
fn local_unix_seconds() -> f64 {
    (js::date_now() / 1000.0).floor() - js::timezone_offset_minutes() * 60.0
}

#[cfg(not(target_arch = "wasm32"))]
fn local_unix_seconds() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs() as f64)
}
