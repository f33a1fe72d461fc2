//! BitBlt (Blue Book ch. 18, "BitBlt" and the `copyBits` simulation; ch. 29 primitives 96,
//! 103 and 104).
//!
//! The copy loop works a word at a time like the book's `copyLoop`: each destination word of a
//! row is merged with a 16-bit window of the source row (two source words shifted by the skew),
//! ANDed with the halftone row, under left and right edge masks. Unlike the book it never reads
//! outside the source row (words beyond either end read as 0, and their bits are always masked
//! off), so a malformed image can not make it read or write out of bounds. Every input is
//! validated before any pixel is touched, so a failing primitive has no side effects.
//!
//! Conventions: a Form is `bits width height offset`; `bits` is a non-pointer object holding
//! `height` rows of `(width + 15) / 16` words, most significant bit leftmost, 1 = black.

use crate::host::Rect;
use crate::object_memory::*;

// BitBlt instance variables (image: class BitBlt, category Graphics-Support).
const DEST_FORM: usize = 0;
const SOURCE_FORM: usize = 1;
const HALFTONE_FORM: usize = 2;
const COMBINATION_RULE: usize = 3;
const DEST_X: usize = 4;
const DEST_Y: usize = 5;
const WIDTH: usize = 6;
const HEIGHT: usize = 7;
const SOURCE_X: usize = 8;
const SOURCE_Y: usize = 9;
const CLIP_X: usize = 10;
const CLIP_Y: usize = 11;
const CLIP_WIDTH: usize = 12;
const CLIP_HEIGHT: usize = 13;
const BITBLT_FIELDS: usize = 14;

// CharacterScanner adds, after BitBlt's: lastIndex xTable stopConditions text textStyle ...
const LAST_INDEX: usize = 14;
const X_TABLE: usize = 15;
const STOP_CONDITIONS: usize = 16;
const SCANNER_FIELDS: usize = 17;

// Form instance variables.
const FORM_BITS: usize = 0;
const FORM_WIDTH: usize = 1;
const FORM_HEIGHT: usize = 2;

// TextConstants EndOfRun (257) and CrossedX (258), as 0-based field indices of `stops`.
const END_OF_RUN: usize = 256;
const CROSSED_X: usize = 257;

/// A validated Form: its bitmap's first word is `heap[base]`, rows are `raster` words apart,
/// and the bitmap holds at least `raster * height` words.
#[derive(Clone, Copy, Debug)]
struct FormInfo {
    bits: Oop,
    base: usize,
    raster: usize,
    width: i32,
    height: i32,
}

/// The instance variables of a BitBlt, validated and decoded.
#[derive(Clone, Copy, Debug)]
struct Blt {
    dest: FormInfo,
    source: Option<FormInfo>,
    /// The 16 halftone rows (all ones when halftoneForm is nil).
    halftone: [u16; 16],
    rule: u8,
    dest_x: i32,
    dest_y: i32,
    width: i32,
    height: i32,
    source_x: i32,
    source_y: i32,
    clip_x: i32,
    clip_y: i32,
    clip_width: i32,
    clip_height: i32,
}

/// A live pointer object with at least `fields` fields.
fn pointers_with(memory: &ObjectMemory, oop: Oop, fields: usize) -> Result<(), ()> {
    if memory.is_object(oop) && memory.is_pointers(oop) && memory.fetch_word_length_of(oop) >= fields {
        Ok(())
    } else {
        Err(())
    }
}

/// Field `index` (which must exist) of `oop` as a SmallInteger value.
#[inline]
fn int_field(memory: &ObjectMemory, index: usize, oop: Oop) -> Result<i32, ()> {
    small_int(memory.fetch_pointer(index, oop))
}

#[inline]
fn small_int(value: Oop) -> Result<i32, ()> {
    if is_integer_object(value) {
        Ok(integer_value_of(value) as i32)
    } else {
        Err(())
    }
}

fn form_info(memory: &ObjectMemory, form: Oop) -> Result<FormInfo, ()> {
    pointers_with(memory, form, FORM_HEIGHT + 1)?;
    let bits = memory.fetch_pointer(FORM_BITS, form);
    let width = int_field(memory, FORM_WIDTH, form)?;
    let height = int_field(memory, FORM_HEIGHT, form)?;
    if width < 0 || height < 0 || !memory.is_object(bits) || memory.is_pointers(bits) {
        return Err(());
    }
    let raster = (width as usize).div_ceil(16);
    if memory.fetch_word_length_of(bits) < raster * height as usize {
        return Err(());
    }
    Ok(FormInfo { bits, base: memory.loc(bits), raster, width, height })
}

/// Decodes a BitBlt. With `per_character` (scanCharacters), `sourceX` and `width` need not be
/// SmallIntegers yet: the scanner sets them from the xTable before each copy.
fn parse(memory: &ObjectMemory, bitblt: Oop, per_character: bool) -> Result<Blt, ()> {
    pointers_with(memory, bitblt, BITBLT_FIELDS)?;
    let field = |index: usize| int_field(memory, index, bitblt);
    let lenient = |index: usize| {
        if per_character {
            Ok(field(index).unwrap_or(0))
        } else {
            field(index)
        }
    };
    let rule = field(COMBINATION_RULE)?;
    if !(0..=15).contains(&rule) {
        return Err(());
    }
    let dest = form_info(memory, memory.fetch_pointer(DEST_FORM, bitblt))?;
    let source_form = memory.fetch_pointer(SOURCE_FORM, bitblt);
    let source = if source_form == NIL { None } else { Some(form_info(memory, source_form)?) };
    let halftone_form = memory.fetch_pointer(HALFTONE_FORM, bitblt);
    let mut halftone = [0xffffu16; 16];
    if halftone_form != NIL {
        // The book reads word (y mod 16) of the halftone's bits whatever the form's extent.
        pointers_with(memory, halftone_form, FORM_BITS + 1)?;
        let bits = memory.fetch_pointer(FORM_BITS, halftone_form);
        if !memory.is_object(bits) || memory.is_pointers(bits) {
            return Err(());
        }
        let words = memory.words(bits);
        if words.len() < 16 {
            return Err(());
        }
        halftone.copy_from_slice(&words[..16]);
    }
    Ok(Blt {
        dest,
        source,
        halftone,
        rule: rule as u8,
        dest_x: field(DEST_X)?,
        dest_y: field(DEST_Y)?,
        width: lenient(WIDTH)?,
        height: field(HEIGHT)?,
        source_x: lenient(SOURCE_X)?,
        source_y: field(SOURCE_Y)?,
        clip_x: field(CLIP_X)?,
        clip_y: field(CLIP_Y)?,
        clip_width: field(CLIP_WIDTH)?,
        clip_height: field(CLIP_HEIGHT)?,
    })
}

