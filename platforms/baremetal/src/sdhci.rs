//! An SD card behind an SD Host Controller (the BCM2837's "EMMC", an Arasan SDHCI, which QEMU's
//! `raspi3b` emulates): card identification, then 512-byte block reads and writes by
//! programmed I/O (no DMA, so no cache maintenance), polling the interrupt status (no IRQs).
//! The register offsets and command encoding are the SD Host Controller specification's.

use crate::arch;

const BLKSIZECNT: usize = 0x04;
const ARG1: usize = 0x08;
const CMDTM: usize = 0x0c;
const RESP0: usize = 0x10;
const DATA: usize = 0x20;
const STATUS: usize = 0x24;
const CONTROL0: usize = 0x28;
const CONTROL1: usize = 0x2c;
const INTERRUPT: usize = 0x30;
const IRPT_MASK: usize = 0x34;
const IRPT_EN: usize = 0x38;

// INTERRUPT bits.
const CMD_DONE: u32 = 1 << 0;
const DATA_DONE: u32 = 1 << 1;
const WRITE_READY: u32 = 1 << 4;
const READ_READY: u32 = 1 << 5;
const ERROR: u32 = 1 << 15;

// STATUS bits: a command, or a data transfer, is still under way.
const CMD_INHIBIT: u32 = 1 << 0;
const DAT_INHIBIT: u32 = 1 << 1;

// The command register's response types (with CRC and index checks where the response has
// them) and flags.
const RESP_NONE: u32 = 0;
const RESP_136: u32 = 0x01 | 0x08;
const RESP_48: u32 = 0x02 | 0x08 | 0x10;
const RESP_48_BUSY: u32 = 0x03 | 0x08 | 0x10;
const RESP_48_NO_CRC: u32 = 0x02;
const HAS_DATA: u32 = 0x20;

// Transfer mode: block count enable, auto CMD12, card to host, multiple blocks.
const TM_BLOCK_COUNT: u32 = 1 << 1;
const TM_AUTO_CMD12: u32 = 1 << 2;
const TM_READ: u32 = 1 << 4;
const TM_MULTI: u32 = 1 << 5;

const TIMEOUT_MS: u64 = 1000;

/// An initialized card.
pub struct Sdhci {
    base: usize,
    /// Blocks are addressed by number (SDHC/SDXC), not by byte (SDSC).
    block_addressing: bool,
    /// Capacity in 512-byte blocks.
    blocks: u64,
}

fn reg(base: usize, offset: usize) -> *mut u32 {
    (base + offset) as *mut u32
}

impl Sdhci {
    fn read(&self, offset: usize) -> u32 {
        // SAFETY: a register of the controller at `base`, device memory.
        unsafe { reg(self.base, offset).read_volatile() }
    }

    fn write(&self, offset: usize, value: u32) {
        // SAFETY: as above.
        unsafe { reg(self.base, offset).write_volatile(value) }
    }

