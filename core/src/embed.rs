//! Driving an image from the host: evaluate Smalltalk expressions with the image's own
//! Compiler, catch the errors it would show in a notifier window, and echo the Transcript.
//!
//! An evaluation runs in a new Process at UserInterruptPriority (above the window scheduler)
//! executing a small synthetic method equivalent to
//! `t := (Compiler evaluate: source) printString. Processor activeProcess terminate`; the
//! terminate send is where we pick up `t`. Errors are caught by watching for the two messages every
//! error in this image ends in: `NotifierView openContext:label:contents:` (runtime errors,
//! halts, doesNotUnderstand:) and `SyntaxError errorInClass:withCode:errorString:` (compile
//! errors with no requestor). Only sends from the evaluation's own process are intercepted;
//! the window scheduler's own errors still open notifiers as usual.

use crate::host::Host;
use crate::interpreter::{Interpreter, StopReason, INSTRUCTION_POINTER, METHOD, RECEIVER, SENDER, STACK_POINTER};
use crate::object_memory::*;
use crate::objects;
use crate::scheduler::{MY_LIST, NEXT_LINK, PRIORITY, SUSPENDED_CONTEXT};
use alloc::string::String;
use alloc::vec::Vec;

/// How an evaluation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalOutcome {
    /// The printString of the value.
    Value(String),
    /// The compiler's message and the source with the message inserted where it applies.
    CompileError {
        /// What the compiler said.
        message: String,
        /// The source with the message inserted.
        code: String,
    },
    /// A notifier's label (e.g. "Message not understood: foo") and its short stack.
    RuntimeError {
        /// The notifier's label.
        message: String,
        /// The short stack the notifier shows (empty if none was available).
        stack: String,
    },
}

/// `Processor userInterruptPriority` in the v2 image (ProcessorScheduler class initialize).
const EVAL_PRIORITY: i16 = 5;

#[derive(Default)]
pub(crate) struct Hooks {
    /// The evaluation in progress: its process and synthetic method.
    pub eval_process: Oop,
    pub eval_method: Oop,
    pub outcome: Option<EvalOutcome>,
    pub notifier_selector: Oop,
    pub syntax_error_selector: Oop,
    pub terminate_selector: Oop,
    /// The Transcript (a TextCollector) when echoing, and the selectors that write to it.
    pub transcript: Oop,
    pub transcript_selectors: Vec<(Oop, TranscriptWrite)>,
    /// The send filter of `observe_send`: bit `(selector >> 1) & 63` is set for each selector
    /// above, all bits while tracing (`update_watch`).
    pub watched_selectors: u64,
    /// The Symbols and global Associations an evaluation starts with, found once.
    pub known: objects::KnownObjects,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum TranscriptWrite {
    Text,
    Char,
    Cr,
    Tab,
    Space,
}

impl Interpreter {
    /// The Symbol with this text, if the image has one (a linear scan: not for hot paths).
    pub fn find_symbol(&self, name: &str) -> Option<Oop> {
        objects::find_symbol(&self.memory, name)
    }

    /// The value of the global variable `name` (an Association in `Smalltalk`).
    pub fn global(&self, name: &str) -> Option<Oop> {
        objects::global(&self.memory, name)
    }

    /// A new String object holding `text` (bytes above 255 are not representable).
    pub fn new_string(&mut self, text: &str) -> Option<Oop> {
        let bytes: Vec<u8> = text.chars().map(|c| if (c as u32) < 256 { c as u8 } else { b'?' }).collect();
        let s = self.memory.instantiate_class(CLASS_STRING, bytes.len())?;
        for (i, &b) in bytes.iter().enumerate() {
            self.memory.store_byte(i, s, b);
        }
        Some(s)
    }

    fn ensure_error_hooks(&mut self) {
        if self.hooks.notifier_selector == 0 {
            self.hooks.notifier_selector = self.find_symbol("openContext:label:contents:").unwrap_or(1);
            self.hooks.syntax_error_selector = self.find_symbol("errorInClass:withCode:errorString:").unwrap_or(1);
        }
    }

