//! Subscript and stream primitives 60-67 (Blue Book ch. 29 "Array and Stream Primitives").

use super::{
    boolean, positive_16bit_value, positive_integer_for, require, small_int, OrFail, PrimResult, PrimitiveFailed,
};
use crate::interpreter::Interpreter;
use crate::object_memory::*;

// ReadStream / WriteStream fields.
const STREAM_ARRAY: usize = 0;
const STREAM_INDEX: usize = 1;
const STREAM_READ_LIMIT: usize = 2;
const STREAM_WRITE_LIMIT: usize = 3;

/// Number of indexable elements (bytes, words or pointers) including fixed fields.
pub(crate) fn length_of(it: &Interpreter, oop: Oop) -> usize {
    if it.memory.is_bytes(oop) {
        it.memory.fetch_byte_length_of(oop)
    } else {
        it.memory.fetch_word_length_of(oop)
    }
}

/// `checkIndexableBounds:in:` — true when 1-based `index` names an indexable field.
pub(crate) fn in_indexable_bounds(it: &Interpreter, index: i32, oop: Oop) -> bool {
    if is_integer_object(oop) || index < 1 {
        return false;
    }
    let class = it.memory.fetch_class_of(oop);
    index as usize + it.memory.fixed_fields_of_class(class) <= length_of(it, oop)
}

/// `subscript:with:` — element at 0-based field/byte position `i`, as an object.
pub(crate) fn fetch_element(it: &mut Interpreter, oop: Oop, i: usize) -> Option<Oop> {
    match it.memory.format_of(oop) {
        Format::Pointers => Some(it.memory.fetch_pointer(i, oop)),
        Format::Words => {
            let w = it.memory.fetch_word(i, oop);
            positive_integer_for(it, w as u32)
        }
        Format::Bytes => Some(integer_object_of(it.memory.fetch_byte(i, oop) as i16)),
    }
}

/// `subscript:with:storing:` — fails when the value does not fit the object's format.
pub(crate) fn store_element(it: &mut Interpreter, oop: Oop, i: usize, value: Oop) -> PrimResult {
    match it.memory.format_of(oop) {
        Format::Pointers => it.memory.store_pointer(i, oop, value),
        Format::Words => {
            let w = positive_16bit_value(it, value).or_fail()?;
            it.memory.store_word(i, oop, w)
        }
        Format::Bytes => {
            let b = small_int(value).and_then(|b| u8::try_from(b).ok()).or_fail()?;
            it.memory.store_byte(i, oop, b)
        }
    }
    Ok(())
}

fn fixed_fields(it: &Interpreter, oop: Oop) -> usize {
    it.memory.fixed_fields_of_class(it.memory.fetch_class_of(oop))
}

fn character_for(it: &Interpreter, byte: u8) -> Oop {
    it.memory.fetch_pointer(byte as usize, CHARACTER_TABLE)
}

fn character_value(it: &Interpreter, oop: Oop) -> Option<u8> {
    if is_integer_object(oop) || it.memory.fetch_class_of(oop) != CLASS_CHARACTER {
        return None;
    }
    small_int(it.memory.fetch_pointer(0, oop)).and_then(|v| u8::try_from(v).ok())
}

/// The index argument of `at:` and `at:put:` as a 0-based field position in `array`.
/// (`in_indexable_bounds`, with the class's fixed fields looked up once.)
fn checked_index(it: &Interpreter, array: Oop, index: Oop) -> Result<usize, PrimitiveFailed> {
    let index = small_int(index).or_fail()?;
    require(!is_integer_object(array) && index >= 1)?;
    let i = index as usize - 1 + fixed_fields(it, array);
    require(i < length_of(it, array))?;
    Ok(i)
}

/// Primitive 60, `at:`.
pub(crate) fn primitive_at(it: &mut Interpreter) -> PrimResult {
    let array = it.stack_value(1);
    let i = checked_index(it, array, it.stack_top())?;
    let result = fetch_element(it, array, i).or_fail()?;
    it.expose(result);
    it.pop_then_push(1, result);
    Ok(())
}

/// Primitive 61, `at:put:`.
pub(crate) fn primitive_at_put(it: &mut Interpreter) -> PrimResult {
    let (array, value) = (it.stack_value(2), it.stack_top());
    let i = checked_index(it, array, it.stack_value(1))?;
    store_element(it, array, i, value)?;
    it.pop_then_push(2, value);
    Ok(())
}

