//! Fuzz-style robustness of the image loader: truncated, bit-flipped, zero-filled, random,
//! Squeak-like and empty inputs must never make `st80_core::image::load` panic (it may accept
//! a damaged image or reject it with an error). Whatever it accepts must also survive
//! `summary::summarize` and `image::save`.
//!
//! Every input is generated deterministically (a fixed-seed xorshift), so a failure names a
//! case that can be reproduced exactly.

use st80_core::image::{self, ByteOrder};
use st80_core::summary;
use st80_tests::{image_bytes, synthetic_image, DBANAY_LSB, DBANAY_SNAPSHOT, XEROX_V2};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// xorshift64* — tiny, deterministic, good enough to pick positions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Loads `bytes`; if accepted, summarizes and saves it too. Returns a description of the
/// panic, if any.
fn try_load(bytes: &[u8]) -> Result<bool, String> {
    catch_unwind(AssertUnwindSafe(|| match image::load(bytes) {
        Ok((memory, info)) => {
            let s = summary::summarize(&memory, &info);
            let _ = s.to_string();
            let _ = image::save(&memory, info.byte_order);
            true
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            false
        }
    }))
    .map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "non-string panic".into())
    })
}

/// Runs every case, then fails listing the ones that panicked.
struct Fuzz {
    what: &'static str,
    cases: usize,
    accepted: usize,
    panics: Vec<String>,
}

impl Fuzz {
    fn new(what: &'static str) -> Fuzz {
        Fuzz { what, cases: 0, accepted: 0, panics: Vec::new() }
    }
    fn case(&mut self, name: impl FnOnce() -> String, bytes: &[u8]) {
        self.cases += 1;
        match try_load(bytes) {
            Ok(accepted) => self.accepted += accepted as usize,
            Err(msg) => self.panics.push(format!("{}: {msg}", name())),
        }
    }
    fn finish(self) {
        eprintln!("{}: {} inputs, {} accepted, {} panics", self.what, self.cases, self.accepted, self.panics.len());
        assert!(
            self.panics.is_empty(),
            "{}: image::load (or summarize/save) panicked on {} of {} inputs; first ones:\n{}",
            self.what,
            self.panics.len(),
            self.cases,
            self.panics[..self.panics.len().min(10)].join("\n")
        );
    }
}

fn put_u32(bytes: &mut [u8], at: usize, v: u32, order: ByteOrder) {
    let b = match order {
        ByteOrder::Big => v.to_be_bytes(),
        ByteOrder::Little => v.to_le_bytes(),
    };
    bytes[at..at + 4].copy_from_slice(&b);
}

fn get_u32(bytes: &[u8], at: usize, order: ByteOrder) -> u32 {
    let b = bytes[at..at + 4].try_into().unwrap();
    match order {
        ByteOrder::Big => u32::from_be_bytes(b),
        ByteOrder::Little => u32::from_le_bytes(b),
    }
}

fn table_start(space_words: usize) -> usize {
    (512 + space_words * 2).div_ceil(512) * 512
}

/// Every kind of damage to one valid image.
fn fuzz_image(what: &'static str, base: &[u8], seed: u64, flips: usize) {
    let mut fuzz = Fuzz::new(what);
    let mut rng = Rng(seed);
    let order = image::load(base).expect("the base image loads").1.byte_order;
    let space = get_u32(base, 0, order) as usize;
    let entries = get_u32(base, 4, order) as usize / 2;
    let ot = table_start(space);

    // Truncated at many cut points (the header then disagrees with the size).
    let mut cuts: Vec<usize> = vec![0, 1, 2, 4, 7, 8, 100, 511, 512, 513, ot, ot + 1];
    cuts.extend((0..40).map(|i| base.len() * i / 40));
    cuts.extend((0..40).map(|_| rng.below(base.len())));
    for &cut in &cuts {
        fuzz.case(|| format!("truncated to {cut} bytes"), &base[..cut]);
    }

    // Truncated with the header patched to match: a short object table...
    for _ in 0..12 {
        let keep = 1 + rng.below(entries);
        let mut b = base[..ot + keep * 4].to_vec();
        put_u32(&mut b, 4, (keep * 2) as u32, order);
        fuzz.case(|| format!("object table cut to {keep} entries"), &b);
    }
    // ... or a short object space, the table moved up behind it.
    for _ in 0..12 {
        let keep = 1 + rng.below(space);
        let mut b = base[..512 + keep * 2].to_vec();
        b.resize(table_start(keep), 0);
        b.extend_from_slice(&base[ot..]);
        put_u32(&mut b, 0, keep as u32, order);
        fuzz.case(|| format!("object space cut to {keep} words"), &b);
    }

    // Bit flips: in the header, the object space and the object table.
    let regions = [(0usize, 8usize), (8, 512), (512, ot), (ot, base.len())];
    for i in 0..flips {
        let (lo, hi) = regions[i % regions.len()];
        let n = 1 + rng.below(8);
        let mut b = base.to_vec();
        let mut at = Vec::new();
        for _ in 0..n {
            let pos = lo + rng.below(hi - lo);
            let bit = rng.below(8);
            b[pos] ^= 1 << bit;
            at.push((pos, bit));
        }
        fuzz.case(|| format!("bits flipped at (byte, bit) {at:?}"), &b);
    }
    // Whole object-table entries overwritten with random words.
    for _ in 0..flips / 4 {
        let mut b = base.to_vec();
        let e = rng.below(entries);
        let v = rng.next() as u32;
        b[ot + e * 4..ot + e * 4 + 4].copy_from_slice(&v.to_ne_bytes());
        fuzz.case(|| format!("object table entry {e} set to {v:#010x}"), &b);
    }

    // Valid header, contents zeroed or random.
    let mut zeros = vec![0u8; base.len()];
    zeros[..8].copy_from_slice(&base[..8]);
    fuzz.case(|| "zero-filled with a valid header".into(), &zeros);
    let mut table_zeroed = base.to_vec();
    table_zeroed[ot..].fill(0);
    fuzz.case(|| "object table zeroed".into(), &table_zeroed);
    let mut space_zeroed = base.to_vec();
    space_zeroed[512..ot].fill(0);
    fuzz.case(|| "object space zeroed".into(), &space_zeroed);
    for i in 0..4 {
        let mut b: Vec<u8> = (0..base.len()).map(|_| rng.next() as u8).collect();
        b[..8].copy_from_slice(&base[..8]);
        fuzz.case(|| format!("random #{i} with a valid header"), &b);
    }
    let mut b = base.to_vec();
    for x in &mut b[ot..] {
        *x = rng.next() as u8;
    }
    fuzz.case(|| "random object table".into(), &b);
    fuzz.finish();
}

