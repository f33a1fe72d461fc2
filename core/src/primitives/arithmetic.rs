//! SmallInteger primitives 1-18 (Blue Book ch. 29 "Arithmetic Primitives").
//!
//! `//` and `\\` round toward negative infinity, `quo:` and `rem:`-style division truncates
//! toward zero. Any result outside the 15-bit SmallInteger range fails the primitive, so the
//! image's code retries in LargePositiveInteger/LargeNegativeInteger.

use super::{boolean, small_int};
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

/// Evaluates SmallInteger primitive `index` on two values; None means the primitive fails.
pub fn evaluate(index: u16, a: i32, b: i32) -> Option<Result<i32, bool>> {
    let int = |v: i32| is_integer_value(v).then_some(Ok(v));
    match index {
        1 => int(a + b),
        2 => int(a - b),
        3 => Some(Err(a < b)),
        4 => Some(Err(a > b)),
        5 => Some(Err(a <= b)),
        6 => Some(Err(a >= b)),
        7 => Some(Err(a == b)),
        8 => Some(Err(a != b)),
        9 => int(a * b),
        // `/` succeeds only when the division is exact (else the image makes a Fraction).
        10 => (b != 0 && a % b == 0).then(|| int(a / b)).flatten(),
        11 => (b != 0).then(|| int(floor_mod(a, b))).flatten(),
        12 => (b != 0).then(|| int(floor_div(a, b))).flatten(),
        13 => (b != 0).then(|| int(a / b)).flatten(),
        14 => int(a & b),
        15 => int(a | b),
        16 => int(a ^ b),
        17 => bit_shift(a, b).map(Ok),
        _ => None,
    }
}

pub(crate) fn small_integer(it: &mut Interpreter, index: u16) -> bool {
    let (Some(a), arg) = (small_int(it.stack_value(1)), it.stack_top()) else {
        return false;
    };
    if index == 18 {
        return make_point(it, a, arg);
    }
    let Some(b) = small_int(arg) else {
        return false;
    };
    match evaluate(index, a, b) {
        Some(Ok(v)) => {
            it.pop_then_push(1, integer_object_of(v as i16));
            true
        }
        Some(Err(flag)) => {
            it.pop_then_push(1, boolean(flag));
            true
        }
        None => false,
    }
}

/// Primitive 18, `@`: a Point from a SmallInteger receiver and any argument.
fn make_point(it: &mut Interpreter, x: i32, y: Oop) -> bool {
    if it.xerox_trace_compat && (x == MAX_SMALL_INTEGER || y == integer_object_of(MAX_SMALL_INTEGER as i16)) {
        // The VM that wrote Xerox's trace3 failed makePoint here (see tests/traces.rs).
        return false;
    }
    if !is_integer_object(y) {
        return false;
    }
    let Some(point) = it.memory.instantiate_class(CLASS_POINT, 0) else {
        return false;
    };
    it.memory.store_pointer(0, point, integer_object_of(x as i16));
    it.memory.store_pointer(1, point, y);
    it.pop_then_push(1, point);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_rounds_like_the_blue_book() {
        assert_eq!(evaluate(12, -1, 2), Some(Ok(-1)), "-1 // 2");
        assert_eq!(evaluate(12, 7, -2), Some(Ok(-4)), "7 // -2");
        assert_eq!(evaluate(11, -7, 2), Some(Ok(1)), "-7 \\\\ 2");
        assert_eq!(evaluate(11, 7, -2), Some(Ok(-1)), "7 \\\\ -2");
        assert_eq!(evaluate(13, -7, 2), Some(Ok(-3)), "-7 quo: 2");
        assert_eq!(evaluate(10, 6, 3), Some(Ok(2)));
        assert_eq!(evaluate(10, 7, 2), None, "inexact / fails (Fraction)");
        for op in [10, 11, 12, 13] {
            assert_eq!(evaluate(op, 5, 0), None, "division by zero fails");
        }
        // rem: is implemented in the image as `self - ((self quo: n) * n)`.
        let rem = -7 - evaluate(13, -7, 2).unwrap().unwrap() * 2;
        assert_eq!(rem, -1);
    }

    #[test]
    fn overflow_fails() {
        assert_eq!(evaluate(1, 16383, 1), None);
        assert_eq!(evaluate(2, -16384, 1), None);
        assert_eq!(evaluate(9, 200, 200), None);
        assert_eq!(evaluate(12, -16384, -1), None);
        assert_eq!(evaluate(1, 16382, 1), Some(Ok(16383)));
        assert_eq!(evaluate(2, -16383, 1), Some(Ok(-16384)));
    }

    #[test]
    fn bit_shift_overflow_fails_and_right_shift_floors() {
        assert_eq!(evaluate(17, 1, 32), None, "1 bitShift: 32 must fail");
        assert_eq!(evaluate(17, 1, 14), None);
        assert_eq!(evaluate(17, 1, 13), Some(Ok(8192)));
        assert_eq!(evaluate(17, -1, 14), Some(Ok(-16384)));
        assert_eq!(evaluate(17, -1, -3), Some(Ok(-1)));
        assert_eq!(evaluate(17, 0, 100), Some(Ok(0)));
        assert_eq!(evaluate(17, 5, -100), Some(Ok(0)));
        assert_eq!(evaluate(17, 3, -1), Some(Ok(1)));
    }

    #[test]
    fn comparisons_and_bits() {
        assert_eq!(evaluate(3, -2, 1), Some(Err(true)));
        assert_eq!(evaluate(8, 3, 3), Some(Err(false)));
        assert_eq!(evaluate(14, 0b1100, 0b1010), Some(Ok(0b1000)));
        assert_eq!(evaluate(16, -1, 1), Some(Ok(-2)));
    }
}
