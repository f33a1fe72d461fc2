//! The desktop host of the st80 VM: the image's Display in an SDL2 window, with mouse, keyboard,
//! clipboard paste, a real clock and idle sleeping.
//!
//! [`run`] drives an [`Interpreter`] in slices of bytecodes. Between slices it converts the
//! rectangles the image changed (1-bit Display words to texture pixels), uploads only those,
//! and presents at most once per frame (60 Hz). When the core reports the image idle
//! (`Host::idle`), the loop sleeps in `SDL_WaitEventTimeout` until the image's timer is due or
//! an input event arrives (50 ms at most).
//!
//! * **Mouse.** Three Smalltalk buttons: by default left = red, right = yellow, middle = blue
//!   ([`ButtonMap::Xerox`]: left/middle/right = red/yellow/blue); Ctrl+click = yellow,
//!   Alt/Option/Cmd+click = blue. Window coordinates are mapped through the scale and the
//!   letterbox (`SDL_RenderSetLogicalSize`) into Display coordinates. The wheel is ignored.
//! * **Keyboard.** Characters come from SDL text input, so any layout, dead keys and compose
//!   type what the key caps show; the image's character set is ASCII, so other characters are
//!   dropped (with a `debug` log line). A typed character reaches the image with shift, control
//!   and lock up, since the image's own keyboard map would shift it again (see `keyboard`);
//!   the bi-state keys 136-139 follow the real keys otherwise. Backspace, Tab, Return, Escape
//!   and Delete come from key events; Ctrl+letter sends the letter while control is down (the
//!   image decodes it). Ctrl+V / Cmd+V types the host clipboard's text. F11 toggles full screen.
//! * **Clipboard.** What the user copies or cuts in the image goes to the host clipboard.
//! * **Window.** Sized to fit the screen and centred whenever the image changes its Display
//!   size; with no display, [`run`] fails with [`Error::NoDisplay`].
//! * **Record/replay.** Every event delivered to the VM can be written with its cycle in the
//!   format of `st80_headless::replay`; a replayed log is delivered at its cycles (live mouse
//!   and keyboard input is ignored until the log is used up, so a replay is reproducible).

use sdl2::event::{Event, WindowEvent};
use sdl2::keyboard::{Keycode, Mod};
use sdl2::messagebox::{self, ButtonData, ClickedButton, MessageBoxButtonFlag, MessageBoxFlag};
use sdl2::mouse::{Cursor, MouseButton as SdlButton};
use sdl2::pixels::{Color, PixelFormatEnum};
use sdl2::render::{Canvas, Texture, TextureCreator};
use sdl2::video::{Window, WindowContext};
use sdl2::{EventPump, Sdl, VideoSubsystem};
use st80_core::host::{Host, InputEvent, MouseButton, Rect};
use st80_core::{EvalOutcome, Interpreter, StopReason};
use st80_headless::replay::{self, Stamped};
use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod clipboard;
mod keyboard;
mod window;
pub use keyboard::Modifiers;
pub use window::NO_DISPLAY_HINT;

/// Why the desktop could not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Nothing to show a window on (no X/Wayland server, or only SDL's offscreen driver).
    NoDisplay(String),
    /// The window could not be made, or the VM stopped with an error.
    Failed(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NoDisplay(e) | Error::Failed(e) => f.write_str(e),
        }
    }
}

impl From<String> for Error {
    fn from(e: String) -> Error {
        Error::Failed(e)
    }
}

/// Bytecodes per `Interpreter::run` call: between calls the loop presents and sleeps.
const SLICE: u64 = 4096;
/// Time between presented frames (60 Hz).
const FRAME: Duration = Duration::from_micros(16_667);
/// Longest sleep while idle (the core asks for up to 320 ms once the image stays idle; input
/// ends the sleep at once).
const MAX_IDLE_MS: u32 = 500;
/// How often SDL's event queue is pumped while the VM runs.
const PUMP_INTERVAL: Duration = Duration::from_millis(2);
/// Window size when the image has no Display form yet.
const DEFAULT_SIZE: (u32, u32) = (640, 480);
/// The expression the window's Save button evaluates (the image's own snapshot code runs).
pub const SAVE_EXPRESSION: &str = "Smalltalk snapshotAs: 'snapshot' thenQuit: false";

