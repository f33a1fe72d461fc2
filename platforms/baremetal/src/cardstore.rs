//! The image and its snapshots as files on the FAT partition of an SD card (the first MBR
//! partition, as on every Raspberry Pi card; FAT16 or FAT32 through `embedded-sdmmc`).
//!
//! At boot the newest intact snapshot is taken, else `VirtualImage`. Snapshots go to two
//! slots, `SNAP0.IMG` and `SNAP1.IMG` (plain images: copy one off the card and `st80 run`
//! it), each with a small text file `SNAPn.SUM` (its sequence number, length and FNV-1a-64).
//! A save writes the slot not holding the newest snapshot: the image first, read back and
//! checked, then its `.SUM`. A crash mid-save leaves a slot whose `.SUM` does not match its
//! image, and the other slot's snapshot boots.

use crate::sdhci::Sdhci;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use embedded_sdmmc::{Block, BlockCount, BlockDevice, BlockIdx, Mode, TimeSource, Timestamp, VolumeIdx, VolumeManager};

/// The image booted when the card has no snapshot.
pub const IMAGE_NAME: &str = "VirtualImage";
const SLOTS: [(&str, &str); 2] = [("SNAP0.IMG", "SNAP0.SUM"), ("SNAP1.IMG", "SNAP1.SUM")];

#[derive(Debug)]
pub struct CardError(pub &'static str);

impl core::fmt::Display for CardError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str(self.0)
    }
}

impl core::error::Error for CardError {}

/// The card as `embedded-sdmmc` wants it (shared access: it takes `&self`).
pub struct Card(pub RefCell<Sdhci>);

impl BlockDevice for Card {
    type Error = CardError;
    fn read(&self, blocks: &mut [Block], start: BlockIdx) -> Result<(), CardError> {
        let mut sd = self.0.borrow_mut();
        for (i, b) in blocks.iter_mut().enumerate() {
            sd.read_blocks(start.0 as u64 + i as u64, &mut b.contents).map_err(CardError)?;
        }
        Ok(())
    }
    fn write(&self, blocks: &[Block], start: BlockIdx) -> Result<(), CardError> {
        let mut sd = self.0.borrow_mut();
        for (i, b) in blocks.iter().enumerate() {
            sd.write_blocks(start.0 as u64 + i as u64, &b.contents).map_err(CardError)?;
        }
        Ok(())
    }
    fn num_blocks(&self) -> Result<BlockCount, CardError> {
        Ok(BlockCount(self.0.borrow().blocks() as u32))
    }
}

/// File times: the board's clock (seconds since 1970, UTC).
pub struct Clock(pub fn() -> u64);

impl TimeSource for Clock {
    fn get_timestamp(&self) -> Timestamp {
        let secs = (self.0)();
        let (y, m, d) = civil_from_days((secs / 86_400) as i64);
        let t = secs % 86_400;
        Timestamp::from_calendar(
            y.clamp(1980, 2107) as u16,
            m,
            d,
            (t / 3600) as u8,
            (t / 60 % 60) as u8,
            (t % 60) as u8,
        )
        .unwrap_or(Timestamp {
            year_since_1970: 10,
            zero_indexed_month: 0,
            zero_indexed_day: 0,
            hours: 0,
            minutes: 0,
            seconds: 0,
        })
    }
}

/// Year, month (1-12), day (1-31) of a day count since 1970-01-01 (the proleptic Gregorian
/// calendar; H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (yoe + era * 400 + (m <= 2) as i64, m, d)
}

type Volumes = VolumeManager<Card, Clock>;

