//! USB on the DWC2 host controller: enumeration (through hubs: QEMU puts one on the Pi's single
//! root port as soon as a second device is attached), then HID keyboards and mice in boot
//! protocol, and QEMU's USB tablet (absolute coordinates), polled for reports that become the
//! board's input: keys as Linux key codes (for `keyboard::Keyboard`), the pointer and buttons.

use crate::dwc2::{Dwc2, Target, XferError, DATA0, DATA1};
use crate::{arch, println};
use alloc::vec::Vec;

/// What a HID interface reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Boot keyboard: modifiers, reserved, six key usages.
    Keyboard,
    /// Boot mouse: buttons, dx, dy (signed).
    Mouse,
    /// QEMU's usb-tablet (no boot protocol): buttons, x and y (0..=32767, little-endian).
    Tablet,
}

struct Hid {
    target: Target,
    endpoint: u8,
    mps: u16,
    kind: Kind,
    /// The data toggle of the next report.
    toggle: bool,
    /// The last report (keyboard: which keys were down; pointers: the buttons).
    last: [u8; 8],
}

/// What the devices reported, in the order they did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsbInput {
    /// A key (its Linux key code) went down or up.
    Key { code: u16, down: bool },
    /// A mouse moved by (dx, dy) pixels.
    Move { dx: i32, dy: i32 },
    /// A tablet's absolute position, 0..=32767 across each axis.
    Absolute { x: u32, y: u32 },
    /// Button 0 (left), 1 (right) or 2 (middle) went down or up.
    Button { button: u8, down: bool },
}

pub struct Usb {
    hc: Dwc2,
    hids: Vec<Hid>,
    next_address: u8,
}

// Standard requests.
const GET_STATUS: u8 = 0;
const CLEAR_FEATURE: u8 = 1;
const SET_FEATURE: u8 = 3;
const SET_ADDRESS: u8 = 5;
const GET_DESCRIPTOR: u8 = 6;
const SET_CONFIGURATION: u8 = 9;
// HID class requests.
const SET_IDLE: u8 = 0x0a;
const SET_PROTOCOL: u8 = 0x0b;
// Hub port features.
const PORT_RESET: u16 = 4;
const PORT_POWER: u16 = 8;
const C_PORT_CONNECTION: u16 = 16;
const C_PORT_RESET: u16 = 20;

fn setup(request_type: u8, request: u8, value: u16, index: u16, length: u16) -> [u8; 8] {
    let (v, i, l) = (value.to_le_bytes(), index.to_le_bytes(), length.to_le_bytes());
    [request_type, request, v[0], v[1], i[0], i[1], l[0], l[1]]
}

impl Usb {
    /// Starts the controller at `base` and enumerates what is connected; answers None (having
    /// said why on the console) when there is no controller or nothing on it.
    pub fn init(base: usize) -> Option<Usb> {
        let (hc, speed) = match Dwc2::init(base) {
            Ok(r) => r,
            Err(e) => {
                println!("st80: USB: {e}");
                return None;
            }
        };
        let mut usb = Usb { hc, hids: Vec::new(), next_address: 1 };
        if let Err(e) = usb.enumerate(speed, None, 0) {
            println!("st80: USB: enumeration failed: {e}");
        }
        Some(usb)
    }

    /// Gives the device at address 0 the next address, configures it, and takes it as a hub
    /// (then the devices on its ports, `depth` hubs down) or as HID interfaces. `speed`: 0
    /// high, 1 full, 2 low; `split`: see `Target`.
    fn enumerate(&mut self, speed: u32, split: Option<(u8, u8)>, depth: u32) -> Result<(), XferError> {
        let mut t = Target { address: 0, mps0: 8, low_speed: speed == 2, high_speed: speed == 0, split };
        let mut desc = [0u8; 18];
        self.hc.control(t, setup(0x80, GET_DESCRIPTOR, 0x0100, 0, 8), &mut desc)?;
        t.mps0 = (desc[7] as u16).max(8);
        let address = self.next_address;
        self.next_address += 1;
        self.hc.control(t, setup(0x00, SET_ADDRESS, address as u16, 0, 0), &mut [])?;
        arch::delay_us(10_000);
        t.address = address;
        self.hc.control(t, setup(0x80, GET_DESCRIPTOR, 0x0100, 0, 18), &mut desc)?;
        let class = desc[4];
        let (vendor, product) = (u16::from_le_bytes([desc[8], desc[9]]), u16::from_le_bytes([desc[10], desc[11]]));
        let mut config = [0u8; 256];
        self.hc.control(t, setup(0x80, GET_DESCRIPTOR, 0x0200, 0, 9), &mut config)?;
        let total = (u16::from_le_bytes([config[2], config[3]]) as usize).min(config.len());
        let got = self.hc.control(t, setup(0x80, GET_DESCRIPTOR, 0x0200, 0, total as u16), &mut config)?;
        self.hc.control(t, setup(0x00, SET_CONFIGURATION, config[5] as u16, 0, 0), &mut [])?;
        println!("st80: USB device {address}: {vendor:04x}:{product:04x}, class {class}");
        if class == 9 {
            return self.hub(t, depth);
        }
        // The interfaces (descriptor type 4) and their endpoints (type 5).
        let mut i = 0;
        let mut interface: Option<(u8, u8, u8, u8)> = None; // number, class, subclass, protocol
        while i + 2 <= got {
            let (len, kind) = (config[i] as usize, config[i + 1]);
            if len < 2 || i + len > got {
                break;
            }
            let d = &config[i..i + len];
            if kind == 4 && len >= 9 {
                interface = Some((d[2], d[5], d[6], d[7]));
            } else if kind == 5 && len >= 7 {
                // An interrupt-IN endpoint of a HID interface.
                if let Some((number, 3, subclass, protocol)) = interface {
                    if d[2] & 0x80 != 0 && d[3] & 3 == 3 {
                        self.add_hid(t, number, subclass, protocol, d[2] & 15, u16::from_le_bytes([d[4], d[5]]));
                        interface = None;
                    }
                }
            }
            i += len;
        }
        Ok(())
    }

