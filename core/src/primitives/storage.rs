//! Storage management primitives 68-79 (Blue Book ch. 29).

use super::subscript::{fetch_element, length_of, store_element};
use super::{positive_16bit_value, small_int};
use crate::interpreter::Interpreter;
use crate::object_memory::*;

pub(crate) fn storage(it: &mut Interpreter, index: u16) -> bool {
    match index {
        68 => object_at(it),
        69 => object_at_put(it),
        70 => new(it),
        71 => new_with_size(it),
        72 => become_object(it),
        73 => inst_var_at(it),
        74 => inst_var_at_put(it),
        75 => {
            let receiver = it.stack_top();
            if is_integer_object(receiver) {
                return false;
            }
            // The object's table index as a SmallInteger (`asOop`): oop bitOr: 1.
            it.pop_then_push(0, receiver | 1);
            true
        }
        76 => {
            let receiver = it.stack_top();
            if !is_integer_object(receiver) {
                return false;
            }
            let oop = receiver & 0xfffe;
            if !it.memory.is_object(oop) {
                return false;
            }
            it.expose(oop);
            it.pop_then_push(0, oop);
            true
        }
        77 => {
            let class = it.stack_top();
            match it.memory.instance_after(class, 0) {
                Some(o) if !is_integer_object(class) => {
                    it.expose(o);
                    it.pop_then_push(0, o);
                    true
                }
                _ => false,
            }
        }
        78 => {
            let receiver = it.stack_top();
            if is_integer_object(receiver) {
                return false;
            }
            let class = it.memory.fetch_class_of(receiver);
            match it.memory.instance_after(class, receiver) {
                Some(o) => {
                    it.expose(o);
                    it.pop_then_push(0, o);
                    true
                }
                None => false,
            }
        }
        79 => new_method(it),
        _ => false,
    }
}

/// Pointer count of a CompiledMethod (header + literals), for objectAt:.
fn object_pointer_count(it: &Interpreter, method: Oop) -> Option<usize> {
    if is_integer_object(method) || it.memory.fetch_class_of(method) != CLASS_COMPILED_METHOD {
        return None;
    }
    let header = it.memory.fetch_pointer(0, method);
    Some(((header >> 1) & 63) as usize + 1)
}

fn object_at(it: &mut Interpreter) -> bool {
    let (receiver, idx) = (it.stack_value(1), small_int(it.stack_top()));
    match (object_pointer_count(it, receiver), idx) {
        (Some(n), Some(i)) if i >= 1 && i as usize <= n => {
            let v = it.memory.fetch_pointer(i as usize - 1, receiver);
            it.pop_then_push(1, v);
            true
        }
        _ => false,
    }
}

fn object_at_put(it: &mut Interpreter) -> bool {
    let (receiver, idx, value) = (it.stack_value(2), small_int(it.stack_value(1)), it.stack_top());
    // "Fails if the index is less than 2": the header is set once, by newMethod:header:.
    match (object_pointer_count(it, receiver), idx) {
        (Some(n), Some(i)) if i >= 2 && i as usize <= n => {
            it.memory.store_pointer(i as usize - 1, receiver, value);
            it.pop_then_push(2, value);
            true
        }
        _ => false,
    }
}

fn is_class(it: &Interpreter, class: Oop) -> bool {
    it.memory.is_object(class)
        && it.memory.is_pointers(class)
        && it.memory.fetch_word_length_of(class) > CLASS_INSTANCE_SPEC
        && is_integer_object(it.memory.instance_specification(class))
}

fn new(it: &mut Interpreter) -> bool {
    let class = it.stack_top();
    if !is_class(it, class) || it.memory.instance_specification(class) & SPEC_INDEXABLE != 0 {
        return false;
    }
    match it.memory.instantiate_class(class, 0) {
        Some(o) => {
            it.pop_then_push(0, o);
            true
        }
        None => false,
    }
}

fn new_with_size(it: &mut Interpreter) -> bool {
    let (class, size) = (it.stack_value(1), it.stack_top());
    let Some(size) = positive_16bit_value(it, size) else {
        return false;
    };
    if !is_class(it, class) || it.memory.instance_specification(class) & SPEC_INDEXABLE == 0 {
        return false;
    }
    match it.memory.instantiate_class(class, size as usize) {
        Some(o) => {
            it.pop_then_push(1, o);
            true
        }
        None => false,
    }
}

fn become_object(it: &mut Interpreter) -> bool {
    let (a, b) = (it.stack_value(1), it.stack_top());
    if is_integer_object(a) || is_integer_object(b) || !it.memory.is_object(a) || !it.memory.is_object(b) {
        return false;
    }
    // The objects the interpreter names by oop (nil, true, false, the classes it instantiates,
    // the special selectors...) keep their identity: swapping one breaks the VM's own sends
    // and allocations (found by fuzz/primitives: `Array become: ...`). Smalltalk is the
    // exception: the VM never looks inside it, and it grows with `self become: newSelf`.
    let named = |o: Oop| o <= LAST_GUARANTEED_OOP && o != SMALLTALK;
    if named(a) || named(b) {
        return false;
    }
    // Registers cache heap locations; write them back before the objects trade places.
    it.store_context_registers();
    it.expose(a);
    it.expose(b);
    it.memory.swap_pointers_of(a, b);
    it.flush_method_cache();
    it.fetch_context_registers();
    it.pop_then_push(1, a);
    true
}

/// True when 1-based `index` names a named (fixed) instance variable of `receiver`: the
/// image's instVarAt: "fail[s] if the index is ... not the index of a fixed variable" and its
/// fallback code answers indexed fields through basicAt: (so `'abc' instVarAt: 1` is `$a`).
fn is_fixed_field(it: &Interpreter, receiver: Oop, index: i32) -> bool {
    !is_integer_object(receiver)
        && index >= 1
        && index as usize <= length_of(it, receiver)
        && index as usize <= it.memory.fixed_fields_of_class(it.memory.fetch_class_of(receiver))
}

fn inst_var_at(it: &mut Interpreter) -> bool {
    let (receiver, idx) = (it.stack_value(1), small_int(it.stack_top()));
    let Some(i) = idx else { return false };
    if !is_fixed_field(it, receiver, i) {
        return false;
    }
    match fetch_element(it, receiver, i as usize - 1) {
        Some(v) => {
            it.expose(v);
            it.pop_then_push(1, v);
            true
        }
        None => false,
    }
}

fn inst_var_at_put(it: &mut Interpreter) -> bool {
    let (receiver, idx, value) = (it.stack_value(2), small_int(it.stack_value(1)), it.stack_top());
    let Some(i) = idx else { return false };
    if !is_fixed_field(it, receiver, i) {
        return false;
    }
    if !store_element(it, receiver, i as usize - 1, value) {
        return false;
    }
    it.pop_then_push(2, value);
    true
}

/// `newMethod: byteCount header: header` on CompiledMethod class.
fn new_method(it: &mut Interpreter) -> bool {
    let (class, count, header) = (it.stack_value(2), small_int(it.stack_value(1)), it.stack_top());
    let Some(count) = count else { return false };
    if count < 0 || !is_integer_object(header) || !is_class(it, class) {
        return false;
    }
    let literals = ((header >> 1) & 63) as usize;
    let bytes = (literals + 1) * 2 + count as usize;
    let Some(method) = it.memory.allocate(class, bytes.div_ceil(2), Format::Bytes, bytes & 1 == 1, 0) else {
        return false;
    };
    it.memory.store_word(0, method, header);
    for i in 1..=literals {
        it.memory.store_pointer(i, method, NIL);
    }
    it.pop_then_push(2, method);
    true
}
