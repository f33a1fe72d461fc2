//! [`WebHost`]: the `st80_core::Host` of the browser page. Everything the core asks of its host
//! is answered here; the page (www/st80.js) only moves events in and pixels out through
//! [`crate::Session`].
//!
//! * **Input** is queued by the page between time slices and handed to the core by
//!   `poll_event`; a replay script (`?replay=URL`) is delivered at its cycles instead, with
//!   live input ignored until it is used up (as the desktop does).
//! * **Display** changes are accumulated into one damaged rectangle the page draws.
//! * **Clock.** Live: the browser's clock. Deterministic (`?cycles=N`): the virtual clock of
//!   the headless host, so the page draws exactly what `st80 run --headless` draws.
//! * **Idle**: the wake time is kept; the page stops running slices until then or the next
//!   input.
//! * **Snapshots** are kept for the page to store (IndexedDB); **files** are [`MemFiles`].

use crate::files::MemFiles;
use st80_core::host::{FileSystem, Host, InputEvent, Rect};
use std::collections::VecDeque;

/// The headless host's virtual clock (platforms/headless/src/lib.rs, `HeadlessHost`): bytecodes
/// per virtual millisecond, the start date (2026-01-01 00:00:00 as seconds since 1901), and the
/// virtual time an `idle(None)` skips. Same numbers, same rule, so the hashes agree.
pub const CYCLES_PER_MS: u64 = 1000;
pub const START_SECONDS_SINCE_1901: u32 = (125 * 365 + 31) * 86_400;
const IDLE_STEP_MS: u64 = 16;

/// Seconds from 1 January 1901 to 1 January 1970 (69 years, 17 of them leap years).
const SECONDS_1901_TO_1970: f64 = ((69 * 365 + 17) as u64 * 86_400) as f64;

/// Where time comes from.
pub enum Clock {
    /// The browser's clock: milliseconds since `start` (a `performance.now()` value).
    Real { start: f64 },
    /// The headless host's virtual clock: `last_cycles / CYCLES_PER_MS + idle_ms`.
    Virtual { idle_ms: u64, last_cycles: u64 },
}

pub struct WebHost {
    pub clock: Clock,
    /// Live input, in arrival order.
    pub queue: VecDeque<InputEvent>,
    /// Scripted input (cycle, event), sorted by cycle.
    pub script: VecDeque<(u64, InputEvent)>,
    /// The part of the Display changed and not yet drawn by the page.
    pub damage: Rect,
    /// A new cursor image not yet shown by the page.
    pub cursor: Option<[u16; 16]>,
    /// Set by `idle`: the clock value to wake at (None once the page has taken it).
    pub idle_wake: Option<u32>,
    /// A snapshot written by the image (primitive 97), for the page to store.
    pub snapshot: Option<Vec<u8>>,
    pub files: MemFiles,
}

impl WebHost {
    pub fn new(deterministic: bool) -> WebHost {
        WebHost {
            clock: if deterministic {
                Clock::Virtual { idle_ms: 0, last_cycles: 0 }
            } else {
                Clock::Real { start: now_ms() }
            },
            queue: VecDeque::new(),
            script: VecDeque::new(),
            damage: Rect::default(),
            cursor: None,
            idle_wake: None,
            snapshot: None,
            files: MemFiles::new(),
        }
    }

    /// Queues live input (dropped while a script plays, so a replay stays exact).
    pub fn input(&mut self, event: InputEvent) {
        if !self.script.is_empty() {
            return;
        }
        // Pointer motion not yet delivered is replaced, not queued behind.
        if let (InputEvent::MouseMove { .. }, Some(InputEvent::MouseMove { .. })) = (event, self.queue.back()) {
            self.queue.pop_back();
        }
        self.queue.push_back(event);
    }

    /// The current clock value (what `millisecond_clock` answers).
    pub fn now(&mut self, cycles: u64) -> u32 {
        self.now_ms_wide(cycles) as u32
    }

    fn now_ms_wide(&mut self, cycles: u64) -> u64 {
        match &mut self.clock {
            Clock::Real { start } => (now_ms() - *start).max(0.0) as u64,
            Clock::Virtual { idle_ms, last_cycles } => {
                *last_cycles = (*last_cycles).max(cycles);
                *last_cycles / CYCLES_PER_MS + *idle_ms
            }
        }
    }
}

