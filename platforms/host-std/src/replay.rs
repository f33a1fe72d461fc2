//! The input-log format of `st80 run --record/--replay`: one event per line, stamped with the
//! bytecode cycle at which the VM took it, so a replay feeds the image exactly the same input
//! at exactly the same point of its execution, on every host.
//!
//! ```text
//! # comments and blank lines are ignored
//! 120000 mouse 300 200          # pointer moved to (300, 200)
//! 130000 button blue down       # red | yellow | blue, down | up
//! 160000 button blue up
//! 200000 key a                  # a character typed: key down then key up
//! 200000 key return             # named keys: space return tab backspace escape delete linefeed
//! 210000 keydown shift          # down/up of one key: a character, a named key, shift, ctrl, lock
//! 210000 type 3 + 4             # the rest of the line typed character by character
//! ```
//!
//! Characters are the image's (ASCII; `_` is shown as a left arrow, `^` as an up arrow).

use st80_core::host::key;
use st80_core::{InputEvent, Interpreter, MouseButton};

/// One event of a log: the cycle at which it is delivered, and the event.
pub type Stamped = (u64, InputEvent);

const NAMED_KEYS: [(&str, u16); 11] = [
    ("space", key::SPACE),
    ("return", key::RETURN),
    ("tab", key::TAB),
    ("backspace", key::BACKSPACE),
    ("escape", key::ESCAPE),
    ("delete", key::DELETE),
    ("linefeed", key::LINE_FEED),
    ("shift", key::LEFT_SHIFT),
    ("rightshift", key::RIGHT_SHIFT),
    ("ctrl", key::CONTROL),
    ("lock", key::LOCK),
];

fn key_code(word: &str) -> Option<u16> {
    if let Some(&(_, code)) = NAMED_KEYS.iter().find(|(n, _)| *n == word) {
        return Some(code);
    }
    let mut chars = word.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii() && !c.is_ascii_control() => Some(c as u16),
        _ => word.strip_prefix("code").and_then(|n| n.parse::<u16>().ok()).filter(|&c| c < 4096),
    }
}

fn key_name(code: u16) -> String {
    if let Some(&(name, _)) = NAMED_KEYS.iter().find(|(_, c)| *c == code) {
        return name.to_string();
    }
    match char::from_u32(code as u32) {
        // " #" starts a comment, so `#` is written by its code (found by fuzz/replay_parse).
        Some(c) if c.is_ascii_graphic() && c != '#' => c.to_string(),
        _ => format!("code{code}"),
    }
}

fn button(word: &str) -> Option<MouseButton> {
    match word {
        "red" => Some(MouseButton::Red),
        "yellow" => Some(MouseButton::Yellow),
        "blue" => Some(MouseButton::Blue),
        _ => None,
    }
}

fn up_down(word: &str) -> Option<bool> {
    match word {
        "down" => Some(true),
        "up" => Some(false),
        _ => None,
    }
}

/// Parses a log. Errors name the line: `line 3: unknown button "green"`.
pub fn parse(text: &str) -> Result<Vec<Stamped>, String> {
    let mut events = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or("").trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let err = |what: String| format!("line {}: {what}: {raw:?}", n + 1);
        let mut words = trimmed.splitn(3, ' ');
        let cycle: u64 = words.next().unwrap_or("").parse().map_err(|_| err("expected a cycle number first".into()))?;
        let verb = words.next().ok_or_else(|| err("expected an event after the cycle".into()))?;
        let rest = words.next().unwrap_or("");
        let args: Vec<&str> = rest.split_whitespace().collect();
        let mut push = |e: InputEvent| events.push((cycle, e));
        match verb {
            "mouse" => {
                let [x, y] = args[..] else { return Err(err("mouse takes X Y".into())) };
                let (x, y) = (x.parse().map_err(|_| err("bad X".into()))?, y.parse().map_err(|_| err("bad Y".into()))?);
                push(InputEvent::MouseMove { x, y });
            }
            "button" => {
                let [b, d] = args[..] else { return Err(err("button takes red|yellow|blue down|up".into())) };
                let button = button(b).ok_or_else(|| err(format!("unknown button {b:?}")))?;
                let down = up_down(d).ok_or_else(|| err(format!("expected down or up, not {d:?}")))?;
                push(InputEvent::Button { button, down });
            }
            "key" => {
                let [k] = args[..] else { return Err(err("key takes one character or key name".into())) };
                let code = key_code(k).ok_or_else(|| err(format!("unknown key {k:?}")))?;
                push(InputEvent::Key { code, down: true });
                push(InputEvent::Key { code, down: false });
            }
            "keydown" | "keyup" => {
                let [k] = args[..] else { return Err(err(format!("{verb} takes one character or key name"))) };
                let code = key_code(k).ok_or_else(|| err(format!("unknown key {k:?}")))?;
                push(InputEvent::Key { code, down: verb == "keydown" });
            }
            "type" => {
                for c in rest.chars() {
                    if !c.is_ascii() || c.is_ascii_control() {
                        return Err(err(format!("cannot type {c:?}")));
                    }
                    push(InputEvent::Key { code: c as u16, down: true });
                    push(InputEvent::Key { code: c as u16, down: false });
                }
            }
            _ => return Err(err(format!("unknown event {verb:?}"))),
        }
    }
    Ok(events)
}