/// Which physical mouse button is which Smalltalk button.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ButtonMap {
    /// Left = red (select), right = yellow (menu), middle = blue (window menu).
    #[default]
    Default,
    /// Left, middle, right = red, yellow, blue, as on the Xerox machines.
    Xerox,
}

/// How to run the desktop.
#[derive(Default)]
pub struct Options {
    /// Window title.
    pub title: String,
    /// Integer scale; None picks one from the screen's DPI (HiDPI screens get 2 or more).
    pub scale: Option<u32>,
    pub fullscreen: bool,
    pub buttons: ButtonMap,
    /// Ask whether to save before closing the window.
    pub confirm_close: bool,
    /// Where snapshots go (primitive 97 and the close dialog's Save); None fails them.
    pub snapshot_path: Option<PathBuf>,
    /// Write every input event delivered to the VM here, in the replay format.
    pub record: Option<Box<dyn Write>>,
    /// Events to deliver at their cycles (see `st80_headless::replay`).
    pub replay: Vec<Stamped>,
    /// Stop after the VM has run this many bytecodes in total.
    pub max_cycles: Option<u64>,
    /// Echo the Transcript to stdout.
    pub transcript: bool,
    /// The host files the image's file primitives see (primitives 128-133).
    pub files: Option<st80_headless::HostFiles>,
}

/// Why [`run`] returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The image quit (its own quit menu item).
    ImageQuit,
    /// The window was closed (after saving, if the user chose to), or the process was
    /// interrupted (SIGINT/SIGTERM).
    Closed,
    /// `max_cycles` bytecodes ran.
    CyclesDone,
}

/// Shows an error in a message box (if a window system is there) and logs it. For fatal
/// errors; the caller prints it on stderr too.
pub fn show_error(title: &str, message: &str) {
    log::error!("{message}");
    if let Err(e) = messagebox::show_simple_message_box(MessageBoxFlag::ERROR, title, message, None) {
        log::debug!("no message box: {e}");
    }
}

/// Runs the image in a window until it quits, the window is closed, or `max_cycles` ran.
/// The window shows the final screen until this returns.
pub fn run(vm: &mut Interpreter, options: Options) -> Result<Outcome, Error> {
    let mut host = Desktop::new(vm, options)?;
    if host.transcript {
        vm.set_transcript_echo(true);
    }
    let outcome = host.main_loop(vm).map_err(Error::Failed);
    host.flush_record();
    if let Ok(outcome) = &outcome {
        // Show the final frame (a screenshot of the window then matches the Display form).
        host.present(vm, true);
        log::info!("desktop stopped at cycle {}: {outcome:?}", vm.cycles());
    }
    outcome
}

/// The desktop [`Host`]: window, renderer, input translation, clock.
pub struct Desktop {
    sdl: Sdl,
    video: VideoSubsystem,
    canvas: Canvas<Window>,
    creator: TextureCreator<WindowContext>,
    texture: Texture,
    /// Size of the Display form the texture holds.
    size: (u32, u32),
    scale: u32,
    pump: EventPump,
    cursor: Option<Cursor>,
    start: Instant,
    /// Changed part of the Display not yet uploaded.
    dirty: Rect,
    /// The window needs presenting even without Display changes (exposed, resized).
    stale: bool,
    next_frame: Instant,
    last_pump: Instant,
    /// Input waiting for `poll_event`.
    queue: VecDeque<InputEvent>,
    /// Scripted input (cycle, event), in order.
    replay: VecDeque<Stamped>,
    record: Option<Box<dyn Write>>,
    /// The Smalltalk button each SDL button (left, middle, right) pressed, for its release.
    pressed: [Option<MouseButton>; 3],
    buttons: ButtonMap,
    /// Last pointer position sent to the image.
    mouse: (i32, i32),
    /// The modifier keys as the image last saw them (see `keyboard`).
    image_mods: Modifiers,
    /// Full screen is done by hand (X without a window manager, see `window`).
    manual_fullscreen: bool,
    /// The image's copy buffer, for the host clipboard.
    selection: Option<clipboard::SelectionWatch>,
    next_selection_check: Instant,
    idle_wake: Option<u32>,
    close_requested: bool,
    interrupted: bool,
    confirm_close: bool,
    /// Live input is dropped (during a save).
    input_blocked: bool,
    snapshot_path: Option<PathBuf>,
    save_error: Option<String>,
    max_cycles: Option<u64>,
    transcript: bool,
    files: Option<st80_headless::HostFiles>,
}

