//! Input/output primitives 90-105 (Blue Book ch. 29 "Input/Output Primitives"): the
//! event-word input protocol, cursor, display, clocks, timer, and the BitBlt family.
//!
//! Input words: the high 4 bits are the type (0 delta time, 1 mouse x, 2 mouse y, 3 bi-state
//! device down, 4 up, 5 absolute time in the next two words), the low 12 bits the parameter.
//! Bi-state codes: characters 0-127, mouse buttons 128 (blue), 129 (yellow), 130 (red),
//! shift/control/lock 136-139 (the image's InputState class names them).

use super::{positive_integer_for, positive_integer_value, small_int};
use crate::bitblt;
use crate::host::{Host, InputEvent, MouseButton, Rect};
use crate::interpreter::Interpreter;
use crate::object_memory::*;
use crate::objects;

const BITBLT_DEST_FORM: usize = 0;

pub(crate) fn io<H: Host>(it: &mut Interpreter, host: &mut H, index: u16) -> bool {
    match index {
        90 => {
            it.mouse_polls = it.mouse_polls.saturating_add(1);
            let (x, y) = it.mouse;
            let Some(p) = it.memory.instantiate_class(CLASS_POINT, 0) else {
                return false;
            };
            it.memory.store_pointer(0, p, integer_object_of(x as i16));
            it.memory.store_pointer(1, p, integer_object_of(y as i16));
            it.pop_then_push(0, p);
            true
        }
        91 => {
            let p = it.stack_top();
            if is_integer_object(p) || it.memory.fetch_class_of(p) != CLASS_POINT {
                return false;
            }
            let (Some(x), Some(y)) =
                (small_int(it.memory.fetch_pointer(0, p)), small_int(it.memory.fetch_pointer(1, p)))
            else {
                return false;
            };
            // The cursor is linked to the mouse: moving one moves the other.
            it.mouse = (x, y);
            it.cursor_warp = Some((x, y));
            it.pop(1);
            true
        }
        92 => {
            it.pop(1);
            true
        }
        93 => {
            let sem = it.stack_top();
            if sem != NIL && (is_integer_object(sem) || it.memory.fetch_class_of(sem) != CLASS_SEMAPHORE) {
                return false;
            }
            log::debug!("input semaphore is now {sem}");
            // The image counts one signal per word: words queued for another semaphore (or
            // none) would never be read in step, so start afresh.
            it.input_semaphore = sem;
            it.input_words.clear();
            it.pop(1);
            true
        }
        94 => {
            if small_int(it.stack_top()).is_none() {
                return false;
            }
            it.pop(1);
            true
        }
        95 => {
            let Some(&word) = it.input_words.front() else {
                return false;
            };
            let Some(r) = positive_integer_for(it, word as u32) else {
                return false;
            };
            it.input_words.pop_front();
            it.pop_then_push(0, r);
            true
        }
        96 => {
            let receiver = it.stack_top();
            if is_integer_object(receiver) || !it.memory.is_pointers(receiver) {
                return false;
            }
            match bitblt::copy_bits(&mut it.memory, receiver) {
                Ok(rect) => {
                    note_drawn(it, receiver, rect);
                    true
                }
                Err(()) => false,
            }
        }
        // 97 (snapshot) is in system.rs with the other image-level primitives.
        98 | 99 => {
            let target = it.stack_top();
            if is_integer_object(target) || !it.memory.is_bytes(target) || it.memory.fetch_byte_length_of(target) < 4 {
                return false;
            }
            let value = if index == 98 {
                // The host gives local time; the image wants it before its own zone rule.
                super::clock::second_clock_for_image(it.seconds_since_1901(host))
            } else {
                it.millisecond_clock(host)
            };
            for i in 0..4 {
                it.memory.store_byte(i, target, (value >> (8 * i)) as u8);
            }
            it.pop(1);
            true
        }
        100 => {
            let (sem, when) = (it.stack_value(1), it.stack_top());
            // The image's contract (ProcessorScheduler>>signal:atMilliseconds:): the time is a
            // byte-indexable object at least four bytes long, low byte first (signal:atTime:
            // passes a ByteArray); the book's Integer is accepted too.
            let Some(when) = clock_value(it, when) else {
                return false;
            };
            if sem == NIL {
                it.timer_semaphore = NIL;
                it.timer_due = None;
            } else if !is_integer_object(sem) && it.memory.fetch_class_of(sem) == CLASS_SEMAPHORE {
                it.timer_semaphore = sem;
                it.timer_due = Some(when);
            } else {
                // "Fail if the first argument is neither a Semaphore nor nil."
                return false;
            }
            it.pop(2);
            true
        }
        101 => {
            let form = it.stack_top();
            let Some(bits) = objects::cursor_bits(&it.memory, form) else {
                return false;
            };
            it.cursor = form;
            it.cursor_change = Some(bits);
            true
        }
        102 => {
            let form = it.stack_top();
            let Some(layout) = objects::form_layout(&it.memory, form) else {
                return false;
            };
            it.display = form;
            it.mark_dirty(Rect::new(0, 0, layout.width as i32, layout.height as i32));
            true
        }
        103 => {
            let receiver = it.stack_value(6);
            if it.argument_count != 6 || is_integer_object(receiver) || !it.memory.is_pointers(receiver) {
                return false;
            }
            let args: [Oop; 6] = core::array::from_fn(|i| it.stack_value(5 - i));
            match bitblt::scan_characters(&mut it.memory, receiver, &args) {
                Ok((result, rect)) => {
                    note_drawn(it, receiver, rect);
                    it.pop_then_push(6, result);
                    true
                }
                Err(()) => false,
            }
        }
        104 => {
            let (receiver, dx, dy) = (it.stack_value(2), small_int(it.stack_value(1)), small_int(it.stack_top()));
            let (Some(dx), Some(dy)) = (dx, dy) else {
                return false;
            };
            if is_integer_object(receiver) || !it.memory.is_pointers(receiver) {
                return false;
            }
            match bitblt::draw_loop(&mut it.memory, receiver, dx, dy) {
                Ok(rect) => {
                    note_drawn(it, receiver, rect);
                    it.pop(2);
                    true
                }
                Err(()) => false,
            }
        }
        105 => string_replace(it),
        _ => false,
    }
}