/// The clipped operation: destination rectangle and source origin.
#[derive(Clone, Copy, Debug)]
struct Clipped {
    dx: i32,
    dy: i32,
    sx: i32,
    sy: i32,
    w: i32,
    h: i32,
}

/// `clipRange` of the book, with the clip rectangle first intersected with the destination
/// form's bounds. The result lies inside the destination and (if any) the source form.
fn clip_range(b: &Blt) -> Option<Clipped> {
    let (mut cx, mut cy, mut cw, mut ch) = (b.clip_x, b.clip_y, b.clip_width, b.clip_height);
    if cx < 0 {
        cw += cx;
        cx = 0;
    }
    if cy < 0 {
        ch += cy;
        cy = 0;
    }
    if cx + cw > b.dest.width {
        cw = b.dest.width - cx;
    }
    if cy + ch > b.dest.height {
        ch = b.dest.height - cy;
    }
    // First in x ...
    let (mut sx, mut dx, mut w) = if b.dest_x >= cx {
        (b.source_x, b.dest_x, b.width)
    } else {
        (b.source_x + (cx - b.dest_x), cx, b.width - (cx - b.dest_x))
    };
    if dx + w > cx + cw {
        w -= (dx + w) - (cx + cw);
    }
    // ... then in y.
    let (mut sy, mut dy, mut h) = if b.dest_y >= cy {
        (b.source_y, b.dest_y, b.height)
    } else {
        (b.source_y + (cy - b.dest_y), cy, b.height - (cy - b.dest_y))
    };
    if dy + h > cy + ch {
        h -= (dy + h) - (cy + ch);
    }
    if let Some(source) = &b.source {
        if sx < 0 {
            dx -= sx;
            w += sx;
            sx = 0;
        }
        if sx + w > source.width {
            w -= sx + w - source.width;
        }
        if sy < 0 {
            dy -= sy;
            h += sy;
            sy = 0;
        }
        if sy + h > source.height {
            h -= sy + h - source.height;
        }
    }
    if w <= 0 || h <= 0 {
        return None;
    }
    Some(Clipped { dx, dy, sx, sy, w, h })
}

/// The 16 combination rules of the book's `merge:with:` (s = source AND halftone, d = dest).
#[inline(always)]
fn merge<const RULE: u8>(s: u16, d: u16) -> u16 {
    match RULE {
        0 => 0,
        1 => s & d,
        2 => s & !d,
        3 => s,
        4 => !s & d,
        5 => d,
        6 => s ^ d,
        7 => s | d,
        8 => !s & !d,
        9 => !s ^ d,
        10 => !d,
        11 => s | !d,
        12 => !s,
        13 => !s | d,
        14 => !s | !d,
        _ => 0xffff,
    }
}

/// Everything the inner loops need, in heap word indices.
struct Job {
    dst_base: usize,
    dst_raster: usize,
    /// Source bitmap, or None for an all-ones source (sourceForm nil).
    src: Option<(usize, usize)>,
    halftone: [u16; 16],
    c: Clipped,
    /// Rows bottom to top (same bitmap, destination below the source).
    v_back: bool,
    /// Words right to left (same bitmap and row, destination right of the source).
    h_back: bool,
}

/// Destination word `at`, combined with `s` under `mask` (the book's `merge:with:` and masks).
/// The heap is indexed through `HEAP_MASK`, so no index needs a bounds check: the forms were
/// validated (`parse`) and clipped, so every index is within them anyway.
#[inline(always)]
fn store<const RULE: u8>(heap: &mut [u16; HEAP_WORDS], at: usize, s: u16, mask: u16) {
    let at = at & HEAP_MASK;
    let d = heap[at];
    heap[at] = (d & !mask) | (merge::<RULE>(s, d) & mask);
}

