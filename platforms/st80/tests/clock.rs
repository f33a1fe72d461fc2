//! The image's clock: `Time now` and `Date today`, read back from the image, show the host's
//! local wall-clock time whatever the host's zone (the v2 image's own Pacific zone rule is
//! undone by the VM), and the headless virtual clock starts where --start-date says.

use std::ffi::OsStr;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};
mod common;

use common::*;

const DAY: i64 = 86_400;
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Evaluates `Time totalSeconds`, `Date today` and `Time now asSeconds` in `image` and answers
/// them as printed.
fn image_clock(image: &Path, args: &[&str], tz: &str) -> (i64, String, i64) {
    let mut argv: Vec<&OsStr> = vec![OsStr::new("eval"), image.as_os_str()];
    argv.extend(args.iter().map(OsStr::new));
    argv.extend(["Time totalSeconds", "Date today", "Time now asSeconds"].map(OsStr::new));
    let out = st80_env(&argv, &[("TZ", tz)]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{argv:?} TZ={tz}: {}{stdout}", text(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    (lines[0].parse().unwrap(), lines[1].to_string(), lines[2].parse().unwrap())
}

/// `Date>>printString` of the day holding `local` (seconds since 1901), e.g. `4 July 1983`.
fn date_string(local: i64) -> String {
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = local.div_euclid(DAY) - 25_202 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{day} {} {year}", MONTHS[month as usize - 1])
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Seconds from 1901-01-01 to 1970-01-01.
const UNIX_1901: i64 = 25_202 * DAY;

/// The real clock (--real-clock takes the desktop's clock code) under zones given as POSIX TZ
/// strings, so no time-zone database is needed: UTC, Japan (+9), India (+5:30).
#[cfg(unix)]
#[test]
fn time_now_is_the_host_local_time_in_any_zone() {
    for name in [XEROX_V2, DBANAY_SNAPSHOT] {
        let Some(image) = image(name) else { return };
        for (tz, offset) in [("UTC0", 0), ("JST-9", 9 * 3600), ("IST-5:30", 5 * 3600 + 1800)] {
            let before = unix_now() + offset + UNIX_1901;
            let (total, date, time) = image_clock(&image, &["--real-clock"], tz);
            let after = unix_now() + offset + UNIX_1901;
            assert!(
                (before - 2..=after + 2).contains(&total),
                "{name} TZ={tz}: Time totalSeconds {total}, host local time {before}..{after}"
            );
            let day_seconds = |s: i64| s.rem_euclid(DAY);
            let near =
                |t: i64, s: i64| (t - day_seconds(s)).rem_euclid(DAY).min((day_seconds(s) - t).rem_euclid(DAY)) <= 2;
            assert!(near(time, before) || near(time, after), "{name} TZ={tz}: Time now {time} s after midnight");
            assert!(
                date == date_string(before) || date == date_string(after),
                "{name} TZ={tz}: Date today {date}, host {}",
                date_string(before)
            );
        }
    }
}

/// The virtual clock starts at --start-date as the image shows it, including the dates where
/// the image's own daylight-saving rule (the Sundays on or before 30 April and 31 October)
/// switches, and the default start stays 31 December 2025, 4 pm (the display hashes of
/// recorded sessions depend on it).
#[test]
fn start_date_is_what_the_image_shows() {
    for name in [XEROX_V2, DBANAY_SNAPSHOT] {
        let Some(image) = image(name) else { return };
        let cases: &[(Option<&str>, &str, &str)] = &[
            (None, "2025-12-31T16:00", "31 December 2025"),
            (Some("1983-05-01T12:00"), "1983-05-01T12:00", "1 May 1983"),
            (Some("1983-04-23T23:58"), "1983-04-23T23:58", "23 April 1983"),
            (Some("1983-04-24T01:30"), "1983-04-24T01:30", "24 April 1983"),
            (Some("1983-10-29T23:58"), "1983-10-29T23:58", "29 October 1983"),
            (Some("1983-10-30T00:30"), "1983-10-30T00:30", "30 October 1983"),
            (Some("2024-04-28T12:00:30"), "2024-04-28T12:00:30", "28 April 2024"),
            (Some("2026-07-01 12:00"), "2026-07-01T12:00", "1 July 2026"),
        ];
        for &(start, shown, want_date) in cases {
            let args: Vec<String> = start.iter().map(|s| format!("--start-date={s}")).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (total, date, time) = image_clock(&image, &args, "UTC0");
            let expected = parse(shown);
            // Booting and evaluating take a few virtual seconds (1,000 bytecodes a millisecond).
            assert!(
                (expected..=expected + 10).contains(&total),
                "{name} {start:?}: totalSeconds {total}, want {expected}"
            );
            assert_eq!(total.rem_euclid(DAY), time, "{name} {start:?}");
            assert_eq!(date, want_date, "{name} {start:?}");
        }
    }
}

/// Seconds since 1901 of `YYYY-MM-DDTHH:MM[:SS]`, for the expectations above.
fn parse(s: &str) -> i64 {
    let n = |a: usize, b: usize| s[a..b].parse::<i64>().unwrap();
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    let (h, min, sec) = (n(11, 13), n(14, 16), if s.len() > 16 { n(17, 19) } else { 0 });
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + (153 * m2 + 2) / 5 + d - 1;
    (era * 146_097 + doe - 719_468 + 25_202) * DAY + h * 3600 + min * 60 + sec
}
