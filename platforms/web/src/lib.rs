//! The web host of the st80 VM: the Smalltalk-80 desktop in a browser tab.
//!
//! The core is compiled to `wasm32-unknown-unknown`; the page (www/index.html, www/st80.js)
//! loads an image, feeds input and draws what changed. The pieces:
//!
//! * [`host::WebHost`]: the one implementation of `st80_core::Host` (clock, input queue,
//!   damage, cursor, idle, snapshots, files);
//! * [`files::MemFiles`]: the image's file primitives over an in-memory directory the page
//!   keeps in IndexedDB;
//! * [`Session`]: an interpreter and its host, with the calls the page makes (plain Rust, so
//!   it is tested on the build machine too);
//! * `wasm` (wasm32 only): `Session` exported to JavaScript with wasm-bindgen.

pub mod files;
pub mod host;
#[cfg(target_arch = "wasm32")]
mod wasm;

use host::WebHost;
use st80_core::host::{key, InputEvent, MouseButton, Rect};
use st80_core::{EvalOutcome, Interpreter, StopReason};

/// What the page's Save button evaluates: the image's own snapshot code, which hands the
/// image to `Host::save_snapshot` (the desktop's close dialog runs the same).
pub const SAVE_EXPRESSION: &str = "Smalltalk snapshotAs: 'snapshot' thenQuit: false";

/// What the page's Copy button evaluates: the text of the image's copy buffer (the text
/// editor's `CurrentSelection`).
pub const COPY_EXPRESSION: &str = "(ParagraphEditor classPool at: #CurrentSelection) asString";

/// Why [`Session::run`] returned, as the page sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// The slice ran; run another.
    Running,
    /// The image is idle: run again after this many milliseconds, or at the next input.
    Idle(u32),
    /// The deterministic run reached its cycle limit.
    Done,
    /// The image quit.
    Quit,
    /// The VM stopped; the text says why.
    Error(String),
    /// An evaluation the page started (save, copy) finished: Ok(printString) or Err(message).
    Evaluated(Result<String, String>),
}

/// An image running in the page: the interpreter, its host, and the page's bookkeeping.
pub struct Session {
    pub vm: Interpreter,
    pub host: WebHost,
    /// Deterministic mode: stop after this many bytecodes in all.
    pub max_cycles: Option<u64>,
    keyboard: Keyboard,
}

impl Session {
    /// Loads an image (either byte order). `max_cycles` selects the deterministic mode: the
    /// headless host's virtual clock, and a stop after that many bytecodes.
    pub fn new(image: &[u8], max_cycles: Option<u64>) -> Result<Session, String> {
        let (memory, info) = st80_core::image::load(image).map_err(|e| e.to_string())?;
        let mut vm = Interpreter::new(memory)?;
        vm.snapshot_byte_order = info.byte_order;
        let mut host = WebHost::new(max_cycles.is_some());
        host.damage = vm.display().map(|d| Rect::new(0, 0, d.width as i32, d.height as i32)).unwrap_or_default();
        host.cursor = vm.cursor_bits();
        Ok(Session { vm, host, max_cycles, keyboard: Keyboard::default() })
    }

    /// Runs up to `cycles` bytecodes (fewer in deterministic mode near the limit).
    pub fn run(&mut self, cycles: u64) -> Status {
        let cycles = match self.max_cycles {
            Some(max) if self.vm.cycles() >= max => return Status::Done,
            Some(max) => cycles.min(max - self.vm.cycles()),
            None => cycles,
        };
        self.host.idle_wake = None;
        match self.vm.run(&mut self.host, cycles) {
            StopReason::CyclesDone => {}
            StopReason::Quit => return Status::Quit,
            StopReason::Error(e) => return Status::Error(e),
            StopReason::Evaluated => {
                return Status::Evaluated(match self.vm.evaluation_outcome() {
                    Some(EvalOutcome::Value(v)) => Ok(v),
                    Some(EvalOutcome::CompileError { message, .. }) => Err(message),
                    Some(EvalOutcome::RuntimeError { message, .. }) => Err(message),
                    None => Err("the evaluation was abandoned".to_string()),
                })
            }
        }
        if self.max_cycles.is_some_and(|max| self.vm.cycles() >= max) {
            return Status::Done;
        }
        match self.host.idle_wake.take() {
            Some(wake) if self.host.queue.is_empty() && self.max_cycles.is_none() => {
                Status::Idle((wake.wrapping_sub(self.host.now(0)) as i32).max(0) as u32)
            }
            _ => Status::Running,
        }
    }

