//! Input/output primitives 90-105 (Blue Book ch. 29 "Input/Output Primitives"): the
//! event-word input protocol, cursor, display, clocks, timer, and the BitBlt family.
//!
//! Input words: the high 4 bits are the type (0 delta time, 1 mouse x, 2 mouse y, 3 bi-state
//! device down, 4 up, 5 absolute time in the next two words), the low 12 bits the parameter.
//! Bi-state codes: characters 0-127, mouse buttons 128 (blue), 129 (yellow), 130 (red),
//! shift/control/lock 136-139 (the image's InputState class names them).

use super::{positive_integer_for, positive_integer_value, require, small_int, OrFail, PrimResult};
use crate::bitblt;
use crate::host::{Host, InputEvent, MouseButton, Rect};
use crate::interpreter::Interpreter;
use crate::object_memory::*;
use crate::objects;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

const BITBLT_DEST_FORM: usize = 0;

/// The machine's input and output as the image sees them, and what the host has not taken yet.
pub(crate) struct Io {
    /// The form the image made the Display (primitive 102) and the cursor (101).
    pub display: Oop,
    pub cursor: Oop,
    /// Signalled once per input word (primitive 93); the words wait in `input_words`.
    pub input_semaphore: Oop,
    pub input_words: VecDeque<u16>,
    /// When the last input word was stamped (for delta-time words).
    pub last_event_ms: Option<u32>,
    pub mouse: (i32, i32),
    /// Signalled when the millisecond clock reaches `timer_due` (primitive 100).
    pub timer_semaphore: Oop,
    pub timer_due: Option<u32>,
    /// Input pushed by the host, each with the cycle from which it may be delivered.
    pub events: VecDeque<(u64, InputEvent)>,
    /// Events as the image took them, with their cycles (when recording).
    pub delivered: Option<Vec<(u64, InputEvent)>>,
    /// Display area changed since the host last took it.
    pub damage: Rect,
    /// Something was drawn on the Display since the last poll (not idle).
    pub drawn: bool,
    /// A new cursor shape not yet taken by the host.
    pub cursor_change: Option<[u16; 16]>,
    /// Where the image moved the cursor (primitive 91), not yet taken by the host.
    pub cursor_warp: Option<(i32, i32)>,
    /// Mouse polls (primitive 90) since the last input event or display change: the v2 image
    /// has no idle process, its window scheduler busy-polls the mouse, so this is how idleness
    /// shows.
    pub mouse_polls: u32,
    /// Consecutive idle periods with no input or drawing in between; the idle sleep grows
    /// with it (input and the image's timer still wake the host at once).
    pub idle_streak: u32,
}

impl Default for Io {
    fn default() -> Io {
        Io {
            display: NIL,
            cursor: NIL,
            input_semaphore: NIL,
            input_words: VecDeque::new(),
            last_event_ms: None,
            mouse: (0, 0),
            timer_semaphore: NIL,
            timer_due: None,
            events: VecDeque::new(),
            delivered: None,
            damage: Rect::default(),
            drawn: false,
            cursor_change: None,
            cursor_warp: None,
            mouse_polls: 0,
            idle_streak: 0,
        }
    }
}

impl Io {
    /// The objects only I/O state refers to: roots for the garbage collector.
    pub(crate) fn roots(&self) -> [Oop; 4] {
        [self.display, self.cursor, self.input_semaphore, self.timer_semaphore]
    }
}

/// Primitive 90, `mousePoint`: where the mouse is, as a new Point.
pub(crate) fn primitive_mouse_point(it: &mut Interpreter) -> PrimResult {
    it.io.mouse_polls = it.io.mouse_polls.saturating_add(1);
    let (x, y) = it.io.mouse;
    let p = super::arithmetic::make_point(it, integer_object_of(x as i16), integer_object_of(y as i16)).or_fail()?;
    it.pop_then_push(0, p);
    Ok(())
}

/// Primitive 91, `cursorLocPut:`.
pub(crate) fn primitive_cursor_loc_put(it: &mut Interpreter) -> PrimResult {
    let p = it.stack_top();
    // (A Point the image made itself after reshaping the class can have fewer fields.)
    require(
        !is_integer_object(p) && it.memory.fetch_class_of(p) == CLASS_POINT && it.memory.fetch_word_length_of(p) >= 2,
    )?;
    let x = small_int(it.memory.fetch_pointer(0, p)).or_fail()?;
    let y = small_int(it.memory.fetch_pointer(1, p)).or_fail()?;
    // The cursor is linked to the mouse: moving one moves the other.
    it.io.mouse = (x, y);
    it.io.cursor_warp = Some((x, y));
    it.pop(1);
    Ok(())
}

