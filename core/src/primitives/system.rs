//! System primitives 110-116 (Blue Book ch. 29 "System Primitives") and snapshot (97).

use super::{positive_integer_for, require, small_int, OrFail, PrimResult, PrimitiveFailed};
use crate::host::Host;
use crate::interpreter::{Interpreter, StopReason};
use crate::object_memory::{is_integer_object, Oop, CLASS_SEMAPHORE, NIL};

/// The low-space signal the image asked for (primitive 116): `semaphore` is signalled once
/// when, after a collection, fewer than `oops` object pointers or `words` words are left.
pub(crate) struct LowSpace {
    pub semaphore: Oop,
    pub oops: usize,
    pub words: usize,
}

impl Default for LowSpace {
    fn default() -> LowSpace {
        LowSpace { semaphore: NIL, oops: 0, words: 0 }
    }
}

/// Primitive 110, `==`.
pub(crate) fn primitive_equivalent(it: &mut Interpreter) -> PrimResult {
    let (a, b) = (it.stack_value(1), it.stack_top());
    it.pop_then_push(1, super::boolean(a == b));
    Ok(())
}

/// Primitive 111, `class`.
pub(crate) fn primitive_class(it: &mut Interpreter) -> PrimResult {
    let c = it.memory.fetch_class_of(it.stack_top());
    it.pop_then_push(0, c);
    Ok(())
}

/// Primitive 112, `coreLeft`: free words.
pub(crate) fn primitive_core_left(it: &mut Interpreter) -> PrimResult {
    let words = it.memory.words_left().min(u32::MAX as usize) as u32;
    let r = positive_integer_for(it, words).or_fail()?;
    it.pop_then_push(0, r);
    Ok(())
}

/// Primitive 113, `quitPrimitive`.
pub(crate) fn primitive_quit(it: &mut Interpreter) -> PrimResult {
    it.stop_with(StopReason::Quit);
    Ok(())
}

/// Primitive 114, `exitToDebugger`.
pub(crate) fn primitive_exit_to_debugger(it: &mut Interpreter) -> PrimResult {
    it.stop_with(StopReason::Error(alloc::string::String::from("the image called exitToDebugger")));
    Ok(())
}

/// Primitive 115, `oopsLeft`.
pub(crate) fn primitive_oops_left(it: &mut Interpreter) -> PrimResult {
    let n = it.memory.oops_left() as u32;
    let r = positive_integer_for(it, n).or_fail()?;
    it.pop_then_push(0, r);
    Ok(())
}

/// Primitive 116, `signal:atOopsLeft:wordsLeft:`.
pub(crate) fn primitive_signal_at_oops_left_words_left(it: &mut Interpreter) -> PrimResult {
    let (sem, oops, words) = (it.stack_value(2), it.stack_value(1), it.stack_top());
    let oops = small_int(oops).or_fail()?;
    let words = super::positive_integer_value(it, words).or_fail()?;
    // "Fail if the first argument is neither a Semaphore nor nil."
    require(sem == NIL || (!is_integer_object(sem) && it.memory.fetch_class_of(sem) == CLASS_SEMAPHORE))?;
    it.low_space.semaphore = sem;
    it.low_space.oops = oops.max(0) as usize;
    it.low_space.words = words as usize;
    it.pop(3);
    Ok(())
}

/// Primitive 97: writes the image through the host. The saved active context still has the
/// receiver on its stack, so in the resumed image `snapshotPrimitive` answers it (not nil);
/// here, after a successful write, it answers nil: that is how the image's
/// `snapshotAs:thenQuit:` tells "just saved" from "just resumed".
pub(crate) fn primitive_snapshot<H: Host>(it: &mut Interpreter, host: &mut H) -> PrimResult {
    let ctx = it.active_context;
    it.escape(ctx);
    let process = it.active_process();
    it.store_context_registers();
    it.memory.store_pointer(crate::scheduler::SUSPENDED_CONTEXT, process, ctx);
    // (A full collection: the file holds no garbage.)
    it.collect_all_garbage();
    let saved = crate::image::save(&it.memory, it.snapshot_byte_order)
        .map_err(|e| crate::host::SnapshotError::Failed(alloc::format!("{e}")));
    match saved.and_then(|bytes| host.save_snapshot(&bytes)) {
        Ok(()) => {
            it.pop_then_push(0, NIL);
            Ok(())
        }
        Err(e) => {
            log::warn!("snapshot failed: {e}");
            it.snapshot_error = Some(e);
            Err(PrimitiveFailed)
        }
    }
}
