//! st80 on a Raspberry Pi 3 (BCM2837; QEMU's `raspi3b` too): the PL011 UART on GPIO 14/15 as
//! console and fallback keyboard, the framebuffer from the VideoCore mailbox at the Display's
//! size (the GPU scales it to the monitor), the generic timer as the millisecond clock, and
//! the build time as the wall clock (the board has no real-time clock), USB HID keyboards and
//! mice (boot protocol; QEMU's tablet too) on the DWC2 controller, polled.
//!
//!     qemu-system-aarch64 -M raspi3b -kernel kernel8.img -serial stdio \
//!         -usb -device usb-kbd -device usb-tablet
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::cell::RefCell;
use st80_baremetal::arch::{self, Memory};
use st80_baremetal::cardstore::{Card, CardStore, Clock};
use st80_baremetal::fb::Framebuffer;
use st80_baremetal::keyboard::Keyboard;
use st80_baremetal::sdhci::Sdhci;
use st80_baremetal::session::{self, Board, BoardInput};
use st80_baremetal::usb::{Usb, UsbInput};
use st80_baremetal::{console, heap, println};
use st80_core::host::{InputEvent, MouseButton};
use st80_core::SnapshotError;

core::arch::global_asm!(include_str!("../boot.S"));

const PERIPHERALS: usize = 0x3f00_0000;
const GPIO: usize = PERIPHERALS + 0x20_0000;
const UART: usize = PERIPHERALS + 0x20_1000;
const MAILBOX: usize = PERIPHERALS + 0xb880;
/// The SD card's controller ("EMMC", an SDHCI).
const EMMC: usize = PERIPHERALS + 0x30_0000;
/// The USB host controller (DesignWare OTG).
const USB: usize = PERIPHERALS + 0x98_0000;
/// How often the USB keyboards and mice are asked for reports (their usual bInterval is 8-10).
const USB_POLL_MS: u64 = 4;
/// The ARM's local peripherals (above the 1 GiB of RAM).
const LOCAL_PERIPHERALS: usize = 0x4000_0000;

fn reg(addr: usize) -> *mut u32 {
    addr as *mut u32
}

fn uart_init() {
    // SAFETY: the GPIO and PL011 registers of the BCM2837.
    unsafe {
        // Disabled while it is set up.
        reg(UART + 0x30).write_volatile(0);
        // GPIO 14 and 15 to alternate function 0 (TXD0, RXD0), no pull-up/down.
        let sel = reg(GPIO + 0x04).read_volatile();
        let sel = (sel & !((7 << 12) | (7 << 15))) | (4 << 12) | (4 << 15);
        reg(GPIO + 0x04).write_volatile(sel);
        reg(GPIO + 0x94).write_volatile(0);
        arch::delay_us(5);
        reg(GPIO + 0x98).write_volatile((1 << 14) | (1 << 15));
        arch::delay_us(5);
        reg(GPIO + 0x98).write_volatile(0);
        // No pending interrupts.
        reg(UART + 0x44).write_volatile(0x7ff);
        // 115200 baud from the 48 MHz UART clock the firmware sets: 48e6 / (16 * 115200)
        // = 26 + 3/64.
        reg(UART + 0x24).write_volatile(26);
        reg(UART + 0x28).write_volatile(3);
        reg(UART + 0x2c).write_volatile(0x70); // 8 bits, FIFOs on
        reg(UART + 0x30).write_volatile(0x301); // UART, transmit and receive on
    }
}

fn uart_putc(b: u8) {
    // SAFETY: the PL011's data and flag registers; wait while the transmit FIFO is full.
    unsafe {
        while reg(UART + 0x18).read_volatile() & (1 << 5) != 0 {}
        reg(UART).write_volatile(b as u32);
    }
}

fn uart_getc() -> Option<u8> {
    // SAFETY: as above; read only while the receive FIFO is not empty.
    unsafe {
        if reg(UART + 0x18).read_volatile() & (1 << 4) != 0 {
            None
        } else {
            Some(reg(UART).read_volatile() as u8)
        }
    }
}

/// A property-channel message for the VideoCore (16-byte aligned, as the mailbox wants).
#[repr(C, align(16))]
struct Message([u32; 36]);

static mut MESSAGE: Message = Message([0; 36]);

