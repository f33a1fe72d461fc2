//! Input: SDL events become the image's input events (pushed into the interpreter) or requests
//! to the desktop (close, full screen, paste).
//!
//! * **Mouse.** Three Smalltalk buttons: by default left = red, right = yellow, middle = blue
//!   ([`ButtonMap::Xerox`]: left/middle/right = red/yellow/blue); Ctrl+click = yellow,
//!   Alt/Option/Cmd+click = blue. Window coordinates arrive already mapped through the scale
//!   and letterbox (`SDL_RenderSetLogicalSize`) into Display coordinates. The wheel is ignored.
//! * **Keyboard.** See `keyboard`: typed characters reach the image with the modifiers up.

use crate::keyboard::{self, Modifiers};
use crate::ButtonMap;
use sdl2::event::{Event, WindowEvent};
use sdl2::keyboard::{Keycode, Mod};
use sdl2::mouse::MouseButton as SdlButton;
use st80_core::{InputEvent, MouseButton};

/// What an SDL event asks of the desktop besides input for the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// The window's close button.
    Close,
    /// SIGINT/SIGTERM (SDL's bare Quit).
    Interrupt,
    /// F11.
    ToggleFullscreen,
    /// Ctrl+V / Cmd+V: type the host clipboard.
    Paste,
    /// The window must be drawn again.
    Redraw,
}

/// The state input translation needs: buttons held, the pointer, the modifiers as the image
/// last saw them.
pub struct Input {
    buttons: ButtonMap,
    /// The Smalltalk button each SDL button (left, middle, right) pressed, for its release.
    pressed: [Option<MouseButton>; 3],
    /// Last pointer position sent to the image.
    pub mouse: (i32, i32),
    /// The modifier keys as the image last saw them (see `keyboard`).
    image_mods: Modifiers,
    close_requested: bool,
}

impl Input {
    pub fn new(buttons: ButtonMap) -> Input {
        Input { buttons, pressed: [None; 3], mouse: (0, 0), image_mods: Modifiers::default(), close_requested: false }
    }

    /// Translates one SDL event: image input goes to `out`; a request for the desktop is
    /// answered. `keymod` is the keyboard's modifier state now, `size` the Display's size.
    pub fn handle(
        &mut self,
        event: Event,
        keymod: Mod,
        size: (u32, u32),
        out: &mut Vec<InputEvent>,
    ) -> Option<Request> {
        let clamp = |x: i32, y: i32| (x.clamp(0, size.0 as i32 - 1), y.clamp(0, size.1 as i32 - 1));
        match event {
            // The last window closed gives WindowEvent::Close first; a bare Quit is SIGINT/SIGTERM.
            Event::Quit { .. } if !self.close_requested => return Some(Request::Interrupt),
            Event::Window { win_event, .. } => match win_event {
                WindowEvent::Close => {
                    self.close_requested = true;
                    return Some(Request::Close);
                }
                WindowEvent::Exposed
                | WindowEvent::Resized(..)
                | WindowEvent::SizeChanged(..)
                | WindowEvent::Restored
                | WindowEvent::Shown => return Some(Request::Redraw),
                _ => {}
            },
            Event::MouseMotion { x, y, .. } => {
                self.mouse = clamp(x, y);
                out.push(InputEvent::MouseMove { x: self.mouse.0, y: self.mouse.1 });
            }
            Event::MouseButtonDown { mouse_btn, x, y, .. } => {
                let slot = slot(mouse_btn)?;
                let button = smalltalk_button(self.buttons, mouse_btn, keymod)?;
                let p = clamp(x, y);
                if p != self.mouse {
                    self.mouse = p;
                    out.push(InputEvent::MouseMove { x: p.0, y: p.1 });
                }
                if let Some(old) = self.pressed[slot].replace(button) {
                    out.push(InputEvent::Button { button: old, down: false });
                }
                out.push(InputEvent::Button { button, down: true });
            }
            Event::MouseButtonUp { mouse_btn, .. } => {
                if let Some(button) = self.pressed[slot(mouse_btn)?].take() {
                    out.push(InputEvent::Button { button, down: false });
                }
            }
            Event::KeyDown { keycode: Some(k), keymod, repeat, .. } => return self.key_down(k, keymod, repeat, out),
            Event::KeyUp { keycode: Some(k), keymod, .. } if keyboard::is_modifier(k) => {
                self.sync_modifiers(Modifiers::from_sdl(keymod), out);
            }
            Event::TextInput { text, .. } => {
                if keyboard::control_only(keymod) {
                    return None; // Ctrl+key is sent from the key event
                }
                let mut codes = Vec::with_capacity(text.len());
                for c in text.chars() {
                    match keyboard::image_char(c) {
                        Some(code) => codes.push(code),
                        None => log::debug!("dropped {c:?}: the image has no such character"),
                    }
                }
                self.type_plain(&codes, out);
            }
            _ => {}
        }
        None
    }

