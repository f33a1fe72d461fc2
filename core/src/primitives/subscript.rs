//! Subscript and stream primitives 60-67 (Blue Book ch. 29 "Array and Stream Primitives").

use super::{boolean, positive_16bit_value, positive_integer_for, small_int};
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

/// `subscript:with:storing:` — fails (false) when the value does not fit the object's format.
pub(crate) fn store_element(it: &mut Interpreter, oop: Oop, i: usize, value: Oop) -> bool {
    match it.memory.format_of(oop) {
        Format::Pointers => {
            it.memory.store_pointer(i, oop, value);
            true
        }
        Format::Words => match positive_16bit_value(it, value) {
            Some(w) => {
                it.memory.store_word(i, oop, w);
                true
            }
            None => false,
        },
        Format::Bytes => match small_int(value) {
            Some(b @ 0..=255) => {
                it.memory.store_byte(i, oop, b as u8);
                true
            }
            _ => false,
        },
    }
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

pub(crate) fn subscript(it: &mut Interpreter, index: u16) -> bool {
    match index {
        60 | 63 => {
            let (array, idx) = (it.stack_value(1), small_int(it.stack_top()));
            let Some(idx) = idx else { return false };
            if !in_indexable_bounds(it, idx, array) {
                return false;
            }
            let i = idx as usize - 1 + fixed_fields(it, array);
            let result = if index == 63 {
                if !it.memory.is_bytes(array) {
                    return false;
                }
                Some(character_for(it, it.memory.fetch_byte(i, array)))
            } else {
                fetch_element(it, array, i)
            };
            match result {
                Some(r) => {
                    it.expose(r);
                    it.pop_then_push(1, r);
                    true
                }
                None => false,
            }
        }
        61 | 64 => {
            let (array, idx, value) = (it.stack_value(2), small_int(it.stack_value(1)), it.stack_top());
            let Some(idx) = idx else { return false };
            if !in_indexable_bounds(it, idx, array) {
                return false;
            }
            let i = idx as usize - 1 + fixed_fields(it, array);
            let ok = if index == 64 {
                match (it.memory.is_bytes(array), character_value(it, value)) {
                    (true, Some(b)) => {
                        it.memory.store_byte(i, array, b);
                        true
                    }
                    _ => false,
                }
            } else {
                store_element(it, array, i, value)
            };
            if ok {
                it.pop_then_push(2, value);
            }
            ok
        }
        62 => {
            let receiver = it.stack_top();
            if is_integer_object(receiver) {
                return false;
            }
            let n = length_of(it, receiver).saturating_sub(fixed_fields(it, receiver));
            match positive_integer_for(it, n as u32) {
                Some(r) => {
                    it.pop_then_push(0, r);
                    true
                }
                None => false,
            }
        }
        65 => stream_next(it),
        66 => stream_next_put(it),
        67 => stream_at_end(it),
        _ => false,
    }
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

fn stream_next(it: &mut Interpreter) -> bool {
    let stream = it.stack_top();
    let Some((array, index, limit)) = stream_state(it, stream, STREAM_READ_LIMIT) else {
        return false;
    };
    if index >= limit || !in_indexable_bounds(it, index + 1, array) {
        return false;
    }
    let result = if it.memory.fetch_class_of(array) == CLASS_ARRAY {
        it.memory.fetch_pointer(index as usize, array)
    } else {
        character_for(it, it.memory.fetch_byte(index as usize, array))
    };
    it.memory.store_pointer(STREAM_INDEX, stream, integer_object_of((index + 1) as i16));
    it.pop_then_push(0, result);
    true
}

fn stream_next_put(it: &mut Interpreter) -> bool {
    let (stream, value) = (it.stack_value(1), it.stack_top());
    let Some((array, index, limit)) = stream_state(it, stream, STREAM_WRITE_LIMIT) else {
        return false;
    };
    if index >= limit || !in_indexable_bounds(it, index + 1, array) {
        return false;
    }
    if it.memory.fetch_class_of(array) == CLASS_ARRAY {
        it.memory.store_pointer(index as usize, array, value);
    } else {
        let Some(b) = character_value(it, value) else {
            return false;
        };
        it.memory.store_byte(index as usize, array, b);
    }
    it.memory.store_pointer(STREAM_INDEX, stream, integer_object_of((index + 1) as i16));
    it.pop_then_push(1, value);
    true
}

fn stream_at_end(it: &mut Interpreter) -> bool {
    let stream = it.stack_top();
    let Some((array, index, limit)) = stream_state(it, stream, STREAM_READ_LIMIT) else {
        return false;
    };
    let length = length_of(it, array) as i32;
    it.pop_then_push(0, boolean(index >= limit || index >= length));
    true
}