    fn add_hid(&mut self, t: Target, interface: u8, subclass: u8, protocol: u8, endpoint: u8, mps: u16) {
        let kind = match (subclass, protocol) {
            (1, 1) => Kind::Keyboard,
            (1, 2) => Kind::Mouse,
            // No boot protocol: only QEMU's tablet's report layout is known here (a report
            // descriptor parser would take others).
            (0, 0) => Kind::Tablet,
            _ => {
                println!("st80: USB: HID interface {interface} (subclass {subclass}, protocol {protocol}) not used");
                return;
            }
        };
        if subclass == 1 {
            // The boot protocol's fixed report layout instead of the report descriptor's.
            if let Err(e) = self.hc.control(t, setup(0x21, SET_PROTOCOL, 0, interface as u16, 0), &mut []) {
                println!("st80: USB: SET_PROTOCOL(boot) {e}");
            }
        }
        // Reports only when something changed (a stall here is allowed: mice may refuse).
        let _ = self.hc.control(t, setup(0x21, SET_IDLE, 0, interface as u16, 0), &mut []);
        println!("st80: USB {kind:?} on device {} endpoint {endpoint}", t.address);
        self.hids.push(Hid { target: t, endpoint, mps: mps.clamp(1, 64), kind, toggle: false, last: [0; 8] });
    }

    /// Powers a hub's ports, resets each with a device on it, and enumerates that device.
    fn hub(&mut self, t: Target, depth: u32) -> Result<(), XferError> {
        if depth >= 4 {
            println!("st80: USB: hubs nested too deep");
            return Ok(());
        }
        let mut desc = [0u8; 16];
        self.hc.control(t, setup(0xa0, GET_DESCRIPTOR, 0x2900, 0, 9), &mut desc)?;
        let ports = desc[2] as u16;
        println!("st80: USB hub with {ports} ports");
        for port in 1..=ports {
            self.hc.control(t, setup(0x23, SET_FEATURE, PORT_POWER, port, 0), &mut [])?;
        }
        arch::delay_us((desc[5] as u64 * 2 + 20) * 1000);
        for port in 1..=ports {
            let status = self.port_status(t, port)?;
            if status & 1 == 0 {
                continue;
            }
            self.hc.control(t, setup(0x23, CLEAR_FEATURE, C_PORT_CONNECTION, port, 0), &mut [])?;
            self.hc.control(t, setup(0x23, SET_FEATURE, PORT_RESET, port, 0), &mut [])?;
            let end = arch::millis() + 500;
            let mut status = self.port_status(t, port)?;
            while status & (1 << 20) == 0 && arch::millis() < end {
                arch::delay_us(10_000);
                status = self.port_status(t, port)?;
            }
            self.hc.control(t, setup(0x23, CLEAR_FEATURE, C_PORT_RESET, port, 0), &mut [])?;
            if status & 2 == 0 {
                println!("st80: USB: hub port {port} was not enabled (status {status:#x})");
                continue;
            }
            arch::delay_us(10_000);
            let speed = if status & (1 << 9) != 0 {
                2
            } else if status & (1 << 10) != 0 {
                0
            } else {
                1
            };
            // A slower device behind a high-speed hub is reached through that hub's
            // transaction translator; behind a slower hub, as that hub is.
            let split = match (speed, t.high_speed) {
                (0, _) => None,
                (_, true) => Some((t.address, port as u8)),
                (_, false) => t.split,
            };
            if let Err(e) = self.enumerate(speed, split, depth + 1) {
                println!("st80: USB: the device on hub port {port}: {e}");
            }
        }
        Ok(())
    }

    /// A hub port's status (low half) and changes (high half).
    fn port_status(&mut self, t: Target, port: u16) -> Result<u32, XferError> {
        let mut s = [0u8; 4];
        self.hc.control(t, setup(0xa3, GET_STATUS, 0, port, 4), &mut s)?;
        Ok(u32::from_le_bytes(s))
    }

