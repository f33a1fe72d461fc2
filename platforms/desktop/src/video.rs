//! Output: the Display form in a window (a streaming texture updated only where the image drew,
//! presented at most once per frame), the image's cursor as the pointer, full screen.

use crate::window;
use sdl2::mouse::Cursor;
use sdl2::pixels::{Color, PixelFormatEnum};
use sdl2::render::{Canvas, Texture, TextureCreator};
use sdl2::video::{Window, WindowContext};
use sdl2::VideoSubsystem;
use st80_core::{Interpreter, Rect};
use std::time::{Duration, Instant};

/// Time between presented frames (60 Hz).
const FRAME: Duration = Duration::from_micros(16_667);
/// While the image computes, a frame waits at least this many times what the last one cost, so
/// that drawing takes at most 1/(1 + this) of the time (3 %): a slow renderer (software, as
/// under Xvfb, ~2 ms a frame) lowers the frame rate instead of slowing the image down ...
const COMPUTING_FRAME_SPACING: u32 = 32;
/// ... but not below 10 frames a second (a renderer slower than 3 ms a frame takes more).
const LONGEST_FRAME: Duration = Duration::from_millis(100);
/// Window size when the image has no Display form yet.
const DEFAULT_SIZE: (u32, u32) = (640, 480);

/// The window and what it shows.
pub struct Video {
    pub(crate) video: VideoSubsystem,
    canvas: Canvas<Window>,
    creator: TextureCreator<WindowContext>,
    texture: Texture,
    /// Size of the Display form the texture holds.
    size: (u32, u32),
    scale: u32,
    cursor: Option<Cursor>,
    /// Changed part of the Display not yet uploaded.
    dirty: Rect,
    /// The window needs presenting even without Display changes (exposed, resized).
    stale: bool,
    next_frame: Instant,
    /// Full screen is done by hand (X without a window manager, see `window`).
    manual_fullscreen: bool,
    /// Frames presented, and the time spent converting, uploading and presenting them.
    pub(crate) frames: u64,
    pub(crate) display_time: Duration,
}

impl Video {
    /// Opens a window for `vm`'s Display (centred, fitting the screen).
    pub fn open(
        video: VideoSubsystem,
        vm: &Interpreter,
        title: &str,
        scale: Option<u32>,
        fullscreen: bool,
    ) -> Result<Video, String> {
        sdl2::hint::set("SDL_RENDER_SCALE_QUALITY", "0");
        sdl2::hint::set("SDL_MOUSE_FOCUS_CLICKTHROUGH", "1");
        let size = vm.display().map(|d| (d.width as u32, d.height as u32)).unwrap_or(DEFAULT_SIZE);
        let size = (size.0.max(1), size.1.max(1));
        let scale = scale.unwrap_or_else(|| auto_scale(&video, size)).max(1);
        let mut builder = video.window(title, size.0 * scale, size.1 * scale);
        builder.position_centered().resizable().allow_highdpi();
        let window = builder.build().map_err(|e| format!("cannot open a window: {e}"))?;
        // No renderer flags: SDL tries the accelerated renderers first and falls back to its
        // software one itself, in the same window. (Asking for an accelerated one and, when
        // that failed, for a software one in a second window flashed a window where there is
        // no GL, as under Xvfb.)
        let mut canvas = window.into_canvas().build().map_err(|e| format!("cannot draw in the window: {e}"))?;
        log::info!("renderer: {}", canvas.info().name);
        if let Some(icon) = window::icon() {
            canvas.window_mut().set_icon(icon);
        }
        window::fit_and_centre(&video, canvas.window_mut(), size, scale);
        let manual_fullscreen = window::needs_manual_fullscreen(&video, canvas.window());
        if fullscreen {
            window::set_fullscreen(&video, canvas.window_mut(), true, manual_fullscreen, size, scale);
        }
        canvas.set_logical_size(size.0, size.1).map_err(|e| e.to_string())?;
        canvas.set_draw_color(Color::RGB(0, 0, 0));
        let creator = canvas.texture_creator();
        let texture = new_texture(&creator, size)?;
        log::info!("window {}x{} at scale {scale} ({} video driver)", size.0, size.1, video.current_video_driver());
        let mut v = Video {
            video,
            canvas,
            creator,
            texture,
            size,
            scale,
            cursor: None,
            dirty: Rect::new(0, 0, size.0 as i32, size.1 as i32),
            stale: true,
            next_frame: Instant::now(),
            manual_fullscreen,
            frames: 0,
            display_time: Duration::ZERO,
        };
        if let Some(bits) = vm.cursor_bits() {
            v.set_cursor(&bits);
        }
        Ok(v)
    }

