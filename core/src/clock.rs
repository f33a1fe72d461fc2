//! The interpreter's two clocks: the host's ([`Host::millisecond_clock`](crate::host::Host)),
//! or a deterministic [`VirtualClock`] derived from the bytecodes executed. Which one a run
//! uses is the host's policy (headless runs, the web page's test mode and bare-metal tests
//! pick the virtual one); the rule lives here so that every host that picks it gets the same
//! times, and so the same Display, for the same input.

/// Bytecodes per virtual millisecond (a 1 MHz-bytecode machine, about what a Dorado did).
pub const CYCLES_PER_MS: u64 = 1000;

/// The default start of the virtual wall clock, local time: 2025-12-31 16:00:00 as seconds since
/// 1901-01-01 00:00:00 (Smalltalk-80's epoch), i.e. 2026-01-01 (125 years of 365 days plus 31
/// leap days) less 8 hours. It is what the image showed when this clock started at 2026-01-01
/// and the VM did not yet undo the image's Pacific zone rule (see `primitives::clock`): the
/// image reads the same clock values as before, so every recorded display hash stays valid.
pub const START_SECONDS_SINCE_1901: u32 = (125 * 365 + 31) * 86_400 - 8 * 3600;

/// Time derived from work done: `cycles / cycles_per_ms` milliseconds, plus the time skipped
/// while the image was idle (no real time passes: the clock jumps to the image's next timer),
/// wrapping at 2^32. Wall-clock seconds start at [`START_SECONDS_SINCE_1901`] unless set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VirtualClock {
    cycles_per_ms: u64,
    /// Virtual milliseconds skipped while idle.
    idle_ms: u64,
    start_seconds: u32,
}

impl Default for VirtualClock {
    fn default() -> Self {
        VirtualClock { cycles_per_ms: CYCLES_PER_MS, idle_ms: 0, start_seconds: START_SECONDS_SINCE_1901 }
    }
}

impl VirtualClock {
    /// Changes how many bytecodes make one virtual millisecond (at least 1).
    pub fn with_cycles_per_ms(mut self, cycles_per_ms: u64) -> VirtualClock {
        self.cycles_per_ms = cycles_per_ms.max(1);
        self
    }

    /// Starts the wall clock (`Time now`, `Date today`) at this many seconds since 1901.
    pub fn starting_at(mut self, seconds_since_1901: u32) -> VirtualClock {
        self.start_seconds = seconds_since_1901;
        self
    }

    /// Virtual milliseconds after `cycles` bytecodes, not wrapped.
    pub fn now_ms(&self, cycles: u64) -> u64 {
        cycles / self.cycles_per_ms + self.idle_ms
    }

    /// The wall clock after `cycles` bytecodes.
    pub fn seconds_since_1901(&self, cycles: u64) -> u32 {
        self.start_seconds.wrapping_add((self.now_ms(cycles) / 1000) as u32)
    }

    /// The image is idle until `wake_at` (a wrapped millisecond value): jump there. A wake
    /// time in the past (the wrapping difference taken as signed) skips nothing.
    pub fn skip_to(&mut self, cycles: u64, wake_at: u32) {
        let now = self.now_ms(cycles) as u32;
        self.idle_ms += (wake_at.wrapping_sub(now) as i32).max(0) as u64;
    }
}

/// The clock an interpreter reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum ClockSource {
    /// The host's clocks; idleness stops `run` so the host can sleep.
    #[default]
    Host,
    /// Deterministic time; idleness skips virtual time and `run` goes on.
    Virtual(VirtualClock),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_time_from_cycles_and_skips_idle_time() {
        let mut c = VirtualClock::default();
        assert_eq!(c.now_ms(2_500), 2);
        c.skip_to(2_500, 10);
        assert_eq!(c.now_ms(2_500), 10);
        c.skip_to(2_500, 5); // in the past: nothing skipped
        assert_eq!(c.now_ms(3_000), 11);
        assert_eq!(c.seconds_since_1901(1_000_000), START_SECONDS_SINCE_1901 + 1);
        assert_eq!(VirtualClock::default().starting_at(7).seconds_since_1901(0), 7);
    }

    #[test]
    fn start_is_2025_12_31_4pm() {
        // 2026-01-01 is 45656 days after 1901-01-01.
        assert_eq!(START_SECONDS_SINCE_1901, 45_656 * 86_400 - 8 * 3600);
    }
}