    /// The window's close was answered (the user cancelled quitting).
    pub fn close_cancelled(&mut self) {
        self.close_requested = false;
    }

    fn key_down(&mut self, k: Keycode, keymod: Mod, repeat: bool, out: &mut Vec<InputEvent>) -> Option<Request> {
        if k == Keycode::F11 {
            return (!repeat).then_some(Request::ToggleFullscreen);
        }
        if keyboard::is_modifier(k) {
            self.sync_modifiers(Modifiers::from_sdl(keymod), out);
            return None;
        }
        let alt = keymod.intersects(Mod::LALTMOD | Mod::RALTMOD);
        let paste_mod = keymod.intersects(Mod::LCTRLMOD | Mod::RCTRLMOD | Mod::LGUIMOD | Mod::RGUIMOD);
        if k == Keycode::V && paste_mod && !alt {
            return Some(Request::Paste);
        }
        // Keys the image decodes itself, with the modifiers as they are (ctrl+letter gives the
        // image's control characters, shift+ctrl+c its emergency evaluator).
        let code = match keyboard::special_key_code(k) {
            Some(code) => code,
            None if keyboard::control_only(keymod) && (0x20..0x7f).contains(&k.into_i32()) => k.into_i32() as u16,
            None => return None,
        };
        self.sync_modifiers(Modifiers::from_sdl(keymod), out);
        out.push(InputEvent::Key { code, down: true });
        out.push(InputEvent::Key { code, down: false });
        None
    }

    /// The bi-state key events that make the image's modifiers `want`.
    fn sync_modifiers(&mut self, want: Modifiers, out: &mut Vec<InputEvent>) {
        out.extend(self.image_mods.transition(want));
        self.image_mods = want;
    }

    /// Types characters the host has already decoded (shift and layout applied).
    pub fn type_plain(&mut self, codes: &[u16], out: &mut Vec<InputEvent>) {
        if !codes.is_empty() {
            out.extend(keyboard::type_plain(self.image_mods, codes));
        }
    }

    /// The modifiers as the image last saw them.
    pub fn modifiers(&self) -> Modifiers {
        self.image_mods
    }

    /// Input translated since `modifiers()` was read was dropped: the image still sees these.
    pub fn restore_modifiers(&mut self, seen: Modifiers) {
        self.image_mods = seen;
    }
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
    fn a_click_moves_the_pointer_first_and_releases_what_it_pressed() {
        let mut input = Input::new(ButtonMap::Default);
        let mut out = Vec::new();
        let down = Event::MouseButtonDown {
            timestamp: 0,
            window_id: 0,
            which: 0,
            mouse_btn: SdlButton::Left,
            clicks: 1,
            x: 700,
            y: 5,
        };
        assert_eq!(input.handle(down, Mod::LCTRLMOD, (640, 480), &mut out), None);
        let up = Event::MouseButtonUp {
            timestamp: 0,
            window_id: 0,
            which: 0,
            mouse_btn: SdlButton::Left,
            clicks: 1,
            x: 0,
            y: 0,
        };
        input.handle(up, Mod::NOMOD, (640, 480), &mut out);
        assert_eq!(
            out,
            vec![
                InputEvent::MouseMove { x: 639, y: 5 },
                InputEvent::Button { button: MouseButton::Yellow, down: true },
                InputEvent::Button { button: MouseButton::Yellow, down: false },
            ]
        );
    }
}