/// `copyLoop`, specialised per combination rule. Each row is its first word (`mask1`), the
/// words between (every bit: no mask to apply) and its last word (`mask2`); a row of one word
/// takes both masks at once.
fn copy_loop<const RULE: u8>(heap: &mut [u16; HEAP_WORDS], job: &Job) {
    let Clipped { dx, dy, sx, sy, w, h } = job.c;
    let first_word = (dx >> 4) as usize;
    let last = dx + w - 1;
    let n = (last >> 4) as usize - first_word + 1;
    let mut mask1: u16 = 0xffff >> (dx & 15);
    let mask2: u16 = 0xffff << (15 - (last & 15));
    if n == 1 {
        mask1 &= mask2;
    }
    // Bit `sbit0` of the source row lines up with the first bit of destination word 0.
    let sbit0 = sx - (dx & 15);
    let sw = (sbit0 >> 4) as isize;
    let skew = (sbit0 & 15) as u32;
    let uses_source = !matches!(RULE, 0 | 5 | 10 | 15);
    let src = if uses_source { job.src } else { None };
    // The rows in the order they are copied: their number in the destination and where each
    // row starts, advanced by one row at each step (no multiplication per row).
    let (mut drow, step) = if job.v_back { (dy + h - 1, -1) } else { (dy, 1) };
    let mut dbase = job.dst_base + drow as usize * job.dst_raster + first_word;
    let dstep = step * job.dst_raster as isize;
    let Some((src_base, src_raster)) = src else {
        for _ in 0..h {
            let halftone = job.halftone[drow as usize & 15];
            store::<RULE>(heap, dbase, halftone, mask1);
            if n > 1 {
                for k in 1..n - 1 {
                    store::<RULE>(heap, dbase + k, halftone, 0xffff);
                }
                store::<RULE>(heap, dbase + n - 1, halftone, mask2);
            }
            drow += step as i32;
            dbase = dbase.wrapping_add_signed(dstep);
        }
        return;
    };
    let mut sbase = src_base + (sy + drow - dy) as usize * src_raster;
    let sstep = step * src_raster as isize;
    // Source word `i` of the row at `sbase`; 0 outside it (a negative `i` wraps above any
    // raster).
    let fetch = move |heap: &[u16; HEAP_WORDS], sbase: usize, i: isize| {
        if (i as usize) < src_raster {
            heap[(sbase + i as usize) & HEAP_MASK]
        } else {
            0
        }
    };
    // The 16 bits of `hi` and `lo` that line up with a destination word.
    let skewed = move |hi: u16, lo: u16| ((((hi as u32) << 16) | lo as u32) >> (16 - skew)) as u16;
    for _ in 0..h {
        let halftone = job.halftone[drow as usize & 15];
        if !job.h_back {
            let mut prev = fetch(heap, sbase, sw);
            let mut word = |heap: &mut [u16; HEAP_WORDS], k: usize, mask: u16| {
                let next = fetch(heap, sbase, sw + k as isize + 1);
                let s = skewed(prev, next);
                prev = next;
                store::<RULE>(heap, dbase + k, s & halftone, mask);
            };
            word(heap, 0, mask1);
            if n > 1 {
                for k in 1..n - 1 {
                    word(heap, k, 0xffff);
                }
                word(heap, n - 1, mask2);
            }
        } else {
            // Right to left: the destination overlaps the source further right in its row.
            let mut right = fetch(heap, sbase, sw + n as isize);
            let mut word = |heap: &mut [u16; HEAP_WORDS], k: usize, mask: u16| {
                let left = fetch(heap, sbase, sw + k as isize);
                let s = skewed(left, right);
                right = left;
                store::<RULE>(heap, dbase + k, s & halftone, mask);
            };
            if n > 1 {
                word(heap, n - 1, mask2);
                for k in (1..n - 1).rev() {
                    word(heap, k, 0xffff);
                }
            }
            word(heap, 0, mask1);
        }
        drow += step as i32;
        dbase = dbase.wrapping_add_signed(dstep);
        sbase = sbase.wrapping_add_signed(sstep);
    }
}

/// Performs one copy of a validated BitBlt; answers the destination rectangle affected.
fn blit(memory: &mut ObjectMemory, b: &Blt) -> Rect {
    let Some(c) = clip_range(b) else {
        return Rect::default();
    };
    // `checkOverlap`: same bitmap (the book compares the forms; sharing bits is what matters).
    let same = b.source.is_some_and(|s| s.bits == b.dest.bits && s.raster == b.dest.raster);
    let job = Job {
        dst_base: b.dest.base,
        dst_raster: b.dest.raster,
        src: b.source.map(|s| (s.base, s.raster)),
        halftone: b.halftone,
        c,
        v_back: same && c.dy > c.sy,
        h_back: same && c.dy == c.sy && c.dx > c.sx,
    };
    let (heap, _) = memory.heap_and_table();
    macro_rules! dispatch {
        ($($r:literal)*) => {
            match b.rule {
                $($r => copy_loop::<$r>(heap, &job),)*
                _ => copy_loop::<15>(heap, &job),
            }
        };
    }
    dispatch!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14);
    Rect::new(c.dx, c.dy, c.w, c.h)
}

/// Primitive 96 copyBits: receiver is a BitBlt. Returns the rectangle of the destination form
/// that was (possibly) changed, in destination-form coordinates, after clipping (empty Rect if
/// nothing drawn).
#[allow(clippy::result_unit_err)] // `Err(())`: the primitive fails.
pub fn copy_bits(memory: &mut ObjectMemory, bitblt: Oop) -> Result<Rect, ()> {
    let b = parse(memory, bitblt, false)?;
    Ok(blit(memory, &b))
}

/// Primitive 104 drawLoopX: xDelta Y: yDelta, receiver a BitBlt (the Blue Book's line drawing
/// with the current source/halftone as the pen). Returns the union of rectangles drawn.
///
/// Follows `BitBlt>>drawLoopX:Y:` (Bresenham): copies at the start point, then once per step
/// along the major axis; destX and destY are left at the end point.
#[allow(clippy::result_unit_err)] // `Err(())`: the primitive fails.
pub fn draw_loop(memory: &mut ObjectMemory, bitblt: Oop, x_delta: i32, y_delta: i32) -> Result<Rect, ()> {
    let mut b = parse(memory, bitblt, false)?;
    // The end point must stay a SmallInteger, or the Smalltalk code's copyBits would fail.
    if !is_integer_value(b.dest_x + x_delta) || !is_integer_value(b.dest_y + y_delta) {
        return Err(());
    }
    let (dx, dy) = (x_delta.signum(), y_delta.signum());
    let (px, py) = (y_delta.abs(), x_delta.abs());
    let mut rect = blit(memory, &b);
    if py > px {
        // More horizontal.
        let mut p = py / 2;
        for _ in 0..py {
            b.dest_x += dx;
            p -= px;
            if p < 0 {
                b.dest_y += dy;
                p += py;
            }
            rect = rect.union(&blit(memory, &b));
        }
    } else {
        // More vertical.
        let mut p = px / 2;
        for _ in 0..px {
            b.dest_y += dy;
            p -= py;
            if p < 0 {
                b.dest_x += dx;
                p += px;
            }
            rect = rect.union(&blit(memory, &b));
        }
    }
    memory.store_pointer(DEST_X, bitblt, integer_object_of(b.dest_x as i16));
    memory.store_pointer(DEST_Y, bitblt, integer_object_of(b.dest_y as i16));
    Ok(rect)
}

