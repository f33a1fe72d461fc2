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

/// Bytes in one page of a file, as the image's `PosixFilePage` reads and writes them.
pub const FILE_PAGE_BYTES: usize = 512;

/// The host's file system as the image's file primitives (128-133, the POSIX file system of
/// dbanay's `snapshot.im`) see it: flat file names relative to one root directory, files
/// named by small integer handles, and a C-style `errno` for the last failure.
///
/// Every operation that fails sets the error answered by [`errno`](FileSystem::errno). Names
/// that would reach outside the root (`..`, absolute paths, links pointing out) fail.
pub trait FileSystem {
    /// Opens an existing file for reading and writing (or only reading, at the host's choice)
    /// and answers its handle.
    fn open(&mut self, name: &str) -> Option<u32>;
    /// Creates a file (emptying an existing one) and answers its handle.
    fn create(&mut self, name: &str) -> Option<u32>;
    fn close(&mut self, handle: u32) -> bool;
    /// Reads from byte `offset` into `buf`; answers the count read (0 at the end of the file).
    fn read(&mut self, handle: u32, offset: u64, buf: &mut [u8]) -> Option<usize>;
    /// Writes all of `data` at byte `offset`.
    fn write(&mut self, handle: u32, offset: u64, data: &[u8]) -> bool;
    /// Cuts (or extends) the file to `size` bytes.
    fn truncate(&mut self, handle: u32, size: u64) -> bool;
    fn size(&mut self, handle: u32) -> Option<u64>;
    fn delete(&mut self, name: &str) -> bool;
    /// Renames a file; open handles on it stay valid.
    fn rename(&mut self, old: &str, new: &str) -> bool;
    /// The names of the (non-hidden) files in the root directory.
    fn list(&mut self) -> Option<alloc::vec::Vec<alloc::string::String>>;
    /// The error number of the last failure (POSIX numbering where the host has it).
    fn errno(&self) -> i32;
    /// A readable text for an error number.
    fn error_string(&self, code: i32) -> alloc::string::String;
    /// The image designated the open file `handle` as its snapshot file (primitive 128).
    fn be_snapshot_file(&mut self, _handle: u32) {}
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
    /// The file system the image's file primitives (128-133) use; None makes them fail.
    fn file_system(&mut self) -> Option<&mut dyn FileSystem> {
        None
    }
    /// One line of execution trace (see `Interpreter::set_trace`).
    fn trace(&mut self, _line: &str) {}
    /// Nothing to run until `wake_at` (a `millisecond_clock` value) or the next input event.
    /// A host with a real clock should sleep; the default returns at once.
    fn idle(&mut self, _wake_at: Option<u32>) {}
}
