//! The image running on a board: the one [`Host`] implementation every board shares (over
//! its [`Board`]), and the loop that pushes the board's input into the interpreter, runs
//! it, and pulls the damage and the cursor out onto the board's framebuffer.

use crate::arch;
use crate::fb::{Framebuffer, Screen};
use crate::{print, println};
use alloc::vec::Vec;
use st80_core::host::{key, Host, InputEvent, Rect, SnapshotError};
use st80_core::{display_hash, Interpreter, StopReason, VirtualClock};

/// Days from 1901-01-01 (Smalltalk-80's epoch) to 1970-01-01 (Unix's).
pub const DAYS_1901_TO_1970: u64 = 69 * 365 + 17;

/// Seconds since 1901 from seconds since 1970 (boards keep UTC; it is shown as local time).
pub fn unix_to_1901(unix: u64) -> u32 {
    (unix + DAYS_1901_TO_1970 * 86_400) as u32
}

/// Input as a board's drivers see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoardInput {
    /// The pointer is at this framebuffer pixel.
    Pointer { x: i32, y: i32 },
    /// A byte typed on the serial console (a terminal's ASCII).
    Char(u8),
    /// Anything else, already in the image's terms.
    Event(InputEvent),
}

/// What a board provides: its framebuffer, its input devices, its clock and its storage.
pub trait Board {
    /// The framebuffer the Display (`width` x `height` pixels) is drawn on, if the board has
    /// one; a board may make it at that size on the first call.
    fn framebuffer(&mut self, width: usize, height: usize) -> Option<&mut Framebuffer>;
    /// Makes what was drawn in `r` (framebuffer pixels) visible, where the device needs that.
    fn present(&mut self, _r: Rect) {}
    /// Appends the input that arrived since the last call.
    fn poll_input(&mut self, out: &mut Vec<BoardInput>);
    /// The wall clock, seconds since 1901 (local time; boards without a real-time clock count
    /// from the time the kernel was built).
    fn seconds_since_1901(&mut self) -> u32 {
        unix_to_1901(crate::build_unix_time() + arch::millis() / 1000)
    }
    /// Stores a snapshot, replacing the saved image atomically.
    fn save_snapshot(&mut self, _image: &[u8]) -> Result<(), SnapshotError> {
        Err(SnapshotError::NoStorage)
    }
    /// An image to boot instead of the embedded one (a saved snapshot), if the board's storage
    /// has one: what it is (for the log), and its bytes.
    fn saved_image(&mut self) -> Option<(&'static str, Vec<u8>)> {
        None
    }
}

/// The core's host on a board: the generic timer for the millisecond clock, the board for the
/// rest, the console for the Transcript.
struct BoardHost<'a, B: Board>(&'a mut B);

impl<B: Board> Host for BoardHost<'_, B> {
    fn millisecond_clock(&mut self) -> u32 {
        arch::millis() as u32
    }
    fn seconds_since_1901(&mut self) -> u32 {
        self.0.seconds_since_1901()
    }
    fn save_snapshot(&mut self, image: &[u8]) -> Result<(), SnapshotError> {
        println!("st80: saving a snapshot ({} bytes)", image.len());
        let result = self.0.save_snapshot(image);
        match &result {
            Ok(()) => println!("st80: snapshot saved"),
            Err(e) => println!("st80: snapshot not saved: {e}"),
        }
        result
    }
    fn transcript(&mut self, text: &str) {
        print!("{text}");
    }
}

/// Bytecodes per slice between looks at the input devices (about a millisecond's work on a
/// Raspberry Pi 3, a few under emulation).
const SLICE: u64 = 20_000;

/// The events that type a byte from the serial console (a terminal sends DEL for backspace
/// and CR for return); bytes the image has no key for are dropped.
pub fn console_key(byte: u8) -> Option<u16> {
    match byte {
        b'\r' | b'\n' => Some(key::RETURN),
        0x7f | 0x08 => Some(key::BACKSPACE),
        b'\t' => Some(key::TAB),
        0x1b => Some(key::ESCAPE),
        0x20..=0x7e => Some(byte as u16),
        _ => None,
    }
}