impl Desktop {
    fn new(vm: &Interpreter, options: Options) -> Result<Desktop, Error> {
        let (sdl, video) = window::init_video().map_err(Error::NoDisplay)?;
        sdl2::hint::set("SDL_RENDER_SCALE_QUALITY", "0");
        sdl2::hint::set("SDL_MOUSE_FOCUS_CLICKTHROUGH", "1");
        let size = vm.display().map(|d| (d.width as u32, d.height as u32)).unwrap_or(DEFAULT_SIZE);
        let size = (size.0.max(1), size.1.max(1));
        let scale = options.scale.unwrap_or_else(|| auto_scale(&video, size)).max(1);
        let open_window = || {
            let mut builder = video.window(&options.title, size.0 * scale, size.1 * scale);
            builder.position_centered().resizable().allow_highdpi();
            builder.build().map_err(|e| format!("cannot open a window: {e}"))
        };
        let canvas = match open_window()?.into_canvas().accelerated().build() {
            Ok(c) => c,
            Err(e) => {
                log::info!("no accelerated renderer ({e}); using the software renderer");
                open_window()?
                    .into_canvas()
                    .software()
                    .build()
                    .map_err(|e| format!("cannot draw in the window: {e}"))?
            }
        };
        let mut canvas = canvas;
        if let Some(icon) = window::icon() {
            canvas.window_mut().set_icon(icon);
        }
        window::fit_and_centre(&video, canvas.window_mut(), size, scale);
        let manual_fullscreen = window::needs_manual_fullscreen(&video, canvas.window());
        if options.fullscreen {
            window::set_fullscreen(&video, canvas.window_mut(), true, manual_fullscreen, size, scale);
        }
        let creator = canvas.texture_creator();
        let texture = new_texture(&creator, size)?;
        let pump = sdl.event_pump()?;
        video.text_input().start();
        let now = Instant::now();
        let mut desktop = Desktop {
            sdl,
            video,
            canvas,
            creator,
            texture,
            size,
            scale,
            pump,
            cursor: None,
            start: now,
            dirty: Rect::new(0, 0, size.0 as i32, size.1 as i32),
            stale: true,
            next_frame: now,
            last_pump: now,
            queue: VecDeque::new(),
            replay: options.replay.into(),
            record: options.record,
            pressed: [None; 3],
            buttons: options.buttons,
            mouse: (0, 0),
            image_mods: Modifiers::default(),
            manual_fullscreen,
            selection: clipboard::SelectionWatch::new(vm),
            next_selection_check: now,
            idle_wake: None,
            close_requested: false,
            interrupted: false,
            confirm_close: options.confirm_close,
            input_blocked: false,
            snapshot_path: options.snapshot_path,
            save_error: None,
            max_cycles: options.max_cycles,
            transcript: options.transcript,
            files: options.files,
        };
        desktop.canvas.set_logical_size(size.0, size.1).map_err(|e| e.to_string())?;
        desktop.canvas.set_draw_color(Color::RGB(0, 0, 0));
        if let Some(bits) = vm.cursor_bits() {
            desktop.cursor_changed(&bits);
        }
        log::info!(
            "window {}x{} at scale {scale} ({} video driver)",
            size.0,
            size.1,
            desktop.video.current_video_driver()
        );
        Ok(desktop)
    }

    fn main_loop(&mut self, vm: &mut Interpreter) -> Result<Outcome, String> {
        loop {
            let slice = match self.max_cycles {
                Some(max) if vm.cycles() >= max => return Ok(Outcome::CyclesDone),
                Some(max) => SLICE.min(max - vm.cycles()),
                None => SLICE,
            };
            match vm.run(self, slice) {
                StopReason::CyclesDone => {}
                StopReason::Quit => return Ok(Outcome::ImageQuit),
                StopReason::Error(e) => return Err(format!("the virtual machine stopped: {e}")),
                StopReason::Evaluated => {
                    log::debug!("an evaluation ended: {:?}", vm.evaluation_outcome());
                }
            }
            self.present(vm, false);
            self.export_selection(vm);
            if self.interrupted {
                return Ok(Outcome::Closed);
            }
            if self.close_requested {
                self.close_requested = false;
                if !self.confirm_close || self.confirm_and_save(vm)? {
                    return Ok(Outcome::Closed);
                }
            }
            if let Some(wake) = self.idle_wake.take() {
                self.sleep_until(wake);
            }
        }
    }

