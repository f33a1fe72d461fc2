//! [`Session`] for JavaScript (wasm-bindgen). Only plain numbers, strings and byte arrays
//! cross; www/st80.js is the other side.

use crate::{Session, Status};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct Vm(Session);

#[wasm_bindgen]
impl Vm {
    /// Loads an image. `max_cycles` (0 = none) selects the deterministic mode.
    #[wasm_bindgen(constructor)]
    pub fn new(image: &[u8], max_cycles: f64) -> Result<Vm, String> {
        let max = (max_cycles > 0.0).then_some(max_cycles as u64);
        Session::new(image, max).map(Vm)
    }

    /// Runs a slice. Answers "running", "idle <ms>", "done", "quit", "error <text>",
    /// "value <printString>" or "failed <message>" (an evaluation the page started).
    pub fn run(&mut self, cycles: f64) -> String {
        match self.0.run(cycles as u64) {
            Status::Running => "running".into(),
            Status::Idle(ms) => format!("idle {ms}"),
            Status::Done => "done".into(),
            Status::Quit => "quit".into(),
            Status::Error(e) => format!("error {e}"),
            Status::Evaluated(Ok(v)) => format!("value {v}"),
            Status::Evaluated(Err(e)) => format!("failed {e}"),
        }
    }

    pub fn add_script(&mut self, text: &str) -> Result<(), String> {
        self.0.add_script(text)
    }

    pub fn script_pending(&self) -> usize {
        self.0.script_pending()
    }

    pub fn mouse_move(&mut self, x: i32, y: i32) {
        self.0.mouse_move(x, y);
    }

    pub fn button(&mut self, button: u8, down: bool) {
        self.0.button(button, down);
    }

    pub fn modifier(&mut self, which: u8, down: bool) {
        self.0.modifier(which, down);
    }

    pub fn type_code(&mut self, code: u16) {
        self.0.type_code(code);
    }

    pub fn paste(&mut self, text: &str) {
        self.0.paste(text);
    }

    pub fn evaluate(&mut self, source: &str) -> Result<(), String> {
        self.0.evaluate(source)
    }

    /// Starts the image's own snapshot code (`crate::SAVE_EXPRESSION`).
    pub fn start_save(&mut self) -> Result<(), String> {
        self.0.evaluate(crate::SAVE_EXPRESSION)
    }

    /// Starts reading the image's copy buffer (`crate::COPY_EXPRESSION`).
    pub fn start_copy(&mut self) -> Result<(), String> {
        self.0.evaluate(crate::COPY_EXPRESSION)
    }

    pub fn cycles(&self) -> f64 {
        self.0.vm.cycles() as f64
    }

    pub fn width(&self) -> usize {
        self.0.display_size().0
    }

    pub fn height(&self) -> usize {
        self.0.display_size().1
    }

    /// The damaged rectangle [x, y, w, h] since the last call, or an empty array.
    pub fn take_damage(&mut self) -> Vec<i32> {
        self.0.take_damage().map(|r| vec![r.x, r.y, r.w, r.h]).unwrap_or_default()
    }

    /// RGBA pixels of a rectangle of the Display.
    pub fn rgba(&self, x: i32, y: i32, w: i32, h: i32) -> Vec<u8> {
        self.0.rgba(st80_core::Rect::new(x, y, w, h))
    }

    /// A new cursor (16 rows of 16 bits, leftmost pixel in the high bit), or an empty array.
    pub fn take_cursor(&mut self) -> Vec<u16> {
        self.0.take_cursor().map(|c| c.to_vec()).unwrap_or_default()
    }

    pub fn display_hash(&self) -> Option<String> {
        self.0.display_hash()
    }

    /// The snapshot the image saved since the last call, or an empty array.
    pub fn take_snapshot(&mut self) -> Vec<u8> {
        self.0.host.snapshot.take().unwrap_or_default()
    }

    pub fn put_file(&mut self, name: &str, bytes: Vec<u8>) {
        self.0.host.files.insert(name, bytes);
    }

    pub fn file(&self, name: &str) -> Option<Vec<u8>> {
        self.0.host.files.get(name).map(<[u8]>::to_vec)
    }

    /// Names of the files changed since the last call, one per line.
    pub fn take_changed_files(&mut self) -> String {
        self.0.host.files.take_changed().join("\n")
    }

    pub fn file_names(&self) -> String {
        self.0.host.files.names().join("\n")
    }
}
