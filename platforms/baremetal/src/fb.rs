//! The Display on a 32-bit framebuffer: the 1-bit form drawn black on white, centred, and the
//! cursor drawn over it by the host (there is no hardware cursor to lean on).

use st80_core::interpreter::DisplayForm;
use st80_core::Rect;

const BLACK: u32 = 0xff00_0000;
const WHITE: u32 = 0xffff_ffff;

/// A linear framebuffer of 32-bit pixels (any of the usual byte orders: only black and white
/// are drawn).
pub struct Framebuffer {
    pub base: *mut u32,
    pub width: usize,
    pub height: usize,
    /// Pixels from one row to the next.
    pub stride: usize,
}

/// Where the Display and the cursor are on a framebuffer.
#[derive(Default)]
pub struct Screen {
    /// The Display's top-left corner on the framebuffer.
    pub origin: (i32, i32),
    /// The cursor's shape (none: not drawn, as in the tests, whose screendumps must equal the
    /// Display).
    pub cursor: Option<[u16; 16]>,
    /// The cursor's hot spot in Display coordinates.
    pub cursor_at: (i32, i32),
}

impl Framebuffer {
    fn put(&mut self, x: usize, y: usize, v: u32) {
        if x < self.width && y < self.height {
            // SAFETY: inside the framebuffer the board handed us.
            unsafe { self.base.add(y * self.stride + x).write_volatile(v) };
        }
    }

    fn get(&self, x: usize, y: usize) -> u32 {
        // SAFETY: as in `put`; callers stay inside.
        unsafe { self.base.add(y * self.stride + x).read_volatile() }
    }

    /// Paints the whole framebuffer `v`.
    pub fn fill(&mut self, v: u32) {
        for y in 0..self.height {
            for x in 0..self.width {
                self.put(x, y, v);
            }
        }
    }
}

impl Screen {
    /// Centres a `w` x `h` Display on `fb` and paints the border white.
    pub fn new(fb: &mut Framebuffer, w: usize, h: usize) -> Screen {
        fb.fill(WHITE);
        let origin = ((fb.width.saturating_sub(w) / 2) as i32, (fb.height.saturating_sub(h) / 2) as i32);
        Screen { origin, cursor: None, cursor_at: (0, 0) }
    }

    /// Draws `r` (Display coordinates) of the Display, then the cursor again if `r` covered
    /// it; answers the framebuffer rectangle that changed.
    pub fn draw(&self, fb: &mut Framebuffer, form: &DisplayForm<'_>, r: Rect) -> Rect {
        let r = clip(r, form.width, form.height);
        let raster = form.raster();
        for y in r.y..r.y + r.h {
            let row = y as usize * raster;
            for x in r.x..r.x + r.w {
                let word = form.bits.get(row + x as usize / 16).copied().unwrap_or(0);
                let black = word & (0x8000 >> (x % 16)) != 0;
                fb.put((x + self.origin.0) as usize, (y + self.origin.1) as usize, if black { BLACK } else { WHITE });
            }
        }
        let cursor = self.cursor_rect();
        if self.cursor.is_some() && !r.is_empty() && overlaps(&r, &cursor) {
            self.draw_cursor(fb);
        }
        Rect::new(r.x + self.origin.0, r.y + self.origin.1, r.w, r.h)
    }

    fn cursor_rect(&self) -> Rect {
        Rect::new(self.cursor_at.0, self.cursor_at.1, 16, 16)
    }

    /// Inverts the pixels under the cursor's 1 bits (visible on black and on white).
    fn draw_cursor(&self, fb: &mut Framebuffer) {
        let Some(shape) = self.cursor else { return };
        for (dy, bits) in shape.iter().enumerate() {
            for dx in 0..16 {
                if bits & (0x8000 >> dx) != 0 {
                    let x = self.cursor_at.0 + self.origin.0 + dx;
                    let y = self.cursor_at.1 + self.origin.1 + dy as i32;
                    if x >= 0 && y >= 0 && (x as usize) < fb.width && (y as usize) < fb.height {
                        let v = if fb.get(x as usize, y as usize) == BLACK { WHITE } else { BLACK };
                        fb.put(x as usize, y as usize, v);
                    }
                }
            }
        }
    }

    /// Moves the cursor and/or changes its shape: the Display is drawn again where it was,
    /// then the cursor where it is. Answers the framebuffer rectangle that changed.
    pub fn move_cursor(
        &mut self,
        fb: &mut Framebuffer,
        form: &DisplayForm<'_>,
        at: (i32, i32),
        shape: Option<[u16; 16]>,
    ) -> Rect {
        let old = self.cursor_rect();
        let had = self.cursor.take();
        let mut changed = if had.is_some() { self.draw(fb, form, old) } else { Rect::default() };
        self.cursor = shape;
        self.cursor_at = at;
        if self.cursor.is_some() {
            self.draw_cursor(fb);
            let c = self.cursor_rect();
            changed = changed.union(&Rect::new(c.x + self.origin.0, c.y + self.origin.1, c.w, c.h));
        }
        changed
    }
}

fn overlaps(a: &Rect, b: &Rect) -> bool {
    a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
}

fn clip(r: Rect, w: usize, h: usize) -> Rect {
    let (x0, y0) = (r.x.max(0), r.y.max(0));
    let (x1, y1) = ((r.x + r.w).min(w as i32), (r.y + r.h).min(h as i32));
    if x1 <= x0 || y1 <= y0 {
        Rect::default()
    } else {
        Rect::new(x0, y0, x1 - x0, y1 - y0)
    }
}