    /// Waits until `done(register)` holds, or fails after a second.
    fn wait(&self, offset: usize, done: impl Fn(u32) -> bool, what: &'static str) -> Result<u32, &'static str> {
        let end = arch::millis() + TIMEOUT_MS;
        loop {
            let v = self.read(offset);
            if done(v) {
                return Ok(v);
            }
            if arch::millis() > end {
                return Err(what);
            }
        }
    }

    /// Waits for `bits` in the interrupt status and clears them; an error clears everything and
    /// resets the command and data lines.
    fn wait_interrupt(&self, bits: u32, what: &'static str) -> Result<(), &'static str> {
        let v = self.wait(INTERRUPT, |v| v & (bits | ERROR) != 0, what)?;
        if v & ERROR != 0 {
            self.write(INTERRUPT, 0xffff_ffff);
            self.write(CONTROL1, self.read(CONTROL1) | (3 << 25));
            let _ = self.wait(CONTROL1, |v| v & (3 << 25) == 0, what);
            return Err(what);
        }
        self.write(INTERRUPT, bits);
        Ok(())
    }

    /// Sends a command; answers its first response word.
    fn command(&self, index: u32, arg: u32, flags: u32, mode: u32) -> Result<u32, &'static str> {
        let inhibit =
            if flags & HAS_DATA != 0 || flags == RESP_48_BUSY { CMD_INHIBIT | DAT_INHIBIT } else { CMD_INHIBIT };
        self.wait(STATUS, |v| v & inhibit == 0, "sd: the controller stays busy")?;
        self.write(ARG1, arg);
        self.write(CMDTM, (index << 24) | (flags << 16) | mode);
        self.wait_interrupt(CMD_DONE, "sd: a command failed")?;
        if flags == RESP_48_BUSY {
            self.wait(STATUS, |v| v & DAT_INHIBIT == 0, "sd: the card stays busy")?;
            self.write(INTERRUPT, DATA_DONE);
        }
        Ok(self.read(RESP0))
    }

    /// An application command (CMD55 first).
    fn app_command(&self, rca: u32, index: u32, arg: u32, flags: u32) -> Result<u32, &'static str> {
        self.command(55, rca << 16, RESP_48, 0)?;
        self.command(index, arg, flags, 0)
    }

