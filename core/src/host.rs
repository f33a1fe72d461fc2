//! The boundary between the core and the machine it runs on. A platform (desktop, headless,
//! web, bare metal) implements [`Host`] for what the core asks synchronously (clocks, files,
//! snapshot storage, text sinks); input is pushed into the `Interpreter` and output pulled
//! from it. The core never touches an OS directly.

/// A rectangle in Display-form pixel coordinates (x, y of the top-left corner, width, height).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width in pixels.
    pub w: i32,
    /// Height in pixels.
    pub h: i32,
}

impl Rect {
    /// A rectangle from its top-left corner and size.
    pub fn new(x: i32, y: i32, w: i32, h: i32) -> Rect {
        Rect { x, y, w, h }
    }
    /// True when it covers no pixels (zero or negative width or height).
    pub fn is_empty(&self) -> bool {
        self.w <= 0 || self.h <= 0
    }
    /// The smallest rectangle holding both.
    pub fn union(&self, other: &Rect) -> Rect {
        if self.is_empty() {
            return *other;
        }
        if other.is_empty() {
            return *self;
        }
        let x = self.x.min(other.x);
        let y = self.y.min(other.y);
        let r = (self.x + self.w).max(other.x + other.w);
        let b = (self.y + self.h).max(other.y + other.h);
        Rect::new(x, y, r - x, b - y)
    }
}

/// Mouse buttons by their Smalltalk-80 names (red = select, yellow = text menu,
/// blue = window menu); the platform decides which physical button is which.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MouseButton {
    /// Select button (usually left).
    Red,
    /// Text-menu button (usually middle).
    Yellow,
    /// Window-menu button (usually right).
    Blue,
}

/// One input event from the host. Keys are given in the image's character set (ASCII with
/// `_` shown as a left arrow and `^` as an up arrow) or as one of the `key` codes below.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputEvent {
    /// The pointer moved to (`x`, `y`) in Display coordinates.
    MouseMove {
        /// Horizontal position.
        x: i32,
        /// Vertical position.
        y: i32,
    },
    /// A mouse button was pressed (`down`) or released.
    Button {
        /// Which button.
        button: MouseButton,
        /// Pressed rather than released.
        down: bool,
    },
    /// A key pressed or released; `code` is a character code (0..=127) or a `key::*` code.
    Key {
        /// Character or `key::*` code.
        code: u16,
        /// Pressed rather than released.
        down: bool,
    },
}

/// Bi-state device codes of the Blue Book's input-word protocol (ch. 29, "Input/Output").
pub mod key {
    /// Backspace.
    pub const BACKSPACE: u16 = 8;
    /// Tab.
    pub const TAB: u16 = 9;
    /// Line feed.
    pub const LINE_FEED: u16 = 10;
    /// Return (carriage return).
    pub const RETURN: u16 = 13;
    /// Escape.
    pub const ESCAPE: u16 = 27;
    /// Space.
    pub const SPACE: u16 = 32;
    /// Delete.
    pub const DELETE: u16 = 127;
    /// Left shift key.
    pub const LEFT_SHIFT: u16 = 136;
    /// Right shift key.
    pub const RIGHT_SHIFT: u16 = 137;
    /// Control key.
    pub const CONTROL: u16 = 138;
    /// Caps lock key.
    pub const LOCK: u16 = 139;

    /// The events of character `code` typed (down and up) while the shift keys are as in
    /// `shift` (left, right). A host that gets characters with shift already applied (a
    /// browser's `key`, a keyboard layout's table) releases a held shift around a printable
    /// one: the image would apply it again (`InputSensor>>mapKeyboardEvent:` looks the
    /// character up with the shift state `InputState>>keyAt:put:` recorded). Shift stays down
    /// for the keys that type no character (and for shift-click).
    pub fn typed(code: u16, shift: [bool; 2]) -> alloc::vec::Vec<super::InputEvent> {
        use super::InputEvent;
        let printable = (0x20..0x7f).contains(&code);
        let held: alloc::vec::Vec<u16> = [LEFT_SHIFT, RIGHT_SHIFT]
            .into_iter()
            .zip(shift)
            .filter(|&(_, down)| down && printable)
            .map(|(k, _)| k)
            .collect();
        let mut out: alloc::vec::Vec<InputEvent> =
            held.iter().map(|&code| InputEvent::Key { code, down: false }).collect();
        out.push(InputEvent::Key { code, down: true });
        out.push(InputEvent::Key { code, down: false });
        out.extend(held.iter().map(|&code| InputEvent::Key { code, down: true }));
        out
    }
}

/// Bytes in one page of a file, as the image's `PosixFilePage` reads and writes them.
pub const FILE_PAGE_BYTES: usize = 512;

/// A host error number (POSIX numbering where the host has it), the answer of the image's
/// `lastError` (primitive 132).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

