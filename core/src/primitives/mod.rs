//! Primitive methods (Blue Book ch. 29), one file per group of the book:
//! arithmetic (1-18), float (40-54), subscript and stream (60-67), storage (68-79),
//! control (80-89), input/output (90-105), system (110-116 and host extensions from 128),
//! host files (128, 130-133).
//!
//! Each primitive is a function named after the book's (`primitiveAt` is `subscript::primitive_at`).
//! One that succeeds replaces the receiver and arguments on the stack with its result and
//! answers `Ok`; one that fails answers `PrimitiveFailed` with the stack untouched, so the
//! method's Smalltalk code runs instead (the book's `primitiveFail`).

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

/// A primitive did not apply: the method's Smalltalk code runs instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PrimitiveFailed;

/// What every primitive answers.
pub(crate) type PrimResult = Result<(), PrimitiveFailed>;

/// BitBlt's operations fail with `()`.
impl From<()> for PrimitiveFailed {
    #[inline(always)]
    fn from(_: ()) -> PrimitiveFailed {
        PrimitiveFailed
    }
}

/// `value.or_fail()?`: a missing value fails the primitive.
pub(crate) trait OrFail<T> {
    fn or_fail(self) -> Result<T, PrimitiveFailed>;
}

impl<T> OrFail<T> for Option<T> {
    #[inline(always)]
    fn or_fail(self) -> Result<T, PrimitiveFailed> {
        self.ok_or(PrimitiveFailed)
    }
}

/// `require(condition)?`: the book's `success:` followed by a check of `success`.
#[inline(always)]
pub(crate) fn require(condition: bool) -> PrimResult {
    if condition {
        Ok(())
    } else {
        Err(PrimitiveFailed)
    }
}

