//! A polling host driver for the Synopsys DesignWare USB 2.0 OTG controller (DWC2) of the
//! Raspberry Pi's BCM283x: no interrupts, one transfer at a time, each through a host channel
//! in DMA mode (QEMU's model of the controller has no slave mode) from a buffer in cached RAM
//! with cache maintenance around it. Enough for USB HID keyboards and mice in boot protocol,
//! behind hubs too: control transfers to enumerate, interrupt-IN transfers polled for reports.

use crate::arch;

// Core global registers.
const GAHBCFG: usize = 0x008;
const GUSBCFG: usize = 0x00c;
const GRSTCTL: usize = 0x010;
const GINTSTS: usize = 0x014;
const GSNPSID: usize = 0x040;
// Host registers.
const HCFG: usize = 0x400;
const HPRT0: usize = 0x440;
const PCGCCTL: usize = 0xe00;

const fn hc(chan: usize, reg: usize) -> usize {
    0x500 + chan * 0x20 + reg
}
const HCCHAR: usize = 0x00;
const HCSPLT: usize = 0x04;
const HCINT: usize = 0x08;
const HCINTMSK: usize = 0x0c;
const HCTSIZ: usize = 0x10;
const HCDMA: usize = 0x14;

// HPRT0 bits; CONNDET, ENA, ENACHG and OVRCURRCHG are write-1-to-clear, so every write of the
// register leaves them 0 (writing ENA back would disable the port).
const HPRT_CONNSTS: u32 = 1 << 0;
const HPRT_W1C: u32 = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 5);
const HPRT_ENA: u32 = 1 << 2;
const HPRT_RST: u32 = 1 << 8;
const HPRT_PWR: u32 = 1 << 12;

// HCINT bits.
const XFERCOMPL: u32 = 1 << 0;
const CHHLTD: u32 = 1 << 1;
const STALL: u32 = 1 << 3;
const NAK: u32 = 1 << 4;
const ACK: u32 = 1 << 5;
const NYET: u32 = 1 << 6;

const CHENA: u32 = 1 << 31;
const CHDIS: u32 = 1 << 30;

/// HCTSIZ's packet identifiers.
pub const DATA0: u32 = 0;
pub const DATA1: u32 = 2;
const SETUP: u32 = 3;

/// Endpoint types (HCCHAR.EPType).
const CONTROL: u32 = 0;
pub const INTERRUPT: u32 = 3;

/// The RAM bus address of the ARM's physical address: through the VideoCore's L2-uncached alias,
/// as the DMA engines see memory (QEMU maps the same RAM there).
const BUS_ALIAS: u32 = 0xc000_0000;

/// Why a transfer did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XferError {
    /// The endpoint refused the request.
    Stall,
    /// No data (an interrupt endpoint with nothing to report).
    Nak,
    /// Another error: the channel's HCINT.
    Failed(u32),
    /// The channel did not halt within 100 ms: its HCINT.
    Timeout(u32),
}

impl core::fmt::Display for XferError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            XferError::Stall => write!(f, "stalled"),
            XferError::Nak => write!(f, "no data (NAK)"),
            XferError::Failed(i) => write!(f, "failed (HCINT {i:#x})"),
            XferError::Timeout(i) => write!(f, "timed out (HCINT {i:#x})"),
        }
    }
}

/// A device on the bus, as a channel addresses it.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub address: u8,
    /// Endpoint 0's packet size.
    pub mps0: u16,
    pub low_speed: bool,
    pub high_speed: bool,
    /// For a full- or low-speed device behind a high-speed hub (a real Pi's LAN951x): that
    /// hub's address and port, for split transactions.
    pub split: Option<(u8, u8)>,
}

/// A DMA buffer of its own cache lines.
#[repr(C, align(64))]
struct DmaBuffer([u8; 512]);

static mut DMA: [DmaBuffer; 4] = [const { DmaBuffer([0; 512]) }; 4];

pub struct Dwc2 {
    base: usize,
}

impl Dwc2 {
    fn read(&self, off: usize) -> u32 {
        // SAFETY: a register of the controller whose base the board gave.
        unsafe { ((self.base + off) as *const u32).read_volatile() }
    }

    fn write(&self, off: usize, v: u32) {
        // SAFETY: as in `read`.
        unsafe { ((self.base + off) as *mut u32).write_volatile(v) }
    }

    /// Waits up to `ms` milliseconds for `done`.
    fn wait(&self, ms: u64, mut done: impl FnMut(&Self) -> bool) -> bool {
        let end = arch::millis() + ms;
        while arch::millis() < end {
            if done(self) {
                return true;
            }
        }
        done(self)
    }