/// Hands a log to the VM: each event is taken by the image at its first input poll at or
/// after its cycle, which is where the VM that recorded it took it (see
/// `Interpreter::record_events`).
pub fn schedule(vm: &mut Interpreter, events: &[Stamped]) {
    for &(cycle, event) in events {
        vm.push_event_at(cycle, event);
    }
}

/// One log line for an event (the inverse of `parse` for single events).
pub fn format(cycle: u64, event: &InputEvent) -> String {
    match *event {
        InputEvent::MouseMove { x, y } => format!("{cycle} mouse {x} {y}"),
        InputEvent::Button { button, down } => {
            let b = match button {
                MouseButton::Red => "red",
                MouseButton::Yellow => "yellow",
                MouseButton::Blue => "blue",
            };
            format!("{cycle} button {b} {}", if down { "down" } else { "up" })
        }
        InputEvent::Key { code, down } => {
            format!("{cycle} {} {}", if down { "keydown" } else { "keyup" }, key_name(code))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (fuzz/replay_parse): a typed `#` was written as `keydown #`, which reads back
    /// as a comment, so a recorded session with a `#` could not be replayed.
    #[test]
    fn every_typed_character_formats_to_a_line_that_parses_back() {
        let typed = parse("70 type a#b!#\n").unwrap();
        assert_eq!(typed.len(), 10);
        let log: String = typed.iter().map(|(c, e)| format(*c, e) + "\n").collect();
        assert_eq!(parse(&log).unwrap(), typed, "{log}");
        for c in 32u16..127 {
            let e = (5, InputEvent::Key { code: c, down: true });
            assert_eq!(parse(&format(e.0, &e.1)).unwrap(), vec![e], "character {c}");
        }
    }

    #[test]
    fn parses_every_form_and_round_trips() {
        let log = "# a session\n\n10 mouse 300 200\n20 button blue down # menu\n30 button blue up\n\
                   40 key a\n50 key return\n60 keydown shift\n61 keyup shift\n70 type 3 + 4\n";
        let events = parse(log).unwrap();
        assert_eq!(events[0], (10, InputEvent::MouseMove { x: 300, y: 200 }));
        assert_eq!(events[1], (20, InputEvent::Button { button: MouseButton::Blue, down: true }));
        assert_eq!(events[3], (40, InputEvent::Key { code: b'a' as u16, down: true }));
        assert_eq!(events[4], (40, InputEvent::Key { code: b'a' as u16, down: false }));
        assert_eq!(events[5], (50, InputEvent::Key { code: key::RETURN, down: true }));
        assert_eq!(events[7], (60, InputEvent::Key { code: key::LEFT_SHIFT, down: true }));
        let typed: String = events[9..]
            .iter()
            .step_by(2)
            .map(|(_, e)| match e {
                InputEvent::Key { code, .. } => char::from(*code as u8),
                _ => '?',
            })
            .collect();
        assert_eq!(typed, "3 + 4");
        let text: String = events.iter().map(|(c, e)| format(*c, e) + "\n").collect();
        assert_eq!(parse(&text).unwrap(), events);
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("10 mouse 1 2\n20 button green down\n").unwrap_err();
        assert!(e.starts_with("line 2: unknown button \"green\""), "{e}");
        assert!(parse("x mouse 1 2").unwrap_err().contains("cycle"));
        assert!(parse("5 key").unwrap_err().starts_with("line 1"));
        assert!(parse("5 jump 3").unwrap_err().contains("unknown event"));
    }
}
