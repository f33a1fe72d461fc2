//! SmallInteger primitives 1-18 (Blue Book ch. 29 "Arithmetic Primitives").
//!
//! `//` and `\\` round toward negative infinity, `quo:` and `rem:`-style division truncates
//! toward zero. Any result outside the 15-bit SmallInteger range fails the primitive, so the
//! image's code retries in LargePositiveInteger/LargeNegativeInteger.

use super::{boolean, require, small_int, OrFail, PrimResult};
use crate::interpreter::Interpreter;
use crate::object_memory::*;

/// Floor division, the `//` of Smalltalk (`-1 // 2` is `-1`). `b` must not be zero.
pub fn floor_div(a: i32, b: i32) -> i32 {
    let q = a / b;
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

/// Floor modulo, the `\\` of Smalltalk (`-7 \\ 2` is `1`): the sign of the divisor.
pub fn floor_mod(a: i32, b: i32) -> i32 {
    a - floor_div(a, b) * b
}

/// `bitShift:` on a 15-bit SmallInteger value; None when the result would not fit.
pub fn bit_shift(value: i32, shift: i32) -> Option<i32> {
    if shift >= 0 {
        if value == 0 {
            return Some(0);
        }
        if shift >= 16 {
            return None;
        }
        let r = value << shift;
        (is_integer_value(r) && (r >> shift) == value).then_some(r)
    } else {
        Some(value >> (-shift).min(31))
    }
}

/// The result of a SmallInteger operation, if it fits in a SmallInteger.
#[inline(always)]
fn fits(v: i32) -> Option<i32> {
    is_integer_value(v).then_some(v)
}

/// `+`.
pub fn add(a: i32, b: i32) -> Option<i32> {
    fits(a + b)
}
/// `-`.
pub fn subtract(a: i32, b: i32) -> Option<i32> {
    fits(a - b)
}
/// `*`.
pub fn multiply(a: i32, b: i32) -> Option<i32> {
    fits(a * b)
}
/// `/`: succeeds only when the division is exact (else the image makes a Fraction).
pub fn divide(a: i32, b: i32) -> Option<i32> {
    (b != 0 && a % b == 0).then(|| fits(a / b)).flatten()
}
/// `\\`: floor modulo.
pub fn modulo(a: i32, b: i32) -> Option<i32> {
    (b != 0).then(|| fits(floor_mod(a, b))).flatten()
}
/// `//`: floor division.
pub fn div(a: i32, b: i32) -> Option<i32> {
    (b != 0).then(|| fits(floor_div(a, b))).flatten()
}
/// `quo:`: division truncated toward zero.
pub fn quo(a: i32, b: i32) -> Option<i32> {
    (b != 0).then(|| fits(a / b)).flatten()
}

/// A SmallInteger operation on the receiver and the argument, both SmallIntegers.
#[inline(always)]
fn integer_operation(it: &mut Interpreter, op: impl FnOnce(i32, i32) -> Option<i32>) -> PrimResult {
    let a = small_int(it.stack_value(1)).or_fail()?;
    let b = small_int(it.stack_top()).or_fail()?;
    let v = op(a, b).or_fail()?;
    it.pop_then_push(1, integer_object_of(v as i16));
    Ok(())
}

/// A SmallInteger comparison of the receiver with the argument, both SmallIntegers.
#[inline(always)]
fn integer_comparison(it: &mut Interpreter, op: impl FnOnce(i32, i32) -> bool) -> PrimResult {
    let a = small_int(it.stack_value(1)).or_fail()?;
    let b = small_int(it.stack_top()).or_fail()?;
    it.pop_then_push(1, boolean(op(a, b)));
    Ok(())
}

/// Primitive 1.
pub(crate) fn primitive_add(it: &mut Interpreter) -> PrimResult {
    integer_operation(it, add)
}
/// Primitive 2.
pub(crate) fn primitive_subtract(it: &mut Interpreter) -> PrimResult {
    integer_operation(it, subtract)
}
/// Primitive 3.
pub(crate) fn primitive_less_than(it: &mut Interpreter) -> PrimResult {
    integer_comparison(it, |a, b| a < b)
}
/// Primitive 4.
pub(crate) fn primitive_greater_than(it: &mut Interpreter) -> PrimResult {
    integer_comparison(it, |a, b| a > b)
}
/// Primitive 5.
pub(crate) fn primitive_less_or_equal(it: &mut Interpreter) -> PrimResult {
    integer_comparison(it, |a, b| a <= b)
}
/// Primitive 6.
pub(crate) fn primitive_greater_or_equal(it: &mut Interpreter) -> PrimResult {
    integer_comparison(it, |a, b| a >= b)
}
/// Primitive 7.
pub(crate) fn primitive_equal(it: &mut Interpreter) -> PrimResult {
    integer_comparison(it, |a, b| a == b)
}
/// Primitive 8.
pub(crate) fn primitive_not_equal(it: &mut Interpreter) -> PrimResult {
    integer_comparison(it, |a, b| a != b)
}
/// Primitive 9.
pub(crate) fn primitive_multiply(it: &mut Interpreter) -> PrimResult {
    integer_operation(it, multiply)
}
/// Primitive 10.
pub(crate) fn primitive_divide(it: &mut Interpreter) -> PrimResult {
    integer_operation(it, divide)
}
/// Primitive 11.
pub(crate) fn primitive_mod(it: &mut Interpreter) -> PrimResult {
    integer_operation(it, modulo)
}
/// Primitive 12.
pub(crate) fn primitive_div(it: &mut Interpreter) -> PrimResult {
    integer_operation(it, div)
}
/// Primitive 13.
pub(crate) fn primitive_quo(it: &mut Interpreter) -> PrimResult {
    integer_operation(it, quo)
}
/// Primitive 14.
pub(crate) fn primitive_bit_and(it: &mut Interpreter) -> PrimResult {
    integer_operation(it, |a, b| Some(a & b))
}
/// Primitive 15.
pub(crate) fn primitive_bit_or(it: &mut Interpreter) -> PrimResult {
    integer_operation(it, |a, b| Some(a | b))
}
/// Primitive 16.
pub(crate) fn primitive_bit_xor(it: &mut Interpreter) -> PrimResult {
    integer_operation(it, |a, b| Some(a ^ b))
}
/// Primitive 17.
pub(crate) fn primitive_bit_shift(it: &mut Interpreter) -> PrimResult {
    integer_operation(it, bit_shift)
}

/// Bytecodes 176-191 (`+ - < > <= >= = ~= * / \\ @ bitShift: // bitAnd: bitOr:`) on two
/// SmallInteger oops, without a send: the result the primitive would push, or None where it
/// would fail (overflow, an inexact `/`, division by zero) and for `@` (which allocates).
/// The interpreter's fast path; the same functions as primitives 1-17.
#[inline(always)]
pub(crate) fn small_integer_special(bc: u8, receiver: Oop, argument: Oop) -> Option<Oop> {
    let (a, b) = (integer_value_of(receiver) as i32, integer_value_of(argument) as i32);
    let value = match bc {
        176 => add(a, b),
        177 => subtract(a, b),
        178 => return Some(boolean(a < b)),
        179 => return Some(boolean(a > b)),
        180 => return Some(boolean(a <= b)),
        181 => return Some(boolean(a >= b)),
        182 => return Some(boolean(a == b)),
        183 => return Some(boolean(a != b)),
        184 => multiply(a, b),
        185 => divide(a, b),
        186 => modulo(a, b),
        188 => bit_shift(a, b),
        189 => div(a, b),
        190 => Some(a & b),
        191 => Some(a | b),
        _ => None,
    };
    value.map(|v| integer_object_of(v as i16))
}

/// Primitive 18, `@`: a Point from a SmallInteger receiver and a SmallInteger argument.
pub(crate) fn primitive_make_point(it: &mut Interpreter) -> PrimResult {
    let x = small_int(it.stack_value(1)).or_fail()?;
    let y = it.stack_top();
    // The VM that wrote Xerox's trace3 failed makePoint here (see tests/traces.rs).
    require(!(it.xerox_trace_compat && (x == MAX_SMALL_INTEGER || y == integer_object_of(MAX_SMALL_INTEGER as i16))))?;
    require(is_integer_object(y))?;
    let point = make_point(it, integer_object_of(x as i16), y).or_fail()?;
    it.pop_then_push(1, point);
    Ok(())
}

/// A Point of `x` and `y` (SmallIntegers), for primitive 18 and the `@` bytecode. Two pointer
/// fields, as the book's primitiveMakePoint instantiates ClassPoint with ClassPointSize,
/// whatever Point's instance specification says (one the image reshaped to fewer fields must
/// not have x and y written past its end). None when memory is full.
#[inline]
pub(crate) fn make_point(it: &mut Interpreter, x: Oop, y: Oop) -> Option<Oop> {
    it.memory.instantiate_with_pointers(CLASS_POINT, [x, y])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_rounds_like_the_blue_book() {
        assert_eq!(div(-1, 2), Some(-1), "-1 // 2");
        assert_eq!(div(7, -2), Some(-4), "7 // -2");
        assert_eq!(modulo(-7, 2), Some(1), "-7 \\\\ 2");
        assert_eq!(modulo(7, -2), Some(-1), "7 \\\\ -2");
        assert_eq!(quo(-7, 2), Some(-3), "-7 quo: 2");
        assert_eq!(divide(6, 3), Some(2));
        assert_eq!(divide(7, 2), None, "inexact / fails (Fraction)");
        for op in [divide, modulo, div, quo] {
            assert_eq!(op(5, 0), None, "division by zero fails");
        }
        // rem: is implemented in the image as `self - ((self quo: n) * n)`.
        let rem = -7 - quo(-7, 2).unwrap() * 2;
        assert_eq!(rem, -1);
    }

    #[test]
    fn the_special_selector_fast_path_answers_what_the_primitives_do() {
        let int = |v: i16| integer_object_of(v);
        assert_eq!(small_integer_special(176, int(3), int(4)), Some(int(7)));
        assert_eq!(small_integer_special(176, int(16383), int(1)), None, "overflow sends +");
        assert_eq!(small_integer_special(177, int(-16384), int(1)), None);
        assert_eq!(small_integer_special(178, int(-1), int(0)), Some(TRUE));
        assert_eq!(small_integer_special(179, int(-1), int(0)), Some(FALSE));
        assert_eq!(small_integer_special(180, int(5), int(5)), Some(TRUE));
        assert_eq!(small_integer_special(181, int(4), int(5)), Some(FALSE));
        assert_eq!(small_integer_special(182, int(-16384), int(-16384)), Some(TRUE));
        assert_eq!(small_integer_special(183, int(1), int(1)), Some(FALSE));
        assert_eq!(small_integer_special(184, int(200), int(200)), None);
        assert_eq!(small_integer_special(185, int(7), int(2)), None, "a Fraction");
        assert_eq!(small_integer_special(185, int(-8), int(2)), Some(int(-4)));
        assert_eq!(small_integer_special(186, int(-7), int(2)), Some(int(1)));
        assert_eq!(small_integer_special(186, int(7), int(0)), None);
        assert_eq!(small_integer_special(187, int(1), int(2)), None, "@ allocates: the primitive");
        assert_eq!(small_integer_special(188, int(1), int(14)), None);
        assert_eq!(small_integer_special(188, int(-8), int(-1)), Some(int(-4)));
        assert_eq!(small_integer_special(189, int(-1), int(2)), Some(int(-1)));
        assert_eq!(small_integer_special(190, int(-1), int(6)), Some(int(6)));
        assert_eq!(small_integer_special(191, int(-16384), int(1)), Some(int(-16383)));
    }

    #[test]
    fn overflow_fails() {
        assert_eq!(add(16383, 1), None);
        assert_eq!(subtract(-16384, 1), None);
        assert_eq!(multiply(200, 200), None);
        assert_eq!(div(-16384, -1), None);
        assert_eq!(add(16382, 1), Some(16383));
        assert_eq!(subtract(-16383, 1), Some(-16384));
    }

    #[test]
    fn bit_shift_overflow_fails_and_right_shift_floors() {
        assert_eq!(bit_shift(1, 32), None, "1 bitShift: 32 must fail");
        assert_eq!(bit_shift(1, 14), None);
        assert_eq!(bit_shift(1, 13), Some(8192));
        assert_eq!(bit_shift(-1, 14), Some(-16384));
        assert_eq!(bit_shift(-1, -3), Some(-1));
        assert_eq!(bit_shift(0, 100), Some(0));
        assert_eq!(bit_shift(5, -100), Some(0));
        assert_eq!(bit_shift(3, -1), Some(1));
    }
}
