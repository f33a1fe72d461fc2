//! The window: choosing a video driver (or saying there is no display), its size and place on
//! the screen, full screen with or without a window manager, and its icon.

use sdl2::pixels::PixelFormatEnum;
use sdl2::surface::Surface;
use sdl2::video::{FullscreenType, Window, WindowPos};
use sdl2::{Sdl, VideoSubsystem};

/// What to tell the user when there is nothing to show a window on.
pub const NO_DISPLAY_HINT: &str = "run it with --headless, e.g. st80 run IMAGE --headless --screenshot desk.png";

/// Starts SDL's video. Err(reason) when there is no display: SDL would otherwise fall back to
/// its offscreen driver and run invisibly.
pub fn init_video() -> Result<(Sdl, VideoSubsystem), String> {
    #[cfg(all(unix, not(any(target_os = "macos", target_os = "ios", target_os = "android"))))]
    {
        let set = |v: &str| std::env::var_os(v).is_some_and(|s| !s.is_empty());
        if !set("SDL_VIDEODRIVER") && !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
            // No X or Wayland server named: only a console (KMS/DRM) can show the window.
            // Asking for it alone also keeps the Wayland probe from printing its own errors.
            sdl2::hint::set("SDL_VIDEODRIVER", "kmsdrm");
        }
    }
    let sdl = sdl2::init()?;
    let video = sdl.video().map_err(|e| format!("no display to open a window on ({e})"))?;
    let driver = video.current_video_driver();
    let asked = std::env::var("SDL_VIDEODRIVER").unwrap_or_default();
    if (driver == "offscreen" || driver == "dummy") && !asked.contains(driver) {
        return Err(format!("no display to open a window on (only SDL's {driver} video driver is available)"));
    }
    Ok((sdl, video))
}

/// The area a window may take on the display showing `window` (or the first): the usable
/// bounds (without panels and docks) less the window's frame.
pub fn usable_area(video: &VideoSubsystem, window: Option<&Window>) -> Option<sdl2::rect::Rect> {
    let index = window.and_then(|w| w.display_index().ok()).unwrap_or(0);
    let bounds = video.display_usable_bounds(index).or_else(|_| video.display_bounds(index)).ok()?;
    let (top, left, bottom, right) = window.and_then(|w| w.border_size().ok()).unwrap_or((0, 0, 0, 0));
    let w = bounds.width().saturating_sub(left as u32 + right as u32).max(1);
    let h = bounds.height().saturating_sub(top as u32 + bottom as u32).max(1);
    Some(sdl2::rect::Rect::new(bounds.x() + left as i32, bounds.y() + top as i32, w, h))
}

/// The window size for a Display of `size` at `scale`, no larger than `area`: the scale goes
/// down until it fits; a Display larger than the area at scale 1 is shown shrunk to fit, with
/// its proportions.
pub fn fitting_size(size: (u32, u32), scale: u32, area: (u32, u32)) -> (u32, u32) {
    let mut scale = scale.max(1);
    while scale > 1 && (size.0 * scale > area.0 || size.1 * scale > area.1) {
        scale -= 1;
    }
    let (w, h) = (size.0 * scale, size.1 * scale);
    if w <= area.0 && h <= area.1 {
        return (w, h);
    }
    // Shrink: the smaller of the two ratios, in integer arithmetic.
    if (area.0 as u64) * (h as u64) <= (area.1 as u64) * (w as u64) {
        (area.0, ((h as u64 * area.0 as u64) / w as u64).max(1) as u32)
    } else {
        (((w as u64 * area.1 as u64) / h as u64).max(1) as u32, area.1)
    }
}

/// Gives the window the size for a Display of `size` at `scale` that fits the screen, and
/// centres it (not in full screen).
pub fn fit_and_centre(video: &VideoSubsystem, window: &mut Window, size: (u32, u32), scale: u32) {
    if is_fullscreen(window) {
        return;
    }
    let area = usable_area(video, Some(window));
    let (w, h) = match area {
        Some(a) => fitting_size(size, scale, (a.width(), a.height())),
        None => (size.0 * scale, size.1 * scale),
    };
    if let Err(e) = window.set_size(w, h) {
        log::warn!("cannot size the window {w}x{h}: {e}");
    }
    match area {
        Some(a) => window.set_position(
            WindowPos::Positioned(a.x() + (a.width() as i32 - w as i32) / 2),
            WindowPos::Positioned(a.y() + (a.height() as i32 - h as i32) / 2),
        ),
        None => window.set_position(WindowPos::Centered, WindowPos::Centered),
    }
    log::info!("window {w}x{h} for a {}x{} Display", size.0, size.1);
}

