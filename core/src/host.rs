//! The one interface between the core and the machine it runs on. A platform (desktop,
//! headless, web, bare metal) implements `Host`; the core never touches an OS directly.

/// A rectangle in Display-form pixel coordinates (x, y of the top-left corner, width, height).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

impl Rect {
    pub fn new(x: i32, y: i32, w: i32, h: i32) -> Rect {
        Rect { x, y, w, h }
    }
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
    Red,
    Yellow,
    Blue,
}

/// One input event from the host. Keys are given in the image's character set (ASCII with
/// `_` shown as a left arrow and `^` as an up arrow) or as one of the `key` codes below.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputEvent {
    MouseMove {
        x: i32,
        y: i32,
    },
    Button {
        button: MouseButton,
        down: bool,
    },
    /// A key pressed or released; `code` is a character code (0..=127) or a `key::*` code.
    Key {
        code: u16,
        down: bool,
    },
}

/// Bi-state device codes of the Blue Book's input-word protocol (ch. 29, "Input/Output").
pub mod key {
    pub const BACKSPACE: u16 = 8;
    pub const TAB: u16 = 9;
    pub const LINE_FEED: u16 = 10;
    pub const RETURN: u16 = 13;
    pub const ESCAPE: u16 = 27;
    pub const SPACE: u16 = 32;
    pub const DELETE: u16 = 127;
    pub const LEFT_SHIFT: u16 = 136;
    pub const RIGHT_SHIFT: u16 = 137;
    pub const CONTROL: u16 = 138;
    pub const LOCK: u16 = 139;
}

pub trait Host {
    /// Milliseconds from an arbitrary start, monotonic, wrapping at 2^32. `cycles` (bytecodes
    /// executed so far) lets a deterministic host derive time from work done.
    fn millisecond_clock(&mut self, cycles: u64) -> u32;
    /// Seconds since 1 January 1901, local time (Smalltalk-80's epoch).
    fn seconds_since_1901(&mut self, cycles: u64) -> u32;
    /// The next pending input event, if any.
    fn poll_event(&mut self, _cycles: u64) -> Option<InputEvent> {
        None
    }
    /// The image designated a new Display form of this size (primitive `beDisplay`).
    fn display_resized(&mut self, _width: usize, _height: usize) {}
    /// Part of the Display form changed; read the pixels with `Interpreter::display`.
    fn display_changed(&mut self, _rect: Rect) {}
    /// The image set a new 16x16 cursor (one word per row, most significant bit leftmost).
    fn cursor_changed(&mut self, _bits: &[u16; 16]) {}
    /// The image moved the cursor (primitive `cursorLocPut:`).
    fn cursor_moved(&mut self, _x: i32, _y: i32) {}
    /// Text the image wrote on its Transcript (only when echo is on, see
    /// `Interpreter::set_transcript_echo`).
    fn transcript(&mut self, _text: &str) {}
    /// Stores a snapshot (a complete image file, primitive 97). It must replace the image
    /// atomically: on any failure the old file stays intact and an error is returned, which
    /// fails the primitive so the image can tell the user.
    fn save_snapshot(&mut self, _image: &[u8]) -> Result<(), alloc::string::String> {
        Err(alloc::string::String::from("this host cannot save snapshots"))
    }
    /// One line of execution trace (see `Interpreter::set_trace`).
    fn trace(&mut self, _line: &str) {}
    /// Nothing to run until `wake_at` (a `millisecond_clock` value) or the next input event.
    /// A host with a real clock should sleep; the default returns at once.
    fn idle(&mut self, _wake_at: Option<u32>) {}
}