    /// Asks whether to save; true when the desktop should close.
    fn confirm_and_save(&mut self, vm: &mut Interpreter) -> Result<bool, String> {
        let buttons = [
            ButtonData { flags: MessageBoxButtonFlag::RETURNKEY_DEFAULT, button_id: 1, text: "Save" },
            ButtonData { flags: MessageBoxButtonFlag::NOTHING, button_id: 2, text: "Quit without saving" },
            ButtonData { flags: MessageBoxButtonFlag::ESCAPEKEY_DEFAULT, button_id: 0, text: "Cancel" },
        ];
        let file = self.snapshot_path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
        let choice = messagebox::show_message_box(
            MessageBoxFlag::INFORMATION,
            &buttons,
            "Quit Smalltalk-80",
            &format!("Save the image to {file} before quitting?"),
            self.canvas.window(),
            None,
        )
        .map_err(|e| format!("cannot ask whether to save: {e:?}"))?;
        let id = match choice {
            ClickedButton::CustomButton(b) => b.button_id,
            ClickedButton::CloseButton => 0,
        };
        match id {
            1 => match self.save(vm) {
                Ok(()) => Ok(true),
                Err(e) => {
                    show_error("Smalltalk-80", &format!("The image was not saved: {e}"));
                    Ok(false)
                }
            },
            2 => Ok(true),
            _ => Ok(false),
        }
    }

    /// Runs the image's own snapshot code, which hands the image to `save_snapshot`.
    fn save(&mut self, vm: &mut Interpreter) -> Result<(), String> {
        vm.start_evaluation(SAVE_EXPRESSION)?;
        self.save_error = None;
        self.input_blocked = true;
        let started = Instant::now();
        let result = loop {
            match vm.run(self, SLICE) {
                StopReason::Evaluated => break Ok(()),
                StopReason::Quit => break Ok(()),
                StopReason::Error(e) => break Err(format!("the virtual machine stopped: {e}")),
                StopReason::CyclesDone => {}
            }
            self.present(vm, false);
            if started.elapsed() > Duration::from_secs(60) {
                vm.cancel_evaluation();
                break Err("the snapshot did not finish within 60 seconds".to_string());
            }
            if let Some(wake) = self.idle_wake.take() {
                self.sleep_until(wake);
            }
        };
        self.input_blocked = false;
        result?;
        if let Some(e) = self.save_error.take() {
            return Err(e);
        }
        match vm.evaluation_outcome() {
            Some(EvalOutcome::RuntimeError { message, .. }) => Err(message),
            Some(EvalOutcome::CompileError { message, .. }) => Err(message),
            _ => {
                log::info!("saved the image to {:?}", self.snapshot_path);
                Ok(())
            }
        }
    }

    /// Uploads what changed and presents, if a frame is due (or `force`).
    fn present(&mut self, vm: &Interpreter, force: bool) {
        if self.dirty.is_empty() && !self.stale {
            return;
        }
        let now = Instant::now();
        if !force && now < self.next_frame {
            return;
        }
        if !self.dirty.is_empty() {
            if let Some(form) = vm.display() {
                if (form.width as u32, form.height as u32) != self.size {
                    self.resize(form.width, form.height);
                }
                let r = clip(self.dirty, self.size);
                if !r.is_empty() {
                    let pixels = convert(&form, r);
                    let rect = sdl2::rect::Rect::new(r.x, r.y, r.w as u32, r.h as u32);
                    if let Err(e) = self.texture.update(rect, &pixels, r.w as usize * 4) {
                        log::warn!("texture update failed: {e}");
                    }
                }
            }
            self.dirty = Rect::default();
        }
        self.canvas.clear();
        if let Err(e) = self.canvas.copy(&self.texture, None, None) {
            log::warn!("drawing the Display failed: {e}");
        }
        self.canvas.present();
        self.stale = false;
        self.next_frame = now + FRAME;
    }

    /// A new Display size: new texture, logical size and (unless full screen) window size.
    fn resize(&mut self, width: usize, height: usize) {
        let size = (width.max(1) as u32, height.max(1) as u32);
        if size == self.size {
            return;
        }
        log::info!("display is now {}x{}", size.0, size.1);
        match new_texture(&self.creator, size) {
            Ok(t) => {
                let old = std::mem::replace(&mut self.texture, t);
                // SAFETY: the old texture's renderer is alive; nothing refers to it any more.
                unsafe { old.destroy() };
            }
            Err(e) => {
                log::error!("cannot make a {}x{} texture: {e}", size.0, size.1);
                return;
            }
        }
        self.size = size;
        if let Err(e) = self.canvas.set_logical_size(size.0, size.1) {
            log::warn!("set_logical_size: {e}");
        }
        window::fit_and_centre(&self.video, self.canvas.window_mut(), size, self.scale);
        self.dirty = Rect::new(0, 0, size.0 as i32, size.1 as i32);
        self.stale = true;
    }