    /// The size of the Display form shown.
    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// Takes what the image changed since the last call: damage, cursor shape, cursor moves
    /// (`mouse` is where the pointer is, so a move there needs no warp).
    pub fn take_output(&mut self, vm: &mut Interpreter, mouse: (i32, i32)) {
        if let Some(r) = vm.take_damage() {
            self.dirty = self.dirty.union(&r);
        }
        if let Some(bits) = vm.take_cursor_change() {
            self.set_cursor(&bits);
        }
        if let Some(p) = vm.take_cursor_warp() {
            if p != mouse {
                self.warp_pointer(p);
            }
        }
    }

    /// The window must be drawn again (exposed, resized).
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// How long until a frame with pending changes is due (None: nothing to present).
    pub fn frame_due_in(&self) -> Option<Duration> {
        (!self.dirty.is_empty() || self.stale).then(|| self.next_frame.saturating_duration_since(Instant::now()))
    }

    /// Uploads what changed and presents, if a frame is due (or `force`). `computing`: the image
    /// is busy, so the next frame is spaced by this one's cost (`COMPUTING_FRAME_SPACING`);
    /// otherwise (waiting for input, e.g. typing) frames follow at 60 Hz.
    pub fn present(&mut self, vm: &Interpreter, force: bool, computing: bool) {
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
        let cost = now.elapsed();
        self.frames += 1;
        self.display_time += cost;
        self.next_frame = now + frame_spacing(cost, computing);
    }

    /// A new Display size: new texture, logical size, and the window fitted and centred.
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

    pub fn toggle_fullscreen(&mut self) {
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

    /// The window (for dialogs parented to it).
    pub fn window(&self) -> &Window {
        self.canvas.window()
    }

    /// The image's 16x16 cursor as the pointer.
    fn set_cursor(&mut self, bits: &[u16; 16]) {
        let data: Vec<u8> = bits.iter().flat_map(|w| w.to_be_bytes()).collect();
        match Cursor::new(&data, &data, 16, 16, 0, 0) {
            Ok(cursor) => {
                cursor.set();
                self.cursor = Some(cursor); // the previous one is freed after the switch
            }
            Err(e) => log::warn!("cannot make the cursor: {e}"),
        }
    }

    /// Moves the pointer to Display point `(x, y)` (the image moved its cursor), if the
    /// pointer is in the window.
    fn warp_pointer(&self, (x, y): (i32, i32)) {
        let window = self.canvas.window();
        let mouse = window.subsystem().sdl().mouse();
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
}

impl Drop for Video {
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

/// How long after a frame that cost `cost` the next may be presented (see
/// `COMPUTING_FRAME_SPACING`).
fn frame_spacing(cost: Duration, computing: bool) -> Duration {
    if computing {
        FRAME.max(cost * COMPUTING_FRAME_SPACING).min(LONGEST_FRAME)
    } else {
        FRAME
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_while_computing_take_at_most_a_thirty_third_of_the_time() {
        let ms = Duration::from_millis;
        // A fast renderer keeps 60 Hz; a software one (2 ms a frame) is spaced to 3 %.
        assert_eq!(frame_spacing(Duration::from_micros(300), true), FRAME);
        assert_eq!(frame_spacing(ms(2), true), ms(64));
        assert!(ms(2).as_secs_f64() / frame_spacing(ms(2), true).as_secs_f64() <= 1.0 / 32.0);
        // Never below 10 frames a second; while the image waits for input, always 60 Hz.
        assert_eq!(frame_spacing(ms(20), true), ms(100));
        assert_eq!(frame_spacing(ms(2), false), FRAME);
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

    #[test]
    fn clips_to_the_form() {
        assert_eq!(clip(Rect::new(-5, 10, 20, 100), (10, 50)), Rect::new(0, 10, 10, 40));
    }
}
