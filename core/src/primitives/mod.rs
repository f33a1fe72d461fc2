//! Primitive methods (Blue Book ch. 29), one file per group of the book:
//! arithmetic (1-18), float (40-54), subscript and stream (60-67), storage (68-79),
//! control (80-89), input/output (90-105), system (110-116 and host extensions from 128),
//! host files (128, 130-133).
//!
//! A primitive returns `true` when it succeeded and replaced the receiver and arguments on the
//! stack with its result; `false` leaves the stack untouched so the method's Smalltalk code
//! runs instead (the book's `primitiveFail`).

pub mod arithmetic;
pub mod clock;
pub mod control;
pub mod files;
pub mod float;
pub mod io;
pub mod storage;
pub mod subscript;
pub mod system;

use crate::host::Host;
use crate::interpreter::Interpreter;
use crate::object_memory::*;

/// The number of arguments primitive `index` takes off the stack, for those with a fixed number.
/// A method declaring the primitive with another count (a hostile `<primitive: 60>` without
/// arguments, say) fails it instead of letting it read and pop its caller's stack.
fn expected_arguments(index: u16) -> Option<usize> {
    Some(match index {
        1..=18 | 41..=50 | 54 | 60 | 63 | 66 | 68 | 71..=73 | 80 | 82 | 91..=94 | 98 | 99 | 110 | 133 => 1,
        40 | 51..=53 | 62 | 65 | 67 | 70 | 75..=78 | 85..=90 | 95..=97 | 101 | 102 | 111..=115 | 128 | 132 => 0,
        61 | 64 | 69 | 74 | 79 | 84 | 100 | 104 => 2,
        116 | 130 | 131 => 3,
        105 => 4,
        103 => 6,
        // 81 (value...) and 83 (perform:...) check their own counts.
        _ => return None,
    })
}

/// Runs primitive `index` for the pending send (`argument_count` arguments on the stack).
pub(crate) fn dispatch<H: Host>(it: &mut Interpreter, host: &mut H, index: u16) -> bool {
    if expected_arguments(index).is_some_and(|n| n != it.argument_count) {
        return false;
    }
    match index {
        1..=18 => arithmetic::small_integer(it, index),
        // 21-37 (LargePositiveInteger arithmetic) are optional: the image's code does it.
        40..=54 => float::float(it, index),
        60..=67 => subscript::subscript(it, index),
        68..=79 => storage::storage(it, index),
        80..=89 => control::control(it, host, index),
        90..=96 | 98..=105 => io::io(it, host, index),
        128 | 130..=133 => files::files(it, host, index),
        97 | 110..=116 | 128..=255 => system::system(it, host, index),
        _ => false,
    }
}

/// Bytecodes 176-207 try these before sending (ch. 28 `specialSelectorPrimitiveResponse`).
#[inline]
pub(crate) fn special_selector_primitive<H: Host>(it: &mut Interpreter, host: &mut H, bc: u8) -> bool {
    match bc {
        176..=191 => {
            let receiver = it.stack_value(1);
            if !is_integer_object(receiver) {
                return false;
            }
            let index = match bc {
                176 => 1,
                177 => 2,
                178 => 3,
                179 => 4,
                180 => 5,
                181 => 6,
                182 => 7,
                183 => 8,
                184 => 9,
                185 => 10,
                186 => 11,
                187 => 18,
                188 => 17,
                189 => 12,
                190 => 14,
                _ => 15,
            };
            arithmetic::small_integer(it, index)
        }
        198 => {
            it.argument_count = 1;
            system::equivalent(it)
        }
        199 => {
            it.argument_count = 0;
            system::class(it)
        }
        200 => {
            it.argument_count = 1;
            let receiver = it.stack_value(1);
            it.is_context(receiver) && control::block_copy(it)
        }
        201 | 202 => {
            let count = (bc - 201) as usize;
            it.argument_count = count;
            let receiver = it.stack_value(count);
            !is_integer_object(receiver)
                && it.memory.fetch_class_of(receiver) == CLASS_BLOCK_CONTEXT
                && control::value(it, host)
        }
        _ => false,
    }
}

/// A SmallInteger, or a LargePositiveInteger for values above SmallInteger maxVal
/// (`positive16BitIntegerFor:` and its 32-bit sibling).
pub(crate) fn positive_integer_for(it: &mut Interpreter, value: u32) -> Option<Oop> {
    if value <= MAX_SMALL_INTEGER as u32 {
        return Some(integer_object_of(value as i16));
    }
    let bytes = if value <= 0xffff {
        2
    } else if value <= 0xff_ffff {
        3
    } else {
        4
    };
    let lpi = it.memory.instantiate_class(CLASS_LARGE_POSITIVE_INTEGER, bytes)?;
    for i in 0..bytes {
        it.memory.store_byte(i, lpi, (value >> (8 * i)) as u8);
    }
    Some(lpi)
}

/// The value of a non-negative SmallInteger or a LargePositiveInteger of up to 4 bytes.
pub(crate) fn positive_integer_value(it: &Interpreter, oop: Oop) -> Option<u32> {
    if is_integer_object(oop) {
        let v = integer_value_of(oop);
        return (v >= 0).then_some(v as u32);
    }
    if it.memory.fetch_class_of(oop) != CLASS_LARGE_POSITIVE_INTEGER {
        return None;
    }
    let n = it.memory.fetch_byte_length_of(oop);
    if n > 4 {
        // Allow leading zero digits beyond the fourth.
        if (4..n).any(|i| it.memory.fetch_byte(i, oop) != 0) {
            return None;
        }
    }
    Some((0..n.min(4)).fold(0u32, |acc, i| acc | (it.memory.fetch_byte(i, oop) as u32) << (8 * i)))
}

/// `positive16BitValueOf:`.
pub(crate) fn positive_16bit_value(it: &Interpreter, oop: Oop) -> Option<u16> {
    positive_integer_value(it, oop).and_then(|v| u16::try_from(v).ok())
}

#[inline]
pub(crate) fn small_int(oop: Oop) -> Option<i32> {
    is_integer_object(oop).then(|| integer_value_of(oop) as i32)
}

#[inline]
pub(crate) fn boolean(b: bool) -> Oop {
    if b {
        TRUE
    } else {
        FALSE
    }
}