    /// Sets the SD clock to at most `hz` from the controller's `base_hz`.
    fn set_clock(&self, base_hz: u32, hz: u32) -> Result<(), &'static str> {
        let c1 = self.read(CONTROL1) & !0xffff;
        self.write(CONTROL1, c1);
        // 10-bit divided clock mode: base / (2 * divisor), divisor 0 = base.
        let divisor = base_hz.div_ceil(2 * hz).min(0x3ff);
        let c1 = c1 | (0xe << 16) | ((divisor & 0xff) << 8) | ((divisor >> 8) << 6) | 1;
        self.write(CONTROL1, c1);
        self.wait(CONTROL1, |v| v & 2 != 0, "sd: the clock does not settle")?;
        self.write(CONTROL1, c1 | 4);
        arch::delay_us(100);
        Ok(())
    }

    /// Resets the controller at `base` (its clock `base_hz`) and identifies the card in it.
    pub fn init(base: usize, base_hz: u32) -> Result<Sdhci, &'static str> {
        let mut sd = Sdhci { base, block_addressing: false, blocks: 0 };
        sd.write(CONTROL1, 1 << 24);
        sd.wait(CONTROL1, |v| v & (1 << 24) == 0, "sd: the controller does not reset")?;
        sd.write(CONTROL0, 0x0f00); // 3.3 V bus power (the BCM2837 ignores it)
        sd.write(IRPT_MASK, 0xffff_ffff); // every status bit reported ...
        sd.write(IRPT_EN, 0); // ... by polling
        sd.set_clock(base_hz, 400_000)?;
        sd.command(0, 0, RESP_NONE, 0)?;
        // CMD8: 2.7-3.6 V and a check pattern; a card that does not answer is SD 1.x.
        let v2 = sd.command(8, 0x1aa, RESP_48, 0).map(|r| r & 0xfff == 0x1aa).unwrap_or(false);
        let hcs = if v2 { 1 << 30 } else { 0 };
        let end = arch::millis() + TIMEOUT_MS;
        let ocr = loop {
            let ocr = sd.app_command(0, 41, hcs | 0x00ff_8000, RESP_48_NO_CRC)?;
            if ocr & (1 << 31) != 0 {
                break ocr;
            }
            if arch::millis() > end {
                return Err("sd: the card does not power up");
            }
            arch::delay_us(1000);
        };
        sd.block_addressing = ocr & (1 << 30) != 0;
        sd.command(2, 0, RESP_136, 0)?;
        let rca = sd.command(3, 0, RESP_48, 0)? >> 16;
        // CSD (CMD9; the response without its CRC byte, shifted right by 8 bits): the capacity.
        sd.command(9, rca << 16, RESP_136, 0)?;
        let csd = [sd.read(RESP0), sd.read(RESP0 + 4), sd.read(RESP0 + 8), sd.read(RESP0 + 12)];
        sd.blocks = capacity_blocks(csd);
        sd.command(7, rca << 16, RESP_48_BUSY, 0)?;
        if !sd.block_addressing {
            sd.command(16, 512, RESP_48, 0)?;
        }
        sd.set_clock(base_hz, 25_000_000)?;
        Ok(sd)
    }

    /// Capacity in 512-byte blocks.
    pub fn blocks(&self) -> u64 {
        self.blocks
    }

    fn address(&self, block: u64) -> u32 {
        if self.block_addressing {
            block as u32
        } else {
            (block * 512) as u32
        }
    }

    fn transfer_mode(count: usize) -> u32 {
        if count > 1 {
            TM_BLOCK_COUNT | TM_AUTO_CMD12 | TM_MULTI
        } else {
            TM_BLOCK_COUNT
        }
    }

    /// Reads `buf.len() / 512` blocks from `block` on.
    pub fn read_blocks(&mut self, block: u64, buf: &mut [u8]) -> Result<(), &'static str> {
        for (i, chunk) in buf.chunks_mut(512 * 64).enumerate() {
            let count = chunk.len() / 512;
            self.write(BLKSIZECNT, ((count as u32) << 16) | 512);
            let index = if count > 1 { 18 } else { 17 };
            let mode = Self::transfer_mode(count) | TM_READ;
            self.command(index, self.address(block + i as u64 * 64), RESP_48 | HAS_DATA, mode)?;
            for b in chunk.chunks_mut(512) {
                self.wait_interrupt(READ_READY, "sd: a read failed")?;
                for w in b.chunks_mut(4) {
                    w.copy_from_slice(&self.read(DATA).to_le_bytes());
                }
            }
            self.wait_interrupt(DATA_DONE, "sd: a read did not end")?;
        }
        Ok(())
    }

    /// Writes `buf.len() / 512` blocks from `block` on.
    pub fn write_blocks(&mut self, block: u64, buf: &[u8]) -> Result<(), &'static str> {
        for (i, chunk) in buf.chunks(512 * 64).enumerate() {
            let count = chunk.len() / 512;
            self.write(BLKSIZECNT, ((count as u32) << 16) | 512);
            let index = if count > 1 { 25 } else { 24 };
            self.command(index, self.address(block + i as u64 * 64), RESP_48 | HAS_DATA, Self::transfer_mode(count))?;
            for b in chunk.chunks(512) {
                self.wait_interrupt(WRITE_READY, "sd: a write failed")?;
                for w in b.chunks(4) {
                    self.write(DATA, u32::from_le_bytes(w.try_into().unwrap()));
                }
            }
            self.wait_interrupt(DATA_DONE, "sd: a write did not end")?;
            // The card programs the blocks: wait until it lets go of the data line.
            self.wait(STATUS, |v| v & DAT_INHIBIT == 0, "sd: the card stays busy")?;
        }
        Ok(())
    }
}

/// The capacity the CSD gives (as the controller returns an R2 response: bits 127..8 of the
/// register in bits 119..0 of the four words).
fn capacity_blocks(r: [u32; 4]) -> u64 {
    let bits = |hi: u32, lo: u32| -> u64 {
        // CSD bit `n` is bit n - 8 of the 128-bit little-endian response.
        let mut v = 0u64;
        for n in (lo..=hi).rev() {
            let b = n - 8;
            v = (v << 1) | ((r[(b / 32) as usize] >> (b % 32)) & 1) as u64;
        }
        v
    };
    match bits(127, 126) {
        // CSD 2.0 (SDHC/SDXC): (C_SIZE + 1) * 512 KiB.
        1 => (bits(69, 48) + 1) * 1024,
        // CSD 1.0: (C_SIZE + 1) * 2^(C_SIZE_MULT + 2) blocks of 2^READ_BL_LEN bytes.
        _ => {
            let bytes = (bits(73, 62) + 1) << (bits(49, 47) + 2) << bits(83, 80);
            bytes / 512
        }
    }
}
