//! The Display's fingerprint: the display hash that tests, the cross-architecture matrix and
//! every host (desktop, headless, web, bare metal) compare. It lives in the core, which is
//! `no_std`, so a host with no operating system computes the same value as `st80 run
//! --headless`; `st80_host_std::display_hash` re-exports it.

use crate::interpreter::DisplayForm;
use alloc::format;
use alloc::string::String;

/// Word `word` of row `row` with the bits past the form's width cleared; missing words (a form
/// whose bits are shorter than its size says) read as white, so no form makes this panic.
pub fn masked_word(form: &DisplayForm<'_>, row: usize, word: usize) -> u16 {
    form.bits.get(row * form.raster() + word).copied().unwrap_or(0) & word_mask(form.width, word)
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
            h.write(&masked_word(form, y, x).to_be_bytes());
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
    fn hash_ignores_padding_bits() {
        // 20 x 2: row 0 has pixel 0 and pixel 19 black; row 1 is white but has padding set.
        let bits = [0x8000, 0x1000, 0x0000, 0x0fff];
        let form = DisplayForm { width: 20, height: 2, bits: &bits };
        let clean = [0x8000, 0x1000, 0x0000, 0x0000];
        assert_eq!(display_hash(&form), display_hash(&DisplayForm { width: 20, height: 2, bits: &clean }));
        let other = [0x8000, 0x0000, 0x0000, 0x0000];
        assert_ne!(display_hash(&form), display_hash(&DisplayForm { width: 20, height: 2, bits: &other }));
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
    }
}