/// Whether no window manager frames the window (on X11). A window manager makes a window full
/// screen on request; without one, SDL's request changes only SDL's idea of the window's size,
/// and the picture is drawn for the screen's size into the small window: cropped.
pub fn needs_manual_fullscreen(video: &VideoSubsystem, window: &Window) -> bool {
    video.current_video_driver() == "x11"
        && !window.border_size().is_ok_and(|(t, l, b, r)| t as u32 + l as u32 + b as u32 + r as u32 > 0)
}

/// Full screen on or off. `manual` (no window manager): the window itself is made borderless
/// and as large as the display, which X honours directly.
pub fn set_fullscreen(
    video: &VideoSubsystem,
    window: &mut Window,
    on: bool,
    manual: bool,
    windowed: (u32, u32),
    scale: u32,
) {
    let index = window.display_index().unwrap_or(0);
    if manual {
        if on {
            if let Ok(b) = video.display_bounds(index) {
                window.set_bordered(false);
                let _ = window.set_size(b.width(), b.height());
                window.set_position(WindowPos::Positioned(b.x()), WindowPos::Positioned(b.y()));
                window.raise();
            }
        } else {
            window.set_bordered(true);
            fit_and_centre(video, window, windowed, scale);
        }
        return;
    }
    let mode = if on { FullscreenType::Desktop } else { FullscreenType::Off };
    if let Err(e) = window.set_fullscreen(mode) {
        log::warn!("full screen: {e}");
    }
    if !on {
        fit_and_centre(video, window, windowed, scale);
    }
}

/// Whether the window is full screen (either way).
pub fn is_fullscreen(window: &Window) -> bool {
    window.fullscreen_state() != FullscreenType::Off
        || window.window_flags() & sdl2::sys::SDL_WindowFlags::SDL_WINDOW_BORDERLESS as u32 != 0
}

/// A 32x32 one-bit icon: a hot-air balloon, after the one on Byte's Smalltalk issue (drawn here).
const ICON: [&str; 32] = [
    "................................",
    "...........##########...........",
    "........################........",
    "......####..##....##..####......",
    ".....###...##......##...###.....",
    "....###...##........##...###....",
    "...###....##........##....###...",
    "...##....##..........##....##...",
    "..###....##..........##....###..",
    "..##.....##..........##.....##..",
    "..##.....##..........##.....##..",
    "..##.....##..........##.....##..",
    "..###....##..........##....###..",
    "...##.....##........##.....##...",
    "...###....##........##....###...",
    "....###....##......##....###....",
    ".....###...##......##...###.....",
    "......###...##....##...###......",
    ".......###..##....##..###.......",
    "........###.##....##.###........",
    ".........#############..........",
    "..........#..........#..........",
    "..........#..........#..........",
    "...........#........#...........",
    "...........#........#...........",
    "............#......#............",
    "............#......#............",
    "...........##########...........",
    "...........#........#...........",
    "...........#........#...........",
    "...........##########...........",
    "................................",
];

/// The window icon (black on white, white corners transparent-free for simplicity).
pub fn icon() -> Option<Surface<'static>> {
    let mut surface = Surface::new(32, 32, PixelFormatEnum::ARGB8888).ok()?;
    let pitch = surface.pitch() as usize;
    surface.with_lock_mut(|pixels| {
        for (y, row) in ICON.iter().enumerate() {
            for (x, c) in row.bytes().enumerate() {
                let argb: u32 = if c == b'#' { 0xFF00_0000 } else { 0x00FF_FFFF };
                pixels[y * pitch + x * 4..y * pitch + x * 4 + 4].copy_from_slice(&argb.to_ne_bytes());
            }
        }
    });
    Some(surface)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_fits_the_screen() {
        assert_eq!(fitting_size((640, 480), 2, (1920, 1080)), (1280, 960));
        assert_eq!(fitting_size((1024, 808), 2, (1280, 1000)), (1024, 808));
        assert_eq!(fitting_size((1024, 808), 1, (1280, 1024)), (1024, 808));
        // Larger than the screen at scale 1: shrunk with its proportions.
        assert_eq!(fitting_size((1024, 808), 1, (800, 570)), (722, 570));
        assert_eq!(fitting_size((1024, 808), 1, (512, 1000)), (512, 404));
    }

    #[test]
    fn the_icon_is_square() {
        assert!(ICON.iter().all(|r| r.len() == 32));
    }
}