    /// Adds a replay script (the `st80 run --replay` format).
    pub fn add_script(&mut self, text: &str) -> Result<(), String> {
        let mut events: Vec<(u64, InputEvent)> = self.host.script.drain(..).collect();
        events.extend(parse_replay(text)?);
        events.sort_by_key(|&(cycle, _)| cycle); // stable: equal cycles keep their order
        self.host.script = events.into();
        Ok(())
    }

    pub fn mouse_move(&mut self, x: i32, y: i32) {
        let (w, h) = self.display_size();
        let (x, y) = (x.clamp(0, (w as i32 - 1).max(0)), y.clamp(0, (h as i32 - 1).max(0)));
        self.host.input(InputEvent::MouseMove { x, y });
    }

    /// A Smalltalk button: 0 red, 1 yellow, 2 blue.
    pub fn button(&mut self, button: u8, down: bool) {
        let button = match button {
            0 => MouseButton::Red,
            1 => MouseButton::Yellow,
            _ => MouseButton::Blue,
        };
        self.host.input(InputEvent::Button { button, down });
    }

    /// A modifier key: 0 left shift, 1 right shift, 2 control.
    pub fn modifier(&mut self, which: u8, down: bool) {
        let e = self.keyboard.modifier(which, down);
        self.host.input(e);
    }

    /// A typed character or a key that types one (see [`Keyboard::type_code`]).
    pub fn type_code(&mut self, code: u16) {
        for e in self.keyboard.type_code(code) {
            self.host.input(e);
        }
    }

    /// Types pasted text (see [`Keyboard::paste`]).
    pub fn paste(&mut self, text: &str) {
        for e in self.keyboard.paste(text) {
            self.host.input(e);
        }
    }

    /// Starts evaluating `source` with the image's Compiler; `run` answers
    /// `Status::Evaluated` when it is done.
    pub fn evaluate(&mut self, source: &str) -> Result<(), String> {
        self.vm.start_evaluation(source)
    }

    pub fn display_size(&self) -> (usize, usize) {
        self.vm.display().map_or((0, 0), |d| (d.width, d.height))
    }

    /// The changed part of the Display since the last call, clipped to it.
    pub fn take_damage(&mut self) -> Option<Rect> {
        let d = std::mem::take(&mut self.host.damage);
        let (w, h) = self.display_size();
        let r = clip(d, w, h);
        (!r.is_empty()).then_some(r)
    }

    /// The pixels of `r` (inside the Display) as RGBA bytes, row by row: black where the
    /// form has a 1 bit, white elsewhere.
    pub fn rgba(&self, r: Rect) -> Vec<u8> {
        let Some(form) = self.vm.display() else { return Vec::new() };
        let r = clip(r, form.width, form.height);
        let raster = form.raster();
        let mut out = Vec::with_capacity(r.w.max(0) as usize * r.h.max(0) as usize * 4);
        for y in r.y as usize..(r.y + r.h) as usize {
            let row = &form.bits[y * raster..(y + 1) * raster];
            for x in r.x as usize..(r.x + r.w) as usize {
                let v = if row[x / 16] & (0x8000 >> (x % 16)) != 0 { 0 } else { 255 };
                out.extend_from_slice(&[v, v, v, 255]);
            }
        }
        out
    }

    /// The Display hash `st80 run --headless --screenshot` prints (None without a Display).
    pub fn display_hash(&self) -> Option<String> {
        self.vm.display().map(|f| display_hash(f.width, f.height, f.bits))
    }
}

/// The keyboard's translation into the image's input: which modifiers the image was told are
/// down, and the events that type a character.
#[derive(Default)]
pub struct Keyboard {
    /// Control as last sent to the image (the bi-state key 138).
    ctrl: bool,
    /// Left and right shift as last sent to the image (bi-state keys 136, 137).
    shift: [bool; 2],
}

impl Keyboard {
    /// A modifier key: 0 left shift, 1 right shift, 2 control.
    pub fn modifier(&mut self, which: u8, down: bool) -> InputEvent {
        let code = match which {
            0 => key::LEFT_SHIFT,
            1 => key::RIGHT_SHIFT,
            _ => key::CONTROL,
        };
        match which {
            0 | 1 => self.shift[which as usize] = down,
            _ => self.ctrl = down,
        }
        InputEvent::Key { code, down }
    }