    /// Resets the core, puts it in host mode with DMA, powers and resets the root port, and
    /// answers the controller when a device is connected there, and its speed (0 high, 1 full,
    /// 2 low).
    pub fn init(base: usize) -> Result<(Dwc2, u32), &'static str> {
        let c = Dwc2 { base };
        // "OT2" followed by the release.
        if c.read(GSNPSID) & 0xffff_f000 != 0x4f54_2000 {
            return Err("no DesignWare OTG controller");
        }
        c.write(GAHBCFG, 0); // no interrupts
        if !c.wait(100, |c| c.read(GRSTCTL) & (1 << 31) != 0) {
            return Err("the AHB did not go idle");
        }
        c.write(GRSTCTL, 1); // core soft reset
        if !c.wait(100, |c| c.read(GRSTCTL) & 1 == 0) {
            return Err("the core soft reset did not end");
        }
        arch::delay_us(100_000);
        c.write(PCGCCTL, 0); // clocks on
                             // Host mode forced (bit 29), not device mode (bit 30); the Pi's internal UTMI+ PHY.
        let usbcfg = c.read(GUSBCFG) & !((1 << 30) | (1 << 20) | (1 << 22));
        c.write(GUSBCFG, usbcfg | (1 << 29));
        arch::delay_us(50_000);
        c.write(GAHBCFG, 1 << 5); // DMA on, global interrupts off
        c.write(HCFG, c.read(HCFG) & !3); // 30/60 MHz PHY clock (high speed capable)
        c.write(GINTSTS, 0xffff_ffff);
        let port = c.read(HPRT0) & !HPRT_W1C;
        c.write(HPRT0, port | HPRT_PWR);
        if !c.wait(500, |c| c.read(HPRT0) & HPRT_CONNSTS != 0) {
            return Err("nothing is connected to the root port");
        }
        arch::delay_us(100_000);
        let port = c.read(HPRT0) & !HPRT_W1C;
        c.write(HPRT0, port | HPRT_RST);
        arch::delay_us(60_000);
        c.write(HPRT0, port & !HPRT_RST);
        if !c.wait(100, |c| c.read(HPRT0) & HPRT_ENA != 0) {
            return Err("the root port was not enabled after its reset");
        }
        arch::delay_us(20_000);
        let hprt = c.read(HPRT0);
        // Clear the change bits (write 1), keep the port enabled (ENA is not written).
        c.write(HPRT0, (hprt & !HPRT_W1C) | (hprt & HPRT_W1C & !HPRT_ENA));
        Ok((c, (hprt >> 17) & 3))
    }

    /// One transaction sequence on channel `chan`: `len` bytes (IN into, or OUT from, the
    /// channel's DMA buffer) with packet id `pid`; answers the bytes transferred.
    #[allow(clippy::too_many_arguments)]
    fn transfer(
        &mut self,
        chan: usize,
        t: Target,
        endpoint: u8,
        kind: u32,
        mps: u16,
        input: bool,
        pid: u32,
        len: usize,
    ) -> Result<usize, XferError> {
        // SAFETY: one transfer at a time per channel; the buffer is ours until it halts.
        let buf = unsafe { &mut (*core::ptr::addr_of_mut!(DMA))[chan].0 };
        let addr = buf.as_ptr() as usize;
        // What the CPU wrote reaches memory; no dirty line is written over what DMA brings.
        arch::flush_dcache(addr, buf.len());
        let packets = len.div_ceil(mps.max(1) as usize).max(1) as u32;
        self.write(hc(chan, HCINT), 0xffff_ffff);
        self.write(hc(chan, HCINTMSK), 0x7ff);
        // A split transaction: all of the data in one start-split (position 3, "all").
        let split = t.split.map_or(0, |(hub, port)| (1 << 31) | (3 << 14) | ((hub as u32) << 7) | port as u32);
        self.write(hc(chan, HCSPLT), split);
        self.write(hc(chan, HCTSIZ), len as u32 | (packets << 19) | (pid << 29));
        self.write(hc(chan, HCDMA), addr as u32 | BUS_ALIAS);
        let chars = (mps as u32 & 0x7ff)
            | ((endpoint as u32 & 15) << 11)
            | ((input as u32) << 15)
            | ((t.low_speed as u32) << 17)
            | (kind << 18)
            | (1 << 20) // one transaction per frame
            | ((t.address as u32 & 0x7f) << 22);
        self.write(hc(chan, HCCHAR), chars | CHENA);
        let mut halted = self.wait(100, |c| c.read(hc(chan, HCINT)) & CHHLTD != 0);
        let mut int = self.read(hc(chan, HCINT));
        // The hub took the start-split (ACK): ask for the outcome with complete-splits until
        // it has one (NYET: not yet). (QEMU's controller ignores splits and completes at once.)
        if split != 0 && halted && int & ACK != 0 && int & XFERCOMPL == 0 {
            for _ in 0..1000 {
                self.write(hc(chan, HCINT), 0xffff_ffff);
                self.write(hc(chan, HCSPLT), split | (1 << 16));
                self.write(hc(chan, HCCHAR), chars | CHENA);
                halted = self.wait(100, |c| c.read(hc(chan, HCINT)) & CHHLTD != 0);
                int = self.read(hc(chan, HCINT));
                if !halted || int & NYET == 0 {
                    break;
                }
                arch::delay_us(125);
            }
        }
        if !halted {
            self.write(hc(chan, HCCHAR), chars | CHENA | CHDIS);
            self.wait(10, |c| c.read(hc(chan, HCINT)) & CHHLTD != 0);
            return Err(XferError::Timeout(int));
        }
        arch::flush_dcache(addr, buf.len());
        if int & XFERCOMPL != 0 {
            let left = (self.read(hc(chan, HCTSIZ)) & 0x7_ffff) as usize;
            Ok(len.saturating_sub(left))
        } else if int & STALL != 0 {
            Err(XferError::Stall)
        } else if int & NAK != 0 {
            Err(XferError::Nak)
        } else {
            Err(XferError::Failed(int))
        }
    }

    /// Like `transfer`, tried again while the device answers NAK (for up to 200 tries).
    fn transfer_retrying(&mut self, t: Target, input: bool, pid: u32, len: usize) -> Result<usize, XferError> {
        let mut tries = 0;
        loop {
            match self.transfer(0, t, 0, CONTROL, t.mps0, input, pid, len) {
                Err(XferError::Nak) if tries < 200 => {
                    tries += 1;
                    arch::delay_us(1000);
                }
                r => return r,
            }
        }
    }

    /// A control transfer on endpoint 0: the 8-byte `setup`, then `data` (read into it if the
    /// request is device-to-host, sent from it otherwise; `setup`'s wLength long), then the
    /// status stage. Answers the bytes of the data stage.
    pub fn control(&mut self, t: Target, setup: [u8; 8], data: &mut [u8]) -> Result<usize, XferError> {
        let input = setup[0] & 0x80 != 0;
        let len = (u16::from_le_bytes([setup[6], setup[7]]) as usize).min(data.len()).min(512);
        // SAFETY: channel 0's buffer, not in use between transfers.
        let buf = unsafe { &mut (*core::ptr::addr_of_mut!(DMA))[0].0 };
        buf[..8].copy_from_slice(&setup);
        self.transfer_retrying(t, false, SETUP, 8)?;
        let mut got = 0;
        if len > 0 {
            if !input {
                // SAFETY: as above.
                let buf = unsafe { &mut (*core::ptr::addr_of_mut!(DMA))[0].0 };
                buf[..len].copy_from_slice(&data[..len]);
            }
            got = self.transfer_retrying(t, input, DATA1, len)?;
            if input {
                // SAFETY: as above.
                let buf = unsafe { &(*core::ptr::addr_of!(DMA))[0].0 };
                data[..got].copy_from_slice(&buf[..got]);
            }
        }
        // The status stage goes the other way (IN when there was no data).
        self.transfer_retrying(t, !(input && len > 0), DATA1, 0)?;
        Ok(got)
    }

    /// One interrupt-IN transaction on channel `chan` (1..=3) with data toggle `pid`: the
    /// report the endpoint had, copied into `out`; `Err(Nak)` when it had none.
    pub fn interrupt_in(
        &mut self,
        chan: usize,
        t: Target,
        endpoint: u8,
        mps: u16,
        pid: u32,
        out: &mut [u8],
    ) -> Result<usize, XferError> {
        let len = (mps as usize).min(out.len()).min(64);
        let got = self.transfer(chan, t, endpoint, INTERRUPT, mps, true, pid, len)?;
        // SAFETY: the channel's buffer, now halted.
        let buf = unsafe { &(*core::ptr::addr_of!(DMA))[chan].0 };
        out[..got].copy_from_slice(&buf[..got]);
        Ok(got)
    }
}