/// The number of arguments primitive `index` takes off the stack, for those with a fixed number.
/// A method declaring the primitive with another count (a hostile `<primitive: 60>` without
/// arguments, say) fails it instead of letting it read and pop its caller's stack.
const fn expected_arguments(index: u16) -> Option<usize> {
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

/// `expected_arguments` of every primitive index as a table (`u8::MAX`: not checked here), so
/// that the check on every primitive call is one load, not the `match`'s chain of compares.
const EXPECTED_ARGUMENTS: [u8; 256] = {
    let mut table = [u8::MAX; 256];
    let mut i = 0;
    while i < 256 {
        if let Some(n) = expected_arguments(i as u16) {
            table[i] = n as u8;
        }
        i += 1;
    }
    table
};

/// Runs primitive `index` for the pending send (`argument_count` arguments on the stack).
/// 21-37 (LargePositiveInteger arithmetic) are optional: the image's code does them.
pub(crate) fn dispatch<H: Host>(it: &mut Interpreter, host: &mut H, index: u16) -> PrimResult {
    use arithmetic::*;
    use control::*;
    use files::*;
    use float::*;
    use io::*;
    use storage::*;
    use subscript::*;
    use system::*;
    let expected = EXPECTED_ARGUMENTS.get(index as usize).copied().unwrap_or(u8::MAX);
    require(expected == u8::MAX || expected as usize == it.argument_count)?;
    match index {
        1 => primitive_add(it),
        2 => primitive_subtract(it),
        3 => primitive_less_than(it),
        4 => primitive_greater_than(it),
        5 => primitive_less_or_equal(it),
        6 => primitive_greater_or_equal(it),
        7 => primitive_equal(it),
        8 => primitive_not_equal(it),
        9 => primitive_multiply(it),
        10 => primitive_divide(it),
        11 => primitive_mod(it),
        12 => primitive_div(it),
        13 => primitive_quo(it),
        14 => primitive_bit_and(it),
        15 => primitive_bit_or(it),
        16 => primitive_bit_xor(it),
        17 => primitive_bit_shift(it),
        18 => primitive_make_point(it),
        40 => primitive_as_float(it),
        41 => primitive_float_add(it),
        42 => primitive_float_subtract(it),
        43 => primitive_float_less_than(it),
        44 => primitive_float_greater_than(it),
        45 => primitive_float_less_or_equal(it),
        46 => primitive_float_greater_or_equal(it),
        47 => primitive_float_equal(it),
        48 => primitive_float_not_equal(it),
        49 => primitive_float_multiply(it),
        50 => primitive_float_divide(it),
        51 => primitive_truncated(it),
        52 => primitive_fractional_part(it),
        53 => primitive_exponent(it),
        54 => primitive_times_two_power(it),
        60 => primitive_at(it),
        61 => primitive_at_put(it),
        62 => primitive_size(it),
        63 => primitive_string_at(it),
        64 => primitive_string_at_put(it),
        65 => primitive_next(it),
        66 => primitive_next_put(it),
        67 => primitive_at_end(it),
        68 => primitive_object_at(it),
        69 => primitive_object_at_put(it),
        70 => primitive_new(it),
        71 => primitive_new_with_arg(it),
        72 => primitive_become(it),
        73 => primitive_inst_var_at(it),
        74 => primitive_inst_var_at_put(it),
        75 => primitive_as_oop(it),
        76 => primitive_as_object(it),
        77 => primitive_some_instance(it),
        78 => primitive_next_instance(it),
        79 => primitive_new_method(it),
        80 => primitive_block_copy(it),
        81 => primitive_value(it),
        82 => primitive_value_with_args(it),
        83 => primitive_perform(it, host),
        84 => primitive_perform_with_args(it, host),
        85 => primitive_signal(it),
        86 => primitive_wait(it),
        87 => primitive_resume(it),
        88 => primitive_suspend(it),
        89 => primitive_flush_cache(it),
        90 => primitive_mouse_point(it),
        91 => primitive_cursor_loc_put(it),
        92 => primitive_cursor_link(it),
        93 => primitive_input_semaphore(it),
        94 => primitive_sample_interval(it),
        95 => primitive_input_word(it),
        96 => primitive_copy_bits(it),
        97 => primitive_snapshot(it, host),
        98 => primitive_time_words_into(it, host),
        99 => primitive_tick_words_into(it, host),
        100 => primitive_signal_at_milliseconds(it),
        101 => primitive_be_cursor(it),
        102 => primitive_be_display(it),
        103 => primitive_scan_characters(it),
        104 => primitive_draw_loop(it),
        105 => primitive_string_replace(it),
        110 => primitive_equivalent(it),
        111 => primitive_class(it),
        112 => primitive_core_left(it),
        113 => primitive_quit(it),
        114 => primitive_exit_to_debugger(it),
        115 => primitive_oops_left(it),
        116 => primitive_signal_at_oops_left_words_left(it),
        128 => primitive_be_snapshot_file(it, host),
        130 => primitive_file_operation(it, host),
        131 => primitive_directory_operation(it, host),
        132 => primitive_last_error(it, host),
        133 => primitive_error_string(it, host),
        _ => Err(PrimitiveFailed),
    }
}

/// Bytecodes 176-207 try these before sending (ch. 28 `specialSelectorPrimitiveResponse`);
/// true when one ran. Inlined where `bc` is a constant, so that only its case is compiled.
/// (198 `==` and 199 `class` never come here: `Interpreter::dispatch` does them itself.)
#[inline(always)]
pub(crate) fn special_selector_primitive(it: &mut Interpreter, bc: u8) -> bool {
    use arithmetic::*;
    let result = match bc {
        176..=191 => {
            if !is_integer_object(it.stack_value(1)) {
                return false;
            }
            match bc {
                176 => primitive_add(it),
                177 => primitive_subtract(it),
                178 => primitive_less_than(it),
                179 => primitive_greater_than(it),
                180 => primitive_less_or_equal(it),
                181 => primitive_greater_or_equal(it),
                182 => primitive_equal(it),
                183 => primitive_not_equal(it),
                184 => primitive_multiply(it),
                185 => primitive_divide(it),
                186 => primitive_mod(it),
                187 => primitive_make_point(it),
                188 => primitive_bit_shift(it),
                189 => primitive_div(it),
                190 => primitive_bit_and(it),
                _ => primitive_bit_or(it),
            }
        }
        200 => {
            it.argument_count = 1;
            let receiver = it.stack_value(1);
            require(it.is_context(receiver)).and_then(|()| control::primitive_block_copy(it))
        }
        201 | 202 => {
            let count = (bc - 201) as usize;
            it.argument_count = count;
            let receiver = it.stack_value(count);
            require(!is_integer_object(receiver) && it.memory.fetch_class_of(receiver) == CLASS_BLOCK_CONTEXT)
                .and_then(|()| control::value_block(it, receiver, count))
        }
        _ => return false,
    };
    result.is_ok()
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
