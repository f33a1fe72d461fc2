//! The desktop host of the st80 VM: the image's Display in an SDL2 window, with mouse, keyboard,
//! host clipboard both ways, the real clock and idle sleeping.
//!
//! [`run`] is the host loop every st80 host has: push the input events that arrived into the
//! interpreter, run a slice of bytecodes, present what changed, and sleep while the image is
//! idle (`StopReason::Idle`) until its timer is due or input arrives. One file per concern:
//!
//! * `video`: the window, the texture updated only where the image drew (1-bit Display words
//!   to pixels), at most one frame per 60 Hz tick, the image's cursor, full screen; `window`
//!   sizes and centres the window and draws its icon.
//! * `input` and `keyboard`: SDL events to the image's input events (three buttons, any
//!   keyboard layout; typed characters reach the image as typed).
//! * `clipboard`: what the user copies or cuts in the image goes to the host clipboard; Ctrl+V
//!   types the host clipboard.
//! * `session`: the close dialog (save, quit, cancel) and the `--record` log.
//!
//! With no display, [`run`] fails with [`Error::NoDisplay`]. A replayed log (`--replay`) is
//! delivered at its cycles; live input is ignored until the log is used up, so a replay is
//! reproducible.

mod clipboard;
mod input;
mod keyboard;
mod session;
mod video;
mod window;

pub use input::smalltalk_button;
pub use keyboard::Modifiers;
pub use session::show_error;
pub use video::convert;
pub use window::NO_DISPLAY_HINT;

use input::{Input, Request};
use session::{CloseAnswer, Recorder};
use st80_core::host::{FileSystem, Host, SnapshotError};
use st80_core::{EvalOutcome, InputEvent, Interpreter, StopReason};
use st80_host_std::replay::{self, Stamped};
use st80_host_std::{HostFiles, SystemClock};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use video::Video;

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

/// Bytecodes per `Interpreter::run` call: between calls the loop takes input and presents.
const SLICE: u64 = 4096;
/// Longest sleep while idle (the core asks for up to 320 ms once the image stays idle; input
/// ends the sleep at once).
const MAX_IDLE_MS: u32 = 500;
/// How often SDL's event queue is looked at while the image runs flat out.
const PUMP_INTERVAL: Duration = Duration::from_millis(2);
/// How often the image's copy buffer is compared with what the host clipboard got last.
const SELECTION_INTERVAL: Duration = Duration::from_millis(100);
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
    /// Events to deliver at their cycles (see `st80_host_std::replay`).
    pub replay: Vec<Stamped>,
    /// Stop after the VM has run this many bytecodes in total.
    pub max_cycles: Option<u64>,
    /// Echo the Transcript to stdout.
    pub transcript: bool,
    /// The host files the image's file primitives see (primitives 128-133).
    pub files: Option<st80_host_std::HostFiles>,
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

/// What [`run`] did: why it returned, and what showing the Display cost.
#[derive(Clone, Debug)]
pub struct Report {
    pub outcome: Outcome,
    /// Frames presented.
    pub frames: u64,
    /// Time spent converting the Display's changes, uploading and presenting them.
    pub display_time: Duration,
    /// From the last input the image was given (or the start) to the end: what the image did
    /// on its own after the user's last action (e.g. a do-it that ends with `Smalltalk quit`),
    /// and the part of it spent drawing.
    pub after_input: Duration,
    pub display_after_input: Duration,
}

impl Report {
    /// The share of the time after the last input that went to drawing, in %.
    pub fn display_share(&self) -> f64 {
        100.0 * self.display_after_input.as_secs_f64() / self.after_input.as_secs_f64().max(1e-9)
    }
}

/// Runs the image in a window until it quits, the window is closed, or `max_cycles` ran.
/// The window shows the final screen until this returns.
pub fn run(vm: &mut Interpreter, options: Options) -> Result<Report, Error> {
    let (sdl, video) = window::init_video().map_err(Error::NoDisplay)?;
    let video = Video::open(video, vm, &options.title, options.scale, options.fullscreen)?;
    let pump = sdl.event_pump()?;
    video.video.text_input().start();
    if options.transcript {
        vm.set_transcript_echo(true);
    }
    let replaying = !options.replay.is_empty();
    replay::schedule(vm, &options.replay);
    let mut desktop = Desktop {
        recorder: Recorder::new(vm, options.record),
        selection: clipboard::SelectionWatch::new(vm),
        sdl,
        video,
        pump,
        input: Input::new(options.buttons),
        host: DesktopHost { clock: SystemClock::default(), snapshot_path: options.snapshot_path, files: options.files },
        replaying,
        next_selection_check: Instant::now(),
        last_pump: Instant::now(),
        confirm_close: options.confirm_close,
        max_cycles: options.max_cycles,
        last_input: (Instant::now(), Duration::ZERO),
    };
    let outcome = desktop.main_loop(vm).map_err(Error::Failed);
    desktop.recorder.write(vm);
    desktop.recorder.flush();
    if let Ok(outcome) = &outcome {
        // Show the final frame (a screenshot of the window then matches the Display form).
        desktop.video.take_output(vm, desktop.input.mouse);
        desktop.video.present(vm, true, false);
        log::info!("desktop stopped at cycle {}: {outcome:?}", vm.cycles());
    }
    let outcome = outcome?;
    Ok(Report {
        outcome,
        frames: desktop.video.frames,
        display_time: desktop.video.display_time,
        after_input: desktop.last_input.0.elapsed(),
        display_after_input: desktop.video.display_time - desktop.last_input.1,
    })
}