impl Host for WebHost {
    fn millisecond_clock(&mut self, cycles: u64) -> u32 {
        self.now(cycles)
    }

    fn seconds_since_1901(&mut self, cycles: u64) -> u32 {
        match self.clock {
            Clock::Real { .. } => (local_unix_seconds() + SECONDS_1901_TO_1970) as u32,
            Clock::Virtual { .. } => START_SECONDS_SINCE_1901.wrapping_add((self.now_ms_wide(cycles) / 1000) as u32),
        }
    }

    fn poll_event(&mut self, cycles: u64) -> Option<InputEvent> {
        if let Clock::Virtual { last_cycles, .. } = &mut self.clock {
            *last_cycles = (*last_cycles).max(cycles);
        }
        match self.script.front() {
            Some(&(at, event)) if at <= cycles => {
                self.script.pop_front();
                Some(event)
            }
            Some(_) => None,
            None => self.queue.pop_front(),
        }
    }

    fn display_resized(&mut self, width: usize, height: usize) {
        self.damage = Rect::new(0, 0, width as i32, height as i32);
    }

    fn display_changed(&mut self, rect: Rect) {
        self.damage = self.damage.union(&rect);
    }

    fn cursor_changed(&mut self, bits: &[u16; 16]) {
        self.cursor = Some(*bits);
    }

    // A page cannot move the mouse pointer: `cursor_moved` is left as the default.

    fn save_snapshot(&mut self, image: &[u8]) -> Result<(), String> {
        self.snapshot = Some(image.to_vec());
        Ok(())
    }

    fn file_system(&mut self) -> Option<&mut dyn FileSystem> {
        Some(&mut self.files)
    }

    fn idle(&mut self, wake_at: Option<u32>) {
        match &mut self.clock {
            Clock::Real { .. } => self.idle_wake = wake_at.or(Some(self.now(0).wrapping_add(IDLE_STEP_MS as u32))),
            // The headless rule (`HeadlessHost::idle`): jump the virtual clock to `wake_at`
            // (a wake time in the past skips nothing), or 16 ms on.
            Clock::Virtual { idle_ms, last_cycles } => {
                let now = (*last_cycles / CYCLES_PER_MS + *idle_ms) as u32;
                *idle_ms += match wake_at {
                    Some(t) => (t.wrapping_sub(now) as i32).max(0) as u64,
                    None => IDLE_STEP_MS,
                };
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clock_follows_the_headless_rule() {
        // The same sequence as HeadlessHost's clock_follows_cycles_and_idle test.
        let mut h = WebHost::new(true);
        assert_eq!(h.millisecond_clock(0), 0);
        assert_eq!(h.millisecond_clock(12_345), 12);
        h.idle(Some(100));
        assert_eq!(h.millisecond_clock(12_345), 100);
        h.idle(Some(50));
        assert_eq!(h.millisecond_clock(12_345), 100);
        h.idle(None);
        assert_eq!(h.millisecond_clock(12_345), 116);
        assert_eq!(h.millisecond_clock(1_012_345), 1116);
        assert_eq!(h.millisecond_clock(12_345), 1116);
        assert_eq!(h.seconds_since_1901(2_400_000), START_SECONDS_SINCE_1901 + 2);
        // 1901-01-01 to 2026-01-01.
        assert_eq!(START_SECONDS_SINCE_1901 as u64, 1_767_225_600 + 2_177_452_800);
    }

    #[test]
    fn script_first_then_live_input() {
        use st80_core::MouseButton;
        let mut h = WebHost::new(true);
        let mv = |x| InputEvent::MouseMove { x, y: 0 };
        h.script.push_back((100, mv(1)));
        h.input(mv(2)); // ignored: a script is playing
        assert_eq!(h.poll_event(50), None);
        assert_eq!(h.poll_event(100), Some(mv(1)));
        h.input(mv(3));
        h.input(mv(4)); // replaces the undelivered move
        h.input(InputEvent::Button { button: MouseButton::Red, down: true });
        assert_eq!(h.poll_event(0), Some(mv(4)));
        assert_eq!(h.poll_event(0), Some(InputEvent::Button { button: MouseButton::Red, down: true }));
        assert_eq!(h.poll_event(0), None);
    }
}
