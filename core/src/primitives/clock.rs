//! The seconds clock (primitive 98, `Time class>>secondClockInto:`) as the v2 image reads it.
//!
//! A host answers local wall-clock time (`Host::seconds_since_1901`). The v2 image, however,
//! takes primitive 98 for GMT: `Time class>>currentTime:` (behind `Time now`, `Date today`,
//! `Time totalSeconds`) subtracts a built-in Pacific offset (its literals m570 = 16505,
//! m571 = 305: 8 hours west) and adds an hour between the Sundays on or before 30 April and
//! 31 October (the 1983 US rule). Both the Xerox image and dbanay's `snapshot.im` carry that
//! method unchanged. Handing the image local time made it show local time minus 8 hours.
//!
//! The correction lives here, in the VM, rather than in the image: primitive 98 answers the
//! value that the image's own arithmetic turns back into the host's local time. Nothing in the
//! image changes (no recompiled method, no patched literal, nothing logged to the changes
//! file, nothing different in a saved image), so the image's code and sources stay Xerox's,
//! and every host zone works without the image knowing it. The price: the image's rule skips
//! one hour a year (00:00-01:00 on the Sunday its daylight saving starts), which no clock value
//! can make it show; in that hour it shows 01:xx on the right date.
//!
//! The image's other reader of primitive 98, `Time class>>timeWords`, stamps Alto file leaders
//! only, which no host file system here uses.

/// The image's zone correction: 8 hours (`Time class>>currentTime:`, m570 bits 11-14).
const IMAGE_ZONE_WEST_SECONDS: i64 = 8 * 3600;
/// Seconds in a day.
const DAY: i64 = 86_400;

/// What primitive 98 must answer so that the v2 image's `Time now` / `Date today` show
/// `local` (local wall-clock seconds since 1 January 1901). See the module documentation.
pub fn second_clock_for_image(local: u32) -> u32 {
    let local = i64::from(local);
    // Outside daylight saving the image subtracts 8 hours; inside it, 7.
    for raw in [local + IMAGE_ZONE_WEST_SECONDS, local + IMAGE_ZONE_WEST_SECONDS - 3600] {
        if let Ok(raw) = u32::try_from(raw) {
            if image_local_seconds(raw) == local {
                return raw;
            }
        }
    }
    (local + IMAGE_ZONE_WEST_SECONDS) as u32
}

/// The local seconds since 1901 that the v2 image's `Time class>>currentTime:` computes from
/// the primitive 98 value `raw`, following its arithmetic (and `Date`'s) step by step.
pub fn image_local_seconds(raw: u32) -> i64 {
    let seconds = i64::from(raw) - IMAGE_ZONE_WEST_SECONDS;
    // Date fromDays: (4-year cycles, as the image counts them).
    let days = seconds.div_euclid(DAY);
    let (day, year) = new_day_year(1 + days % 1461, 1901 + (days / 1461) * 4);
    let leap = leap_year(year);
    // "day of the year on or before which DST takes effect" (m570 bitAnd: 511 = 121).
    let dfirst = 121 + leap - 1;
    let daylight = if day >= dfirst {
        let dlast = 305 + leap - 1;
        day < dlast && day < previous_sunday(dlast, year)
    } else {
        day >= previous_sunday(dfirst, year)
    };
    seconds + if daylight { 3600 } else { 0 }
}

/// `Date class>>leapYear:`.
fn leap_year(year: i64) -> i64 {
    i64::from(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
}

/// `Date class>>newDay:year:`: a day count from the start of `year`, normalised.
fn new_day_year(mut day: i64, mut year: i64) -> (i64, i64) {
    while day > 365 + leap_year(year) {
        day -= 365 + leap_year(year);
        year += 1;
    }
    while day <= 0 {
        year -= 1;
        day += 365 + leap_year(year);
    }
    (day, year)
}

/// `Date>>weekdayIndex` (Monday = 1 ... Sunday = 7, whatever its comment says).
fn weekday_index(day: i64, year: i64) -> i64 {
    let leap = leap_year(year);
    let (y, d) = if day < 60 + leap { (year - 1, 307) } else { (year, -58 - leap) };
    (d + day + y + y.div_euclid(4) + y.div_euclid(400) - y.div_euclid(100)).rem_euclid(7) + 1
}

/// `(Date newDay: day year: year) previous: #Sunday` as a day of the year (the day itself if
/// it is a Sunday).
fn previous_sunday(day: i64, year: i64) -> i64 {
    let (day, year) = new_day_year(day, year);
    // `Date dayOfWeek: #Sunday` is 7 \\ 7 = 0.
    new_day_year(day - (7 + weekday_index(day, year)) % 7, year).0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Local seconds since 1901 of a civil date (proleptic Gregorian).
    fn seconds(y: i64, m: i64, d: i64, h: i64, min: i64) -> i64 {
        let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
        let era = y2.div_euclid(400);
        let yoe = y2 - era * 400;
        let doy = (153 * m2 + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days_since_1970 = era * 146_097 + doe - 719_468;
        (days_since_1970 + 25_202) * DAY + h * 3600 + min * 60
    }

    #[test]
    fn weekdays_as_the_image_counts_them() {
        // 1 March 2026 and 24 April 1983 were Sundays; 1 January 1901 a Tuesday.
        assert_eq!(weekday_index(60, 2026), 7);
        assert_eq!(weekday_index(114, 1983), 7);
        assert_eq!(weekday_index(1, 1901), 2);
        assert_eq!(previous_sunday(114, 1983), 114);
        assert_eq!(previous_sunday(120, 1983), 114);
    }

    #[test]
    fn the_image_shows_pacific_time_of_the_raw_clock() {
        // Raw 2026-01-01 00:00 (the old headless start): the image showed 31 Dec 2025, 4 pm.
        let raw = seconds(2026, 1, 1, 0, 0) as u32;
        assert_eq!(image_local_seconds(raw), seconds(2025, 12, 31, 16, 0));
        // In July its rule adds daylight saving: 7 hours west.
        let raw = seconds(1983, 7, 1, 19, 0) as u32;
        assert_eq!(image_local_seconds(raw), seconds(1983, 7, 1, 12, 0));
    }

    #[test]
    fn every_local_minute_round_trips_except_the_skipped_hour() {
        for year in [1983, 2024, 2026, 2036] {
            let (start, end) = (seconds(year, 1, 1, 0, 0), seconds(year + 1, 1, 1, 0, 0));
            let mut missed = Vec::new();
            for local in (start..end).step_by(60) {
                let shown = image_local_seconds(second_clock_for_image(local as u32));
                if shown != local {
                    assert_eq!(shown, local + 3600, "{year}: {local}");
                    missed.push(local);
                }
            }
            // One hour: midnight of the image's spring Sunday (the last Sunday of April).
            assert_eq!(missed.len(), 60, "{year}");
            let sunday = missed[0] - start;
            assert_eq!(sunday % DAY, 0);
            let day = sunday / DAY + 1;
            assert_eq!(weekday_index(day, year), 7, "{year}");
            assert!((114 + leap_year(year)..=120 + leap_year(year)).contains(&day), "{year}: day {day}");
        }
    }
}