fn fnv1a64(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// A slot's `.SUM`: sequence, length, checksum.
#[derive(Clone, Copy)]
struct Sum {
    sequence: u64,
    length: u64,
    checksum: u64,
}

fn parse_sum(text: &str) -> Option<Sum> {
    let mut lines = text.lines();
    if lines.next()? != "st80 snapshot 1" {
        return None;
    }
    let mut field = |name: &str, radix: u32| {
        let line = lines.next()?;
        u64::from_str_radix(line.strip_prefix(name)?.strip_prefix(' ')?, radix).ok()
    };
    Some(Sum { sequence: field("sequence", 10)?, length: field("length", 10)?, checksum: field("fnv1a64", 16)? })
}

/// The FAT partition of a card, with what it holds.
pub struct CardStore {
    volumes: Volumes,
}

type Outcome<T> = core::result::Result<T, String>;

impl CardStore {
    pub fn new(card: Card, clock: Clock) -> CardStore {
        CardStore { volumes: VolumeManager::new(card, clock) }
    }

    /// The whole file `name`, None if it is not there. A name that does not fit 8.3 is looked
    /// up as a long name (the files we write have short names only).
    fn read_file(&self, name: &str) -> Outcome<Option<Vec<u8>>> {
        let volume = self.volumes.open_volume(VolumeIdx(0)).map_err(|e| format!("the FAT partition: {e:?}"))?;
        let root = volume.open_root_dir().map_err(|e| format!("the root directory: {e:?}"))?;
        let opened = if name == IMAGE_NAME {
            root.open_long_name_file_in_dir(name, Mode::ReadOnly)
        } else {
            root.open_file_in_dir(name, Mode::ReadOnly)
        };
        let file = match opened {
            Ok(f) => f,
            Err(embedded_sdmmc::Error::NotFound) => return Ok(None),
            Err(e) => return Err(format!("{name}: {e:?}")),
        };
        let mut data = vec![0u8; file.length() as usize];
        let mut at = 0;
        while at < data.len() {
            match file.read(&mut data[at..]) {
                Ok(0) => return Err(format!("{name}: shorter than its directory entry says")),
                Ok(n) => at += n,
                Err(e) => return Err(format!("{name}: {e:?}")),
            }
        }
        file.close().map_err(|e| format!("{name}: {e:?}"))?;
        Ok(Some(data))
    }

    fn write_file(&self, name: &str, data: &[u8]) -> Outcome<()> {
        let volume = self.volumes.open_volume(VolumeIdx(0)).map_err(|e| format!("the FAT partition: {e:?}"))?;
        let root = volume.open_root_dir().map_err(|e| format!("the root directory: {e:?}"))?;
        let file =
            root.open_file_in_dir(name, Mode::ReadWriteCreateOrTruncate).map_err(|e| format!("{name}: {e:?}"))?;
        file.write(data).map_err(|e| format!("{name}: {e:?}"))?;
        file.close().map_err(|e| format!("{name}: {e:?}"))
    }

    /// The slots with an intact snapshot, newest first: (slot, sum, image).
    fn snapshots(&self) -> Vec<(usize, Sum, Vec<u8>)> {
        let mut found = Vec::new();
        for (slot, (image, sum)) in SLOTS.iter().enumerate() {
            let Ok(Some(text)) = self.read_file(sum) else { continue };
            let Some(s) = core::str::from_utf8(&text).ok().and_then(parse_sum) else { continue };
            match self.read_file(image) {
                Ok(Some(data)) if data.len() as u64 == s.length && fnv1a64(&data) == s.checksum => {
                    found.push((slot, s, data))
                }
                _ => crate::println!("st80: {image} on the SD card does not match {sum}: not booted"),
            }
        }
        found.sort_by_key(|(_, s, _)| core::cmp::Reverse(s.sequence));
        found
    }

    /// The image to boot: the newest intact snapshot, else `VirtualImage`; with its name.
    pub fn boot_image(&self) -> Outcome<Option<(&'static str, Vec<u8>)>> {
        if let Some((slot, _, data)) = self.snapshots().into_iter().next() {
            return Ok(Some((SLOTS[slot].0, data)));
        }
        Ok(self.read_file(IMAGE_NAME)?.map(|data| (IMAGE_NAME, data)))
    }

    /// Saves `image` in the slot not holding the newest snapshot; answers the file's name.
    pub fn save(&self, image: &[u8]) -> Outcome<&'static str> {
        let (slot, sequence) = match self.snapshots().first() {
            Some((newest, s, _)) => (1 - newest, s.sequence + 1),
            None => (0, 1),
        };
        let (name, sum) = SLOTS[slot];
        self.write_file(name, image)?;
        let checksum = fnv1a64(image);
        match self.read_file(name)? {
            Some(back) if fnv1a64(&back) == checksum && back.len() == image.len() => {}
            Some(back) => {
                let at = back.iter().zip(image).position(|(a, b)| a != b).unwrap_or(back.len().min(image.len()));
                return Err(format!(
                    "{name} reads back different from what was written ({} bytes of {}, first difference at {at})",
                    back.len(),
                    image.len()
                ));
            }
            None => return Err(format!("{name} is not there after writing it")),
        }
        let text = format!("st80 snapshot 1\nsequence {sequence}\nlength {}\nfnv1a64 {checksum:016x}\n", image.len());
        self.write_file(sum, text.as_bytes())?;
        Ok(name)
    }
}
