//! Float primitives 40-54 (Blue Book ch. 29). Smalltalk-80 v2 Floats are IEEE single
//! precision: two words, most significant first, so arithmetic is done in `f32`.

use super::{boolean, require, small_int, OrFail, PrimResult, PrimitiveFailed};
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

/// Answers `result` (a new Float, if there was room) for the receiver and its arguments.
#[inline]
fn answer(it: &mut Interpreter, result: Option<Oop>) -> PrimResult {
    let result = result.or_fail()?;
    let n = it.argument_count;
    it.pop_then_push(n, result);
    Ok(())
}

/// The receiver and the argument, both Floats.
fn operands(it: &Interpreter) -> Result<(f32, f32), PrimitiveFailed> {
    let a = float_value(it, it.stack_value(it.argument_count)).or_fail()?;
    let b = float_value(it, it.stack_top()).or_fail()?;
    Ok((a, b))
}

fn float_operation(it: &mut Interpreter, op: impl FnOnce(f32, f32) -> f32) -> PrimResult {
    let (a, b) = operands(it)?;
    let r = float_object(it, op(a, b));
    answer(it, r)
}

fn float_comparison(it: &mut Interpreter, op: impl FnOnce(f32, f32) -> bool) -> PrimResult {
    let (a, b) = operands(it)?;
    answer(it, Some(boolean(op(a, b))))
}

/// The receiver, a Float.
fn receiver_value(it: &Interpreter) -> Result<f32, PrimitiveFailed> {
    float_value(it, it.stack_value(it.argument_count)).or_fail()
}

/// Primitive 40: a SmallInteger as a Float.
pub(crate) fn primitive_as_float(it: &mut Interpreter) -> PrimResult {
    let v = small_int(it.stack_value(it.argument_count)).or_fail()?;
    let r = float_object(it, v as f32);
    answer(it, r)
}
/// Primitive 41.
pub(crate) fn primitive_float_add(it: &mut Interpreter) -> PrimResult {
    float_operation(it, |a, b| a + b)
}
/// Primitive 42.
pub(crate) fn primitive_float_subtract(it: &mut Interpreter) -> PrimResult {
    float_operation(it, |a, b| a - b)
}
/// Primitive 43.
pub(crate) fn primitive_float_less_than(it: &mut Interpreter) -> PrimResult {
    float_comparison(it, |a, b| a < b)
}
/// Primitive 44.
pub(crate) fn primitive_float_greater_than(it: &mut Interpreter) -> PrimResult {
    float_comparison(it, |a, b| a > b)
}
/// Primitive 45.
pub(crate) fn primitive_float_less_or_equal(it: &mut Interpreter) -> PrimResult {
    float_comparison(it, |a, b| a <= b)
}
/// Primitive 46.
pub(crate) fn primitive_float_greater_or_equal(it: &mut Interpreter) -> PrimResult {
    float_comparison(it, |a, b| a >= b)
}
/// Primitive 47.
pub(crate) fn primitive_float_equal(it: &mut Interpreter) -> PrimResult {
    float_comparison(it, |a, b| a == b)
}
/// Primitive 48.
pub(crate) fn primitive_float_not_equal(it: &mut Interpreter) -> PrimResult {
    float_comparison(it, |a, b| a != b)
}
/// Primitive 49.
pub(crate) fn primitive_float_multiply(it: &mut Interpreter) -> PrimResult {
    float_operation(it, |a, b| a * b)
}
/// Primitive 50: fails on a zero divisor.
pub(crate) fn primitive_float_divide(it: &mut Interpreter) -> PrimResult {
    let (a, b) = operands(it)?;
    require(b != 0.0)?;
    let r = float_object(it, a / b);
    answer(it, r)
}
/// Primitive 51.
pub(crate) fn primitive_truncated(it: &mut Interpreter) -> PrimResult {
    let v = truncated(receiver_value(it)?).or_fail()?;
    answer(it, Some(integer_object_of(v as i16)))
}
/// Primitive 52.
pub(crate) fn primitive_fractional_part(it: &mut Interpreter) -> PrimResult {
    let a = receiver_value(it)?;
    let r = float_object(it, a - trunc(a));
    answer(it, r)
}
/// Primitive 53.
pub(crate) fn primitive_exponent(it: &mut Interpreter) -> PrimResult {
    let a = receiver_value(it)?;
    answer(it, Some(integer_object_of(exponent(a) as i16)))
}
/// Primitive 54.
pub(crate) fn primitive_times_two_power(it: &mut Interpreter) -> PrimResult {
    let a = receiver_value(it)?;
    let n = small_int(it.stack_top()).or_fail()?;
    let r = float_object(it, times_two_power(a, n));
    answer(it, r)
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