/// Sends `tags` (each: tag, value size, 0, values...) over the property channel (8) and
/// answers the words of the reply's tags, or None if the firmware refused.
fn mailbox(tags: &[u32]) -> Option<[u32; 36]> {
    // SAFETY: one core, one message at a time; the buffer is written back from the cache
    // before the GPU reads it and invalidated before we read its reply.
    unsafe {
        let msg = &mut *core::ptr::addr_of_mut!(MESSAGE);
        let len = tags.len() + 3;
        msg.0 = [0; 36];
        msg.0[0] = (len * 4) as u32;
        msg.0[1] = 0; // a request
        msg.0[2..2 + tags.len()].copy_from_slice(tags);
        msg.0[2 + tags.len()] = 0; // end tag
        let addr = msg as *mut Message as usize;
        arch::flush_dcache(addr, core::mem::size_of::<Message>());
        while reg(MAILBOX + 0x38).read_volatile() & (1 << 31) != 0 {} // write mailbox full
        reg(MAILBOX + 0x20).write_volatile(addr as u32 | 8);
        loop {
            while reg(MAILBOX + 0x18).read_volatile() & (1 << 30) != 0 {} // read mailbox empty
            if reg(MAILBOX).read_volatile() == addr as u32 | 8 {
                break;
            }
        }
        arch::flush_dcache(addr, core::mem::size_of::<Message>());
        let reply = core::ptr::read_volatile(&msg.0);
        (reply[1] == 0x8000_0000).then_some(reply)
    }
}

/// The RAM the ARM has (the rest of the first GiB is the GPU's): base and size.
fn arm_memory() -> (usize, usize) {
    match mailbox(&[0x0001_0005, 8, 0, 0, 0]) {
        Some(r) => (r[5] as usize, r[6] as usize),
        None => (0, 0x3b40_0000), // gpu_mem=64, the firmware's default
    }
}

struct Pi3 {
    /// The SD card's FAT partition, where the image and its snapshots are.
    card: Option<CardStore>,
    fb: Option<Framebuffer>,
    /// The framebuffer was asked for (once: the firmware may refuse).
    fb_tried: bool,
    /// The USB keyboards and mice, if any.
    usb: Option<Usb>,
    usb_input: Vec<UsbInput>,
    /// When the HID devices are next asked for reports (ms): each NAK costs a frame on a
    /// real bus, so not after every slice of bytecodes.
    usb_next_poll: u64,
    keyboard: Keyboard,
    /// The pointer on the framebuffer, in 1/32768ths of its width and height (a tablet's
    /// units; a mouse's moves are added to it).
    pointer: (u32, u32),
}

impl Pi3 {
    /// Asks the firmware for a `w` x `h` 32-bit framebuffer.
    fn allocate_framebuffer(w: u32, h: u32) -> Option<Framebuffer> {
        #[rustfmt::skip]
        let r = mailbox(&[
            0x0004_8003, 8, 0, w, h,   // physical size
            0x0004_8004, 8, 0, w, h,   // virtual size
            0x0004_8009, 8, 0, 0, 0,   // virtual offset
            0x0004_8005, 4, 0, 32,     // depth
            0x0004_0001, 8, 0, 4096, 0, // allocate (alignment) -> base, size
            0x0004_0008, 4, 0, 0,      // pitch
        ])?;
        let (width, height, base, pitch) = (r[5], r[6], r[24] & 0x3fff_ffff, r[29]);
        if base == 0 || pitch == 0 {
            return None;
        }
        println!("st80: framebuffer {width} x {height} at {base:#x}, pitch {pitch}");
        Some(Framebuffer {
            base: base as usize as *mut u32,
            width: width as usize,
            height: height as usize,
            stride: pitch as usize / 4,
        })
    }
}

/// The EMMC controller's base clock (the firmware's clock 1), in Hz.
fn emmc_clock() -> u32 {
    mailbox(&[0x0003_0002, 8, 0, 1, 0]).map_or(50_000_000, |r| r[6]).max(1)
}

fn unix_time() -> u64 {
    st80_baremetal::build_unix_time() + arch::millis() / 1000
}

/// The SD card, if there is one with a FAT partition.
fn open_card() -> Option<CardStore> {
    match Sdhci::init(EMMC, emmc_clock()) {
        Ok(sd) => {
            println!("st80: SD card of {} KiB", sd.blocks() / 2);
            Some(CardStore::new(Card(RefCell::new(sd)), Clock(unix_time)))
        }
        Err(e) => {
            println!("st80: no SD card ({e}): snapshots are not saved");
            None
        }
    }
}

impl Board for Pi3 {
    fn saved_image(&mut self) -> Option<(&'static str, Vec<u8>)> {
        match self.card.as_ref()?.boot_image() {
            Ok(Some((name, image))) => Some((
                if name.starts_with("SNAP") { "the snapshot on the SD card" } else { "VirtualImage from the SD card" },
                image,
            )),
            Ok(None) => None,
            Err(e) => {
                println!("st80: the SD card: {e}");
                None
            }
        }
    }

