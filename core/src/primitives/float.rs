//! Float primitives 40-54 (Blue Book ch. 29). Smalltalk-80 v2 Floats are IEEE single
//! precision: two words, most significant first, so arithmetic is done in `f32`.

use super::{boolean, small_int};
use crate::interpreter::Interpreter;
use crate::object_memory::*;

pub(crate) fn float_value(it: &Interpreter, oop: Oop) -> Option<f32> {
    if is_integer_object(oop) || it.memory.fetch_class_of(oop) != CLASS_FLOAT || it.memory.fetch_word_length_of(oop) < 2
    {
        return None;
    }
    let hi = it.memory.fetch_word(0, oop) as u32;
    let lo = it.memory.fetch_word(1, oop) as u32;
    Some(f32::from_bits(hi << 16 | lo))
}

pub(crate) fn float_object(it: &mut Interpreter, value: f32) -> Option<Oop> {
    let oop = it.memory.allocate(CLASS_FLOAT, 2, Format::Words, false, 0)?;
    let bits = value.to_bits();
    it.memory.store_word(0, oop, (bits >> 16) as u16);
    it.memory.store_word(1, oop, bits as u16);
    Some(oop)
}

/// `truncated` of a float: a SmallInteger when it fits (toward zero).
pub fn truncated(f: f32) -> Option<i32> {
    if !f.is_finite() {
        return None;
    }
    let t = trunc(f);
    (t >= MIN_SMALL_INTEGER as f32 && t <= MAX_SMALL_INTEGER as f32).then_some(t as i32)
}

/// The unbiased binary exponent (`exponent` primitive): 1.0 -> 0, 0.5 -> -1, 3.0 -> 1; 0.0
/// -> -1 as the image's fallback code answers.
pub fn exponent(f: f32) -> i32 {
    if f == 0.0 {
        return -1;
    }
    if !f.is_finite() {
        return 0;
    }
    let bits = f.to_bits();
    let e = ((bits >> 23) & 0xff) as i32;
    if e == 0 {
        // Subnormal: normalise.
        let m = bits & 0x7f_ffff;
        -127 - (m.leading_zeros() as i32 - 9)
    } else {
        e - 127
    }
}

/// Rounds toward zero (core has no `f32::trunc` without std: done by hand for no_std).
pub fn trunc(f: f32) -> f32 {
    // From 2^23 on every f32 is an integer; below, the i32 round trip truncates.
    if !f.is_finite() || f.abs() >= 8_388_608.0 {
        f
    } else {
        (f as i32) as f32
    }
}

/// `timesTwoPower:` without overflow trouble for large shifts (exact: a power of two in f64).
pub fn times_two_power(f: f32, n: i32) -> f32 {
    let n = n.clamp(-1000, 1000);
    let scale = f64::from_bits(((n + 1023) as u64) << 52);
    (f as f64 * scale) as f32
}

pub(crate) fn float(it: &mut Interpreter, index: u16) -> bool {
    let receiver = it.stack_value(it.argument_count);
    let result = match index {
        40 => {
            let Some(v) = small_int(receiver) else {
                return false;
            };
            float_object(it, v as f32)
        }
        41..=50 => {
            let (Some(a), Some(b)) = (float_value(it, receiver), float_value(it, it.stack_top())) else {
                return false;
            };
            match index {
                41 => float_object(it, a + b),
                42 => float_object(it, a - b),
                43 => Some(boolean(a < b)),
                44 => Some(boolean(a > b)),
                45 => Some(boolean(a <= b)),
                46 => Some(boolean(a >= b)),
                47 => Some(boolean(a == b)),
                48 => Some(boolean(a != b)),
                49 => float_object(it, a * b),
                _ if b == 0.0 => None,
                _ => float_object(it, a / b),
            }
        }
        51 => float_value(it, receiver).and_then(truncated).map(|v| integer_object_of(v as i16)),
        52 => float_value(it, receiver).and_then(|a| float_object(it, a - trunc(a))),
        53 => float_value(it, receiver).map(|a| integer_object_of(exponent(a) as i16)),
        54 => {
            let (Some(a), Some(n)) = (float_value(it, receiver), small_int(it.stack_top())) else {
                return false;
            };
            float_object(it, times_two_power(a, n))
        }
        _ => None,
    };
    match result {
        Some(r) => {
            let n = it.argument_count;
            it.pop_then_push(n, r);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponent_and_truncation() {
        assert_eq!(exponent(1.0), 0);
        assert_eq!(exponent(0.5), -1);
        assert_eq!(exponent(3.0), 1);
        assert_eq!(exponent(-1024.0), 10);
        assert_eq!(truncated(-2.7), Some(-2));
        assert_eq!(truncated(16383.9), Some(16383));
        assert_eq!(truncated(16384.0), None);
        assert_eq!(truncated(f32::NAN), None);
        assert_eq!(times_two_power(1.5, 3), 12.0);
        assert_eq!(times_two_power(3.0, -1), 1.5);
        assert_eq!(times_two_power(1.0, 500), f32::INFINITY);
        assert_eq!(trunc(-2.5), -2.0);
        assert_eq!(trunc(1e30), 1e30);
    }
}