    /// A typed character (printable ASCII) or a key that types one (return, tab, backspace,
    /// escape, delete). A printable character reaches the image as typed: the browser has
    /// applied shift already, and the image would apply it again while a shift key is down
    /// (`InputSensor>>mapKeyboardEvent:` looks the character up with the shift state
    /// `InputState>>keyAt:put:` recorded), so a held shift is released around it. Shift stays
    /// down for shift-click and for the keys that type no character.
    pub fn type_code(&self, code: u16) -> Vec<InputEvent> {
        let printable = (0x20..0x7f).contains(&code);
        let held: Vec<u16> = [key::LEFT_SHIFT, key::RIGHT_SHIFT]
            .into_iter()
            .zip(self.shift)
            .filter(|&(_, down)| down && printable)
            .map(|(k, _)| k)
            .collect();
        let mut out: Vec<InputEvent> = held.iter().map(|&code| InputEvent::Key { code, down: false }).collect();
        out.push(InputEvent::Key { code, down: true });
        out.push(InputEvent::Key { code, down: false });
        out.extend(held.iter().map(|&code| InputEvent::Key { code, down: true }));
        out
    }

    /// Types pasted text: line ends become carriage returns, tabs stay, characters the image
    /// does not have are dropped; control is released meanwhile (the paste key was Ctrl+V).
    pub fn paste(&self, text: &str) -> Vec<InputEvent> {
        let mut out = Vec::new();
        if self.ctrl {
            out.push(InputEvent::Key { code: key::CONTROL, down: false });
        }
        for c in text.replace("\r\n", "\n").chars() {
            match c {
                '\n' | '\r' => out.extend(self.type_code(key::RETURN)),
                '\t' => out.extend(self.type_code(key::TAB)),
                c if c.is_ascii() && !c.is_ascii_control() => out.extend(self.type_code(c as u16)),
                _ => {}
            }
        }
        if self.ctrl {
            out.push(InputEvent::Key { code: key::CONTROL, down: true });
        }
        out
    }
}

fn clip(r: Rect, w: usize, h: usize) -> Rect {
    let (x0, y0) = (r.x.max(0), r.y.max(0));
    let (x1, y1) = ((r.x + r.w).min(w as i32), (r.y + r.h).min(h as i32));
    Rect::new(x0, y0, x1 - x0, y1 - y0)
}

