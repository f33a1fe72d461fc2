//! Snapshots on a raw block device (a virtio disk; an SD card later), crash-safe: the disk
//! has two slots, each a header sector and a data area, and a save writes the slot not
//! holding the newest snapshot, data first, header last, with a flush between. A crash
//! mid-save leaves a slot whose header is old or whose checksum fails, and the other slot's
//! snapshot boots. Layout (512-byte sectors):
//!
//! * sectors 0 and 1: the headers of slots 0 and 1: `ST80SNAP`, then little-endian u64s:
//!   format version (1), sequence number (higher = newer), first data sector, byte length,
//!   FNV-1a-64 of the data;
//! * from sector 64: slot 0's data area, then slot 1's, each half of the rest of the disk.
//!
//! `test.sh` reads the same layout to take the saved image back out of the disk file.

use alloc::vec;
use alloc::vec::Vec;

pub const SECTOR: usize = 512;
const MAGIC: &[u8; 8] = b"ST80SNAP";
const VERSION: u64 = 1;
const DATA_START: u64 = 64;
/// Sectors per disk request.
const CHUNK: usize = 128;

/// What the store needs from a disk.
pub trait BlockDevice {
    /// Capacity in sectors.
    fn sectors(&self) -> u64;
    fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), &'static str>;
    fn write(&mut self, sector: u64, buf: &[u8]) -> Result<(), &'static str>;
    /// Makes what was written durable.
    fn flush(&mut self) -> Result<(), &'static str>;
}

#[derive(Clone, Copy, Debug)]
struct Header {
    sequence: u64,
    start: u64,
    length: u64,
    checksum: u64,
}

fn fnv1a64(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

fn slot_sectors<D: BlockDevice>(disk: &D) -> u64 {
    disk.sectors().saturating_sub(DATA_START) / 2
}

fn read_header<D: BlockDevice>(disk: &mut D, slot: u64) -> Option<Header> {
    let mut s = [0u8; SECTOR];
    disk.read(slot, &mut s).ok()?;
    if &s[..8] != MAGIC {
        return None;
    }
    let word = |i: usize| u64::from_le_bytes(s[8 + i * 8..16 + i * 8].try_into().unwrap());
    (word(0) == VERSION).then(|| Header { sequence: word(1), start: word(2), length: word(3), checksum: word(4) })
}

fn read_data<D: BlockDevice>(disk: &mut D, h: &Header) -> Option<Vec<u8>> {
    let sectors = h.length.div_ceil(SECTOR as u64);
    if h.length == 0 || h.start + sectors > disk.sectors() {
        return None;
    }
    let mut data = vec![0u8; (sectors as usize) * SECTOR];
    for (i, chunk) in data.chunks_mut(CHUNK * SECTOR).enumerate() {
        disk.read(h.start + (i * CHUNK) as u64, chunk).ok()?;
    }
    data.truncate(h.length as usize);
    (fnv1a64(&data) == h.checksum).then_some(data)
}

/// The valid headers, newest first.
fn headers<D: BlockDevice>(disk: &mut D) -> Vec<(u64, Header)> {
    let mut hs: Vec<(u64, Header)> = (0..2).filter_map(|slot| read_header(disk, slot).map(|h| (slot, h))).collect();
    hs.sort_by_key(|&(_, h)| core::cmp::Reverse(h.sequence));
    hs
}

/// The newest intact snapshot on the disk, if any.
pub fn load<D: BlockDevice>(disk: &mut D) -> Option<Vec<u8>> {
    let hs = headers(disk);
    hs.iter().find_map(|(_, h)| read_data(disk, h))
}

/// Saves `image` into the slot not holding the newest snapshot.
pub fn save<D: BlockDevice>(disk: &mut D, image: &[u8]) -> Result<(), &'static str> {
    let per_slot = slot_sectors(disk);
    let sectors = (image.len() as u64).div_ceil(SECTOR as u64);
    if sectors > per_slot {
        return Err("the disk is too small for this image (it needs two copies)");
    }
    let hs = headers(disk);
    let (slot, sequence) = match hs.first() {
        Some(&(newest, h)) => (1 - newest, h.sequence + 1),
        None => (0, 1),
    };
    let start = DATA_START + slot * per_slot;
    let mut padded = Vec::from(image);
    padded.resize(sectors as usize * SECTOR, 0);
    for (i, chunk) in padded.chunks(CHUNK * SECTOR).enumerate() {
        disk.write(start + (i * CHUNK) as u64, chunk)?;
    }
    disk.flush()?;
    let mut s = [0u8; SECTOR];
    s[..8].copy_from_slice(MAGIC);
    for (i, w) in [VERSION, sequence, start, image.len() as u64, fnv1a64(image)].iter().enumerate() {
        s[8 + i * 8..16 + i * 8].copy_from_slice(&w.to_le_bytes());
    }
    disk.write(slot, &s)?;
    disk.flush()
}
