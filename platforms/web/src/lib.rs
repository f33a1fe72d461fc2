//! The web host of the st80 VM: the Smalltalk-80 desktop in a browser tab.
//!
//! The core is compiled to `wasm32-unknown-unknown`; the page (www/index.html, www/st80.js)
//! loads an image, feeds input and draws what changed. The pieces:
//!
//! * [`host::WebHost`]: the one implementation of `st80_core::Host` (the browser's clocks,
//!   snapshots, files);
//! * [`files::MemFiles`]: the image's file primitives over an in-memory directory the page
//!   keeps in IndexedDB;
//! * [`Session`]: an interpreter and its host, with the calls the page makes (plain Rust, so
//!   it is tested on the build machine too): input pushed into the interpreter, slices run,
//!   damage and cursor pulled out;
//! * `wasm` (wasm32 only): `Session` exported to JavaScript with wasm-bindgen.

pub mod files;
pub mod host;
#[cfg(target_arch = "wasm32")]
mod wasm;

use host::WebHost;
use st80_core::host::{key, Host, InputEvent, MouseButton, Rect};
use st80_core::{EvalOutcome, Interpreter, StopReason, VirtualClock};
use st80_host_std::replay;

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
    /// Display area changed and not yet drawn by the page.
    damage: Rect,
    /// A new cursor image not yet shown by the page.
    cursor: Option<[u16; 16]>,
    /// A replay script is being delivered (live input is ignored meanwhile, as on the desktop).
    replaying: bool,
}

impl Session {
    /// Loads an image (either byte order). `max_cycles` selects the deterministic mode: the
    /// core's virtual clock (as headless runs), and a stop after that many bytecodes.
    pub fn new(image: &[u8], max_cycles: Option<u64>) -> Result<Session, String> {
        let (memory, info) = st80_core::image::load(image).map_err(|e| e.to_string())?;
        let mut vm = Interpreter::new(memory)?;
        vm.snapshot_byte_order = info.byte_order;
        if max_cycles.is_some() {
            vm.use_virtual_clock(VirtualClock::default());
        }
        let damage = vm.display().map(|d| Rect::new(0, 0, d.width as i32, d.height as i32)).unwrap_or_default();
        let cursor = vm.cursor_bits();
        Ok(Session {
            vm,
            host: WebHost::default(),
            max_cycles,
            keyboard: Keyboard::default(),
            damage,
            cursor,
            replaying: false,
        })
    }

    /// Runs up to `cycles` bytecodes (fewer in deterministic mode near the limit).
    pub fn run(&mut self, cycles: u64) -> Status {
        let cycles = match self.max_cycles {
            Some(max) if self.vm.cycles() >= max => return Status::Done,
            Some(max) => cycles.min(max - self.vm.cycles()),
            None => cycles,
        };
        let stop = self.vm.run(&mut self.host, cycles);
        if let Some(r) = self.vm.take_damage() {
            self.damage = self.damage.union(&r);
        }
        if let Some(c) = self.vm.take_cursor_change() {
            self.cursor = Some(c);
        }
        if self.replaying && self.vm.pending_events() == 0 {
            self.replaying = false;
        }
        match stop {
            StopReason::CyclesDone => {}
            StopReason::Idle { wake_at } => {
                return Status::Idle((wake_at.wrapping_sub(self.host.millisecond_clock()) as i32).max(0) as u32)
            }
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
        Status::Running
    }

    /// Adds a replay script (the `st80 run --replay` format, `st80_host_std::replay`).
    pub fn add_script(&mut self, text: &str) -> Result<(), String> {
        let events = replay::parse(text)?;
        replay::schedule(&mut self.vm, &events);
        self.replaying |= !events.is_empty();
        Ok(())
    }

    /// Events of a replay script not yet taken by the image.
    pub fn script_pending(&self) -> usize {
        if self.replaying {
            self.vm.pending_events()
        } else {
            0
        }
    }

    /// Live input for the image (dropped while a script plays, so a replay stays exact).
    fn input(&mut self, event: InputEvent) {
        if !self.replaying {
            self.vm.push_event(event);
        }
    }

    /// A new cursor image since the last call.
    pub fn take_cursor(&mut self) -> Option<[u16; 16]> {
        self.cursor.take()
    }

    pub fn mouse_move(&mut self, x: i32, y: i32) {
        let (w, h) = self.display_size();
        let (x, y) = (x.clamp(0, (w as i32 - 1).max(0)), y.clamp(0, (h as i32 - 1).max(0)));
        self.input(InputEvent::MouseMove { x, y });
    }

    /// A Smalltalk button: 0 red, 1 yellow, 2 blue.
    pub fn button(&mut self, button: u8, down: bool) {
        let button = match button {
            0 => MouseButton::Red,
            1 => MouseButton::Yellow,
            _ => MouseButton::Blue,
        };
        self.input(InputEvent::Button { button, down });
    }

    /// A modifier key: 0 left shift, 1 right shift, 2 control.
    pub fn modifier(&mut self, which: u8, down: bool) {
        let e = self.keyboard.modifier(which, down);
        self.input(e);
    }

    /// A typed character or a key that types one (see [`Keyboard::type_code`]).
    pub fn type_code(&mut self, code: u16) {
        for e in self.keyboard.type_code(code) {
            self.input(e);
        }
    }

    /// Types pasted text (see [`Keyboard::paste`]).
    pub fn paste(&mut self, text: &str) {
        for e in self.keyboard.paste(text) {
            self.input(e);
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
        let d = std::mem::take(&mut self.damage);
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
        self.vm.display().map(|f| st80_host_std::display_hash(&f))
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
    /// escape, delete). The browser has applied shift already, so a held shift is released
    /// around a printable character (`key::typed` says why).
    pub fn type_code(&self, code: u16) -> Vec<InputEvent> {
        key::typed(code, self.shift)
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

#[cfg(test)]
mod tests {
    use super::*;

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