/// The headless host's Display hash, `st80_headless::display_hash`
/// (platforms/headless/src/lib.rs), repeated here because a host does not depend on another:
/// FNV-1a 64 over the width and height (u32 little-endian), then each row's words
/// big-endian, with the bits past the width in a row's last word cleared; 16 hex digits.
pub fn display_hash(width: usize, height: usize, bits: &[u16]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut write = |bytes: &[u8]| {
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    write(&(width as u32).to_le_bytes());
    write(&(height as u32).to_le_bytes());
    let raster = width.div_ceil(16);
    for y in 0..height {
        for x in 0..raster {
            let first = x * 16;
            let mask = if first + 16 <= width { 0xffff } else { !(0xffffu16 >> (width - first)) };
            let w = bits.get(y * raster + x).copied().unwrap_or(0) & mask;
            write(&w.to_be_bytes());
        }
    }
    format!("{h:016x}")
}

/// Parses an input log in the format of `st80 run --replay` (platforms/headless/src/replay.rs
/// documents it; this is the same grammar, kept small): `CYCLE mouse X Y`, `CYCLE button
/// red|yellow|blue down|up`, `CYCLE key K`, `CYCLE keydown K`, `CYCLE keyup K`, `CYCLE type
/// TEXT`; `#` starts a comment. Errors name the line.
pub fn parse_replay(text: &str) -> Result<Vec<(u64, InputEvent)>, String> {
    const NAMED: [(&str, u16); 11] = [
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
    let key_code = |word: &str| -> Option<u16> {
        if let Some(&(_, c)) = NAMED.iter().find(|(n, _)| *n == word) {
            return Some(c);
        }
        let mut chars = word.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii() && !c.is_ascii_control() => Some(c as u16),
            _ => word.strip_prefix("code").and_then(|n| n.parse().ok()).filter(|&c: &u16| c < 4096),
        }
    };
    let mut events = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or("").trim_end();
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |what: &str| format!("line {}: {what}: {raw:?}", n + 1);
        let mut words = line.splitn(3, ' ');
        let cycle: u64 = words.next().unwrap_or("").parse().map_err(|_| err("expected a cycle number first"))?;
        let verb = words.next().ok_or_else(|| err("expected an event after the cycle"))?;
        let rest = words.next().unwrap_or("");
        let args: Vec<&str> = rest.split_whitespace().collect();
        let mut push = |e| events.push((cycle, e));
        match (verb, &args[..]) {
            ("mouse", [x, y]) => push(InputEvent::MouseMove {
                x: x.parse().map_err(|_| err("bad X"))?,
                y: y.parse().map_err(|_| err("bad Y"))?,
            }),
            ("button", [b, d]) => {
                let button = match *b {
                    "red" => MouseButton::Red,
                    "yellow" => MouseButton::Yellow,
                    "blue" => MouseButton::Blue,
                    _ => return Err(err("unknown button")),
                };
                let down = match *d {
                    "down" => true,
                    "up" => false,
                    _ => return Err(err("expected down or up")),
                };
                push(InputEvent::Button { button, down });
            }
            ("key" | "keydown" | "keyup", [k]) => {
                let code = key_code(k).ok_or_else(|| err("unknown key"))?;
                if verb != "keyup" {
                    push(InputEvent::Key { code, down: true });
                }
                if verb != "keydown" {
                    push(InputEvent::Key { code, down: false });
                }
            }
            ("type", _) => {
                for c in rest.chars() {
                    if !c.is_ascii() || c.is_ascii_control() {
                        return Err(err("cannot type that character"));
                    }
                    push(InputEvent::Key { code: c as u16, down: true });
                    push(InputEvent::Key { code: c as u16, down: false });
                }
            }
            _ => return Err(err("unknown event or wrong arguments")),
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_the_headless_definition() {
        // FNV-1a 64 of eight zero bytes (an empty form), and padding bits ignored.
        let mut h: u64 = 0xcbf29ce484222325;
        for _ in 0..8 {
            h = h.wrapping_mul(0x100000001b3);
        }
        assert_eq!(display_hash(0, 0, &[]), format!("{h:016x}"));
        assert_eq!(display_hash(20, 2, &[0x8000, 0x1000, 0, 0x0fff]), display_hash(20, 2, &[0x8000, 0x1000, 0, 0]));
        assert_ne!(display_hash(20, 2, &[0x8000, 0x1000, 0, 0]), display_hash(20, 2, &[0x8000, 0, 0, 0]));
    }

    #[test]
    fn replay_grammar() {
        let log = "# c\n10 mouse 3 4\n20 button blue down # menu\n30 key a\n40 keydown shift\n50 type a #b\n";
        let e = parse_replay(log).unwrap();
        assert_eq!(e[0], (10, InputEvent::MouseMove { x: 3, y: 4 }));
        assert_eq!(e[1], (20, InputEvent::Button { button: MouseButton::Blue, down: true }));
        assert_eq!(e[2], (30, InputEvent::Key { code: 97, down: true }));
        assert_eq!(e[3], (30, InputEvent::Key { code: 97, down: false }));
        assert_eq!(e[4], (40, InputEvent::Key { code: key::LEFT_SHIFT, down: true }));
        assert_eq!(e.len(), 7, "`type a #b` types one character; the rest is a comment");
        assert!(parse_replay("5 button green down").unwrap_err().starts_with("line 1: unknown button"));
        assert!(parse_replay("x mouse 1 2").is_err());
    }

    #[test]
    fn typed_characters_arrive_without_shift() {
        let keys = |events: Vec<InputEvent>| -> Vec<(u16, bool)> {
            events
                .into_iter()
                .map(|e| match e {
                    InputEvent::Key { code, down } => (code, down),
                    other => panic!("{other:?}"),
                })
                .collect()
        };
        let mut k = Keyboard::default();
        assert_eq!(keys(k.type_code(b'!' as u16)), vec![(33, true), (33, false)]);
        assert_eq!(k.modifier(1, true), InputEvent::Key { code: key::RIGHT_SHIFT, down: true });
        assert_eq!(keys(k.type_code(b'A' as u16)), vec![(137, false), (65, true), (65, false), (137, true)]);
        assert_eq!(keys(k.type_code(key::TAB)), vec![(9, true), (9, false)], "shift+tab keeps shift");
        k.modifier(1, false);
        k.modifier(2, true);
        assert_eq!(
            keys(k.paste("a\r\nb\t\u{e4}")),
            vec![
                (138, false),
                (97, true),
                (97, false),
                (13, true),
                (13, false),
                (98, true),
                (98, false),
                (9, true),
                (9, false),
                (138, true)
            ]
        );
    }
}
