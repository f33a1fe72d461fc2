//! Control primitives 80-89 (Blue Book ch. 29): blocks, perform, semaphores and processes.

use super::{require, small_int, OrFail, PrimResult};
use crate::host::Host;
use crate::interpreter::*;
use crate::object_memory::*;
use crate::scheduler::EXCESS_SIGNALS;

/// Primitive 85, `Semaphore>>signal`.
pub(crate) fn primitive_signal(it: &mut Interpreter) -> PrimResult {
    let sem = it.stack_top();
    require(is_semaphore_like(it, sem))?;
    it.synchronous_signal(sem);
    Ok(())
}

/// Primitive 86, `Semaphore>>wait`.
pub(crate) fn primitive_wait(it: &mut Interpreter) -> PrimResult {
    let sem = it.stack_top();
    require(is_semaphore_like(it, sem))?;
    let excess = small_int(it.memory.fetch_pointer(EXCESS_SIGNALS, sem)).unwrap_or(0);
    if excess > 0 {
        it.memory.store_pointer(EXCESS_SIGNALS, sem, integer_object_of((excess - 1) as i16));
    } else {
        let active = it.active_process();
        it.add_last_link(active, sem);
        it.suspend_active();
    }
    Ok(())
}

/// Primitive 87, `Process>>resume`.
pub(crate) fn primitive_resume(it: &mut Interpreter) -> PrimResult {
    let process = it.stack_top();
    // "Fail if the receiver is already waiting in a queue (in a Semaphore or
    // ProcessScheduler)": resuming it would link it into a second list.
    require(is_process(it, process) && process != it.active_process() && !is_waiting_in_list(it, process))?;
    it.resume(process);
    Ok(())
}

/// Primitive 88, `Process>>suspend` (of the active process only).
pub(crate) fn primitive_suspend(it: &mut Interpreter) -> PrimResult {
    let process = it.stack_top();
    require(process == it.active_process())?;
    it.pop_then_push(0, NIL);
    it.suspend_active();
    Ok(())
}

/// Primitive 89, `flushCache`.
pub(crate) fn primitive_flush_cache(it: &mut Interpreter) -> PrimResult {
    it.flush_method_cache();
    Ok(())
}

/// A LinkedList with excess signals whose links are processes: any other object (a Form,
/// say) would have its first field resumed as a process.
fn is_semaphore_like(it: &Interpreter, oop: Oop) -> bool {
    use crate::scheduler::{FIRST_LINK, LAST_LINK};
    !is_integer_object(oop)
        && it.memory.is_pointers(oop)
        && it.memory.fetch_word_length_of(oop) > EXCESS_SIGNALS
        && is_integer_object(it.memory.fetch_pointer(EXCESS_SIGNALS, oop))
        && [FIRST_LINK, LAST_LINK].iter().all(|&f| {
            let link = it.memory.fetch_pointer(f, oop);
            link == NIL || is_process(it, link)
        })
}

/// True when `process` is linked in the list its myList field names. The VM does not clear
/// myList when it takes a process off a list, so the list itself is walked.
fn is_waiting_in_list(it: &Interpreter, process: Oop) -> bool {
    let list = it.memory.fetch_pointer(crate::scheduler::MY_LIST, process);
    if is_integer_object(list) || !it.memory.is_object(list) || !it.memory.is_pointers(list) {
        return false;
    }
    if it.memory.fetch_word_length_of(list) <= crate::scheduler::LAST_LINK {
        return false;
    }
    let mut link = it.memory.fetch_pointer(crate::scheduler::FIRST_LINK, list);
    // Bounded: a corrupt (cyclic) list must not hang the VM.
    for _ in 0..32768 {
        if link == process {
            return true;
        }
        if link == NIL || is_integer_object(link) || !it.memory.is_object(link) || !it.memory.is_pointers(link) {
            return false;
        }
        link = it.memory.fetch_pointer(crate::scheduler::NEXT_LINK, link);
    }
    false
}