    /// Sleeps until the clock reaches `wake` or an event arrives (at most MAX_IDLE_MS); wakes
    /// earlier when a pending frame is due.
    fn sleep_until(&mut self, wake: u32) {
        let now = self.now_ms();
        let mut timeout = (wake.wrapping_sub(now) as i32).clamp(0, MAX_IDLE_MS as i32) as u32;
        if !self.dirty.is_empty() || self.stale {
            let frame = self.next_frame.saturating_duration_since(Instant::now()).as_millis() as u32;
            timeout = timeout.min(frame);
        }
        if !self.queue.is_empty() || timeout == 0 {
            return;
        }
        if let Some(event) = self.pump.wait_event_timeout(timeout) {
            self.handle(event);
            self.pump_events();
        }
    }

    fn now_ms(&self) -> u32 {
        self.start.elapsed().as_millis() as u32
    }

    fn pump_events(&mut self) {
        self.last_pump = Instant::now();
        while let Some(event) = self.pump.poll_event() {
            self.handle(event);
        }
    }

    /// Queues live input (unless a replay is running or input is blocked); false if dropped.
    fn input(&mut self, event: InputEvent) -> bool {
        if self.input_blocked || !self.replay.is_empty() {
            return false;
        }
        // Coalesce pointer motion not yet delivered.
        if let (InputEvent::MouseMove { .. }, Some(InputEvent::MouseMove { .. })) = (event, self.queue.back()) {
            self.queue.pop_back();
        }
        self.queue.push_back(event);
        true
    }

    fn type_char(&mut self, code: u16) {
        self.input(InputEvent::Key { code, down: true });
        self.input(InputEvent::Key { code, down: false });
    }

    fn handle(&mut self, event: Event) {
        match event {
            // The last window closed gives WindowEvent::Close first; a bare Quit is SIGINT/SIGTERM.
            Event::Quit { .. } if !self.close_requested => self.interrupted = true,
            Event::Window { win_event, .. } => match win_event {
                WindowEvent::Close => self.close_requested = true,
                WindowEvent::Exposed
                | WindowEvent::Resized(..)
                | WindowEvent::SizeChanged(..)
                | WindowEvent::Restored
                | WindowEvent::Shown => self.stale = true,
                _ => {}
            },
            Event::MouseMotion { x, y, .. } => {
                let p = self.clamp_point(x, y);
                self.mouse = p;
                self.input(InputEvent::MouseMove { x: p.0, y: p.1 });
            }
            Event::MouseButtonDown { mouse_btn, x, y, .. } => {
                let Some(slot) = slot(mouse_btn) else { return };
                let keymod = self.sdl.keyboard().mod_state();
                let Some(button) = smalltalk_button(self.buttons, mouse_btn, keymod) else { return };
                let p = self.clamp_point(x, y);
                if p != self.mouse {
                    self.mouse = p;
                    self.input(InputEvent::MouseMove { x: p.0, y: p.1 });
                }
                if let Some(old) = self.pressed[slot].replace(button) {
                    self.input(InputEvent::Button { button: old, down: false });
                }
                self.input(InputEvent::Button { button, down: true });
            }
            Event::MouseButtonUp { mouse_btn, .. } => {
                let Some(slot) = slot(mouse_btn) else { return };
                if let Some(button) = self.pressed[slot].take() {
                    self.input(InputEvent::Button { button, down: false });
                }
            }
            Event::KeyDown { keycode: Some(k), keymod, repeat, .. } => self.key_down(k, keymod, repeat),
            Event::KeyUp { keycode: Some(k), keymod, .. } if keyboard::is_modifier(k) => {
                self.sync_modifiers(Modifiers::from_sdl(keymod));
            }
            Event::TextInput { text, .. } => {
                let keymod = self.sdl.keyboard().mod_state();
                if keyboard::control_only(keymod) {
                    return; // Ctrl+key is sent from the key event
                }
                let mut codes = Vec::with_capacity(text.len());
                for c in text.chars() {
                    match keyboard::image_char(c) {
                        Some(code) => codes.push(code),
                        None => log::debug!("dropped {c:?}: the image has no such character"),
                    }
                }
                self.type_plain(&codes);
            }
            _ => {}
        }
    }