    /// Starts evaluating `source` (Smalltalk-80 syntax; `_` is assignment). Run the
    /// interpreter until `run` returns `StopReason::Evaluated`, then take the outcome with
    /// `evaluation_outcome`.
    pub fn start_evaluation(&mut self, source: &str) -> Result<(), String> {
        if self.hooks.eval_process != 0 {
            return Err(String::from("an evaluation is already running"));
        }
        self.ensure_error_hooks();
        let err = |what: &str| String::from("cannot start an evaluation: ") + what;
        let compiler =
            self.hooks.known.global(&self.memory, "Compiler").ok_or_else(|| err("the image has no Compiler"))?;
        let process_class = self
            .hooks
            .known
            .global(&self.memory, "Process")
            .filter(|&c| self.memory.is_object(c) && self.memory.is_pointers(c))
            .ok_or_else(|| err("the image has no Process class"))?;
        let evaluate = self.hooks.known.symbol(&self.memory, "evaluate:").ok_or_else(|| err("no #evaluate: symbol"))?;
        let print_string =
            self.hooks.known.symbol(&self.memory, "printString").ok_or_else(|| err("no #printString symbol"))?;
        let processor = self.scheduler_pointer();
        let active_process =
            self.hooks.known.symbol(&self.memory, "activeProcess").ok_or_else(|| err("no #activeProcess symbol"))?;
        let terminate =
            self.hooks.known.symbol(&self.memory, "terminate").ok_or_else(|| err("no #terminate symbol"))?;
        let text = self.new_string(source).ok_or_else(|| err("out of memory"))?;
        // t := (Compiler evaluate: source) printString. Processor activeProcess terminate.
        // We take t when the terminate is sent; a session without our hooks (an image saved
        // during an evaluation and resumed later) really terminates, leaving no trace.
        let literals = [evaluate, print_string, compiler, text, processor, active_process, terminate];
        let code: [u8; 9] = [32 + 2, 32 + 3, 224, 208 + 1, 104, 32 + 4, 208 + 5, 208 + 6, 124];
        let header = integer_object_of(0) | (1 << 8) | ((literals.len() as u16) << 1);
        let bytes = (literals.len() + 1) * 2 + code.len();
        let method = self
            .memory
            .allocate(CLASS_COMPILED_METHOD, bytes.div_ceil(2), Format::Bytes, bytes & 1 == 1, 0)
            .ok_or_else(|| err("out of memory"))?;
        self.memory.store_word(0, method, header);
        for (i, &l) in literals.iter().enumerate() {
            self.memory.store_pointer(i + 1, method, l);
        }
        for (i, &b) in code.iter().enumerate() {
            self.memory.store_byte((literals.len() + 1) * 2 + i, method, b);
        }
        self.hooks.terminate_selector = terminate;
        let ctx = self
            .memory
            .allocate(CLASS_METHOD_CONTEXT, SMALL_CONTEXT_WORDS as usize, Format::Pointers, false, NIL)
            .ok_or_else(|| err("out of memory"))?;
        self.memory.set_escaped(ctx);
        self.memory.store_pointer(SENDER, ctx, NIL);
        self.memory.store_pointer(INSTRUCTION_POINTER, ctx, integer_object_of(((literals.len() + 1) * 2 + 1) as i16));
        self.memory.store_pointer(STACK_POINTER, ctx, integer_object_of(1));
        self.memory.store_pointer(METHOD, ctx, method);
        self.memory.store_pointer(RECEIVER, ctx, NIL);
        let process = self.memory.instantiate_class(process_class, 0).ok_or_else(|| err("out of memory"))?;
        self.memory.store_pointer(NEXT_LINK, process, NIL);
        self.memory.store_pointer(SUSPENDED_CONTEXT, process, ctx);
        self.memory.store_pointer(PRIORITY, process, integer_object_of(EVAL_PRIORITY));
        self.memory.store_pointer(MY_LIST, process, NIL);
        self.hooks.eval_process = process;
        self.hooks.eval_method = method;
        self.hooks.outcome = None;
        self.update_watch();
        self.resume(process);
        Ok(())
    }

    /// The outcome of the finished evaluation (once; None while it is still running).
    pub fn evaluation_outcome(&mut self) -> Option<EvalOutcome> {
        self.hooks.outcome.take()
    }