    /// Whether a keyboard or a pointing device was found.
    pub fn has_input(&self) -> bool {
        !self.hids.is_empty()
    }

    /// Asks each HID endpoint for a report and appends what changed to `out`.
    pub fn poll(&mut self, out: &mut Vec<UsbInput>) {
        for (n, hid) in self.hids.iter_mut().enumerate() {
            let chan = 1 + n % 3;
            let pid = if hid.toggle { DATA1 } else { DATA0 };
            let mut report = [0u8; 64];
            let len = match self.hc.interrupt_in(chan, hid.target, hid.endpoint, hid.mps, pid, &mut report) {
                Ok(len) => len,
                Err(XferError::Nak) => continue,
                Err(e) => {
                    println!("st80: USB: device {} report {e}", hid.target.address);
                    continue;
                }
            };
            hid.toggle = !hid.toggle;
            match hid.kind {
                Kind::Keyboard if len >= 3 => keyboard_report(&mut hid.last, &report[..len.min(8)], out),
                Kind::Mouse if len >= 3 => {
                    let (dx, dy) = (report[1] as i8 as i32, report[2] as i8 as i32);
                    if dx != 0 || dy != 0 {
                        out.push(UsbInput::Move { dx, dy });
                    }
                    buttons(&mut hid.last[0], report[0], out);
                }
                Kind::Tablet if len >= 5 => {
                    let x = u16::from_le_bytes([report[1], report[2]]) as u32;
                    let y = u16::from_le_bytes([report[3], report[4]]) as u32;
                    out.push(UsbInput::Absolute { x, y });
                    buttons(&mut hid.last[0], report[0], out);
                }
                _ => {}
            }
        }
    }
}

fn buttons(last: &mut u8, now: u8, out: &mut Vec<UsbInput>) {
    for button in 0..3 {
        let bit = 1 << button;
        if (*last ^ now) & bit != 0 {
            out.push(UsbInput::Button { button, down: now & bit != 0 });
        }
    }
    *last = now;
}

/// The Linux key codes of the modifier bits of a boot keyboard report: left control, shift,
/// alt, GUI, then the right ones.
const MODIFIERS: [u16; 8] = [29, 42, 56, 125, 97, 54, 100, 126];

/// The Linux key code of a HID keyboard usage (page 7), for the keys a US keyboard types.
fn linux_key(usage: u8) -> Option<u16> {
    const LETTERS: [u16; 26] =
        [30, 48, 46, 32, 18, 33, 34, 35, 23, 36, 37, 38, 50, 49, 24, 25, 16, 19, 31, 20, 22, 47, 17, 45, 21, 44];
    Some(match usage {
        4..=29 => LETTERS[usage as usize - 4],
        30..=38 => usage as u16 - 28, // 1..9
        39 => 11,                     // 0
        40 => 28,                     // return
        41 => 1,                      // escape
        42 => 14,                     // backspace
        43 => 15,                     // tab
        44 => 57,                     // space
        45 => 12,                     // - _
        46 => 13,                     // = +
        47 => 26,                     // [ {
        48 => 27,                     // ] }
        49 => 43,                     // \ |
        51 => 39,                     // ; :
        52 => 40,                     // ' "
        53 => 41,                     // ` ~
        54 => 51,                     // , <
        55 => 52,                     // . >
        56 => 53,                     // / ?
        57 => 58,                     // caps lock
        76 => 111,                    // delete
        _ => return None,
    })
}

/// The key events between two boot keyboard reports: modifiers going down first, then keys
/// released, keys pressed, modifiers released (so a shifted key is typed shifted).
fn keyboard_report(last: &mut [u8; 8], now: &[u8], out: &mut Vec<UsbInput>) {
    let mut report = [0u8; 8];
    report[..now.len()].copy_from_slice(now);
    // 1..=3: the keyboard's error codes (too many keys): keep the last state.
    if report[2..].iter().any(|&u| (1..=3).contains(&u)) {
        return;
    }
    let (old_mods, new_mods) = (last[0], report[0]);
    let keys = |r: &[u8; 8]| -> Vec<u8> { r[2..].iter().copied().filter(|&u| u != 0).collect() };
    let (old_keys, new_keys) = (keys(last), keys(&report));
    for (bit, &code) in MODIFIERS.iter().enumerate() {
        if new_mods & !old_mods & (1 << bit) != 0 {
            out.push(UsbInput::Key { code, down: true });
        }
    }
    for &u in old_keys.iter().filter(|u| !new_keys.contains(u)) {
        if let Some(code) = linux_key(u) {
            out.push(UsbInput::Key { code, down: false });
        }
    }
    for &u in new_keys.iter().filter(|u| !old_keys.contains(u)) {
        if let Some(code) = linux_key(u) {
            out.push(UsbInput::Key { code, down: true });
        }
    }
    for (bit, &code) in MODIFIERS.iter().enumerate() {
        if old_mods & !new_mods & (1 << bit) != 0 {
            out.push(UsbInput::Key { code, down: false });
        }
    }
    *last = report;
}