    fn key_down(&mut self, k: Keycode, keymod: Mod, repeat: bool) {
        if k == Keycode::F11 {
            if !repeat {
                self.toggle_fullscreen();
            }
            return;
        }
        if keyboard::is_modifier(k) {
            self.sync_modifiers(Modifiers::from_sdl(keymod));
            return;
        }
        let alt = keymod.intersects(Mod::LALTMOD | Mod::RALTMOD);
        let paste_mod = keymod.intersects(Mod::LCTRLMOD | Mod::RCTRLMOD | Mod::LGUIMOD | Mod::RGUIMOD);
        if k == Keycode::V && paste_mod && !alt {
            self.paste();
            return;
        }
        // Keys the image decodes itself, with the modifiers as they are (ctrl+letter gives the
        // image's control characters, shift+ctrl+c its emergency evaluator).
        let code = match keyboard::special_key_code(k) {
            Some(code) => code,
            None if keyboard::control_only(keymod) && (0x20..0x7f).contains(&k.into_i32()) => k.into_i32() as u16,
            None => return,
        };
        self.sync_modifiers(Modifiers::from_sdl(keymod));
        self.type_char(code);
    }

    /// Sends the bi-state key events that make the image's modifiers `want`.
    fn sync_modifiers(&mut self, want: Modifiers) {
        for event in self.image_mods.transition(want) {
            if !self.input(event) {
                return;
            }
        }
        self.image_mods = want;
    }

    /// Types characters the host has already decoded (shift and layout applied).
    fn type_plain(&mut self, codes: &[u16]) {
        if codes.is_empty() {
            return;
        }
        for event in keyboard::type_plain(self.image_mods, codes) {
            self.input(event);
        }
    }

    fn toggle_fullscreen(&mut self) {
        let on = !window::is_fullscreen(self.canvas.window());
        window::set_fullscreen(
            &self.video,
            self.canvas.window_mut(),
            on,
            self.manual_fullscreen,
            self.size,
            self.scale,
        );
        self.stale = true;
    }

    /// Hands text the user copied or cut in the image to the host clipboard (checked at most
    /// every 100 ms).
    fn export_selection(&mut self, vm: &Interpreter) {
        let now = Instant::now();
        if now < self.next_selection_check {
            return;
        }
        self.next_selection_check = now + Duration::from_millis(100);
        let Some(text) = self.selection.as_mut().and_then(|s| s.changed(vm)) else { return };
        match self.video.clipboard().set_clipboard_text(&text) {
            Ok(()) => log::debug!("copied {} characters to the clipboard", text.len()),
            Err(e) => log::warn!("cannot set the clipboard: {e}"),
        }
    }

    /// Types the clipboard's text (newlines become CR), with the modifiers released meanwhile.
    fn paste(&mut self) {
        let text = match self.video.clipboard().clipboard_text() {
            Ok(t) => t,
            Err(e) => {
                log::debug!("nothing to paste: {e}");
                return;
            }
        };
        self.type_plain(&keyboard::paste_codes(&text));
    }

    fn clamp_point(&self, x: i32, y: i32) -> (i32, i32) {
        (x.clamp(0, self.size.0 as i32 - 1), y.clamp(0, self.size.1 as i32 - 1))
    }

    /// Writes one event to the record log.
    fn record(&mut self, cycles: u64, event: &InputEvent) {
        if let Some(w) = self.record.as_mut() {
            if let Err(e) = writeln!(w, "{}", replay::format(cycles, event)) {
                log::error!("cannot write the input record: {e}");
                self.record = None;
            }
        }
    }

    fn flush_record(&mut self) {
        if let Some(w) = self.record.as_mut() {
            if let Err(e) = w.flush() {
                log::error!("cannot write the input record: {e}");
            }
        }
    }
}

impl Host for Desktop {
    fn millisecond_clock(&mut self, _cycles: u64) -> u32 {
        self.now_ms()
    }

    fn seconds_since_1901(&mut self, _cycles: u64) -> u32 {
        st80_headless::clock::local_seconds_since_1901()
    }

