//! The machine's clocks as the image wants them: a millisecond counter from the start of the
//! run and the local wall-clock time in seconds since 1901 ([`SystemClock`]), and start dates
//! written `YYYY-MM-DD[THH:MM[:SS]]` for the core's virtual clock. Both are local wall-clock
//! time; the core turns it into what the image's own time-zone arithmetic expects (see
//! `st80_core::primitives::clock`).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

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
        local_seconds_since_1901()
    }
}

/// Days from 1901-01-01 to 1970-01-01.
const DAYS_1901_TO_1970: i64 = 69 * 365 + 17;
const DAY: i64 = 86_400;

/// The host's local wall-clock time now, in seconds since 1901-01-01 00:00 (the time zone is
/// the process's, e.g. from `TZ`).
pub fn local_seconds_since_1901() -> u32 {
    let unix = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    (unix + local_offset_seconds(unix) + DAYS_1901_TO_1970 * DAY) as u32
}

/// The local time zone's offset from UTC at `unix` seconds, in seconds.
#[cfg(unix)]
fn local_offset_seconds(unix: i64) -> i64 {
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

/// Without a portable zone API the local time is taken as UTC.
#[cfg(not(unix))]
fn local_offset_seconds(_unix: i64) -> i64 {
    0
}

/// Parses a start date for the virtual clock: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` or
/// `YYYY-MM-DDTHH:MM:SS` (a space may replace the `T`), local time, from 1901 to 2036 (the
/// image's 32-bit seconds clock ends in February 2037); or `now`, the host's local time.
/// Answers seconds since 1901-01-01 00:00, or a message saying what is wrong.
pub fn parse_start_date(text: &str) -> Result<u32, String> {
    if text == "now" {
        return Ok(local_seconds_since_1901());
    }
    let bad = || format!("{text:?} is not a date: expected YYYY-MM-DD[THH:MM[:SS]] (or now)");
    let (date, time) = match text.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let number = |s: &str, digits: usize| -> Result<i64, String> {
        if s.len() != digits || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts[..] else {
        return Err(bad());
    };
    let (year, month, day) = (number(y, 4)?, number(m, 2)?, number(d, 2)?);
    let (mut hour, mut minute, mut second) = (0, 0, 0);
    if let Some(time) = time {
        let parts: Vec<&str> = time.split(':').collect();
        match parts[..] {
            [h, m] => (hour, minute) = (number(h, 2)?, number(m, 2)?),
            [h, m, s] => (hour, minute, second) = (number(h, 2)?, number(m, 2)?, number(s, 2)?),
            _ => return Err(bad()),
        }
    }
    if !(1901..=2036).contains(&year) {
        return Err(format!("{text:?}: the year must be between 1901 and 2036"));
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day < 1 || day > month_days[month as usize - 1] {
        return Err(format!("{text:?}: no such day"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(format!("{text:?}: no such time of day"));
    }
    let day_of_year: i64 = month_days[..month as usize - 1].iter().sum::<i64>() + day - 1;
    let days = (1901..year).map(|y| if y % 4 == 0 { 366 } else { 365 }).sum::<i64>() + day_of_year;
    Ok((days * DAY + hour * 3600 + minute * 60 + second) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_dates() {
        assert_eq!(parse_start_date("1901-01-01"), Ok(0));
        assert_eq!(parse_start_date("1901-01-02T00:00:01"), Ok(86_401));
        assert_eq!(parse_start_date("1970-01-01T00:00"), Ok((DAYS_1901_TO_1970 * DAY) as u32));
        // 2026-01-01 is Unix time 1767225600.
        assert_eq!(parse_start_date("2026-01-01 00:00"), Ok((1_767_225_600 + DAYS_1901_TO_1970 * DAY) as u32));
        assert_eq!(parse_start_date("2024-02-29T12:30:15").map(|s| s % 86_400), Ok(45_015));
        for bad in ["", "2026", "2026-1-01", "2026-02-30", "1900-12-31", "2037-01-01", "2026-01-01T24:00", "x"] {
            assert!(parse_start_date(bad).is_err(), "{bad}");
        }
        assert!(parse_start_date("2026-02-30").unwrap_err().contains("no such day"));
    }
}