/// What the core asks of the desktop while it runs: the real clocks, crash-safe snapshots to
/// the image file, host files, the Transcript on stdout.
struct DesktopHost {
    clock: SystemClock,
    snapshot_path: Option<PathBuf>,
    files: Option<HostFiles>,
}

impl Host for DesktopHost {
    fn millisecond_clock(&mut self) -> u32 {
        self.clock.millisecond_clock()
    }

    fn seconds_since_1901(&mut self) -> u32 {
        self.clock.seconds_since_1901()
    }

    fn save_snapshot(&mut self, image: &[u8]) -> Result<(), SnapshotError> {
        let result = st80_host_std::snapshot::save_snapshot(self.snapshot_path.as_deref(), image);
        match &result {
            Ok(()) => log::info!("wrote a snapshot to {:?}", self.snapshot_path),
            Err(e) => log::error!("snapshot not written: {e}"),
        }
        result
    }

    fn file_system(&mut self) -> Option<&mut dyn FileSystem> {
        self.files.as_mut().map(|f| f as &mut dyn FileSystem)
    }

    fn transcript(&mut self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.replace('\r', "\n").as_bytes());
        let _ = out.flush();
    }
}

/// The running desktop: the window, input translation, the host the core calls, the session.
struct Desktop {
    sdl: sdl2::Sdl,
    video: Video,
    pump: sdl2::EventPump,
    input: Input,
    host: DesktopHost,
    recorder: Recorder,
    /// The image's copy buffer, for the host clipboard.
    selection: Option<clipboard::SelectionWatch>,
    next_selection_check: Instant,
    /// A replayed log is still being delivered (live input is ignored meanwhile).
    replaying: bool,
    last_pump: Instant,
    confirm_close: bool,
    max_cycles: Option<u64>,
    /// When the image was last given input, and the display time then (see `Report`).
    last_input: (Instant, Duration),
}

impl Desktop {
    fn main_loop(&mut self, vm: &mut Interpreter) -> Result<Outcome, String> {
        loop {
            let slice = match self.max_cycles {
                Some(max) if vm.cycles() >= max => return Ok(Outcome::CyclesDone),
                Some(max) => SLICE.min(max - vm.cycles()),
                None => SLICE,
            };
            let mut requests = Vec::new();
            if self.last_pump.elapsed() >= PUMP_INTERVAL {
                self.pump(vm, true, &mut requests, None);
            }
            let stop = vm.run(&mut self.host, slice);
            self.take_output(vm, stop == StopReason::CyclesDone);
            match stop {
                StopReason::CyclesDone => {}
                StopReason::Idle { wake_at } => self.sleep_until(vm, wake_at, true, &mut requests),
                StopReason::Quit => return Ok(Outcome::ImageQuit),
                StopReason::Error(e) => return Err(format!("the virtual machine stopped: {e}")),
                StopReason::Evaluated => log::debug!("an evaluation ended: {:?}", vm.evaluation_outcome()),
            }
            for request in requests {
                match request {
                    Request::Interrupt => return Ok(Outcome::Closed),
                    Request::Close => {
                        if !self.confirm_close || self.confirm_and_save(vm)? {
                            return Ok(Outcome::Closed);
                        }
                        self.input.close_cancelled();
                    }
                    Request::ToggleFullscreen => self.video.toggle_fullscreen(),
                    Request::Redraw => self.video.mark_stale(),
                    Request::Paste => self.paste(vm),
                }
            }
        }
    }

    /// After a slice: record what the image took, present what it drew, export its copy buffer.
    /// `computing`: the slice ran to its end (the image is busy; see `Video::present`).
    fn take_output(&mut self, vm: &mut Interpreter, computing: bool) {
        self.recorder.write(vm);
        if self.replaying && vm.pending_events() == 0 {
            self.replaying = false;
        }
        self.video.take_output(vm, self.input.mouse);
        self.video.present(vm, false, computing);
        self.export_selection(vm);
    }