fn is_process(it: &Interpreter, oop: Oop) -> bool {
    if is_integer_object(oop)
        || !it.memory.is_pointers(oop)
        || it.memory.fetch_word_length_of(oop) <= crate::scheduler::MY_LIST
    {
        return false;
    }
    // A priority that names one of the scheduler's ready lists.
    let lists = it.memory.fetch_pointer(crate::scheduler::PROCESS_LISTS, it.scheduler_pointer());
    small_int(it.memory.fetch_pointer(crate::scheduler::PRIORITY, oop))
        .is_some_and(|p| p >= 1 && !is_integer_object(lists) && p as usize <= it.memory.fetch_word_length_of(lists))
}

/// Primitive 80, `blockCopy:` — a BlockContext whose code starts after the jump that follows
/// this send.
pub(crate) fn primitive_block_copy(it: &mut Interpreter) -> PrimResult {
    let (context, arg_count) = (it.stack_value(1), it.stack_top());
    require(is_integer_object(arg_count) && it.is_context(context))?;
    let home = if it.is_block_context(context) { it.memory.fetch_pointer(HOME, context) } else { context };
    let size = it.memory.fetch_word_length_of(home);
    // (Inlined: the image makes a block for each evaluation of `[...]` it runs.)
    let block = it.memory.allocate_inline(CLASS_BLOCK_CONTEXT, size, Format::Pointers, false, NIL).or_fail()?;
    // The home is now referenced from a heap object.
    it.escape(home);
    it.memory.set_escaped(block);
    let initial_ip = integer_object_of(it.instruction_pointer() as i16 + 3);
    // A field the block lacks is not written: only a hostile image has a block whose home
    // (a field it can store anything into) is not a context, and so a block too small.
    // (`store_pointer` checks its index only in debug builds.)
    let (loc, len) = it.memory.location_and_length(block);
    for (field, value) in [
        (INITIAL_IP, initial_ip),
        (INSTRUCTION_POINTER, initial_ip),
        (STACK_POINTER, integer_object_of(0)),
        (BLOCK_ARGUMENT_COUNT, arg_count),
        (HOME, home),
    ] {
        if field < len {
            it.memory.set_word_at(loc + field, value);
        }
    }
    it.pop_then_push(1, block);
    Ok(())
}

/// True when `block` (a BlockContext) is the active context or one of its senders: a block
/// "already being executed", as the image's comments of `value` and `valueWithArguments:` put
/// it. Only a block with a caller can be (a fresh or finished block has none), so the chain is
/// walked only for those.
/// The block's fields (at least the fixed ones) are at heap word `loc`.
#[inline(always)]
fn being_executed_at(it: &Interpreter, block: Oop, loc: usize) -> bool {
    if it.memory.word_at(loc + CALLER) == NIL {
        return false;
    }
    being_executed_in_chain(it, block)
}

/// Whether `block` is the active context or one of its senders (the walk of `being_executed_at`).
#[cold]
fn being_executed_in_chain(it: &Interpreter, block: Oop) -> bool {
    let mut ctx = it.active_context;
    // (The chain of a hostile image can loop; a sender chain longer than this is not real.)
    for _ in 0..100_000 {
        if ctx == block {
            return true;
        }
        if !it.is_context(ctx) {
            return false;
        }
        ctx = it.memory.fetch_pointer(CALLER, ctx);
    }
    false
}

/// Primitive 81, `value`, `value:`... — activates the receiver BlockContext with the
/// arguments on the stack. Fails, as the image's comment says, for a block "already being
/// executed" (`being_executed`): re-entering it would overwrite the registers of the
/// activation that is still running (the book's primitive does, and the block then runs on
/// with a stack it no longer has).
pub(crate) fn primitive_value(it: &mut Interpreter) -> PrimResult {
    let n = it.argument_count;
    let block = it.stack_value(n);
    require(!is_integer_object(block) && it.memory.fetch_class_of(block) == CLASS_BLOCK_CONTEXT)?;
    value_block(it, block, n)
}

/// Primitive 81 for `block`, a BlockContext found `n` below the top of the stack (the special
/// selectors `value` and `value:` check that themselves, then come here).
#[inline(never)]
pub(crate) fn value_block(it: &mut Interpreter, block: Oop, n: usize) -> PrimResult {
    // The block's fields through its location, read once from the table (the sends of `do:`
    // loops come here for every element).
    let (loc, len) = it.memory.location_and_length(block);
    require(len >= TEMP_FRAME_START + n)?;
    require(small_int(it.memory.word_at(loc + BLOCK_ARGUMENT_COUNT)) == Some(n as i32))?;
    require(!being_executed_at(it, block, loc))?;
    // The block was found `n` below the top of the stack, so the stack holds it and its
    // arguments: they move without a check each (one borrow of the heap, see
    // `heap_and_table`).
    let args = it.sp_loc + 1 - n;
    let (heap, _) = it.memory.heap_and_table();
    for i in 0..n {
        heap[(loc + TEMP_FRAME_START + i) & HEAP_MASK] = heap[(args + i) & HEAP_MASK];
    }
    it.pop(n + 1);
    it.activate_block_context(block, loc, len, n);
    Ok(())
}