    /// Abandons a running evaluation (e.g. after a timeout).
    pub fn cancel_evaluation(&mut self) {
        let process = self.hooks.eval_process;
        if process != 0 {
            if self.active_process() == process {
                self.suspend_active();
            } else {
                self.remove_from_its_list(process);
            }
        }
        self.end_evaluation(None);
    }

    fn remove_from_its_list(&mut self, process: Oop) {
        let list = self.memory.fetch_pointer(MY_LIST, process);
        if list == NIL || !self.memory.is_object(list) {
            return;
        }
        // Unlink `process` from the singly linked list.
        let mut prev = NIL;
        let mut link = self.memory.fetch_pointer(crate::scheduler::FIRST_LINK, list);
        while link != NIL && link != process {
            prev = link;
            link = self.memory.fetch_pointer(NEXT_LINK, link);
        }
        if link != process {
            return;
        }
        let next = self.memory.fetch_pointer(NEXT_LINK, process);
        if prev == NIL {
            self.memory.store_pointer(crate::scheduler::FIRST_LINK, list, next);
        } else {
            self.memory.store_pointer(NEXT_LINK, prev, next);
        }
        if self.memory.fetch_pointer(crate::scheduler::LAST_LINK, list) == process {
            self.memory.store_pointer(crate::scheduler::LAST_LINK, list, prev);
        }
        self.memory.store_pointer(NEXT_LINK, process, NIL);
        self.memory.store_pointer(MY_LIST, process, NIL);
    }

    fn end_evaluation(&mut self, outcome: Option<EvalOutcome>) {
        self.hooks.eval_process = 0;
        self.hooks.eval_method = 0;
        self.hooks.outcome = outcome;
        self.update_watch();
        self.stop_with(StopReason::Evaluated);
    }

    /// The VM ended the evaluation's process (`terminate_active_process`): the evaluation
    /// ends with that as its error.
    pub(crate) fn evaluation_process_ended(&mut self, why: &str) {
        let message = alloc::format!("the VM ended the evaluation's process: {why}");
        self.end_evaluation(Some(EvalOutcome::RuntimeError { message, stack: String::new() }));
    }

    pub(crate) fn abort_evaluation_for_low_space(&mut self) {
        // Only the evaluation itself is stopped here; a runaway in another process is the
        // image's to handle (or, at the very end, `terminate_runaway_process`'s).
        if self.hooks.eval_process == 0 || self.active_process_in_image() != self.hooks.eval_process {
            return;
        }
        let message = alloc::format!(
            "Space is low ({} object pointers, {} words left)",
            self.memory.oops_left(),
            self.memory.words_left()
        );
        self.cancel_evaluation();
        self.hooks.outcome = Some(EvalOutcome::RuntimeError { message, stack: String::new() });
    }

    /// Mirrors what the image writes on its Transcript to `Host::transcript`.
    pub fn set_transcript_echo(&mut self, on: bool) {
        self.hooks.transcript = if on { self.global("Transcript").unwrap_or(0) } else { 0 };
        self.hooks.transcript_selectors.clear();
        if on {
            for (name, kind) in [
                ("nextPutAll:", TranscriptWrite::Text),
                ("nextPut:", TranscriptWrite::Char),
                ("cr", TranscriptWrite::Cr),
                ("tab", TranscriptWrite::Tab),
                ("space", TranscriptWrite::Space),
            ] {
                if let Some(sel) = self.find_symbol(name) {
                    self.hooks.transcript_selectors.push((sel, kind));
                }
            }
        }
        self.update_watch();
    }

    pub(crate) fn update_watch(&mut self) {
        self.watch_sends = self.trace.is_some() || self.hooks.eval_process != 0 || self.hooks.transcript != 0;
        let h = &self.hooks;
        self.hooks.watched_selectors = if self.trace.is_some() {
            !0
        } else {
            [h.notifier_selector, h.terminate_selector, h.syntax_error_selector]
                .iter()
                .fold(0, |bits, &s| bits | 1 << ((s >> 1) & 63))
        };
    }