/// The host's file system as the image's file primitives (128-133, the POSIX file system of
/// dbanay's `snapshot.im`) see it: flat file names relative to one root directory, files
/// named by small integer handles. Names that would reach outside the root (`..`, absolute
/// paths, links pointing out) fail. The primitives remember the last error for the image.
pub trait FileSystem {
    /// Opens an existing file for reading and writing (or only reading, at the host's choice)
    /// and answers its handle.
    fn open(&mut self, name: &str) -> Result<u32, Errno>;
    /// Creates a file (emptying an existing one) and answers its handle.
    fn create(&mut self, name: &str) -> Result<u32, Errno>;
    /// Closes a handle.
    fn close(&mut self, handle: u32) -> Result<(), Errno>;
    /// Reads from byte `offset` into `buf`; answers the count read (0 at the end of the file).
    fn read(&mut self, handle: u32, offset: u64, buf: &mut [u8]) -> Result<usize, Errno>;
    /// Writes all of `data` at byte `offset`.
    fn write(&mut self, handle: u32, offset: u64, data: &[u8]) -> Result<(), Errno>;
    /// Cuts (or extends) the file to `size` bytes.
    fn truncate(&mut self, handle: u32, size: u64) -> Result<(), Errno>;
    /// The file's size in bytes.
    fn size(&mut self, handle: u32) -> Result<u64, Errno>;
    /// Deletes a file.
    fn delete(&mut self, name: &str) -> Result<(), Errno>;
    /// Renames a file; open handles on it stay valid.
    fn rename(&mut self, old: &str, new: &str) -> Result<(), Errno>;
    /// The names of the (non-hidden) files in the root directory.
    fn list(&mut self) -> Result<alloc::vec::Vec<alloc::string::String>, Errno>;
    /// A readable text for an error number.
    fn error_string(&self, code: i32) -> alloc::string::String;
    /// The image designated the open file `handle` as its snapshot file (primitive 128).
    fn be_snapshot_file(&mut self, _handle: u32) {}
}

/// Why a snapshot (primitive 97) was not stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// This host keeps no snapshots (no file was given to save to).
    NoStorage,
    /// Storing failed; the old image is intact. The text names the file and the problem.
    Failed(alloc::string::String),
}

impl core::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SnapshotError::NoStorage => f.write_str("this host has no place to save the image"),
            SnapshotError::Failed(why) => f.write_str(why),
        }
    }
}

/// What the core needs from its host *while* it runs bytecodes: clocks, snapshot storage,
/// files and two text sinks. Everything else crosses the boundary the other way: the host
/// pushes input with `Interpreter::push_event` and pulls output (`take_damage`,
/// `take_cursor_change`, `display`) after each `Interpreter::run`.
pub trait Host {
    /// Milliseconds from an arbitrary start, monotonic, wrapping at 2^32 (not called when the
    /// interpreter uses its deterministic [`VirtualClock`](crate::clock::VirtualClock)).
    fn millisecond_clock(&mut self) -> u32;
    /// Seconds since 1 January 1901, local time (Smalltalk-80's epoch).
    fn seconds_since_1901(&mut self) -> u32;
    /// Stores a snapshot (a complete image file, primitive 97). It must replace the image
    /// atomically: on any failure the old file stays intact and an error is returned, which
    /// fails the primitive so the image can tell the user.
    fn save_snapshot(&mut self, _image: &[u8]) -> Result<(), SnapshotError> {
        Err(SnapshotError::NoStorage)
    }
    /// The file system the image's file primitives (128-133) use; None makes them fail.
    fn file_system(&mut self) -> Option<&mut dyn FileSystem> {
        None
    }
    /// Text the image wrote on its Transcript (only when echo is on, see
    /// `Interpreter::set_transcript_echo`).
    fn transcript(&mut self, _text: &str) {}
    /// One line of execution trace (see `Interpreter::set_trace`).
    fn trace(&mut self, _line: &str) {}
}

/// A host with nothing but a clock that never moves: for tests and for runs on the
/// [`VirtualClock`](crate::clock::VirtualClock).
#[derive(Clone, Copy, Debug, Default)]
pub struct NullHost;

impl Host for NullHost {
    fn millisecond_clock(&mut self) -> u32 {
        0
    }
    fn seconds_since_1901(&mut self) -> u32 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::{key, InputEvent};

    fn keys(events: alloc::vec::Vec<InputEvent>) -> alloc::vec::Vec<(u16, bool)> {
        events
            .into_iter()
            .map(|e| match e {
                InputEvent::Key { code, down } => (code, down),
                other => panic!("not a key: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_held_shift_is_released_around_a_printable_character_only() {
        assert_eq!(keys(key::typed(b'a' as u16, [false, false])), [(97, true), (97, false)]);
        // "!" with the left shift down (the host applied it): shift up, the character, shift down.
        assert_eq!(
            keys(key::typed(b'!' as u16, [true, false])),
            [(key::LEFT_SHIFT, false), (33, true), (33, false), (key::LEFT_SHIFT, true)]
        );
        assert_eq!(
            keys(key::typed(b'A' as u16, [true, true])),
            [
                (key::LEFT_SHIFT, false),
                (key::RIGHT_SHIFT, false),
                (65, true),
                (65, false),
                (key::LEFT_SHIFT, true),
                (key::RIGHT_SHIFT, true)
            ]
        );
        // A key that types no printable character keeps shift down (shift-return, shift-delete).
        assert_eq!(keys(key::typed(key::RETURN, [true, false])), [(13, true), (13, false)]);
        assert_eq!(keys(key::typed(key::DELETE, [false, true])), [(127, true), (127, false)]);
    }
}
