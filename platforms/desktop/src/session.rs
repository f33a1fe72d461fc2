//! The session around the image: the record log of `--record`, and the question asked when
//! the window is closed (save, quit without saving, cancel).

use sdl2::messagebox::{self, ButtonData, ClickedButton, MessageBoxButtonFlag, MessageBoxFlag};
use sdl2::video::Window;
use st80_core::Interpreter;
use st80_host_std::replay;
use std::io::Write;

/// Writes the events the image took, with their cycles, in the replay format.
pub struct Recorder {
    out: Option<Box<dyn Write>>,
}

impl Recorder {
    /// Starts recording `vm`'s input to `out` (nothing when None).
    pub fn new(vm: &mut Interpreter, out: Option<Box<dyn Write>>) -> Recorder {
        vm.record_events(out.is_some());
        Recorder { out }
    }

    /// Writes what the image took since the last call.
    pub fn write(&mut self, vm: &mut Interpreter) {
        let Some(w) = self.out.as_mut() else { return };
        for (cycle, event) in vm.take_delivered_events() {
            log::debug!("cycle {cycle}: input {event:?}");
            if let Err(e) = writeln!(w, "{}", replay::format(cycle, &event)) {
                log::error!("cannot write the input record: {e}");
                self.out = None;
                vm.record_events(false);
                return;
            }
        }
    }

    pub fn flush(&mut self) {
        if let Some(w) = self.out.as_mut() {
            if let Err(e) = w.flush() {
                log::error!("cannot write the input record: {e}");
            }
        }
    }
}

/// What the user answered when closing the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseAnswer {
    Save,
    QuitWithoutSaving,
    Cancel,
}

/// Asks whether to save the image to `file` before quitting.
pub fn ask_to_save(window: &Window, file: &str) -> Result<CloseAnswer, String> {
    let buttons = [
        ButtonData { flags: MessageBoxButtonFlag::RETURNKEY_DEFAULT, button_id: 1, text: "Save" },
        ButtonData { flags: MessageBoxButtonFlag::NOTHING, button_id: 2, text: "Quit without saving" },
        ButtonData { flags: MessageBoxButtonFlag::ESCAPEKEY_DEFAULT, button_id: 0, text: "Cancel" },
    ];
    let choice = messagebox::show_message_box(
        MessageBoxFlag::INFORMATION,
        &buttons,
        "Quit Smalltalk-80",
        &format!("Save the image to {file} before quitting?"),
        window,
        None,
    )
    .map_err(|e| format!("cannot ask whether to save: {e:?}"))?;
    Ok(match choice {
        ClickedButton::CustomButton(b) if b.button_id == 1 => CloseAnswer::Save,
        ClickedButton::CustomButton(b) if b.button_id == 2 => CloseAnswer::QuitWithoutSaving,
        _ => CloseAnswer::Cancel,
    })
}

/// Shows an error in a message box (if a window system is there) and logs it. For fatal
/// errors; the caller prints it on stderr too.
pub fn show_error(title: &str, message: &str) {
    log::error!("{message}");
    if let Err(e) = messagebox::show_simple_message_box(MessageBoxFlag::ERROR, title, message, None) {
        log::debug!("no message box: {e}");
    }
}
