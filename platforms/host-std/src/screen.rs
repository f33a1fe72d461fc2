//! The Display form as a PNG file or as a fingerprint (the display hash that tests, the
//! cross-architecture matrix and other hosts compare).

use st80_core::display_hash::masked_word;
use st80_core::interpreter::DisplayForm;

/// The fingerprint every host compares; it lives in the core so hosts without `std` share it.
pub use st80_core::display_hash::display_hash;

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
            let w = if empty { 0 } else { masked_word(form, y, x) };
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
    fn empty_form_gives_a_png() {
        let form = DisplayForm { width: 0, height: 0, bits: &[] };
        assert!(!display_to_png(&form).is_empty()); // 1x1 white, no panic
    }
}