/// The console byte (^D) that ends a recorded input test.
const END_OF_INPUT: u8 = 4;

/// An event the image took at `cycle`, as a line of `st80 run --replay`'s log (see
/// `st80_host_std::replay`), so a headless run can replay a session typed on the board.
pub fn replay_line(cycle: u64, event: &InputEvent) -> alloc::string::String {
    use st80_core::host::MouseButton;
    let up_down = |down: bool| if down { "down" } else { "up" };
    match *event {
        InputEvent::MouseMove { x, y } => alloc::format!("{cycle} mouse {x} {y}"),
        InputEvent::Button { button, down } => {
            let name = match button {
                MouseButton::Red => "red",
                MouseButton::Yellow => "yellow",
                MouseButton::Blue => "blue",
            };
            alloc::format!("{cycle} button {name} {}", up_down(down))
        }
        InputEvent::Key { code, down } => {
            alloc::format!("{cycle} key{} code{code}", up_down(down))
        }
    }
}

/// Boots the image (a snapshot the board saved, else the embedded one) and runs it for ever:
/// interactively, or, in a test build (`ST80_CYCLES`), for that many bytecodes on the
/// deterministic clock, reporting the display hash on the console.
pub fn run<B: Board>(board: &mut B, boot_ms: u64) -> ! {
    let saved = board.saved_image();
    let bytes: &[u8] = match &saved {
        Some((what, image)) => {
            println!("st80: booting {what} ({} bytes)", image.len());
            image
        }
        None => crate::IMAGE,
    };
    if bytes.is_empty() {
        println!("st80: no image: build the kernel with ST80_IMAGE=path/to/VirtualImage");
        arch::halt();
    }
    let (memory, info) = match st80_core::image::load(bytes) {
        Ok(loaded) => loaded,
        Err(e) => {
            println!("st80: the embedded image cannot be loaded: {e}");
            arch::halt();
        }
    };
    let mut vm = match Interpreter::new(memory) {
        Ok(vm) => vm,
        Err(e) => {
            println!("st80: the embedded image cannot run: {e}");
            arch::halt();
        }
    };
    drop(saved);
    vm.snapshot_byte_order = info.byte_order;
    let test = crate::test_cycles();
    if let Some(n) = test {
        vm.use_virtual_clock(VirtualClock::default());
        println!("st80: test run: {n} bytecodes on the virtual clock");
    }
    println!("st80: image loaded at {} ms ({} KiB of heap free)", arch::millis(), crate::heap::free() / 1024);

    let mut screen: Option<Screen> = None;
    let mut pointer = (0, 0);
    let mut desktop_at = None;
    let mut input = Vec::new();
    let mut evaluating = false;
    // Taking input in a test build (`ST80_RECORD`), after the test run.
    let mut recording = false;
    let run_start = arch::micros();
    loop {
        if test.is_none() || recording {
            board.poll_input(&mut input);
            for i in input.drain(..) {
                match i {
                    BoardInput::Char(END_OF_INPUT) if recording => {
                        println!("st80: end of input");
                        report(&vm, run_start, screen.as_ref());
                        println!("st80: done");
                        arch::halt();
                    }
                    BoardInput::Pointer { x, y } => {
                        let origin = screen.as_ref().map_or((0, 0), |s| s.origin);
                        pointer = (x - origin.0, y - origin.1);
                        let (w, h) = vm.display().map_or((1, 1), |d| (d.width as i32, d.height as i32));
                        pointer = (pointer.0.clamp(0, w - 1), pointer.1.clamp(0, h - 1));
                        vm.push_event(InputEvent::MouseMove { x: pointer.0, y: pointer.1 });
                    }
                    BoardInput::Char(b) => {
                        if let Some(code) = console_key(b) {
                            vm.push_event(InputEvent::Key { code, down: true });
                            vm.push_event(InputEvent::Key { code, down: false });
                        }
                    }
                    BoardInput::Event(e) => vm.push_event(e),
                }
            }
        }
        let slice = match test {
            Some(n) if !evaluating && !recording => SLICE.min(n.saturating_sub(vm.cycles())),
            _ => SLICE,
        };
        let stop = vm.run(&mut BoardHost(board), slice);
        if recording {
            for (cycle, event) in vm.take_delivered_events() {
                println!("st80: input {}", replay_line(cycle, &event));
            }
        }

        // Output: the damaged part of the Display, then the cursor.
        let damage = vm.take_damage();
        let cursor = vm.take_cursor_change();
        if let Some(at) = vm.take_cursor_warp() {
            pointer = at;
        }
        let form = vm.display();
        let size = form.as_ref().map(|f| (f.width, f.height));
        if let (Some(form), Some(fb)) = (form, size.and_then(|(w, h)| board.framebuffer(w, h))) {
            let mut changed = Rect::default();
            let s = screen.get_or_insert_with(|| {
                changed = Rect::new(0, 0, fb.width as i32, fb.height as i32);
                let s = Screen::new(fb, form.width, form.height);
                s.draw(fb, &form, Rect::new(0, 0, form.width as i32, form.height as i32));
                s
            });
            if let Some(r) = damage {
                changed = changed.union(&s.draw(fb, &form, r));
            }
            let shape = cursor.or(s.cursor);
            if test.is_none() && (cursor.is_some() || s.cursor_at != pointer || s.cursor.is_none()) {
                let shape = shape.or_else(|| vm.cursor_bits());
                changed = changed.union(&s.move_cursor(fb, &form, pointer, shape));
            }
            if !changed.is_empty() {
                board.present(changed);
            }
        }
        if damage.is_some() && desktop_at.is_none() && vm.cycles() > 0 {
            let ms = arch::millis();
            desktop_at = Some(ms);
            println!("st80: first drawing at {ms} ms after power-on ({} ms after entering the kernel)", ms - boot_ms);
        }

        match stop {
            StopReason::CyclesDone => {
                if let Some(n) = test {
                    if vm.cycles() >= n && !evaluating && !recording {
                        report(&vm, run_start, screen.as_ref());
                        match crate::test_eval() {
                            Some(expr) => {
                                println!("st80: evaluating {expr}");
                                if let Err(e) = vm.start_evaluation(expr) {
                                    println!("st80: cannot evaluate: {e}");
                                    arch::halt();
                                }
                                evaluating = true;
                            }
                            None if crate::test_record() => {
                                vm.record_events(true);
                                recording = true;
                                println!("st80: recording input (^D on the console ends it)");
                            }
                            None => {
                                println!("st80: done");
                                arch::halt();
                            }
                        }
                    }
                }
            }
            StopReason::Idle { wake_at } => idle(board, wake_at, &mut input),
            StopReason::Quit => {
                println!("st80: the image quit");
                arch::halt();
            }
            StopReason::Error(e) => {
                println!("st80: the VM stopped: {e}");
                arch::halt();
            }
            StopReason::Evaluated => {
                if evaluating {
                    println!("st80: evaluated: {:?}", vm.evaluation_outcome());
                    println!("st80: done");
                    arch::halt();
                }
            }
        }
    }
}

/// Waits until the image's timer is due (at most 50 ms) or input arrives (kept in `input`).
fn idle<B: Board>(board: &mut B, wake_at: u32, input: &mut Vec<BoardInput>) {
    let end = arch::millis() + 50;
    while arch::millis() < end && (wake_at.wrapping_sub(arch::millis() as u32) as i32) > 0 {
        board.poll_input(input);
        if !input.is_empty() {
            return;
        }
        arch::relax();
    }
}

fn report(vm: &Interpreter, run_start: u64, screen: Option<&Screen>) {
    let us = (arch::micros() - run_start).max(1);
    let cycles = vm.cycles();
    println!(
        "st80: ran {cycles} bytecodes in {} ms ({} bytecodes/s)",
        us / 1000,
        cycles as u128 * 1_000_000 / us as u128
    );
    match vm.display() {
        Some(form) => {
            let origin = screen.map_or((0, 0), |s| s.origin);
            println!(
                "st80: display {} x {} at {},{} hash {}",
                form.width,
                form.height,
                origin.0,
                origin.1,
                display_hash(&form)
            );
        }
        None => println!("st80: the image has no display"),
    }
}
