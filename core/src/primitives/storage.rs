//! Storage management primitives 68-79 (Blue Book ch. 29).

use super::subscript::{fetch_element, length_of, store_element};
use super::{positive_16bit_value, require, small_int, OrFail, PrimResult};
use crate::interpreter::Interpreter;
use crate::object_memory::*;

/// Primitive 75, `asOop`: the object's table index as a SmallInteger (oop bitOr: 1).
pub(crate) fn primitive_as_oop(it: &mut Interpreter) -> PrimResult {
    let receiver = it.stack_top();
    require(!is_integer_object(receiver))?;
    it.pop_then_push(0, receiver | 1);
    Ok(())
}

/// Primitive 76, `asObject`: the object whose `asOop` the receiver is.
pub(crate) fn primitive_as_object(it: &mut Interpreter) -> PrimResult {
    let receiver = it.stack_top();
    require(is_integer_object(receiver))?;
    let oop = receiver & 0xfffe;
    // (A recycled context waiting for reuse is garbage: `F_POOLED`.)
    require(it.memory.is_object(oop) && !it.memory.is_pooled(oop))?;
    it.expose(oop);
    it.pop_then_push(0, oop);
    Ok(())
}

/// Primitive 77, `someInstance`.
pub(crate) fn primitive_some_instance(it: &mut Interpreter) -> PrimResult {
    let class = it.stack_top();
    let o = it.memory.instance_after(class, 0).or_fail()?;
    require(!is_integer_object(class))?;
    it.expose(o);
    it.pop_then_push(0, o);
    Ok(())
}

/// Primitive 78, `nextInstance`.
pub(crate) fn primitive_next_instance(it: &mut Interpreter) -> PrimResult {
    let receiver = it.stack_top();
    require(!is_integer_object(receiver))?;
    let class = it.memory.fetch_class_of(receiver);
    let o = it.memory.instance_after(class, receiver).or_fail()?;
    it.expose(o);
    it.pop_then_push(0, o);
    Ok(())
}

/// Pointer count of a CompiledMethod (header + literals), for objectAt:.
fn object_pointer_count(it: &Interpreter, method: Oop) -> Option<usize> {
    if is_integer_object(method) || it.memory.fetch_class_of(method) != CLASS_COMPILED_METHOD {
        return None;
    }
    let header = it.memory.fetch_pointer(0, method);
    Some(((header >> 1) & 63) as usize + 1)
}

/// Primitive 68, `objectAt:` on a CompiledMethod: its header and literals.
pub(crate) fn primitive_object_at(it: &mut Interpreter) -> PrimResult {
    let (receiver, idx) = (it.stack_value(1), small_int(it.stack_top()));
    let (n, i) = (object_pointer_count(it, receiver).or_fail()?, idx.or_fail()?);
    require(i >= 1 && i as usize <= n)?;
    let v = it.memory.fetch_pointer(i as usize - 1, receiver);
    it.pop_then_push(1, v);
    Ok(())
}

/// Primitive 69, `objectAt:put:`.
pub(crate) fn primitive_object_at_put(it: &mut Interpreter) -> PrimResult {
    let (receiver, idx, value) = (it.stack_value(2), small_int(it.stack_value(1)), it.stack_top());
    let (n, i) = (object_pointer_count(it, receiver).or_fail()?, idx.or_fail()?);
    // "Fails if the index is less than 2": the header is set once, by newMethod:header:.
    require(i >= 2 && i as usize <= n)?;
    it.memory.store_pointer(i as usize - 1, receiver, value);
    it.pop_then_push(2, value);
    Ok(())
}

fn is_class(it: &Interpreter, class: Oop) -> bool {
    it.memory.class_instance_specification(class).is_some()
}

/// Primitive 70, `new`: an instance of a class without indexable fields.
pub(crate) fn primitive_new(it: &mut Interpreter) -> PrimResult {
    let class = it.stack_top();
    let spec = it.memory.class_instance_specification(class).filter(|spec| spec & SPEC_INDEXABLE == 0).or_fail()?;
    let o = it.memory.instantiate_class_with_spec(class, spec, 0).or_fail()?;
    it.pop_then_push(0, o);
    Ok(())
}

/// Primitive 71, `new:`: an instance of a class with indexable fields.
pub(crate) fn primitive_new_with_arg(it: &mut Interpreter) -> PrimResult {
    let (class, size) = (it.stack_value(1), it.stack_top());
    let size = positive_16bit_value(it, size).or_fail()?;
    let spec = it.memory.class_instance_specification(class).filter(|spec| spec & SPEC_INDEXABLE != 0).or_fail()?;
    let o = it.memory.instantiate_class_with_spec(class, spec, size as usize).or_fail()?;
    it.pop_then_push(1, o);
    Ok(())
}

/// Primitive 72, `become:`.
pub(crate) fn primitive_become(it: &mut Interpreter) -> PrimResult {
    let (a, b) = (it.stack_value(1), it.stack_top());
    require(it.memory.is_object(a) && it.memory.is_object(b))?;
    // The objects the interpreter names by oop (nil, true, false, the classes it instantiates,
    // the special selectors...) keep their identity: swapping one breaks the VM's own sends
    // and allocations (found by fuzz/primitives: `Array become: ...`). Smalltalk is the
    // exception: the VM never looks inside it, and it grows with `self become: newSelf`.
    let named = |o: Oop| o <= LAST_GUARANTEED_OOP && o != SMALLTALK;
    require(!named(a) && !named(b))?;
    // The active context keeps its identity too: the registers describe it.
    require(a != it.active_context && b != it.active_context)?;
    // Registers cache heap locations; write them back before the objects trade places.
    it.store_context_registers();
    it.expose(a);
    it.expose(b);
    it.forget_lookups_through(a, b);
    it.memory.swap_pointers_of(a, b);
    it.fetch_context_registers();
    it.pop_then_push(1, a);
    Ok(())
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

/// Primitive 73, `instVarAt:`.
pub(crate) fn primitive_inst_var_at(it: &mut Interpreter) -> PrimResult {
    let receiver = it.stack_value(1);
    let i = small_int(it.stack_top()).or_fail()?;
    require(is_fixed_field(it, receiver, i))?;
    let v = fetch_element(it, receiver, i as usize - 1).or_fail()?;
    it.expose(v);
    it.pop_then_push(1, v);
    Ok(())
}

/// Primitive 74, `instVarAt:put:`.
pub(crate) fn primitive_inst_var_at_put(it: &mut Interpreter) -> PrimResult {
    let (receiver, value) = (it.stack_value(2), it.stack_top());
    let i = small_int(it.stack_value(1)).or_fail()?;
    require(is_fixed_field(it, receiver, i))?;
    store_element(it, receiver, i as usize - 1, value)?;
    it.pop_then_push(2, value);
    Ok(())
}

/// Primitive 79, `newMethod: byteCount header: header` on CompiledMethod class.
pub(crate) fn primitive_new_method(it: &mut Interpreter) -> PrimResult {
    let (class, header) = (it.stack_value(2), it.stack_top());
    let count = small_int(it.stack_value(1)).or_fail()?;
    require(count >= 0 && is_integer_object(header) && is_class(it, class))?;
    let literals = ((header >> 1) & 63) as usize;
    let bytes = (literals + 1) * 2 + count as usize;
    let method = it.memory.allocate(class, bytes.div_ceil(2), Format::Bytes, bytes & 1 == 1, 0).or_fail()?;
    it.memory.store_word(0, method, header);
    for i in 1..=literals {
        it.memory.store_pointer(i, method, NIL);
    }
    it.pop_then_push(2, method);
    Ok(())
}