/// A millisecond-clock value as primitive 100 takes it: the first four bytes (low byte first)
/// of a byte-indexable object, or a non-negative Integer below 2^32.
fn clock_value(it: &Interpreter, oop: Oop) -> Option<u32> {
    if !is_integer_object(oop) && it.memory.is_bytes(oop) && it.memory.fetch_byte_length_of(oop) >= 4 {
        return Some((0..4).fold(0u32, |acc, i| acc | (it.memory.fetch_byte(i, oop) as u32) << (8 * i)));
    }
    positive_integer_value(it, oop)
}

/// Remembers what BitBlt changed on the display, for `Host::display_changed`.
fn note_drawn(it: &mut Interpreter, bitblt: Oop, rect: Rect) {
    if !rect.is_empty()
        && it.memory.fetch_word_length_of(bitblt) > BITBLT_DEST_FORM
        && it.memory.fetch_pointer(BITBLT_DEST_FORM, bitblt) == it.display
    {
        it.mark_dirty(rect);
    }
}

/// `replaceFrom:to:with:startingAt:` for objects of the same format.
fn string_replace(it: &mut Interpreter) -> bool {
    let (dst, start, stop, src, src_start) = (
        it.stack_value(4),
        small_int(it.stack_value(3)),
        small_int(it.stack_value(2)),
        it.stack_value(1),
        small_int(it.stack_top()),
    );
    let (Some(start), Some(stop), Some(src_start)) = (start, stop, src_start) else {
        return false;
    };
    if is_integer_object(dst) || is_integer_object(src) {
        return false;
    }
    let format = it.memory.format_of(dst);
    if format != it.memory.format_of(src) {
        return false;
    }
    let dst_fixed = it.memory.fixed_fields_of_class(it.memory.fetch_class_of(dst));
    let src_fixed = it.memory.fixed_fields_of_class(it.memory.fetch_class_of(src));
    let dst_len = super::subscript::length_of(it, dst) as i32 - dst_fixed as i32;
    let src_len = super::subscript::length_of(it, src) as i32 - src_fixed as i32;
    let count = stop - start + 1;
    if count == 0 && start >= 1 {
        it.pop(4);
        return true;
    }
    if start < 1 || count < 0 || stop > dst_len || src_start < 1 || src_start + count - 1 > src_len {
        return false;
    }
    // Element by element, front to back, exactly as the Smalltalk fallback does.
    for k in 0..count as usize {
        let di = dst_fixed + start as usize - 1 + k;
        let si = src_fixed + src_start as usize - 1 + k;
        match format {
            Format::Bytes => {
                let b = it.memory.fetch_byte(si, src);
                it.memory.store_byte(di, dst, b);
            }
            _ => {
                let w = it.memory.fetch_word(si, src);
                it.memory.store_word(di, dst, w);
            }
        }
    }
    it.pop(4);
    true
}

/// Turns a host event into input words and signals the input semaphore once per word.
pub(crate) fn record_input_event(it: &mut Interpreter, event: InputEvent, now: u32) {
    if let InputEvent::MouseMove { x, y } = event {
        it.mouse = (x.clamp(0, 4095), y.clamp(0, 4095));
    }
    if it.input_semaphore == NIL {
        // Nobody listens yet (the image installs its input process early in its startup):
        // queued words without their signals would leave the image reading stale words.
        log::debug!("input event {event:?} dropped: no input semaphore yet");
        return;
    }
    let mut words: [u16; 6] = [0; 6];
    let mut n = 0;
    match it.last_event_ms {
        Some(last) if now.wrapping_sub(last) < 4096 => {
            let delta = now.wrapping_sub(last) as u16;
            if delta > 0 {
                words[n] = delta;
                n += 1;
            }
        }
        _ => {
            words[..3].copy_from_slice(&[5 << 12, (now >> 16) as u16, now as u16]);
            n = 3;
        }
    }
    it.last_event_ms = Some(now);
    it.mouse_polls = 0;
    it.idle_streak = 0;
    match event {
        InputEvent::MouseMove { x, y } => {
            let (x, y) = (x.clamp(0, 4095), y.clamp(0, 4095));
            it.mouse = (x, y);
            words[n] = (1 << 12) | x as u16;
            words[n + 1] = (2 << 12) | y as u16;
            n += 2;
        }
        InputEvent::Button { button, down } => {
            let code = match button {
                MouseButton::Red => 130,
                MouseButton::Yellow => 129,
                MouseButton::Blue => 128,
            };
            words[n] = (if down { 3 } else { 4 } << 12) | code;
            n += 1;
        }
        InputEvent::Key { code, down } => {
            words[n] = (if down { 3 } else { 4 } << 12) | (code & 0xfff);
            n += 1;
        }
    }
    log::debug!("input event {event:?} -> words {:04x?}", &words[..n]);
    for &w in &words[..n] {
        it.input_words.push_back(w);
        let sem = it.input_semaphore;
        it.asynchronous_signal(sem);
    }
}