#[test]
fn synthetic_images_survive_damage() {
    fuzz_image("synthetic big-endian", &synthetic_image(ByteOrder::Big), 1, 2000);
    fuzz_image("synthetic little-endian", &synthetic_image(ByteOrder::Little), 2, 2000);
}

#[test]
fn xerox_image_survives_damage() {
    if let Some(base) = image_bytes(XEROX_V2) {
        fuzz_image("xerox-v2/VirtualImage", &base, 3, 1000);
    }
}

#[test]
fn little_endian_image_survives_damage() {
    if let Some(base) = image_bytes(DBANAY_LSB) {
        fuzz_image("dbanay/VirtualImageLSB", &base, 4, 500);
    }
}

#[test]
fn snapshot_image_survives_damage() {
    if let Some(base) = image_bytes(DBANAY_SNAPSHOT) {
        fuzz_image("dbanay/snapshot.im", &base, 5, 300);
    }
}

#[test]
fn garbage_inputs_are_rejected() {
    let mut fuzz = Fuzz::new("garbage");
    let mut rng = Rng(6);
    fuzz.case(|| "empty".into(), &[]);
    for n in [1, 8, 511, 512, 513, 1024, 4096, 65536] {
        fuzz.case(|| format!("{n} zero bytes"), &vec![0; n]);
        fuzz.case(|| format!("{n} 0xff bytes"), &vec![0xff; n]);
        let random: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        fuzz.case(|| format!("{n} random bytes"), &random);
    }
    // Headers that claim sizes near every limit, in both byte orders.
    for order in [ByteOrder::Big, ByteOrder::Little] {
        for (space, table) in
            [(1u32, 2u32), (u32::MAX, 2), (2, u32::MAX), (1 << 26, 65536), ((1 << 26) + 1, 2), (100, 65538), (100, 3)]
        {
            let len = table_start(space.min(1 << 27) as usize) + table.min(1 << 20) as usize * 2;
            let mut b = vec![0u8; len.min(1 << 24)];
            put_u32(&mut b, 0, space, order);
            put_u32(&mut b, 4, table, order);
            fuzz.case(|| format!("{order} header {space}/{table}"), &b);
        }
    }
    fuzz.finish();
}

#[test]
fn squeak_like_images_are_named() {
    // Squeak/Pharo image format numbers (first word), in both byte orders.
    for magic in [6502u32, 6504, 6505, 6521, 68000, 68002, 68003] {
        for big in [false, true] {
            // Real Squeak images are megabytes; a file shorter than the Xerox reading of its
            // header is reported as a truncated image instead.
            let mut b = vec![0u8; 2 << 20];
            let word = if big { magic.to_be_bytes() } else { magic.to_le_bytes() };
            b[..4].copy_from_slice(&word);
            b[4..8].copy_from_slice(&(64u32).to_le_bytes()); // header size, as Squeak has
            let err = image::load(&b).err().expect("a Squeak image is rejected");
            assert!(err.to_string().contains("Squeak"), "{magic}: {err}");
        }
    }
}

#[test]
fn real_images_round_trip_through_save() {
    for name in [XEROX_V2, DBANAY_LSB] {
        let Some(bytes) = image_bytes(name) else {
            continue;
        };
        let (m, info) = image::load(&bytes).unwrap();
        for order in [ByteOrder::Big, ByteOrder::Little] {
            let saved = image::save(&m, order).expect("a real image saves");
            let (again, info2) = image::load(&saved).unwrap();
            assert_eq!(info2.byte_order, order);
            assert_eq!(again.object_count(), m.object_count(), "{name} as {order}");
            let s1 = summary::summarize(&m, &info);
            let s2 = summary::summarize(&again, &info2);
            assert_eq!((s1.classes, s1.active_process, s1.display), (s2.classes, s2.active_process, s2.display));
        }
    }
}