/// How a character scan ended.
struct ScanEnd {
    /// Characters `start..draw_end` (1-based) are displayed.
    draw_end: i32,
    last_index: i32,
    dest_x: i32,
    /// New sourceX and width, when some character set them.
    glyph: Option<(i32, i32)>,
    answer: Oop,
}

/// Primitive 103 scanCharacters:... receiver is a CharacterScanner (subclass of BitBlt), args
/// as the image passes them: scanCharactersFrom: startIndex to: stopIndex in: sourceString
/// rightX: rightX stopConditions: stops displaying: display (a Boolean oop). Returns the oop
/// to answer (the stop-condition object found) and the rectangle drawn on the destination form
/// (empty when not displaying).
///
/// Follows `CharacterScanner>>scanCharactersFrom:to:in:rightX:stopConditions:displaying:`.
/// The whole scan is checked first, so the primitive either completes or fails without side
/// effects (the Smalltalk code then does the same work).
#[allow(clippy::result_unit_err)] // `Err(())`: the primitive fails.
pub fn scan_characters(memory: &mut ObjectMemory, scanner: Oop, args: &[Oop]) -> Result<(Oop, Rect), ()> {
    let &[start, stop, string, right_x, stops, display] = args else {
        return Err(());
    };
    pointers_with(memory, scanner, SCANNER_FIELDS)?;
    let start = small_int(start)?;
    let stop = small_int(stop)?;
    let right_x = small_int(right_x)?;
    let display = match display {
        TRUE => true,
        FALSE => false,
        _ => return Err(()),
    };
    if !memory.is_object(string) || !memory.is_bytes(string) {
        return Err(());
    }
    pointers_with(memory, stops, 0)?;
    let x_table = memory.fetch_pointer(X_TABLE, scanner);
    let stop_conditions = memory.fetch_pointer(STOP_CONDITIONS, scanner);
    pointers_with(memory, x_table, 0)?;
    pointers_with(memory, stop_conditions, 0)?;
    let stops_at = |memory: &ObjectMemory, index: usize| {
        if index < memory.fetch_word_length_of(stops) {
            Ok(memory.fetch_pointer(index, stops))
        } else {
            Err(())
        }
    };
    let blt = if display { Some(parse(memory, scanner, true)?) } else { None };

    // Pass 1: find where the scan ends, checking everything the Smalltalk code would.
    let string_length = memory.fetch_byte_length_of(string) as i32;
    let x_table_length = memory.fetch_word_length_of(x_table);
    let glyph_of = |memory: &ObjectMemory, ascii: usize| -> Result<(i32, i32), ()> {
        if ascii + 1 >= x_table_length {
            return Err(());
        }
        let left = int_field(memory, ascii, x_table)?;
        let width = int_field(memory, ascii + 1, x_table)? - left;
        if !is_integer_value(width) {
            return Err(());
        }
        Ok((left, width))
    };
    let mut dest_x = int_field(memory, DEST_X, scanner)?;
    let mut glyph = None;
    let mut index = start;
    let end = loop {
        if index > stop {
            break ScanEnd { draw_end: index, last_index: stop, dest_x, glyph, answer: stops_at(memory, END_OF_RUN)? };
        }
        if index < 1 || index > string_length {
            return Err(());
        }
        let ascii = memory.fetch_byte(index as usize - 1, string) as usize;
        if ascii >= memory.fetch_word_length_of(stop_conditions) {
            return Err(());
        }
        if memory.fetch_pointer(ascii, stop_conditions) != NIL {
            break ScanEnd { draw_end: index, last_index: index, dest_x, glyph, answer: stops_at(memory, ascii)? };
        }
        let (left, width) = glyph_of(memory, ascii)?;
        glyph = Some((left, width));
        let next_dest_x = dest_x + width;
        if next_dest_x > right_x {
            break ScanEnd { draw_end: index, last_index: index, dest_x, glyph, answer: stops_at(memory, CROSSED_X)? };
        }
        if !is_integer_value(next_dest_x) {
            return Err(());
        }
        dest_x = next_dest_x;
        index += 1;
    };

    // Pass 2: display the characters passed over, then store the scanner's new state.
    let mut rect = Rect::default();
    if let Some(mut b) = blt {
        for index in start..end.draw_end {
            let ascii = memory.fetch_byte(index as usize - 1, string) as usize;
            let (left, width) = glyph_of(memory, ascii)?;
            b.source_x = left;
            b.width = width;
            rect = rect.union(&blit(memory, &b));
            b.dest_x += width;
        }
    }
    memory.store_pointer(LAST_INDEX, scanner, integer_object_of(end.last_index as i16));
    memory.store_pointer(DEST_X, scanner, integer_object_of(end.dest_x as i16));
    if let Some((left, width)) = end.glyph {
        memory.store_pointer(SOURCE_X, scanner, integer_object_of(left as i16));
        memory.store_pointer(WIDTH, scanner, integer_object_of(width as i16));
    }
    Ok((end.answer, rect))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    const FORM_CLASS: Oop = 100;
    const BITMAP_CLASS: Oop = 102;
    const BITBLT_CLASS: Oop = 104;
    const ARRAY_CLASS: Oop = 106;
    const STRING_CLASS: Oop = 108;

    fn memory() -> ObjectMemory {
        let mut m = ObjectMemory::new();
        let spec = |bits: u16, fixed: u16| integer_object_of(0) | bits | (fixed << 1);
        let classes = [
            (FORM_CLASS, spec(SPEC_POINTERS, 4)),
            (BITMAP_CLASS, spec(SPEC_WORDS | SPEC_INDEXABLE, 0)),
            (BITBLT_CLASS, spec(SPEC_POINTERS, 14)),
            (ARRAY_CLASS, spec(SPEC_POINTERS | SPEC_INDEXABLE, 0)),
            (STRING_CLASS, spec(SPEC_INDEXABLE, 0)),
        ];
        for (oop, spec) in classes {
            m.load_object(oop, oop, Format::Pointers, false, &[NIL, NIL, spec]);
        }
        m.load_object(NIL, FORM_CLASS, Format::Pointers, false, &[]);
        m.load_object(TRUE, FORM_CLASS, Format::Pointers, false, &[]);
        m.load_object(FALSE, FORM_CLASS, Format::Pointers, false, &[]);
        m.finish_loading();
        m
    }

    fn int(v: i32) -> Oop {
        integer_object_of(v as i16)
    }

    /// A deterministic pseudo-random source (xorshift).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: i32) -> i32 {
            (self.next() % n as u64) as i32
        }
        fn range(&mut self, lo: i32, hi: i32) -> i32 {
            lo + self.below(hi - lo + 1)
        }
    }

    fn make_form(m: &mut ObjectMemory, width: i32, height: i32, words: &[u16]) -> Oop {
        let bits = m.allocate(BITMAP_CLASS, words.len(), Format::Words, false, 0).unwrap();
        m.words_mut(bits).copy_from_slice(words);
        let form = m.allocate(FORM_CLASS, 4, Format::Pointers, false, NIL).unwrap();
        m.store_pointer(0, form, bits);
        m.store_pointer(1, form, int(width));
        m.store_pointer(2, form, int(height));
        form
    }

    fn random_form(m: &mut ObjectMemory, rng: &mut Rng, width: i32, height: i32) -> Oop {
        let n = (width as usize).div_ceil(16) * height as usize;
        let words: Vec<u16> = (0..n).map(|_| rng.next() as u16).collect();
        make_form(m, width, height, &words)
    }

    fn bits_of(m: &ObjectMemory, form: Oop) -> Vec<u16> {
        m.words(m.fetch_pointer(0, form)).to_vec()
    }

    #[derive(Clone, Copy, Debug)]
    struct Params {
        rule: i32,
        dest: (i32, i32),
        extent: (i32, i32),
        source: (i32, i32),
        clip: (i32, i32, i32, i32),
    }

    fn make_bitblt(m: &mut ObjectMemory, dest: Oop, source: Oop, halftone: Oop, p: Params) -> Oop {
        let b = m.allocate(BITBLT_CLASS, 14, Format::Pointers, false, NIL).unwrap();
        set_fields(m, b, dest, source, halftone, p);
        b
    }

    fn set_fields(m: &mut ObjectMemory, b: Oop, dest: Oop, source: Oop, halftone: Oop, p: Params) {
        let fields = [
            dest,
            source,
            halftone,
            int(p.rule),
            int(p.dest.0),
            int(p.dest.1),
            int(p.extent.0),
            int(p.extent.1),
            int(p.source.0),
            int(p.source.1),
            int(p.clip.0),
            int(p.clip.1),
            int(p.clip.2),
            int(p.clip.3),
        ];
        for (i, f) in fields.iter().enumerate() {
            m.store_pointer(i, b, *f);
        }
    }

    /// A bitmap as the reference sees it.
    #[derive(Clone)]
    struct Pixels {
        width: i32,
        height: i32,
        words: Vec<u16>,
    }
    impl Pixels {
        fn raster(&self) -> usize {
            (self.width as usize).div_ceil(16)
        }
        fn get(&self, x: i32, y: i32) -> bool {
            let w = self.words[y as usize * self.raster() + x as usize / 16];
            w & (0x8000 >> (x % 16)) != 0
        }
        fn set(&mut self, x: i32, y: i32, v: bool) {
            let r = self.raster();
            let w = &mut self.words[y as usize * r + x as usize / 16];
            let bit = 0x8000 >> (x % 16);
            if v {
                *w |= bit
            } else {
                *w &= !bit
            }
        }
    }

    fn rule_bit(rule: i32, s: bool, d: bool) -> bool {
        // Rule r's truth table: bit (3 - (2s + d)) of r, i.e. s=0,d=0 is bit 0 ... per the book's
        // numbering 1 = and, 6 = xor, 7 = or, 3 = source.
        let index = (s as i32) * 2 + d as i32;
        rule & (8 >> index) != 0
    }

    /// Per-pixel reference: reads the source as it was before the copy (true copy semantics).
    fn reference(dest: &Pixels, source: Option<&Pixels>, halftone: Option<&[u16]>, p: Params) -> (Pixels, Rect) {
        let mut out = dest.clone();
        let (mut x0, mut y0, mut x1, mut y1) = (i32::MAX, i32::MAX, i32::MIN, i32::MIN);
        for j in 0..p.extent.1 {
            for i in 0..p.extent.0 {
                let (x, y) = (p.dest.0 + i, p.dest.1 + j);
                let (cx, cy, cw, ch) = p.clip;
                if x < cx || y < cy || x >= cx + cw || y >= cy + ch {
                    continue;
                }
                if x < 0 || y < 0 || x >= dest.width || y >= dest.height {
                    continue;
                }
                let s = match source {
                    None => true,
                    Some(src) => {
                        let (sx, sy) = (p.source.0 + i, p.source.1 + j);
                        if sx < 0 || sy < 0 || sx >= src.width || sy >= src.height {
                            continue;
                        }
                        src.get(sx, sy)
                    }
                };
                let ht = halftone.is_none_or(|h| h[(y & 15) as usize] & (0x8000 >> (x & 15)) != 0);
                out.set(x, y, rule_bit(p.rule, s && ht, dest.get(x, y)));
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            }
        }
        let rect = if x0 > x1 { Rect::default() } else { Rect::new(x0, y0, x1 - x0 + 1, y1 - y0 + 1) };
        (out, rect)
    }

    fn pixels(m: &ObjectMemory, form: Oop) -> Pixels {
        Pixels {
            width: integer_value_of(m.fetch_pointer(1, form)) as i32,
            height: integer_value_of(m.fetch_pointer(2, form)) as i32,
            words: bits_of(m, form),
        }
    }

    /// Runs copyBits and the reference on the same inputs and compares.
    fn check(m: &mut ObjectMemory, dest: Oop, source: Oop, halftone: Oop, p: Params) {
        let before = pixels(m, dest);
        let src = (source != NIL).then(|| pixels(m, source));
        let ht = (halftone != NIL).then(|| bits_of(m, halftone));
        let (want, want_rect) = reference(&before, src.as_ref(), ht.as_deref(), p);
        let b = make_bitblt(m, dest, source, halftone, p);
        let rect = copy_bits(m, b).expect("copyBits failed");
        let got = bits_of(m, dest);
        assert_eq!(got, want.words, "{p:?} same={}", source == dest);
        assert_eq!(rect, want_rect, "{p:?}");
    }

    #[test]
    fn every_rule_on_a_known_pattern() {
        // Source 0011, dest 0101 per pixel pair: the result spells the rule's truth table.
        let mut m = memory();
        for rule in 0..16 {
            let src = make_form(&mut m, 16, 1, &[0x3333]);
            let dst = make_form(&mut m, 16, 1, &[0x5555]);
            let p = Params { rule, dest: (0, 0), extent: (16, 1), source: (0, 0), clip: (0, 0, 16, 1) };
            let b = make_bitblt(&mut m, dst, src, NIL, p);
            assert_eq!(copy_bits(&mut m, b), Ok(Rect::new(0, 0, 16, 1)));
            let nibble = bits_of(&m, dst)[0] & 0xf;
            assert_eq!(nibble as i32, rule, "rule {rule}");
        }
    }

    #[test]
    fn random_copies_match_the_per_pixel_reference() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for round in 0..3000 {
            let mut m = memory();
            let (dw, dh) = (rng.range(1, 70), rng.range(1, 12));
            let dest = random_form(&mut m, &mut rng, dw, dh);
            let source = match rng.below(4) {
                0 => NIL,
                1 => dest,
                _ => {
                    let (sw, sh) = (rng.range(1, 70), rng.range(1, 12));
                    random_form(&mut m, &mut rng, sw, sh)
                }
            };
            let halftone = if rng.below(3) == 0 { random_form(&mut m, &mut rng, 16, 16) } else { NIL };
            let clip = if rng.below(3) == 0 {
                (0, 0, dw, dh)
            } else {
                (rng.range(-10, dw), rng.range(-5, dh), rng.range(-2, dw + 20), rng.range(-2, dh + 10))
            };
            let p = Params {
                rule: if round < 16 { round } else { rng.below(16) },
                dest: (rng.range(-20, dw + 5), rng.range(-6, dh + 2)),
                extent: (rng.range(-1, 75), rng.range(-1, 14)),
                source: (rng.range(-20, 70), rng.range(-6, 12)),
                clip,
            };
            check(&mut m, dest, source, halftone, p);
        }
    }

    #[test]
    fn overlapping_copies_within_one_form() {
        let mut rng = Rng(42);
        // Scroll up, down, left, right and diagonally by various amounts, unaligned.
        for (ddx, ddy) in
            [(0, 1), (0, -1), (1, 0), (-1, 0), (17, 0), (-17, 0), (5, 3), (-5, -3), (33, -2), (-3, 2), (0, 0)]
        {
            for rule in [3, 6, 7] {
                let mut m = memory();
                let form = random_form(&mut m, &mut rng, 77, 9);
                let p =
                    Params { rule, dest: (10 + ddx, 3 + ddy), extent: (50, 4), source: (10, 3), clip: (0, 0, 77, 9) };
                check(&mut m, form, form, NIL, p);
            }
        }
    }

    #[test]
    fn clipping_at_each_edge_returns_the_clipped_rectangle() {
        let mut m = memory();
        let dest = make_form(&mut m, 40, 20, &[0; 60]);
        let cases = [
            // (destX, destY, clip) -> expected rect
            ((-5, 2), (0, 0, 40, 20), Rect::new(0, 2, 5, 10)),
            ((35, 2), (0, 0, 40, 20), Rect::new(35, 2, 5, 10)),
            ((3, -4), (0, 0, 40, 20), Rect::new(3, 0, 10, 6)),
            ((3, 15), (0, 0, 40, 20), Rect::new(3, 15, 10, 5)),
            ((3, 3), (5, 6, 4, 3), Rect::new(5, 6, 4, 3)),
            ((3, 3), (-100, -100, 1000, 1000), Rect::new(3, 3, 10, 10)),
            ((50, 3), (0, 0, 40, 20), Rect::default()),
        ];
        for ((x, y), clip, want) in cases {
            let p = Params { rule: 15, dest: (x, y), extent: (10, 10), source: (0, 0), clip };
            let b = make_bitblt(&mut m, dest, NIL, NIL, p);
            assert_eq!(copy_bits(&mut m, b), Ok(want), "{p:?}");
            check(&mut m, dest, NIL, NIL, Params { rule: 6, ..p });
        }
        // Source bounds clip too (and shift the destination).
        let src = make_form(&mut m, 8, 8, &[0xffff; 8]);
        let p = Params { rule: 3, dest: (10, 10), extent: (10, 10), source: (-2, -3), clip: (0, 0, 40, 20) };
        let b = make_bitblt(&mut m, dest, src, NIL, p);
        assert_eq!(copy_bits(&mut m, b), Ok(Rect::new(12, 13, 8, 7)));
    }

    #[test]
    fn halftone_alone_fills_with_the_pattern() {
        let mut m = memory();
        let gray: Vec<u16> = (0..16).map(|i| if i % 2 == 0 { 0x5555 } else { 0xaaaa }).collect();
        let halftone = make_form(&mut m, 16, 16, &gray);
        let dest = make_form(&mut m, 32, 4, &[0; 8]);
        let p = Params { rule: 3, dest: (4, 1), extent: (24, 2), source: (0, 0), clip: (0, 0, 32, 4) };
        let b = make_bitblt(&mut m, dest, NIL, halftone, p);
        assert_eq!(copy_bits(&mut m, b), Ok(Rect::new(4, 1, 24, 2)));
        assert_eq!(bits_of(&m, dest), vec![0, 0, 0x0aaa, 0xaaa0, 0x0555, 0x5550, 0, 0]);
    }

    #[test]
    fn bad_inputs_fail_without_side_effects() {
        let mut m = memory();
        let dest = make_form(&mut m, 20, 4, &[0x1234; 8]);
        let src = make_form(&mut m, 20, 4, &[0xffff; 8]);
        let short = make_form(&mut m, 20, 5, &[0; 8]);
        let p = Params { rule: 3, dest: (0, 0), extent: (20, 4), source: (0, 0), clip: (0, 0, 20, 4) };
        let good = make_bitblt(&mut m, dest, src, NIL, p);
        let mut bad = vec![
            make_bitblt(&mut m, dest, src, NIL, Params { rule: 16, ..p }),
            make_bitblt(&mut m, dest, src, NIL, Params { rule: -1, ..p }),
            make_bitblt(&mut m, short, src, NIL, p),
            make_bitblt(&mut m, dest, short, NIL, p),
            make_bitblt(&mut m, dest, src, short, p), // halftone bits too short
            make_bitblt(&mut m, NIL, src, NIL, p),
            make_bitblt(&mut m, int(3), src, NIL, p),
            make_bitblt(&mut m, dest, int(3), NIL, p),
        ];
        for field in 3..14 {
            let b = make_bitblt(&mut m, dest, src, NIL, p);
            m.store_pointer(field, b, NIL);
            bad.push(b);
        }
        // A form whose bits are a pointer object, and one with a negative width.
        let odd_form = make_form(&mut m, 20, 4, &[0; 8]);
        m.store_pointer(0, odd_form, good);
        bad.push(make_bitblt(&mut m, odd_form, src, NIL, p));
        let negative = make_form(&mut m, 20, 4, &[0; 8]);
        m.store_pointer(1, negative, int(-20));
        bad.push(make_bitblt(&mut m, negative, src, NIL, p));
        // A receiver too small, a SmallInteger receiver.
        let tiny = m.allocate(BITBLT_CLASS, 3, Format::Pointers, false, NIL).unwrap();
        bad.push(tiny);
        bad.push(int(5));
        for b in bad {
            assert_eq!(copy_bits(&mut m, b), Err(()), "bitblt {b}");
            assert_eq!(draw_loop(&mut m, b, 3, 4), Err(()), "bitblt {b}");
        }
        assert_eq!(bits_of(&m, dest), vec![0x1234; 8]);
        assert_eq!(copy_bits(&mut m, good), Ok(Rect::new(0, 0, 20, 4)));
        assert_eq!(bits_of(&m, dest), [[0xffff, 0xf234]; 4].concat());
    }

    /// The Smalltalk code of BitBlt>>drawLoopX:Y:, per pixel.
    fn reference_line(x: i32, y: i32, xd: i32, yd: i32) -> Vec<(i32, i32)> {
        let (dx, dy, px, py) = (xd.signum(), yd.signum(), yd.abs(), xd.abs());
        let (mut x, mut y) = (x, y);
        let mut points = vec![(x, y)];
        if py > px {
            let mut p = py / 2;
            for _ in 0..py {
                x += dx;
                p -= px;
                if p < 0 {
                    y += dy;
                    p += py;
                }
                points.push((x, y));
            }
        } else {
            let mut p = px / 2;
            for _ in 0..px {
                y += dy;
                p -= py;
                if p < 0 {
                    x += dx;
                    p += px;
                }
                points.push((x, y));
            }
        }
        points
    }

    #[test]
    fn draw_loop_draws_lines_like_the_smalltalk_code() {
        for (x, y, xd, yd) in [(2, 3, 20, 20), (30, 1, -25, 7), (5, 28, 3, -27), (0, 0, 40, 0), (1, 1, 0, 0)] {
            let mut m = memory();
            let dest = make_form(&mut m, 40, 30, &[0; 90]);
            let pen = make_form(&mut m, 1, 1, &[0x8000]);
            let p = Params { rule: 7, dest: (x, y), extent: (1, 1), source: (0, 0), clip: (0, 0, 40, 30) };
            let b = make_bitblt(&mut m, dest, pen, NIL, p);
            let rect = draw_loop(&mut m, b, xd, yd).unwrap();
            let mut want = pixels(&m, dest);
            want.words.fill(0);
            let points = reference_line(x, y, xd, yd);
            let mut bounds = Rect::default();
            for &(px, py) in &points {
                if (0..40).contains(&px) && (0..30).contains(&py) {
                    want.set(px, py, true);
                    bounds = bounds.union(&Rect::new(px, py, 1, 1));
                }
            }
            assert_eq!(bits_of(&m, dest), want.words, "line {x},{y} by {xd},{yd}");
            assert_eq!(rect, bounds);
            let end = *points.last().unwrap();
            assert_eq!(integer_value_of(m.fetch_pointer(DEST_X, b)) as i32, end.0);
            assert_eq!(integer_value_of(m.fetch_pointer(DEST_Y, b)) as i32, end.1);
        }
    }

    #[test]
    fn draw_loop_with_a_wide_pen() {
        let mut m = memory();
        let dest = make_form(&mut m, 40, 30, &[0; 90]);
        let pen = make_form(&mut m, 3, 2, &[0xe000, 0xe000]);
        let p = Params { rule: 7, dest: (1, 2), extent: (3, 2), source: (0, 0), clip: (0, 0, 40, 30) };
        let b = make_bitblt(&mut m, dest, pen, NIL, p);
        assert_eq!(draw_loop(&mut m, b, 10, 4), Ok(Rect::new(1, 2, 13, 6)));
    }

    struct Scanner {
        m: ObjectMemory,
        scanner: Oop,
        dest: Oop,
        stops: Oop,
        string: Oop,
    }

    /// A font of 4 glyphs (codes 97..100, 'a'..'d') of widths 3, 5, 2, 7 in a strike form of
    /// height 2; character 32 (space) is a stop condition.
    fn scanner_setup(text: &[u8], rule: i32) -> Scanner {
        let mut m = memory();
        let dest = make_form(&mut m, 48, 2, &[0; 6]);
        // Strike: all glyph pixels black, 17 pixels wide.
        let glyphs = make_form(&mut m, 17, 2, &[0xffff, 0x8000, 0xffff, 0x8000]);
        let x_table = m.allocate(ARRAY_CLASS, 258, Format::Pointers, false, NIL).unwrap();
        for (code, x) in [(97, 0), (98, 3), (99, 8), (100, 10), (101, 17)] {
            m.store_pointer(code, x_table, int(x));
        }
        let stops = m.allocate(ARRAY_CLASS, 258, Format::Pointers, false, NIL).unwrap();
        m.store_pointer(32, stops, int(1032)); // "#space"
        m.store_pointer(END_OF_RUN, stops, int(1257));
        m.store_pointer(CROSSED_X, stops, int(1258));
        let string = m.allocate(STRING_CLASS, text.len().div_ceil(2), Format::Bytes, text.len() % 2 == 1, 0).unwrap();
        for (i, &c) in text.iter().enumerate() {
            m.store_byte(i, string, c);
        }
        let scanner = m.allocate(BITBLT_CLASS, 27, Format::Pointers, false, NIL).unwrap();
        let p = Params { rule, dest: (1, 0), extent: (0, 2), source: (0, 0), clip: (0, 0, 48, 2) };
        set_fields(&mut m, scanner, dest, glyphs, NIL, p);
        m.store_pointer(SOURCE_X, scanner, NIL); // set by the scan
        m.store_pointer(X_TABLE, scanner, x_table);
        m.store_pointer(STOP_CONDITIONS, scanner, stops);
        Scanner { m, scanner, dest, stops, string }
    }

    fn scan(s: &mut Scanner, start: i32, stop: i32, right_x: i32, display: bool) -> Result<(Oop, Rect), ()> {
        let args = [int(start), int(stop), s.string, int(right_x), s.stops, if display { TRUE } else { FALSE }];
        scan_characters(&mut s.m, s.scanner, &args)
    }

    fn field(s: &Scanner, index: usize) -> i32 {
        integer_value_of(s.m.fetch_pointer(index, s.scanner)) as i32
    }

    #[test]
    fn scan_characters_displays_until_end_of_run() {
        let mut s = scanner_setup(b"abcd", 3);
        let (answer, rect) = scan(&mut s, 1, 4, 100, true).unwrap();
        assert_eq!(answer, int(1257));
        assert_eq!(rect, Rect::new(1, 0, 17, 2));
        assert_eq!(field(&s, LAST_INDEX), 4);
        assert_eq!(field(&s, DEST_X), 18);
        assert_eq!((field(&s, SOURCE_X), field(&s, WIDTH)), (10, 7));
        // Glyph pixels: a=3 + b=5 + c=2 + d=7 = 17 black pixels from x=1, but pixel 16 of the
        // strike (last of 'd') is the 0x8000 of the second word: all black.
        let row = [0x7fff, 0xc000, 0];
        assert_eq!(bits_of(&s.m, s.dest), [row, row].concat());
    }

    #[test]
    fn scan_characters_stops_at_a_stop_condition_and_at_right_x() {
        let mut s = scanner_setup(b"ab cd", 3);
        let (answer, rect) = scan(&mut s, 1, 5, 100, false).unwrap();
        assert_eq!(answer, int(1032));
        assert_eq!(rect, Rect::default());
        assert_eq!(field(&s, LAST_INDEX), 3);
        assert_eq!(field(&s, DEST_X), 9);
        assert_eq!(bits_of(&s.m, s.dest), vec![0; 6], "not displaying");

        let mut s = scanner_setup(b"abcd", 3);
        let (answer, rect) = scan(&mut s, 1, 4, 10, true).unwrap();
        assert_eq!(answer, int(1258));
        assert_eq!(rect, Rect::new(1, 0, 8, 2));
        assert_eq!(field(&s, LAST_INDEX), 3);
        assert_eq!(field(&s, DEST_X), 9);
        // The crossing character's glyph is left in sourceX/width.
        assert_eq!((field(&s, SOURCE_X), field(&s, WIDTH)), (8, 2));

        // Empty range: lastIndex := stopIndex.
        let mut s = scanner_setup(b"abcd", 3);
        assert_eq!(scan(&mut s, 3, 2, 100, true).unwrap().0, int(1257));
        assert_eq!(field(&s, LAST_INDEX), 2);
    }

    #[test]
    fn scan_characters_fails_cleanly() {
        // Rule 16 (paint) makes copyBits fail: the scan must fail before changing anything.
        let mut s = scanner_setup(b"abcd", 16);
        assert_eq!(scan(&mut s, 1, 4, 100, true), Err(()));
        assert_eq!(field(&s, DEST_X), 1);
        assert_eq!(s.m.fetch_pointer(LAST_INDEX, s.scanner), NIL);
        // ...but is fine when not displaying.
        assert!(scan(&mut s, 1, 4, 100, false).is_ok());
        // A character whose xTable entries are not SmallIntegers (nil) fails, drawing nothing.
        let mut s = scanner_setup(b"ab\xffa", 3);
        assert_eq!(scan(&mut s, 1, 4, 100, true), Err(()));
        assert_eq!(bits_of(&s.m, s.dest), vec![0; 6]);
        // Index out of the string, non-boolean display flag, short args.
        let mut s = scanner_setup(b"ab", 3);
        assert_eq!(scan(&mut s, 1, 3, 100, true), Err(()));
        assert_eq!(scan(&mut s, 0, 1, 100, true), Err(()));
        let args = [int(1), int(2), s.string, int(100), s.stops, NIL];
        assert_eq!(scan_characters(&mut s.m, s.scanner, &args), Err(()));
        assert_eq!(scan_characters(&mut s.m, s.scanner, &args[..5]), Err(()));
    }
}