/// Primitive 92, `cursorLink:`: the cursor always follows the mouse here.
pub(crate) fn primitive_cursor_link(it: &mut Interpreter) -> PrimResult {
    it.pop(1);
    Ok(())
}

/// Primitive 93, `primInputSemaphore:`.
pub(crate) fn primitive_input_semaphore(it: &mut Interpreter) -> PrimResult {
    let sem = it.stack_top();
    require(sem == NIL || (!is_integer_object(sem) && it.memory.fetch_class_of(sem) == CLASS_SEMAPHORE))?;
    log::debug!("input semaphore is now {sem}");
    // The image counts one signal per word: words queued for another semaphore (or
    // none) would never be read in step, so start afresh.
    it.io.input_semaphore = sem;
    it.io.input_words.clear();
    it.pop(1);
    Ok(())
}

/// Primitive 94, `primSampleInterval:`: accepted and ignored (input comes as events).
pub(crate) fn primitive_sample_interval(it: &mut Interpreter) -> PrimResult {
    require(is_integer_object(it.stack_top()))?;
    it.pop(1);
    Ok(())
}

/// Primitive 95, `primInputWord`: the next input word.
pub(crate) fn primitive_input_word(it: &mut Interpreter) -> PrimResult {
    let &word = it.io.input_words.front().or_fail()?;
    let r = positive_integer_for(it, word as u32).or_fail()?;
    it.io.input_words.pop_front();
    it.pop_then_push(0, r);
    Ok(())
}

/// Primitive 96, `copyBits`.
pub(crate) fn primitive_copy_bits(it: &mut Interpreter) -> PrimResult {
    let receiver = it.stack_top();
    require(!is_integer_object(receiver) && it.memory.is_pointers(receiver))?;
    let rect = bitblt::copy_bits(&mut it.memory, receiver)?;
    note_drawn(it, receiver, rect);
    Ok(())
}

// 97 (snapshot) is in system.rs with the other image-level primitives.

/// Stores a clock value in the first four bytes of the argument, low byte first.
fn store_clock(it: &mut Interpreter, value: impl FnOnce(&mut Interpreter) -> u32) -> PrimResult {
    let target = it.stack_top();
    require(!is_integer_object(target) && it.memory.is_bytes(target) && it.memory.fetch_byte_length_of(target) >= 4)?;
    let value = value(it);
    for i in 0..4 {
        it.memory.store_byte(i, target, (value >> (8 * i)) as u8);
    }
    it.pop(1);
    Ok(())
}

/// Primitive 98, `secondClockInto:`.
pub(crate) fn primitive_time_words_into<H: Host>(it: &mut Interpreter, host: &mut H) -> PrimResult {
    // The host gives local time; the image wants it before its own zone rule.
    store_clock(it, |it| super::clock::second_clock_for_image(it.seconds_since_1901(host)))
}

/// Primitive 99, `millisecondClockInto:`.
pub(crate) fn primitive_tick_words_into<H: Host>(it: &mut Interpreter, host: &mut H) -> PrimResult {
    store_clock(it, |it| it.millisecond_clock(host))
}

/// Primitive 100, `signal:atMilliseconds:`.
pub(crate) fn primitive_signal_at_milliseconds(it: &mut Interpreter) -> PrimResult {
    let (sem, when) = (it.stack_value(1), it.stack_top());
    // The image's contract (ProcessorScheduler>>signal:atMilliseconds:): the time is a
    // byte-indexable object at least four bytes long, low byte first (signal:atTime:
    // passes a ByteArray); the book's Integer is accepted too.
    let when = clock_value(it, when).or_fail()?;
    if sem == NIL {
        it.io.timer_semaphore = NIL;
        it.io.timer_due = None;
    } else {
        // "Fail if the first argument is neither a Semaphore nor nil."
        require(!is_integer_object(sem) && it.memory.fetch_class_of(sem) == CLASS_SEMAPHORE)?;
        it.io.timer_semaphore = sem;
        it.io.timer_due = Some(when);
    }
    it.pop(2);
    Ok(())
}

/// Primitive 101, `beCursor`.
pub(crate) fn primitive_be_cursor(it: &mut Interpreter) -> PrimResult {
    let form = it.stack_top();
    let bits = objects::cursor_bits(&it.memory, form).or_fail()?;
    it.io.cursor = form;
    it.io.cursor_change = Some(bits);
    Ok(())
}

/// Primitive 102, `beDisplay`.
pub(crate) fn primitive_be_display(it: &mut Interpreter) -> PrimResult {
    let form = it.stack_top();
    let layout = objects::form_layout(&it.memory, form).or_fail()?;
    it.io.display = form;
    it.mark_dirty(Rect::new(0, 0, layout.width as i32, layout.height as i32));
    Ok(())
}