    fn save_snapshot(&mut self, image: &[u8]) -> Result<(), SnapshotError> {
        let card = self.card.as_ref().ok_or(SnapshotError::NoStorage)?;
        let name = card.save(image).map_err(SnapshotError::Failed)?;
        println!("st80: written to {name} on the SD card");
        Ok(())
    }

    fn framebuffer(&mut self, width: usize, height: usize) -> Option<&mut Framebuffer> {
        if !self.fb_tried {
            self.fb_tried = true;
            self.fb = Pi3::allocate_framebuffer(width as u32, height as u32);
            if self.fb.is_none() {
                println!("st80: the firmware gave no framebuffer; the image runs with the console only");
            }
        }
        self.fb.as_mut()
    }

    fn poll_input(&mut self, out: &mut Vec<BoardInput>) {
        while let Some(b) = uart_getc() {
            out.push(BoardInput::Char(b));
        }
        let Some(usb) = self.usb.as_mut() else { return };
        if arch::millis() < self.usb_next_poll {
            return;
        }
        self.usb_next_poll = arch::millis() + USB_POLL_MS;
        usb.poll(&mut self.usb_input);
        let (fw, fh) = self.fb.as_ref().map_or((1, 1), |f| (f.width as u32, f.height as u32));
        for i in self.usb_input.drain(..) {
            match i {
                UsbInput::Key { code, down } => {
                    out.extend(self.keyboard.key(code, down).into_iter().map(BoardInput::Event));
                }
                UsbInput::Absolute { x, y } => {
                    // A tablet repeats its position in every report (with each button change).
                    if self.pointer == (x.min(32767), y.min(32767)) {
                        continue;
                    }
                    self.pointer = (x.min(32767), y.min(32767));
                }
                UsbInput::Move { dx, dy } => {
                    let move_by = |v: u32, d: i32, size: u32| {
                        let p = (v as u64 * size as u64 / 32768) as i32 + d;
                        (p.clamp(0, size as i32 - 1) as u64 * 32768 / size as u64) as u32
                    };
                    self.pointer = (move_by(self.pointer.0, dx, fw), move_by(self.pointer.1, dy, fh));
                }
                UsbInput::Button { button, down } => {
                    let button = [MouseButton::Red, MouseButton::Yellow, MouseButton::Blue][button as usize % 3];
                    out.push(BoardInput::Event(InputEvent::Button { button, down }));
                }
            }
            if matches!(i, UsbInput::Absolute { .. } | UsbInput::Move { .. }) {
                let x = (self.pointer.0 as u64 * fw as u64 / 32768) as i32;
                let y = (self.pointer.1 as u64 * fh as u64 / 32768) as i32;
                out.push(BoardInput::Pointer { x, y });
            }
        }
    }
}

/// Powers the USB controller on through the firmware (device 3), waiting until it is up.
fn usb_power_on() -> bool {
    mailbox(&[0x0002_8001, 8, 0, 3, 3]).is_some_and(|r| r[6] & 1 != 0)
}

#[no_mangle]
extern "C" fn kernel_main() -> ! {
    let boot_ms = arch::millis();
    uart_init();
    console::set_output(uart_putc);
    arch::init_exceptions();
    let (base, size) = arm_memory();
    let ram_end = base + size;
    // The ARM's RAM cached; the GPU's part (the framebuffer) uncached; then the peripherals.
    arch::enable_mmu(|a| {
        let a = a as usize;
        if a < ram_end {
            Memory::Normal
        } else if a < PERIPHERALS {
            Memory::NonCacheable
        } else if a < LOCAL_PERIPHERALS + (2 << 20) {
            Memory::Device
        } else {
            Memory::Unmapped
        }
    });
    let heap = heap::init(ram_end);
    println!("st80: Raspberry Pi 3, {} MiB heap, timer at {} Hz", heap >> 20, arch::counter_frequency());
    let card = open_card();
    if !usb_power_on() {
        println!("st80: the firmware did not power USB on");
    }
    let usb = Usb::init(USB).filter(|u| u.has_input());
    if usb.is_none() {
        println!("st80: no USB keyboard or mouse: the console is the keyboard");
    }
    let mut pi = Pi3 {
        card,
        fb: None,
        fb_tried: false,
        usb,
        usb_input: Vec::new(),
        usb_next_poll: 0,
        keyboard: Keyboard::default(),
        pointer: (0, 0),
    };
    session::run(&mut pi, boot_ms)
}