    /// Called for every real send while `watch_sends` is set. Returns true when the send was
    /// taken over (the evaluation ended) and must not be performed.
    #[inline(always)]
    pub(crate) fn observe_send<H: Host>(&mut self, host: &mut H, receiver: Oop, selector: Oop, count: usize) -> bool {
        // This filter is inlined into every send, and nearly every send passes it: one bit of
        // the selector's (a few false positives cost a call) and the receiver.
        if self.hooks.watched_selectors >> ((selector >> 1) & 63) & 1 == 0 && receiver != self.hooks.transcript {
            return false;
        }
        self.observe_watched_send(host, receiver, selector, count)
    }

    #[inline(never)]
    fn observe_watched_send<H: Host>(&mut self, host: &mut H, receiver: Oop, selector: Oop, count: usize) -> bool {
        let hooked = (selector == self.hooks.notifier_selector && count == 3)
            || (selector == self.hooks.terminate_selector && count == 0)
            || (selector == self.hooks.syntax_error_selector && count == 3);
        if !hooked && self.trace.is_none() && (self.hooks.transcript == 0 || receiver != self.hooks.transcript) {
            return false;
        }
        if self.trace.is_some() {
            self.trace_send(host, receiver, selector, count);
        }
        if self.hooks.transcript != 0 && receiver == self.hooks.transcript {
            self.echo_transcript(host, selector, count);
        }
        if !hooked || self.hooks.eval_process == 0 || self.active_process() != self.hooks.eval_process {
            return false;
        }
        if selector == self.hooks.notifier_selector && count == 3 {
            let message = self.string_value(self.stack_value(1));
            let stack = self.string_value(self.stack_value(0));
            self.abandon_evaluation(EvalOutcome::RuntimeError { message, stack });
            return true;
        }
        if selector == self.hooks.terminate_selector && count == 0 && self.method == self.hooks.eval_method {
            let value = self.memory.fetch_pointer(crate::interpreter::TEMP_FRAME_START, self.home_context);
            let text = self.string_value(value);
            self.abandon_evaluation(EvalOutcome::Value(text));
            return true;
        }
        if selector == self.hooks.syntax_error_selector && count == 3 {
            let code = self.string_value(self.stack_value(1));
            let message = self.string_value(self.stack_value(0));
            self.abandon_evaluation(EvalOutcome::CompileError { message, code });
            return true;
        }
        false
    }

    /// Drops the evaluation's process (its stack no longer matters) and reports `outcome`.
    fn abandon_evaluation(&mut self, outcome: EvalOutcome) {
        self.suspend_active();
        self.end_evaluation(Some(outcome));
    }

    fn echo_transcript<H: Host>(&mut self, host: &mut H, selector: Oop, count: usize) {
        let Some(&(_, kind)) = self.hooks.transcript_selectors.iter().find(|(s, _)| *s == selector) else {
            return;
        };
        let text = match kind {
            TranscriptWrite::Text if count == 1 => self.string_value(self.stack_value(0)),
            TranscriptWrite::Char if count == 1 => {
                let c = self.stack_value(0);
                if is_integer_object(c) || self.memory.fetch_class_of(c) != CLASS_CHARACTER {
                    return;
                }
                let v = integer_value_of(self.memory.fetch_pointer(0, c)) as u8;
                String::from(char::from(v))
            }
            TranscriptWrite::Cr if count == 0 => String::from("\n"),
            TranscriptWrite::Tab if count == 0 => String::from("\t"),
            TranscriptWrite::Space if count == 0 => String::from(" "),
            _ => return,
        };
        host.transcript(&text.replace('\r', "\n"));
    }

    /// The characters of a String/Symbol (CR shown as newline), or a placeholder.
    fn string_value(&self, oop: Oop) -> String {
        match objects::bytes_text(&self.memory, oop) {
            Some(text) => text.replace('\r', "\n"),
            None => alloc::format!("<{}>", self.describe(oop)),
        }
    }

    fn describe(&self, oop: Oop) -> String {
        if is_integer_object(oop) {
            return alloc::format!("{}", integer_value_of(oop));
        }
        let class = self.memory.fetch_class_of(oop);
        objects::name_field_of_class(&self.memory, class)
            .map(|n| String::from("a ") + &n)
            .unwrap_or_else(|| String::from("an object"))
    }
}
