//! The replay-log parser on arbitrary text; what it parses formats back to lines it parses the
//! same way.
#![no_main]
use libfuzzer_sys::fuzz_target;
use st80_host_std::replay;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(events) = replay::parse(text) else { return };
    let again: String = events.iter().map(|(cycle, event)| replay::format(*cycle, event) + "\n").collect();
    let reparsed = replay::parse(&again).expect("formatted events parse");
    assert_eq!(reparsed, events, "formatting and parsing again gives the same events");
});