/// Primitive 62, `size`: the number of indexable fields.
pub(crate) fn primitive_size(it: &mut Interpreter) -> PrimResult {
    let receiver = it.stack_top();
    require(!is_integer_object(receiver))?;
    let n = length_of(it, receiver).saturating_sub(fixed_fields(it, receiver));
    let r = positive_integer_for(it, n as u32).or_fail()?;
    it.pop_then_push(0, r);
    Ok(())
}

/// Primitive 63, `String>>at:`: a Character.
pub(crate) fn primitive_string_at(it: &mut Interpreter) -> PrimResult {
    let array = it.stack_value(1);
    let i = checked_index(it, array, it.stack_top())?;
    require(it.memory.is_bytes(array))?;
    let result = character_for(it, it.memory.fetch_byte(i, array));
    it.expose(result);
    it.pop_then_push(1, result);
    Ok(())
}

/// Primitive 64, `String>>at:put:`: stores a Character.
pub(crate) fn primitive_string_at_put(it: &mut Interpreter) -> PrimResult {
    let (array, value) = (it.stack_value(2), it.stack_top());
    let i = checked_index(it, array, it.stack_value(1))?;
    require(it.memory.is_bytes(array))?;
    let b = character_value(it, value).or_fail()?;
    it.memory.store_byte(i, array, b);
    it.pop_then_push(2, value);
    Ok(())
}

/// The stream's collection if it is an Array or String, with its index and limit field.
fn stream_state(it: &Interpreter, stream: Oop, limit_field: usize) -> Option<(Oop, i32, i32)> {
    if is_integer_object(stream)
        || !it.memory.is_pointers(stream)
        || it.memory.fetch_word_length_of(stream) <= limit_field
    {
        return None;
    }
    let array = it.memory.fetch_pointer(STREAM_ARRAY, stream);
    let class = it.memory.fetch_class_of(array);
    if class != CLASS_ARRAY && class != CLASS_STRING {
        return None;
    }
    let index = small_int(it.memory.fetch_pointer(STREAM_INDEX, stream))?;
    let limit = small_int(it.memory.fetch_pointer(limit_field, stream))?;
    Some((array, index, limit))
}

/// Primitive 65, `ReadStream>>next`.
pub(crate) fn primitive_next(it: &mut Interpreter) -> PrimResult {
    let stream = it.stack_top();
    let (array, index, limit) = stream_state(it, stream, STREAM_READ_LIMIT).or_fail()?;
    require(index < limit && in_indexable_bounds(it, index + 1, array))?;
    let result = if it.memory.fetch_class_of(array) == CLASS_ARRAY {
        it.memory.fetch_pointer(index as usize, array)
    } else {
        character_for(it, it.memory.fetch_byte(index as usize, array))
    };
    it.memory.store_pointer(STREAM_INDEX, stream, integer_object_of((index + 1) as i16));
    it.pop_then_push(0, result);
    Ok(())
}

/// Primitive 66, `WriteStream>>nextPut:`.
pub(crate) fn primitive_next_put(it: &mut Interpreter) -> PrimResult {
    let (stream, value) = (it.stack_value(1), it.stack_top());
    let (array, index, limit) = stream_state(it, stream, STREAM_WRITE_LIMIT).or_fail()?;
    require(index < limit && in_indexable_bounds(it, index + 1, array))?;
    if it.memory.fetch_class_of(array) == CLASS_ARRAY {
        it.memory.store_pointer(index as usize, array, value);
    } else {
        let b = character_value(it, value).or_fail()?;
        it.memory.store_byte(index as usize, array, b);
    }
    it.memory.store_pointer(STREAM_INDEX, stream, integer_object_of((index + 1) as i16));
    it.pop_then_push(1, value);
    Ok(())
}

/// Primitive 67, `ReadStream>>atEnd`.
pub(crate) fn primitive_at_end(it: &mut Interpreter) -> PrimResult {
    let stream = it.stack_top();
    let (array, index, limit) = stream_state(it, stream, STREAM_READ_LIMIT).or_fail()?;
    let length = length_of(it, array) as i32;
    it.pop_then_push(0, boolean(index >= limit || index >= length));
    Ok(())
}
