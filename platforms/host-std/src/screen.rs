//! The Display form as a PNG file or as a fingerprint (the display hash that tests, the
//! cross-architecture matrix and other hosts compare).

use st80_core::interpreter::DisplayForm;

/// Number of 16-bit words per row and a word fetch that treats missing words as white, so a
/// form whose bits are shorter than its size says never makes us panic.
fn word_at(form: &DisplayForm<'_>, row: usize, word: usize) -> u16 {
    form.bits.get(row * form.raster() + word).copied().unwrap_or(0)
}

/// The mask of the bits of word `word` of a row that lie inside `width` (1 = inside).
fn word_mask(width: usize, word: usize) -> u16 {
    let first = word * 16;
    if first + 16 <= width {
        0xffff
    } else if first >= width {
        0
    } else {
        !(0xffffu16 >> (width - first))
    }
}

/// The Display form as a PNG: 1-bit grayscale, `width` x `height` pixels, black where the
/// form has a 1 bit, white elsewhere. An empty form (zero width or height) gives a 1x1 white
/// image, since PNG has no empty images.
pub fn display_to_png(form: &DisplayForm<'_>) -> Vec<u8> {
    let (width, height) = if form.width == 0 || form.height == 0 { (1, 1) } else { (form.width, form.height) };
    let empty = form.width == 0 || form.height == 0;
    let row_bytes = width.div_ceil(8);
    let mut data = Vec::with_capacity(row_bytes * height);
    for y in 0..height {
        let start = data.len();
        for x in 0..form.raster().max(1) {
            let w = if empty { 0 } else { word_at(form, y, x) & word_mask(width, x) };
            // PNG grayscale: 0 = black, so invert.
            data.extend_from_slice(&(!w).to_be_bytes());
        }
        data.truncate(start + row_bytes);
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width as u32, height as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        let mut writer = encoder.write_header().expect("writing a PNG header to memory cannot fail");
        writer.write_image_data(&data).expect("the PNG data has exactly the size of the header");
    }
    out
}

/// A fingerprint of the Display's pixels, the same on every architecture: 16 lowercase hex
/// digits of the 64-bit FNV-1a hash (offset basis 0xcbf29ce484222325, prime 0x100000001b3)
/// over the bytes of: `width` and `height` as little-endian u32, then each row's words from
/// left to right, each word big-endian (leftmost pixel = most significant bit), with the bits
/// past `width` in a row's last word cleared.
pub fn display_hash(form: &DisplayForm<'_>) -> String {
    let mut h = Fnv1a64::new();
    h.write(&(form.width as u32).to_le_bytes());
    h.write(&(form.height as u32).to_le_bytes());
    for y in 0..form.height {
        for x in 0..form.raster() {
            let w = word_at(form, y, x) & word_mask(form.width, x);
            h.write(&w.to_be_bytes());
        }
    }
    format!("{:016x}", h.0)
}

struct Fnv1a64(u64);

impl Fnv1a64 {
    fn new() -> Fnv1a64 {
        Fnv1a64(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_and_hash_ignore_padding_bits() {
        // 20 x 2: row 0 has pixel 0 and pixel 19 black; row 1 is white but has padding set.
        let bits = [0x8000, 0x1000, 0x0000, 0x0fff];
        let form = DisplayForm { width: 20, height: 2, bits: &bits };
        let clean = [0x8000, 0x1000, 0x0000, 0x0000];
        let clean_form = DisplayForm { width: 20, height: 2, bits: &clean };
        assert_eq!(display_hash(&form), display_hash(&clean_form));
        assert_eq!(display_to_png(&form), display_to_png(&clean_form));
        let other = [0x8000, 0x0000, 0x0000, 0x0000];
        let other_form = DisplayForm { width: 20, height: 2, bits: &other };
        assert_ne!(display_hash(&form), display_hash(&other_form));

        let mut decoder = png::Decoder::new(std::io::Cursor::new(display_to_png(&form)));
        decoder.set_transformations(png::Transformations::IDENTITY);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (20, 2));
        assert_eq!(info.bit_depth, png::BitDepth::One);
        // Row 0: pixel 0 black (bit 0), pixels 1..18 white, pixel 19 black; the 4 bits past
        // the width are white. Row 1: all white.
        assert_eq!(&buf[..3], &[0x7f, 0xff, 0xef]);
        assert_eq!(&buf[3..6], &[0xff, 0xff, 0xff]);
    }

    #[test]
    fn hash_is_fixed() {
        // Pins the documented algorithm: changing it changes every recorded hash.
        let form = DisplayForm { width: 0, height: 0, bits: &[] };
        let mut h = Fnv1a64::new();
        h.write(&[0; 8]);
        assert_eq!(display_hash(&form), format!("{:016x}", h.0));
        assert_eq!(Fnv1a64::new().0, 0xcbf29ce484222325);
        let mut a = Fnv1a64::new();
        a.write(b"a");
        assert_eq!(a.0, 0xaf63dc4c8601ec8c); // FNV-1a-64("a"), the published test vector
        let _ = display_to_png(&form); // 1x1 white, no panic
    }
}
