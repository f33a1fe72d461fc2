//! System primitives 110-116 (Blue Book ch. 29 "System Primitives") and snapshot (97).

use super::{positive_integer_for, small_int};
use crate::host::Host;
use crate::interpreter::{Interpreter, StopReason};
use crate::object_memory::{is_integer_object, CLASS_SEMAPHORE, NIL};

pub(crate) fn system<H: Host>(it: &mut Interpreter, host: &mut H, index: u16) -> bool {
    match index {
        97 => snapshot(it, host),
        110 => equivalent(it),
        111 => class(it),
        112 => {
            let words = it.memory.words_left().min(u32::MAX as usize) as u32;
            match positive_integer_for(it, words) {
                Some(r) => {
                    it.pop_then_push(0, r);
                    true
                }
                None => false,
            }
        }
        113 => {
            it.stop = Some(StopReason::Quit);
            true
        }
        114 => {
            it.stop = Some(StopReason::Error(alloc::string::String::from("the image called exitToDebugger")));
            true
        }
        115 => {
            let n = it.memory.oops_left() as u32;
            match positive_integer_for(it, n) {
                Some(r) => {
                    it.pop_then_push(0, r);
                    true
                }
                None => false,
            }
        }
        116 => {
            let (sem, oops, words) = (it.stack_value(2), it.stack_value(1), it.stack_top());
            let (Some(oops), Some(words)) = (small_int(oops), super::positive_integer_value(it, words)) else {
                return false;
            };
            // "Fail if the first argument is neither a Semaphore nor nil."
            if sem != NIL && (is_integer_object(sem) || it.memory.fetch_class_of(sem) != CLASS_SEMAPHORE) {
                return false;
            }
            it.low_space_semaphore = sem;
            it.low_space_oops = oops.max(0) as usize;
            it.low_space_words = words as usize;
            it.pop(3);
            true
        }
        _ => false,
    }
}

pub(crate) fn equivalent(it: &mut Interpreter) -> bool {
    let (a, b) = (it.stack_value(1), it.stack_top());
    it.pop_then_push(1, super::boolean(a == b));
    true
}

pub(crate) fn class(it: &mut Interpreter) -> bool {
    let c = it.memory.fetch_class_of(it.stack_top());
    it.pop_then_push(0, c);
    true
}

/// Primitive 97: writes the image through the host. The saved active context still has the
/// receiver on its stack, so in the resumed image `snapshotPrimitive` answers it (not nil);
/// here, after a successful write, it answers nil: that is how the image's
/// `snapshotAs:thenQuit:` tells "just saved" from "just resumed".
fn snapshot<H: Host>(it: &mut Interpreter, host: &mut H) -> bool {
    let ctx = it.active_context;
    it.escape(ctx);
    let process = it.active_process();
    it.store_context_registers();
    it.memory.store_pointer(crate::scheduler::SUSPENDED_CONTEXT, process, ctx);
    it.collect_garbage();
    let saved = crate::image::save(&it.memory, it.snapshot_byte_order)
        .map_err(|e| crate::host::SnapshotError::Failed(alloc::format!("{e}")));
    match saved.and_then(|bytes| host.save_snapshot(&bytes)) {
        Ok(()) => {
            it.pop_then_push(0, NIL);
            true
        }
        Err(e) => {
            log::warn!("snapshot failed: {e}");
            it.snapshot_error = Some(e);
            false
        }
    }
}
