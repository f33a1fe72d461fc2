//! st80 on QEMU's `virt` AArch64 machine: PL011 UART console (and fallback keyboard), PL031
//! real-time clock, virtio-gpu framebuffer, virtio-input keyboard and tablet (or mouse),
//! virtio-blk disk for snapshots.
//!
//!     qemu-system-aarch64 -M virt -cpu cortex-a53 -m 256M -kernel st80-virt \
//!         -device virtio-gpu-device -device virtio-keyboard-device -device virtio-tablet-device \
//!         -drive file=disk.img,if=none,format=raw,id=disk -device virtio-blk-device,drive=disk
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::ptr::NonNull;
use st80_baremetal::arch::{self, Memory};
use st80_baremetal::fb::Framebuffer;
use st80_baremetal::keyboard::Keyboard;
use st80_baremetal::session::{self, Board, BoardInput};
use st80_baremetal::snapstore::{self, BlockDevice};
use st80_baremetal::virtio::IdentityHal;
use st80_baremetal::{console, heap, println};
use st80_core::host::{InputEvent, MouseButton, Rect};
use st80_core::SnapshotError;
use virtio_drivers::device::blk::VirtIOBlk;
use virtio_drivers::device::gpu::VirtIOGpu;
use virtio_drivers::device::input::VirtIOInput;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::{DeviceType, Transport};

core::arch::global_asm!(include_str!("../boot.S"));

const UART: usize = 0x0900_0000;
const RTC: usize = 0x0901_0000;
const VIRTIO_MMIO: usize = 0x0a00_0000;
const VIRTIO_SLOTS: usize = 32;
const VIRTIO_SLOT_SIZE: usize = 0x200;
const RAM: usize = 0x4000_0000;
/// The RAM the kernel uses: run QEMU with at least `-m 256M`.
const RAM_SIZE: usize = 256 << 20;

fn uart_putc(b: u8) {
    // SAFETY: the PL011's data and flag registers; wait while the transmit FIFO is full.
    unsafe {
        while ((UART + 0x18) as *const u32).read_volatile() & (1 << 5) != 0 {}
        (UART as *mut u32).write_volatile(b as u32);
    }
}

fn uart_getc() -> Option<u8> {
    // SAFETY: as above; read only while the receive FIFO is not empty.
    unsafe {
        if ((UART + 0x18) as *const u32).read_volatile() & (1 << 4) != 0 {
            None
        } else {
            Some((UART as *const u32).read_volatile() as u8)
        }
    }
}

type Transport0 = MmioTransport<'static>;

struct Disk(VirtIOBlk<IdentityHal, Transport0>);

impl BlockDevice for Disk {
    fn sectors(&self) -> u64 {
        self.0.capacity()
    }
    fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), &'static str> {
        self.0.read_blocks(sector as usize, buf).map_err(|_| "virtio-blk: read failed")
    }
    fn write(&mut self, sector: u64, buf: &[u8]) -> Result<(), &'static str> {
        self.0.write_blocks(sector as usize, buf).map_err(|_| "virtio-blk: write failed")
    }
    fn flush(&mut self) -> Result<(), &'static str> {
        self.0.flush().map_err(|_| "virtio-blk: flush failed")
    }
}

struct Virt {
    gpu: Option<VirtIOGpu<IdentityHal, Transport0>>,
    fb: Option<Framebuffer>,
    inputs: Vec<VirtIOInput<IdentityHal, Transport0>>,
    /// Where snapshots are saved (a virtio disk; see `snapstore`).
    disk: Option<Disk>,
    keyboard: Keyboard,
    /// The pointer's last position, as a tablet gives it (0..=32767 across each axis); a
    /// mouse's relative moves are added to it.
    tablet: (u32, u32),
}

impl Board for Virt {
    fn framebuffer(&mut self, _width: usize, _height: usize) -> Option<&mut Framebuffer> {
        self.fb.as_mut()
    }

    fn present(&mut self, _r: Rect) {
        if let Some(gpu) = self.gpu.as_mut() {
            if let Err(e) = gpu.flush() {
                println!("st80: virtio-gpu flush failed: {e:?}");
            }
        }
    }

