//! What the keyboard sends the image.
//!
//! The image decodes keys itself: `InputState>>keyAt:put:` records the bi-state keys (136-139:
//! left shift, right shift, control, lock) and queues each other key as a `KeyboardEvent` with
//! the meta state at that moment; `InputSensor>>mapKeyboardEvent:` then looks the key up in its
//! `DefaultKeyboardMap` by shift (256), control (512) or lock (1024). That map is the Alto's
//! keyboard: shift+`2` is `@`, shift+`-` is code 21, shift+`_` is `^`, and shift+`A` (and every
//! other already-shifted character) is unassigned, shown as a black box.
//!
//! The host's text input has already applied the layout, shift and caps lock, so a typed
//! character goes to the image with shift, control and lock up (the map is the identity there
//! for every printable ASCII character) and the modifiers are put back right after: the image
//! still sees shift held for shift-click (`Sensor leftShiftDown`) and control for Ctrl+C
//! (`keyAt:put:` checks `ctrlState` for `$c`) and its own Ctrl shortcuts (the 512 part of the
//! map), which are sent as key events with the modifiers as they are.

use sdl2::keyboard::{Keycode, Mod};
use st80_core::host::{key, InputEvent};

/// The modifier keys as the image's `InputState` sees them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Modifiers {
    pub left_shift: bool,
    pub right_shift: bool,
    pub control: bool,
    /// Caps Lock toggled on (the Alto's LOCK key latched down).
    pub lock: bool,
}

impl Modifiers {
    /// The modifiers in an SDL modifier state.
    pub fn from_sdl(m: Mod) -> Modifiers {
        Modifiers {
            left_shift: m.contains(Mod::LSHIFTMOD),
            right_shift: m.contains(Mod::RSHIFTMOD),
            control: m.intersects(Mod::LCTRLMOD | Mod::RCTRLMOD),
            lock: m.contains(Mod::CAPSMOD),
        }
    }

    fn keys(self) -> [(u16, bool); 4] {
        [
            (key::LEFT_SHIFT, self.left_shift),
            (key::RIGHT_SHIFT, self.right_shift),
            (key::CONTROL, self.control),
            (key::LOCK, self.lock),
        ]
    }

    /// The bi-state key events that take the image from `self` to `to`.
    pub fn transition(self, to: Modifiers) -> Vec<InputEvent> {
        self.keys()
            .into_iter()
            .zip(to.keys())
            .filter(|((_, a), (_, b))| a != b)
            .map(|(_, (code, down))| InputEvent::Key { code, down })
            .collect()
    }
}

/// Control held without Alt/AltGr (which some systems report as Ctrl+Alt).
pub fn control_only(keymod: Mod) -> bool {
    keymod.intersects(Mod::LCTRLMOD | Mod::RCTRLMOD) && !keymod.intersects(Mod::LALTMOD | Mod::RALTMOD)
}

/// Whether a key is one of the image's bi-state modifier keys.
pub fn is_modifier(k: Keycode) -> bool {
    matches!(k, Keycode::LShift | Keycode::RShift | Keycode::LCtrl | Keycode::RCtrl | Keycode::CapsLock)
}

/// Keys that give no text: their character codes (the image maps them: Escape to 160,
/// Delete to 173, ctrl+Return to 141, ...).
pub fn special_key_code(k: Keycode) -> Option<u16> {
    match k {
        Keycode::Backspace => Some(key::BACKSPACE),
        Keycode::Tab => Some(key::TAB),
        Keycode::Return | Keycode::KpEnter | Keycode::Return2 => Some(key::RETURN),
        Keycode::Escape => Some(key::ESCAPE),
        Keycode::Delete => Some(key::DELETE),
        _ => None,
    }
}

/// The image's code for a typed character: printable ASCII only.
pub fn image_char(c: char) -> Option<u16> {
    (c.is_ascii() && !c.is_ascii_control()).then_some(c as u16)
}

/// The codes that type `text` (pasted): CR for line ends, tabs kept, others dropped.
pub fn paste_codes(text: &str) -> Vec<u16> {
    let text = text.replace("\r\n", "\n");
    let mut codes = Vec::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => codes.push(key::RETURN),
            '\t' => codes.push(key::TAB),
            c => match image_char(c) {
                Some(code) => codes.push(code),
                None => log::debug!("paste: dropped {c:?}: the image has no such character"),
            },
        }
    }
    codes
}

/// The events that type `codes` as they are, whatever modifiers the image holds (`held`): the
/// modifiers go up first and come back after.
pub fn type_plain(held: Modifiers, codes: &[u16]) -> Vec<InputEvent> {
    let mut events = held.transition(Modifiers::default());
    for &code in codes {
        events.push(InputEvent::Key { code, down: true });
        events.push(InputEvent::Key { code, down: false });
    }
    events.extend(Modifiers::default().transition(held));
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: u16, down: bool) -> InputEvent {
        InputEvent::Key { code, down }
    }

    #[test]
    fn characters_and_paste() {
        assert_eq!(image_char('_'), Some(95));
        assert_eq!(image_char('^'), Some(94));
        assert_eq!(image_char('ä'), None);
        assert_eq!(image_char('\u{7}'), None);
        assert_eq!(paste_codes("a\r\nb\nc\täx"), vec![97, 13, 98, 13, 99, 9, 120]);
        assert_eq!(special_key_code(Keycode::Return), Some(13));
        assert!(is_modifier(Keycode::RShift) && !is_modifier(Keycode::A));
    }

    #[test]
    fn shifted_characters_go_without_shift_and_shift_comes_back() {
        let shift = Modifiers { left_shift: true, ..Modifiers::default() };
        assert_eq!(
            type_plain(shift, &[b'A' as u16]),
            vec![key(136, false), key(65, true), key(65, false), key(136, true)]
        );
        let all = Modifiers { left_shift: true, right_shift: true, control: true, lock: true };
        let events = type_plain(all, &[b'_' as u16]);
        assert_eq!(events.len(), 10);
        assert_eq!(&events[4..6], &[key(95, true), key(95, false)]);
        assert_eq!(type_plain(Modifiers::default(), &[b'a' as u16]), vec![key(97, true), key(97, false)]);
    }

    #[test]
    fn modifiers_follow_sdl() {
        let m = Modifiers::from_sdl(Mod::RSHIFTMOD | Mod::CAPSMOD | Mod::RCTRLMOD);
        assert_eq!(m, Modifiers { left_shift: false, right_shift: true, control: true, lock: true });
        assert_eq!(Modifiers::default().transition(m), vec![key(137, true), key(138, true), key(139, true)]);
        assert!(m.transition(m).is_empty());
    }
}