    fn poll_event(&mut self, cycles: u64) -> Option<InputEvent> {
        if self.queue.is_empty() && self.last_pump.elapsed() >= PUMP_INTERVAL {
            self.pump_events();
        }
        let event = match self.replay.front() {
            Some(&(at, event)) if at <= cycles => {
                self.replay.pop_front();
                Some(event)
            }
            _ => self.queue.pop_front(),
        }?;
        log::debug!("cycle {cycles}: input {event:?}");
        self.record(cycles, &event);
        Some(event)
    }

    fn display_resized(&mut self, width: usize, height: usize) {
        self.resize(width, height);
    }

    fn display_changed(&mut self, rect: Rect) {
        self.dirty = self.dirty.union(&rect);
    }

    fn cursor_changed(&mut self, bits: &[u16; 16]) {
        let data: Vec<u8> = bits.iter().flat_map(|w| w.to_be_bytes()).collect();
        match Cursor::new(&data, &data, 16, 16, 0, 0) {
            Ok(cursor) => {
                cursor.set();
                self.cursor = Some(cursor); // the previous one is freed after the switch
            }
            Err(e) => log::warn!("cannot make the cursor: {e}"),
        }
    }

    fn cursor_moved(&mut self, x: i32, y: i32) {
        if (x, y) == self.mouse {
            return;
        }
        self.mouse = (x, y);
        let window = self.canvas.window();
        let mouse = self.sdl.mouse();
        if mouse.focused_window_id() != Some(window.id()) {
            log::debug!("cursor moved to {x},{y}: not warping the pointer (it is outside the window)");
            return;
        }
        log::debug!("cursor moved to {x},{y}: warping the pointer");
        // Logical (Display) coordinates to window coordinates.
        let viewport = self.canvas.viewport();
        let (sx, sy) = self.canvas.scale();
        let (ww, wh) = window.size();
        let (dw, dh) = window.drawable_size();
        let (px, py) = (ww as f32 / dw.max(1) as f32, wh as f32 / dh.max(1) as f32);
        let wx = ((x + viewport.x()) as f32 * sx * px) as i32;
        let wy = ((y + viewport.y()) as f32 * sy * py) as i32;
        mouse.warp_mouse_in_window(window, wx, wy);
    }

    fn transcript(&mut self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.replace('\r', "\n").as_bytes());
        let _ = out.flush();
    }

    fn file_system(&mut self) -> Option<&mut dyn st80_core::host::FileSystem> {
        self.files.as_mut().map(|f| f as &mut dyn st80_core::host::FileSystem)
    }

    fn save_snapshot(&mut self, image: &[u8]) -> Result<(), String> {
        let path = self.snapshot_path.as_ref().ok_or("no file to save the image to")?;
        let result = st80_headless::write_image_atomically(path, image).map_err(|e| format!("{}: {e}", path.display()));
        match &result {
            Ok(()) => log::info!("wrote a snapshot to {}", path.display()),
            Err(e) => {
                log::error!("snapshot not written: {e}");
                self.save_error = Some(e.clone());
            }
        }
        result
    }

    fn idle(&mut self, wake_at: Option<u32>) {
        self.idle_wake = Some(wake_at.unwrap_or_else(|| self.now_ms().wrapping_add(MAX_IDLE_MS)));
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        let texture = std::mem::replace(
            &mut self.texture,
            match new_texture(&self.creator, (1, 1)) {
                Ok(t) => t,
                Err(_) => return,
            },
        );
        // SAFETY: the renderer (canvas) is still alive here; it is dropped after this.
        unsafe {
            texture.destroy();
        }
    }
}

fn new_texture(creator: &TextureCreator<WindowContext>, size: (u32, u32)) -> Result<Texture, String> {
    creator.create_texture_streaming(PixelFormatEnum::ARGB8888, size.0, size.1).map_err(|e| e.to_string())
}

/// The integer scale for a window of `size` on the first display: its DPI / 96, but no larger
/// than fits the usable screen area.
fn auto_scale(video: &VideoSubsystem, size: (u32, u32)) -> u32 {
    let dpi = video.display_dpi(0).map(|(d, _, _)| d).unwrap_or(96.0);
    let mut scale = ((dpi / 96.0).round() as u32).clamp(1, 8);
    if let Ok(bounds) = video.display_usable_bounds(0) {
        while scale > 1 && (size.0 * scale > bounds.width() || size.1 * scale > bounds.height()) {
            scale -= 1;
        }
    }
    log::debug!("screen {dpi:.0} dpi: scale {scale}");
    scale
}