    fn poll_input(&mut self, out: &mut Vec<BoardInput>) {
        while let Some(b) = uart_getc() {
            out.push(BoardInput::Char(b));
        }
        let (fw, fh) = self.fb.as_ref().map_or((1, 1), |f| (f.width as u32, f.height as u32));
        // The pointer moved since the last EV_SYN (a keyboard's or a button's SYN moves nothing).
        let mut moved = false;
        for dev in self.inputs.iter_mut() {
            dev.ack_interrupt();
            while let Some(e) = dev.pop_pending_event() {
                match (e.event_type, e.code) {
                    // EV_ABS: ABS_X, ABS_Y (a tablet: 0..=32767 across the screen)
                    (3, 0) => (self.tablet.0, moved) = (e.value, true),
                    (3, 1) => (self.tablet.1, moved) = (e.value, true),
                    // EV_REL: REL_X, REL_Y (a mouse: moves in pixels)
                    (2, 0) => {
                        let x = (self.tablet.0 as u64 * fw as u64 / 32768) as i32 + e.value as i32;
                        self.tablet.0 = (x.clamp(0, fw as i32 - 1) as u64 * 32768 / fw as u64) as u32;
                        moved = true;
                    }
                    (2, 1) => {
                        let y = (self.tablet.1 as u64 * fh as u64 / 32768) as i32 + e.value as i32;
                        self.tablet.1 = (y.clamp(0, fh as i32 - 1) as u64 * 32768 / fh as u64) as u32;
                        moved = true;
                    }
                    // EV_SYN: the position is complete
                    (0, _) if moved => {
                        moved = false;
                        let x = (self.tablet.0 as u64 * fw as u64 / 32768) as i32;
                        let y = (self.tablet.1 as u64 * fh as u64 / 32768) as i32;
                        out.push(BoardInput::Pointer { x, y });
                    }
                    // EV_KEY: BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, else keyboard keys
                    (1, 0x110..=0x112) => {
                        let button = match e.code {
                            0x110 => MouseButton::Red,
                            0x111 => MouseButton::Yellow,
                            _ => MouseButton::Blue,
                        };
                        out.push(BoardInput::Event(InputEvent::Button { button, down: e.value != 0 }));
                    }
                    (1, code) => {
                        for ev in self.keyboard.key(code, e.value != 0) {
                            out.push(BoardInput::Event(ev));
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn save_snapshot(&mut self, image: &[u8]) -> Result<(), SnapshotError> {
        let disk = self.disk.as_mut().ok_or(SnapshotError::NoStorage)?;
        snapstore::save(disk, image).map_err(|e| SnapshotError::Failed(e.into()))
    }

    fn saved_image(&mut self) -> Option<(&'static str, Vec<u8>)> {
        snapstore::load(self.disk.as_mut()?).map(|image| ("the snapshot saved on the disk", image))
    }

    fn seconds_since_1901(&mut self) -> u32 {
        // SAFETY: the PL031's data register: seconds since 1970 (QEMU sets it from the host).
        let unix = unsafe { (RTC as *const u32).read_volatile() };
        session::unix_to_1901(unix as u64)
    }
}

#[no_mangle]
extern "C" fn kernel_main() -> ! {
    let boot_ms = arch::millis();
    console::set_output(uart_putc);
    arch::init_exceptions();
    arch::enable_mmu(|a| {
        if (a as usize) < RAM {
            Memory::Device
        } else if (a as usize) < RAM + RAM_SIZE {
            Memory::Normal
        } else {
            Memory::Unmapped
        }
    });
    let heap = heap::init(RAM + RAM_SIZE);
    println!("st80: QEMU virt, {} MiB heap, timer at {} Hz", heap >> 20, arch::counter_frequency());

    let mut board =
        Virt { gpu: None, fb: None, inputs: Vec::new(), disk: None, keyboard: Keyboard::default(), tablet: (0, 0) };
    for slot in 0..VIRTIO_SLOTS {
        let base = VIRTIO_MMIO + slot * VIRTIO_SLOT_SIZE;
        let header = NonNull::new(base as *mut VirtIOHeader).unwrap();
        // SAFETY: a virtio-mmio slot of the virt machine, device memory we never touch
        // otherwise; an empty slot is refused by `new`.
        let Ok(transport) = (unsafe { MmioTransport::new(header, VIRTIO_SLOT_SIZE) }) else { continue };
        match transport.device_type() {
            DeviceType::GPU if board.gpu.is_none() => match VirtIOGpu::new(transport) {
                Ok(mut gpu) => {
                    let res = gpu.resolution();
                    match gpu.setup_framebuffer() {
                        Ok(buf) => {
                            let (w, h) = res.unwrap_or((0, 0));
                            println!("st80: virtio-gpu framebuffer {w} x {h}");
                            board.fb = Some(Framebuffer {
                                base: buf.as_mut_ptr() as *mut u32,
                                width: w as usize,
                                height: h as usize,
                                stride: w as usize,
                            });
                            board.gpu = Some(gpu);
                        }
                        Err(e) => println!("st80: virtio-gpu: no framebuffer: {e:?}"),
                    }
                }
                Err(e) => println!("st80: virtio-gpu: {e:?}"),
            },
            DeviceType::Input => match VirtIOInput::new(transport) {
                Ok(mut dev) => {
                    let name = dev.name().unwrap_or_default();
                    let name = name.trim_end_matches('\0');
                    println!("st80: virtio-input: {name}");
                    board.inputs.push(dev);
                }
                Err(e) => println!("st80: virtio-input: {e:?}"),
            },
            DeviceType::Block if board.disk.is_none() => match VirtIOBlk::new(transport) {
                Ok(blk) => {
                    println!("st80: virtio-blk disk of {} KiB for snapshots", blk.capacity() / 2);
                    board.disk = Some(Disk(blk));
                }
                Err(e) => println!("st80: virtio-blk: {e:?}"),
            },
            _ => {}
        }
    }
    if board.fb.is_none() {
        println!("st80: no display device; the image runs with the console only");
    }
    session::run(&mut board, boot_ms)
}