/// Primitive 82, `valueWithArguments:`.
pub(crate) fn primitive_value_with_args(it: &mut Interpreter) -> PrimResult {
    let (block, args) = (it.stack_value(1), it.stack_top());
    require(!is_integer_object(block) && it.memory.fetch_class_of(block) == CLASS_BLOCK_CONTEXT)?;
    require(!is_integer_object(args) && it.memory.fetch_class_of(args) == CLASS_ARRAY)?;
    let (loc, length) = it.memory.location_and_length(block);
    require(!(length >= TEMP_FRAME_START && being_executed_at(it, block, loc)))?;
    let n = it.memory.fetch_word_length_of(args);
    require(
        small_int(it.memory.fetch_pointer(BLOCK_ARGUMENT_COUNT, block)) == Some(n as i32)
            && length >= TEMP_FRAME_START + n,
    )?;
    for i in 0..n {
        let v = it.memory.fetch_pointer(i, args);
        it.memory.store_pointer(TEMP_FRAME_START + i, block, v);
    }
    it.pop(2);
    it.activate_block_context(block, loc, length, n);
    Ok(())
}

/// Looks `selector` up for `receiver` without the doesNotUnderstand: fallback.
fn lookup_arg_count(it: &Interpreter, receiver: Oop, selector: Oop) -> Option<u8> {
    let mut class = it.memory.fetch_class_of(receiver);
    while class != NIL && it.memory.is_object(class) {
        let dict = it.memory.fetch_pointer(CLASS_MESSAGE_DICTIONARY, class);
        if let Some(m) = crate::objects::lookup_method_in_dictionary(&it.memory, dict, selector) {
            return Some(it.method_info(m).args);
        }
        class = it.memory.fetch_pointer(CLASS_SUPERCLASS, class);
    }
    None
}

/// Primitive 83, `perform:` and `perform:with:`... — the selector is removed and the
/// message sent.
pub(crate) fn primitive_perform<H: Host>(it: &mut Interpreter, host: &mut H) -> PrimResult {
    let n = it.argument_count;
    require(n > 0)?;
    let selector = it.stack_value(n - 1);
    let receiver = it.stack_value(n);
    require(lookup_arg_count(it, receiver, selector).is_none_or(|args| args as usize == n - 1))?;
    // Slide the arguments down over the selector.
    for i in (0..n - 1).rev() {
        let v = it.stack_value(i);
        let at = it.stack_pointer() - i - 1;
        it.store_stack_field(at, v);
    }
    it.pop(1);
    it.send_selector(host, selector, n - 1);
    Ok(())
}

/// Primitive 84, `perform:withArguments:`.
pub(crate) fn primitive_perform_with_args<H: Host>(it: &mut Interpreter, host: &mut H) -> PrimResult {
    let (receiver, selector, args) = (it.stack_value(2), it.stack_value(1), it.stack_top());
    require(!is_integer_object(args) && it.memory.fetch_class_of(args) == CLASS_ARRAY)?;
    let n = it.memory.fetch_word_length_of(args);
    let ctx_len = it.memory.fetch_word_length_of(it.active_context);
    require(it.stack_pointer() - 2 + n < ctx_len)?;
    let mismatch = lookup_arg_count(it, receiver, selector).is_some_and(|a| a as usize != n);
    it.pop(2);
    for i in 0..n {
        let v = it.memory.fetch_pointer(i, args);
        it.push(v);
    }
    if mismatch {
        // The image's contract: "Invoke messageNotUnderstood: if the number of arguments
        // expected by the selector is not the same as the length of anArray".
        it.send_does_not_understand(host, selector, n);
    } else {
        it.send_selector(host, selector, n);
    }
    Ok(())
}
