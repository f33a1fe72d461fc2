//! The machine's clocks as the image wants them: a millisecond counter from the start of the
//! run, and the local wall-clock time in seconds since 1901.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Seconds from 1 January 1901 to 1 January 1970: 69 years, 17 of them leap years.
pub const SECONDS_1901_TO_1970: i64 = (69 * 365 + 17) * 86_400;

/// The real clocks.
#[derive(Clone, Copy, Debug)]
pub struct SystemClock {
    start: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock { start: Instant::now() }
    }
}

impl SystemClock {
    /// Milliseconds since this clock was made, wrapping at 2^32.
    pub fn millisecond_clock(&self) -> u32 {
        self.start.elapsed().as_millis() as u32
    }

    /// Local time as seconds since 1901-01-01 00:00 (the image's epoch).
    pub fn seconds_since_1901(&self) -> u32 {
        let unix = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        (unix + local_offset_seconds(unix) + SECONDS_1901_TO_1970) as u32
    }
}

/// The local time zone's offset from UTC at `unix` seconds, in seconds.
#[cfg(unix)]
pub fn local_offset_seconds(unix: i64) -> i64 {
    let t = unix as libc::time_t;
    // SAFETY: localtime_r writes only into `tm`, which we own.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return 0;
        }
        tm.tm_gmtoff as i64
    }
}

/// The local time zone's offset from UTC (not known here: UTC).
#[cfg(not(unix))]
pub fn local_offset_seconds(_unix: i64) -> i64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_offset() {
        // 1970-01-01 is 25202 days after 1901-01-01.
        assert_eq!(SECONDS_1901_TO_1970, 25_202 * 86_400);
    }
}