/// Primitive 103, `scanCharactersFrom:to:in:rightX:stopConditions:displaying:`.
pub(crate) fn primitive_scan_characters(it: &mut Interpreter) -> PrimResult {
    let receiver = it.stack_value(6);
    require(it.argument_count == 6 && !is_integer_object(receiver) && it.memory.is_pointers(receiver))?;
    let args: [Oop; 6] = core::array::from_fn(|i| it.stack_value(5 - i));
    let (result, rect) = bitblt::scan_characters(&mut it.memory, receiver, &args)?;
    note_drawn(it, receiver, rect);
    it.pop_then_push(6, result);
    Ok(())
}

/// Primitive 104, `drawLoopX:Y:`.
pub(crate) fn primitive_draw_loop(it: &mut Interpreter) -> PrimResult {
    let receiver = it.stack_value(2);
    let dx = small_int(it.stack_value(1)).or_fail()?;
    let dy = small_int(it.stack_top()).or_fail()?;
    require(!is_integer_object(receiver) && it.memory.is_pointers(receiver))?;
    let rect = bitblt::draw_loop(&mut it.memory, receiver, dx, dy)?;
    note_drawn(it, receiver, rect);
    it.pop(2);
    Ok(())
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
        && it.memory.fetch_pointer(BITBLT_DEST_FORM, bitblt) == it.io.display
    {
        it.mark_dirty(rect);
    }
}

/// Primitive 105, `replaceFrom:to:with:startingAt:` for objects of the same format.
pub(crate) fn primitive_string_replace(it: &mut Interpreter) -> PrimResult {
    let (dst, start, stop, src, src_start) = (
        it.stack_value(4),
        small_int(it.stack_value(3)),
        small_int(it.stack_value(2)),
        it.stack_value(1),
        small_int(it.stack_top()),
    );
    let (start, stop, src_start) = (start.or_fail()?, stop.or_fail()?, src_start.or_fail()?);
    require(!is_integer_object(dst) && !is_integer_object(src))?;
    let format = it.memory.format_of(dst);
    require(format == it.memory.format_of(src))?;
    let dst_fixed = it.memory.fixed_fields_of_class(it.memory.fetch_class_of(dst));
    let src_fixed = it.memory.fixed_fields_of_class(it.memory.fetch_class_of(src));
    let dst_len = super::subscript::length_of(it, dst) as i32 - dst_fixed as i32;
    let src_len = super::subscript::length_of(it, src) as i32 - src_fixed as i32;
    let count = stop - start + 1;
    if count == 0 && start >= 1 {
        it.pop(4);
        return Ok(());
    }
    require(start >= 1 && count >= 0 && stop <= dst_len && src_start >= 1 && src_start + count - 1 <= src_len)?;
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
    Ok(())
}

/// Turns a host event into input words and signals the input semaphore once per word.
/// Input words the VM keeps for the image to read (a Blue Book machine's input buffer is
/// finite too; the image reads words as they come, so only an image that stopped reading
/// fills it).
const MAX_INPUT_WORDS: usize = 4096;

pub(crate) fn record_input_event(it: &mut Interpreter, event: InputEvent, now: u32) {
    if let InputEvent::MouseMove { x, y } = event {
        it.io.mouse = (x.clamp(0, 4095), y.clamp(0, 4095));
    }
    if it.io.input_semaphore == NIL {
        // Nobody listens yet (the image installs its input process early in its startup):
        // queued words without their signals would leave the image reading stale words.
        log::debug!("input event {event:?} dropped: no input semaphore yet");
        return;
    }
    let mut words: [u16; 6] = [0; 6];
    let mut n = 0;
    match it.io.last_event_ms {
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
    it.io.last_event_ms = Some(now);
    it.io.mouse_polls = 0;
    it.io.idle_streak = 0;
    match event {
        InputEvent::MouseMove { x, y } => {
            let (x, y) = (x.clamp(0, 4095), y.clamp(0, 4095));
            it.io.mouse = (x, y);
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
    if it.io.input_words.len() + n > MAX_INPUT_WORDS {
        // The image reads no input (its input process is busy or gone): drop whole events,
        // so the words it finds later are still in step, and memory stays bounded.
        log::debug!("input event {event:?} dropped: the input buffer is full");
        return;
    }
    log::debug!("input event {event:?} -> words {:04x?}", &words[..n]);
    for &w in &words[..n] {
        it.io.input_words.push_back(w);
        let sem = it.io.input_semaphore;
        it.asynchronous_signal(sem);
    }
}