    /// Handles the SDL events waiting (starting with `first`, if given): image input is pushed
    /// into `vm` when `accept` (and no replay runs), requests go to `requests`.
    fn pump(
        &mut self,
        vm: &mut Interpreter,
        accept: bool,
        requests: &mut Vec<Request>,
        first: Option<sdl2::event::Event>,
    ) {
        self.last_pump = Instant::now();
        let seen = self.input.modifiers();
        let mut events = Vec::new();
        let mut next = first;
        while let Some(event) = next.take().or_else(|| self.pump.poll_event()) {
            let keymod = self.sdl.keyboard().mod_state();
            if let Some(request) = self.input.handle(event, keymod, self.video.size(), &mut events) {
                requests.push(request);
            }
        }
        if accept && !self.replaying {
            if !events.is_empty() {
                self.last_input = (Instant::now(), self.video.display_time);
            }
            for event in events {
                vm.push_event(event);
            }
        } else if !events.is_empty() {
            log::debug!("dropped {} input events (a replay or a save is running)", events.len());
            self.input.restore_modifiers(seen);
        }
    }

    /// Sleeps until the clock reaches `wake` or an event arrives (at most MAX_IDLE_MS); wakes
    /// earlier when a pending frame is due.
    fn sleep_until(&mut self, vm: &mut Interpreter, wake: u32, accept: bool, requests: &mut Vec<Request>) {
        let now = self.host.clock.millisecond_clock();
        let mut timeout = (wake.wrapping_sub(now) as i32).clamp(0, MAX_IDLE_MS as i32) as u32;
        if let Some(frame) = self.video.frame_due_in() {
            timeout = timeout.min(frame.as_millis() as u32);
        }
        if timeout == 0 {
            return;
        }
        if let Some(event) = self.pump.wait_event_timeout(timeout) {
            self.pump(vm, accept, requests, Some(event));
        }
    }

    /// Asks whether to save; true when the desktop should close.
    fn confirm_and_save(&mut self, vm: &mut Interpreter) -> Result<bool, String> {
        let file = self.host.snapshot_path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
        match session::ask_to_save(self.video.window(), &file)? {
            CloseAnswer::Save => match self.save(vm) {
                Ok(()) => Ok(true),
                Err(e) => {
                    show_error("Smalltalk-80", &format!("The image was not saved: {e}"));
                    Ok(false)
                }
            },
            CloseAnswer::QuitWithoutSaving => Ok(true),
            CloseAnswer::Cancel => Ok(false),
        }
    }

    /// Runs the image's own snapshot code, which hands the image to `save_snapshot`; live input
    /// is dropped meanwhile.
    fn save(&mut self, vm: &mut Interpreter) -> Result<(), String> {
        vm.start_evaluation(SAVE_EXPRESSION)?;
        vm.take_snapshot_error();
        let started = Instant::now();
        let mut ignored = Vec::new();
        loop {
            let stop = vm.run(&mut self.host, SLICE);
            match &stop {
                StopReason::Evaluated | StopReason::Quit => break,
                StopReason::Error(e) => return Err(format!("the virtual machine stopped: {e}")),
                StopReason::CyclesDone => {}
                StopReason::Idle { wake_at } => self.sleep_until(vm, *wake_at, false, &mut ignored),
            }
            self.take_output(vm, stop == StopReason::CyclesDone);
            if started.elapsed() > Duration::from_secs(60) {
                vm.cancel_evaluation();
                return Err("the snapshot did not finish within 60 seconds".to_string());
            }
        }
        if let Some(e) = vm.take_snapshot_error() {
            return Err(e.to_string());
        }
        match vm.evaluation_outcome() {
            Some(EvalOutcome::RuntimeError { message, .. }) => Err(message),
            Some(EvalOutcome::CompileError { message, .. }) => Err(message),
            _ => {
                log::info!("saved the image to {:?}", self.host.snapshot_path);
                Ok(())
            }
        }
    }

    /// Hands text the user copied or cut in the image to the host clipboard.
    fn export_selection(&mut self, vm: &Interpreter) {
        let now = Instant::now();
        if now < self.next_selection_check {
            return;
        }
        self.next_selection_check = now + SELECTION_INTERVAL;
        let Some(text) = self.selection.as_mut().and_then(|s| s.changed(vm)) else { return };
        match self.video.video.clipboard().set_clipboard_text(&text) {
            Ok(()) => log::debug!("copied {} characters to the clipboard", text.len()),
            Err(e) => log::warn!("cannot set the clipboard: {e}"),
        }
    }

    /// Types the clipboard's text (newlines become CR), with the modifiers released meanwhile.
    fn paste(&mut self, vm: &mut Interpreter) {
        let text = match self.video.video.clipboard().clipboard_text() {
            Ok(t) => t,
            Err(e) => {
                log::debug!("nothing to paste: {e}");
                return;
            }
        };
        if self.replaying {
            return;
        }
        let mut events: Vec<InputEvent> = Vec::new();
        self.input.type_plain(&keyboard::paste_codes(&text), &mut events);
        self.last_input = (Instant::now(), self.video.display_time);
        for event in events {
            vm.push_event(event);
        }
    }
}