fn clip(r: Rect, size: (u32, u32)) -> Rect {
    let x0 = r.x.max(0);
    let y0 = r.y.max(0);
    let x1 = (r.x + r.w).min(size.0 as i32);
    let y1 = (r.y + r.h).min(size.1 as i32);
    Rect::new(x0, y0, x1 - x0, y1 - y0)
}

/// The ARGB8888 pixels of rectangle `r` (inside the form) of a 1-bit form (1 = black).
pub fn convert(form: &st80_core::DisplayForm<'_>, r: Rect) -> Vec<u8> {
    const BLACK: [u8; 4] = 0xFF00_0000u32.to_ne_bytes();
    const WHITE: [u8; 4] = 0xFFFF_FFFFu32.to_ne_bytes();
    let raster = form.raster();
    let mut out = Vec::with_capacity(r.w as usize * r.h as usize * 4);
    for y in r.y as usize..(r.y + r.h) as usize {
        let row = &form.bits[y * raster..(y + 1) * raster];
        for x in r.x as usize..(r.x + r.w) as usize {
            let black = row[x / 16] & (0x8000 >> (x % 16)) != 0;
            out.extend_from_slice(if black { &BLACK } else { &WHITE });
        }
    }
    out
}

fn slot(b: SdlButton) -> Option<usize> {
    match b {
        SdlButton::Left => Some(0),
        SdlButton::Middle => Some(1),
        SdlButton::Right => Some(2),
        _ => None,
    }
}

/// The Smalltalk button for a physical button with these modifiers held.
pub fn smalltalk_button(map: ButtonMap, b: SdlButton, keymod: Mod) -> Option<MouseButton> {
    let ctrl = keymod.intersects(Mod::LCTRLMOD | Mod::RCTRLMOD);
    let alt = keymod.intersects(Mod::LALTMOD | Mod::RALTMOD | Mod::LGUIMOD | Mod::RGUIMOD);
    match (b, map) {
        (SdlButton::Left, _) if ctrl => Some(MouseButton::Yellow),
        (SdlButton::Left, _) if alt => Some(MouseButton::Blue),
        (SdlButton::Left, _) => Some(MouseButton::Red),
        (SdlButton::Right, ButtonMap::Default) | (SdlButton::Middle, ButtonMap::Xerox) => Some(MouseButton::Yellow),
        (SdlButton::Middle, ButtonMap::Default) | (SdlButton::Right, ButtonMap::Xerox) => Some(MouseButton::Blue),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_map_both_ways_and_with_modifiers() {
        use MouseButton::*;
        let none = Mod::NOMOD;
        assert_eq!(smalltalk_button(ButtonMap::Default, SdlButton::Left, none), Some(Red));
        assert_eq!(smalltalk_button(ButtonMap::Default, SdlButton::Right, none), Some(Yellow));
        assert_eq!(smalltalk_button(ButtonMap::Default, SdlButton::Middle, none), Some(Blue));
        assert_eq!(smalltalk_button(ButtonMap::Xerox, SdlButton::Middle, none), Some(Yellow));
        assert_eq!(smalltalk_button(ButtonMap::Xerox, SdlButton::Right, none), Some(Blue));
        assert_eq!(smalltalk_button(ButtonMap::Default, SdlButton::Left, Mod::LCTRLMOD), Some(Yellow));
        assert_eq!(smalltalk_button(ButtonMap::Default, SdlButton::Left, Mod::LALTMOD), Some(Blue));
        assert_eq!(smalltalk_button(ButtonMap::Default, SdlButton::Left, Mod::RGUIMOD), Some(Blue));
        assert_eq!(smalltalk_button(ButtonMap::Default, SdlButton::X1, none), None);
    }

    #[test]
    fn converts_one_bit_rows() {
        let bits = [0x8001u16, 0xFFFF, 0x0000, 0x4000];
        let form = st80_core::DisplayForm { width: 20, height: 2, bits: &bits };
        let px = convert(&form, Rect::new(15, 0, 3, 2));
        let black = |i: usize| px[i * 4..i * 4 + 4] == 0xFF00_0000u32.to_ne_bytes();
        assert!(black(0) && black(1) && black(2)); // (15,0) (16,0) (17,0)
        assert!(!black(3) && !black(4) && black(5)); // (15,1) (16,1) (17,1)
    }
}
