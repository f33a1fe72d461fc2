//! A keyboard that reports Linux input key codes (virtio-input; USB HID boot reports map to
//! the same codes) on a US layout, turned into the image's key events: shift, control and
//! lock as the image's bi-state keys, each other key as the character it types. A held shift
//! is released around a typed printable character, since it is typed already shifted and the
//! image would apply shift again (the web host does the same, see its `Keyboard`).

use alloc::vec::Vec;
use st80_core::host::{key, InputEvent};

/// Linux key codes 0..=57 on a US keyboard: (unshifted, shifted) characters; 0 = no character.
const US: [(u8, u8); 58] = [
    (0, 0),
    (27, 27),
    (b'1', b'!'),
    (b'2', b'@'),
    (b'3', b'#'),
    (b'4', b'$'),
    (b'5', b'%'),
    (b'6', b'^'),
    (b'7', b'&'),
    (b'8', b'*'),
    (b'9', b'('),
    (b'0', b')'),
    (b'-', b'_'),
    (b'=', b'+'),
    (8, 8),
    (9, 9),
    (b'q', b'Q'),
    (b'w', b'W'),
    (b'e', b'E'),
    (b'r', b'R'),
    (b't', b'T'),
    (b'y', b'Y'),
    (b'u', b'U'),
    (b'i', b'I'),
    (b'o', b'O'),
    (b'p', b'P'),
    (b'[', b'{'),
    (b']', b'}'),
    (13, 13),
    (0, 0), // left control
    (b'a', b'A'),
    (b's', b'S'),
    (b'd', b'D'),
    (b'f', b'F'),
    (b'g', b'G'),
    (b'h', b'H'),
    (b'j', b'J'),
    (b'k', b'K'),
    (b'l', b'L'),
    (b';', b':'),
    (b'\'', b'"'),
    (b'`', b'~'),
    (0, 0), // left shift
    (b'\\', b'|'),
    (b'z', b'Z'),
    (b'x', b'X'),
    (b'c', b'C'),
    (b'v', b'V'),
    (b'b', b'B'),
    (b'n', b'N'),
    (b'm', b'M'),
    (b',', b'<'),
    (b'.', b'>'),
    (b'/', b'?'),
    (0, 0), // right shift
    (0, 0), // keypad *
    (0, 0), // left alt
    (b' ', b' '),
];

const LEFT_SHIFT: u16 = 42;
const RIGHT_SHIFT: u16 = 54;
const LEFT_CTRL: u16 = 29;
const RIGHT_CTRL: u16 = 97;
const CAPS_LOCK: u16 = 58;
const DELETE: u16 = 111;

#[derive(Default)]
pub struct Keyboard {
    shift: [bool; 2],
}

impl Keyboard {
    /// The image's events for Linux key `code` going down (`down`) or up; auto-repeat (value
    /// 2) counts as down.
    pub fn key(&mut self, code: u16, down: bool) -> Vec<InputEvent> {
        let bistate = |code| alloc::vec![InputEvent::Key { code, down }];
        match code {
            LEFT_SHIFT | RIGHT_SHIFT => {
                self.shift[(code == RIGHT_SHIFT) as usize] = down;
                bistate(if code == LEFT_SHIFT { key::LEFT_SHIFT } else { key::RIGHT_SHIFT })
            }
            LEFT_CTRL | RIGHT_CTRL => bistate(key::CONTROL),
            CAPS_LOCK => bistate(key::LOCK),
            _ if !down => Vec::new(),
            DELETE => self.type_code(key::DELETE),
            _ => {
                let shifted = self.shift[0] || self.shift[1];
                match US.get(code as usize) {
                    Some(&(plain, shift)) if plain != 0 => self.type_code(if shifted { shift } else { plain } as u16),
                    _ => Vec::new(),
                }
            }
        }
    }

    /// A character typed: down and up, with a held shift released around a printable one
    /// (`key::typed`).
    fn type_code(&self, code: u16) -> Vec<InputEvent> {
        key::typed(code, self.shift)
    }
}
