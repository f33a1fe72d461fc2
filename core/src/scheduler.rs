//! Process scheduler (Blue Book ch. 29, "Process Primitives"): Processor, Semaphores,
//! LinkedLists of Processes, and the asynchronous signals that timers and input raise.
//!
//! A switch is never done in the middle of a bytecode: `transfer_to` only records the process
//! to run, and `Interpreter::check_process_switch` performs the switch before the next bytecode,
//! as the book's `checkProcessSwitch` does.

use crate::interpreter::{Interpreter, StopReason};
use crate::object_memory::*;
use alloc::collections::VecDeque;
use alloc::string::String;

// ProcessorScheduler fields.
/// ProcessorScheduler field: Array of LinkedLists, one per priority.
pub const PROCESS_LISTS: usize = 0;
/// ProcessorScheduler field: the running Process.
pub const ACTIVE_PROCESS: usize = 1;
// Process fields (a Process is a Link).
/// Link field: the next Process in its list.
pub const NEXT_LINK: usize = 0;
/// Process field: the context to resume it in.
pub const SUSPENDED_CONTEXT: usize = 1;
/// Process field: its priority (SmallInteger).
pub const PRIORITY: usize = 2;
/// Process field: the list (or Semaphore) it waits on.
pub const MY_LIST: usize = 3;
// LinkedList / Semaphore fields.
/// LinkedList field: the first link.
pub const FIRST_LINK: usize = 0;
/// LinkedList field: the last link.
pub const LAST_LINK: usize = 1;
/// Semaphore field: signals not yet consumed.
pub const EXCESS_SIGNALS: usize = 2;

/// What the interpreter holds of the scheduler between bytecodes.
#[derive(Default)]
pub(crate) struct SchedulerState {
    /// The process `transfer_to` chose, switched to before the next bytecode.
    pub new_process: Option<Oop>,
    /// Semaphores signalled from outside the bytecode stream (timer, input, low space).
    pub pending_signals: VecDeque<Oop>,
}

impl Interpreter {
    /// The ProcessorScheduler (value of the `Processor` association).
    pub(crate) fn scheduler_pointer(&self) -> Oop {
        self.memory.fetch_pointer(1, SCHEDULER_ASSOCIATION)
    }

    pub(crate) fn active_process_in_image(&self) -> Oop {
        let scheduler = self.scheduler_pointer();
        if !self.memory.is_object(scheduler) || self.memory.fetch_word_length_of(scheduler) < 2 {
            return NIL;
        }
        self.memory.fetch_pointer(ACTIVE_PROCESS, scheduler)
    }

    /// The process that is running, or about to run once the pending switch happens.
    pub(crate) fn active_process(&self) -> Oop {
        self.processes.new_process.unwrap_or_else(|| self.active_process_in_image())
    }

    fn priority_of(&self, process: Oop) -> i16 {
        integer_value_of(self.memory.fetch_pointer(PRIORITY, process))
    }

    pub(crate) fn is_empty_list(&self, list: Oop) -> bool {
        self.memory.fetch_pointer(FIRST_LINK, list) == NIL
    }

    pub(crate) fn remove_first_link_of_list(&mut self, list: Oop) -> Oop {
        let first = self.memory.fetch_pointer(FIRST_LINK, list);
        let last = self.memory.fetch_pointer(LAST_LINK, list);
        if first == last {
            self.memory.store_pointer(FIRST_LINK, list, NIL);
            self.memory.store_pointer(LAST_LINK, list, NIL);
        } else {
            let next = self.memory.fetch_pointer(NEXT_LINK, first);
            self.memory.store_pointer(FIRST_LINK, list, next);
        }
        self.memory.store_pointer(NEXT_LINK, first, NIL);
        first
    }

    pub(crate) fn add_last_link(&mut self, link: Oop, list: Oop) {
        if self.is_empty_list(list) {
            self.memory.store_pointer(FIRST_LINK, list, link);
        } else {
            let last = self.memory.fetch_pointer(LAST_LINK, list);
            self.memory.store_pointer(NEXT_LINK, last, link);
        }
        self.memory.store_pointer(LAST_LINK, list, link);
        self.memory.store_pointer(MY_LIST, link, list);
    }

    /// Puts `process` at the back of the ready list of its priority.
    pub(crate) fn sleep(&mut self, process: Oop) {
        let priority = self.priority_of(process);
        let lists = self.memory.fetch_pointer(PROCESS_LISTS, self.scheduler_pointer());
        if priority < 1 || priority as usize > self.memory.fetch_word_length_of(lists) {
            self.stop_with(StopReason::Error(alloc::format!("process {process} has an invalid priority {priority}")));
            return;
        }
        let list = self.memory.fetch_pointer(priority as usize - 1, lists);
        self.add_last_link(process, list);
    }

    pub(crate) fn transfer_to(&mut self, process: Oop) {
        self.processes.new_process = Some(process);
        self.attention = true;
    }

    pub(crate) fn wake_highest_priority(&mut self) -> Option<Oop> {
        let lists = self.memory.fetch_pointer(PROCESS_LISTS, self.scheduler_pointer());
        let mut priority = self.memory.fetch_word_length_of(lists);
        while priority > 0 {
            let list = self.memory.fetch_pointer(priority - 1, lists);
            if !self.is_empty_list(list) {
                return Some(self.remove_first_link_of_list(list));
            }
            priority -= 1;
        }
        None
    }

    pub(crate) fn suspend_active(&mut self) {
        match self.wake_highest_priority() {
            Some(p) => self.transfer_to(p),
            None => self.stop_with(StopReason::Error(String::from("no process is ready to run"))),
        }
    }

    pub(crate) fn resume(&mut self, process: Oop) {
        let active = self.active_process();
        if self.priority_of(process) > self.priority_of(active) {
            self.sleep(active);
            self.transfer_to(process);
        } else {
            self.sleep(process);
        }
    }

    pub(crate) fn synchronous_signal(&mut self, semaphore: Oop) {
        if !self.memory.is_object(semaphore) || self.memory.fetch_word_length_of(semaphore) < 3 {
            return;
        }
        if self.is_empty_list(semaphore) {
            let excess = self.memory.fetch_pointer(EXCESS_SIGNALS, semaphore);
            let n = if is_integer_object(excess) { integer_value_of(excess) } else { 0 };
            self.memory.store_pointer(EXCESS_SIGNALS, semaphore, integer_object_of(n.saturating_add(1).min(16383)));
        } else {
            let process = self.remove_first_link_of_list(semaphore);
            self.resume(process);
        }
    }

    /// Signals from outside the bytecode stream (timer, input, low space) are queued and
    /// performed at the next process-switch check.
    pub(crate) fn asynchronous_signal(&mut self, semaphore: Oop) {
        if semaphore != NIL {
            self.processes.pending_signals.push_back(semaphore);
        }
    }
}
