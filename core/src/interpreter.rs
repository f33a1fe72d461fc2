//! The bytecode interpreter (Blue Book ch. 28): registers, the bytecode dispatch, message
//! sends with a method cache, contexts, and returns.
//!
//! Registers are cached as heap word indices (`stack_base`, from which `ctx_loc()` is
//! derived, `home_loc`, `method_loc`, `receiver_loc`, with the receiver's pointer-field count
//! in `receiver_fields`) so the hot paths index the heap directly. They are valid until the
//! next garbage collection or `become:`; both only happen where `refresh_locations` is called
//! afterwards.
//!
//! MethodContexts are recycled when they return, unless they "escaped": something other than
//! their callee's sender field may point at them (thisContext, a block's home, a suspended
//! process, a primitive that reads a context out of an object). Escaping marks the whole sender
//! chain, so a non-escaped context can only be referenced from the stack of live callees, all of
//! which have returned (and had their sender fields nilled, as the book does) by the time it
//! returns itself.

use crate::clock::{ClockSource, VirtualClock};
use crate::host::{Host, InputEvent, Rect, SnapshotError};
use crate::method_cache::MethodCache;
use crate::object_memory::*;
use crate::objects::{self, VALUE_INDEX};
use crate::trace::TraceState;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

pub use crate::trace::TraceLevel;

// Context fields (ch. 27 "Contexts").
/// MethodContext: the context that sent the message.
pub const SENDER: usize = 0;
/// BlockContext: the context that ran the block (same field as `SENDER`).
pub const CALLER: usize = 0;
/// Byte index in the method of the next bytecode (a SmallInteger).
pub const INSTRUCTION_POINTER: usize = 1;
/// Index of the top of the stack, counted from `TEMP_FRAME_START` (a SmallInteger).
pub const STACK_POINTER: usize = 2;
/// MethodContext: the CompiledMethod being run.
pub const METHOD: usize = 3;
/// BlockContext: number of block arguments (same field as `METHOD`).
pub const BLOCK_ARGUMENT_COUNT: usize = 3;
/// BlockContext: where the block's bytecodes start.
pub const INITIAL_IP: usize = 4;
/// MethodContext: the receiver of the message.
pub const RECEIVER: usize = 5;
/// BlockContext: the MethodContext the block was created in (same field as `RECEIVER`).
pub const HOME: usize = 5;
/// First field of the arguments, temporaries and stack.
pub const TEMP_FRAME_START: usize = 6;

// Message fields.
const MESSAGE_SELECTOR: usize = 0;
const MESSAGE_ARGUMENTS: usize = 1;

/// Why `run` returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The requested number of cycles (bytecodes) ran.
    CyclesDone,
    /// The image asked to quit (primitive 113).
    Quit,
    /// An evaluation started with `start_evaluation` finished (see `evaluation_outcome`).
    Evaluated,
    /// The image has nothing to do until `wake_at` (a `millisecond_clock` value: its next
    /// timer, or a short while when it waits only for input). The host should present what
    /// changed and sleep until then or until input arrives. Only runs on the host's clock
    /// stop for this; the virtual clock skips the idle time instead.
    Idle {
        /// When the image's timer is due, or when to look again.
        wake_at: u32,
    },
    /// The VM cannot go on (e.g. no method for doesNotUnderstand:); the text says why.
    Error(String),
}

/// The current Display form: `bits` holds `height` rows of `raster()` words, 1 bits black.
pub struct DisplayForm<'a> {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// The bitmap's words, row by row.
    pub bits: &'a [u16],
}

impl DisplayForm<'_> {
    /// Words per row (rows are padded to whole 16-bit words).
    pub fn raster(&self) -> usize {
        self.width.div_ceil(16)
    }
    /// True when the pixel at (`x`, `y`) is black.
    pub fn pixel(&self, x: usize, y: usize) -> bool {
        let w = self.bits[y * self.raster() + x / 16];
        w & (0x8000 >> (x % 16)) != 0
    }
}

/// Decoded CompiledMethod header (ch. 27 "Compiled Methods"), with what an activation
/// derives from it worked out once, when the method cache is filled. (Ten bytes: a cache
/// entry is then sixteen, a power of two.)
#[derive(Clone, Copy, Default)]
pub(crate) struct MethodInfo {
    pub primitive: u16,
    pub flag: u8,
    pub args: u8,
    /// The header's temporary count (for flag 6, the index of the receiver variable).
    pub temps: u8,
    /// The literals the bytecodes may read (the header's count, unless the object is shorter).
    pub literal_limit: u8,
    /// Words of the context an activation gets: small, or large when the header asks.
    pub context_words: u8,
    /// The temporaries that fit in that context (a header can claim more than a small one
    /// holds): the new context's initial stack depth.
    pub frame_temps: u8,
    /// The byte offset of the first bytecode from the method's first word (after the header
    /// and literals): the new context's instruction pointer, 0-based.
    pub first_bytecode: u8,
}

impl MethodInfo {
    /// All zeros (`Default`, usable in a const).
    pub const NONE: MethodInfo = MethodInfo {
        primitive: 0,
        flag: 0,
        args: 0,
        temps: 0,
        literal_limit: 0,
        context_words: 0,
        frame_temps: 0,
        first_bytecode: 0,
    };
}

/// Counters for benchmarks and `st80 bench`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Message sends executed.
    pub sends: u64,
    /// Primitives attempted.
    pub primitive_calls: u64,
    /// Garbage collections.
    pub gcs: u64,
    /// Switches to another Process.
    pub process_switches: u64,
    /// Receiver variables read or stored that the receiver does not have (read as nil, stores
    /// dropped: see `Interpreter::receiver_field_out_of_range`).
    pub receiver_fields_out_of_range: u64,
    /// Temporaries and literals named by a bytecode beyond the context or method (read as
    /// nil, stores dropped), and literal variables that are not associations.
    pub fields_out_of_range: u64,
    /// Processes ended because a bytecode could not run: it needed more of the stack than the
    /// context holds, or it is unused (see `Interpreter::fault_stack`).
    pub process_faults: u64,
}

/// The bytecode interpreter (ch. 28) with its object memory, registers and I/O state.
pub struct Interpreter {
    /// The object memory the interpreter runs on.
    pub memory: ObjectMemory,
    // Registers (ch. 28).
    pub(crate) active_context: Oop,
    pub(crate) home_context: Oop,
    pub(crate) method: Oop,
    pub(crate) receiver: Oop,
    /// The instruction pointer as a byte index into the heap, where the method's bytes start
    /// at `method_loc * 2`: the bytecode fetch is then one load. The Blue Book's (0-based)
    /// instructionPointer is `instruction_pointer()`.
    ip_byte: usize,
    /// The stack pointer as the heap word of the stack's top value (`stack_base - 1` when
    /// the stack is empty), so that a push or a pop is one add and no other register: the
    /// Blue Book's (context-relative) stackPointer is `stack_pointer()`.
    pub(crate) sp_loc: usize,
    /// The heap words of the active context's first temporary/stack field and of the word
    /// after its last: `sp_loc` stays in `stack_base - 1 .. stack_end`.
    stack_base: usize,
    stack_end: usize,
    home_loc: usize,
    method_loc: usize,
    /// Where the receiver's fields are, and how many pointer fields it has: the receiver
    /// variable bytecodes check their index against it (after `become:` swaps method
    /// dictionaries, a method can run on a receiver of another class).
    receiver_loc: usize,
    receiver_fields: usize,
    /// How many temporaries the home context has room for, and how many literals the method
    /// has. A hand-made or overwritten method can name more; the bytecodes check (see
    /// `field_out_of_range`).
    temp_limit: usize,
    literal_limit: usize,
    /// Set when a bytecode could not run (it needed more of the stack than its context holds,
    /// or is unused); the process is ended at the next check (`end_faulted_process`).
    process_fault: bool,
    /// Set with `stop`, `processes.new_process` and `process_fault` (by `stop_with`,
    /// `transfer_to` and `fault_stack`, the only places that set them): after a send or a
    /// return the bytecode loop tests this and the collector's request, not each of them.
    /// Cleared by `run` before it looks at them.
    pub(crate) attention: bool,
    // Send state.
    pub(crate) message_selector: Oop,
    pub(crate) argument_count: usize,
    pub(crate) new_method: Oop,
    pub(crate) new_info: MethodInfo,
    method_cache: MethodCache,
    /// Processes waiting to run and signals to deliver (scheduler.rs).
    pub(crate) processes: crate::scheduler::SchedulerState,
    /// The Display, cursor, input, mouse, timer and damage (primitives/io.rs).
    pub(crate) io: crate::primitives::io::Io,
    /// When to signal the image that memory runs low (primitives/system.rs).
    pub(crate) low_space: crate::primitives::system::LowSpace,
    /// Why the last snapshot was not stored, not yet taken by the host.
    pub(crate) snapshot_error: Option<SnapshotError>,
    /// The error number of the last failed host file operation (primitive 132).
    pub(crate) last_errno: i32,
    clock: ClockSource,
    pub(crate) poll_due: u64,
    /// Where the bytecode loop stops for the next poll (see `run`).
    cycle_limit: u64,
    pub(crate) stop: Option<StopReason>,
    pub(crate) cycles: u64,
    pub(crate) trace: Option<TraceState>,
    /// True when sends must be looked at (trace, evaluation or Transcript hooks).
    pub(crate) watch_sends: bool,
    pub(crate) hooks: crate::embed::Hooks,
    /// Byte order of images written by the snapshot primitive (the loaded image's by default).
    pub snapshot_byte_order: crate::image::ByteOrder,
    /// Counters since start-up.
    pub stats: Stats,
    /// Trace compatibility: fail primitive 18 (makePoint) as the VM that wrote trace3 did.
    pub xerox_trace_compat: bool,
}

/// Evaluates `$e` with the bytecode loop's local instruction pointer `$ip` in `$it.ip_byte`
/// (written back before, read again after): for what runs outside the loop.
macro_rules! with_ip {
    ($it:ident, $ip:ident, $e:expr) => {{
        $it.ip_byte = *$ip;
        let r = $e;
        *$ip = $it.ip_byte;
        r
    }};
}

/// Mouse polls without input or drawing after which the image is taken to be idle.
const IDLE_MOUSE_POLLS: u32 = 200;

/// How many cycles between polls of the host's clock and input.
const POLL_INTERVAL: u64 = 1024;

impl Interpreter {
    /// Prepares to resume the image's active process where its snapshot left it.
    pub fn new(memory: ObjectMemory) -> Result<Interpreter, String> {
        let mut it = Interpreter {
            memory,
            active_context: NIL,
            home_context: NIL,
            method: NIL,
            receiver: NIL,
            ip_byte: 0,
            sp_loc: 0,
            stack_base: 0,
            stack_end: 0,
            home_loc: 0,
            method_loc: 0,
            receiver_loc: 0,
            receiver_fields: 0,
            temp_limit: 0,
            literal_limit: 0,
            process_fault: false,
            attention: false,
            message_selector: NIL,
            argument_count: 0,
            new_method: NIL,
            new_info: MethodInfo::default(),
            method_cache: MethodCache::new(),
            processes: Default::default(),
            io: Default::default(),
            low_space: Default::default(),
            snapshot_error: None,
            last_errno: 0,
            clock: ClockSource::Host,
            poll_due: 0,
            cycle_limit: 0,
            stop: None,
            cycles: 0,
            trace: None,
            watch_sends: false,
            hooks: Default::default(),
            snapshot_byte_order: crate::image::ByteOrder::Big,
            stats: Stats::default(),
            xerox_trace_compat: false,
        };
        let process = it.active_process_in_image();
        if !it.memory.is_object(process) || it.memory.fetch_word_length_of(process) < 3 {
            return Err(String::from("the image has no active process"));
        }
        let context = it.memory.fetch_pointer(crate::scheduler::SUSPENDED_CONTEXT, process);
        if !it.is_context(context) {
            return Err(format!("the active process {process} has no suspended context"));
        }
        it.active_context = context;
        it.memory.set_escaped(context);
        it.fetch_context_registers();
        if !it.memory.is_object(it.method) || it.memory.fetch_class_of(it.method) != CLASS_COMPILED_METHOD {
            return Err(String::from("the active context has no CompiledMethod"));
        }
        Ok(it)
    }

    /// A full garbage collection now, as the VM runs one when memory runs low (for hosts that
    /// measure its pause: `st80 bench`). Safe between `run` calls; the image notices only the
    /// objects it no longer references being gone.
    pub fn collect_garbage_now(&mut self) {
        self.collect_all_garbage();
    }

    /// True while the image waits for its timer (a `Delay`): an idle image with a timer due
    /// still has work coming without any input.
    pub fn timer_pending(&self) -> bool {
        self.io.timer_due.is_some()
    }

    /// Bytecodes executed since start-up (also the virtual clock's time base).
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    // ---- the host boundary: input pushed in, output pulled out ------------------------------

    /// Runs on the deterministic clock from now on (see [`VirtualClock`]).
    pub fn use_virtual_clock(&mut self, clock: VirtualClock) {
        self.clock = ClockSource::Virtual(clock);
    }

    /// Runs on the host's clocks from now on (the default).
    pub fn use_host_clock(&mut self) {
        self.clock = ClockSource::Host;
    }

    /// The virtual clock, if this interpreter runs on one.
    pub fn virtual_clock(&self) -> Option<&VirtualClock> {
        match &self.clock {
            ClockSource::Virtual(c) => Some(c),
            ClockSource::Host => None,
        }
    }

    /// Queues an input event; the image takes it at its next input poll (at most 1024
    /// bytecodes away). Pointer motion replaces motion the image has not taken yet.
    pub fn push_event(&mut self, event: InputEvent) {
        if let (InputEvent::MouseMove { .. }, Some((at, InputEvent::MouseMove { .. }))) = (event, self.io.events.back())
        {
            if *at <= self.cycles {
                self.io.events.pop_back();
            }
        }
        self.push_event_at(self.cycles, event);
    }

    /// Queues an input event to be taken at the first input poll once `cycle` bytecodes have
    /// run (a replayed log). Events for the same cycle are taken in the order pushed.
    pub fn push_event_at(&mut self, cycle: u64, event: InputEvent) {
        let at = self.io.events.partition_point(|&(c, _)| c <= cycle);
        self.io.events.insert(at, (cycle, event));
    }

    /// Input events pushed and not yet taken by the image.
    pub fn pending_events(&self) -> usize {
        self.io.events.len()
    }

    /// Keeps every input event the image takes, with the cycle it took it at (see
    /// [`take_delivered_events`](Self::take_delivered_events)): replaying them with
    /// [`push_event_at`](Self::push_event_at) gives the same run.
    pub fn record_events(&mut self, on: bool) {
        self.io.delivered = on.then(Vec::new);
    }

    /// The events taken since the last call, if recording.
    pub fn take_delivered_events(&mut self) -> Vec<(u64, InputEvent)> {
        self.io.delivered.as_mut().map(core::mem::take).unwrap_or_default()
    }

    /// The part of the Display changed since the last call, if any.
    pub fn take_damage(&mut self) -> Option<Rect> {
        let d = core::mem::take(&mut self.io.damage);
        (!d.is_empty()).then_some(d)
    }

    /// The new cursor shape (16 rows, most significant bit leftmost) if the image set one
    /// since the last call.
    pub fn take_cursor_change(&mut self) -> Option<[u16; 16]> {
        self.io.cursor_change.take()
    }

    /// Where the image moved the cursor since the last call (primitive `cursorLocPut:`); a
    /// host with a real pointer moves it there.
    pub fn take_cursor_warp(&mut self) -> Option<(i32, i32)> {
        self.io.cursor_warp.take()
    }

    /// Why the last snapshot failed, if it did since the last call.
    pub fn take_snapshot_error(&mut self) -> Option<SnapshotError> {
        self.snapshot_error.take()
    }

    /// The mouse position the image last saw.
    pub fn mouse_position(&self) -> (i32, i32) {
        self.io.mouse
    }

    /// The millisecond clock the image sees.
    pub(crate) fn millisecond_clock<H: Host>(&mut self, host: &mut H) -> u32 {
        match &self.clock {
            ClockSource::Virtual(c) => c.now_ms(self.cycles) as u32,
            ClockSource::Host => host.millisecond_clock(),
        }
    }

    /// The wall clock the image sees (seconds since 1901, local time).
    pub(crate) fn seconds_since_1901<H: Host>(&mut self, host: &mut H) -> u32 {
        match &self.clock {
            ClockSource::Virtual(c) => c.seconds_since_1901(self.cycles),
            ClockSource::Host => host.seconds_since_1901(),
        }
    }

    /// Emits an execution trace through `Host::trace` (None stops it).
    pub fn set_trace(&mut self, level: Option<TraceLevel>) {
        self.trace = level.map(|l| TraceState::new(l, self.context_depth(self.active_context)));
        self.update_watch();
    }

    /// The form the image designated with `beDisplay`, if it has done so.
    pub fn display(&self) -> Option<DisplayForm<'_>> {
        let form = objects::form_layout(&self.memory, self.io.display)?;
        Some(DisplayForm { width: form.width, height: form.height, bits: self.memory.words(form.bits) })
    }

    /// The image's current cursor form bits (16 rows), if it set one.
    pub fn cursor_bits(&self) -> Option<[u16; 16]> {
        objects::cursor_bits(&self.memory, self.io.cursor)
    }

    /// Runs up to `cycles` bytecodes.
    pub fn run<H: Host>(&mut self, host: &mut H, cycles: u64) -> StopReason {
        let end = self.cycles.saturating_add(cycles);
        while self.cycles < end {
            // (Whatever sets it again from here on is seen at the loop's next send or return.)
            self.attention = false;
            if self.cycles >= self.poll_due {
                self.poll_io(host);
                if let Some(stop) = self.stop.take() {
                    return stop;
                }
            }
            if self.memory.gc_requested {
                self.collect_garbage();
            }
            if self.process_fault {
                self.end_faulted_process();
            }
            if self.processes.new_process.is_some() || !self.processes.pending_signals.is_empty() {
                self.check_process_switch();
            }
            let limit = end.min(self.poll_due);
            if self.trace.is_some() {
                self.step_traced(host);
            } else {
                // The hot loop: nothing but bytecodes until a poll, a GC or a process switch.
                // The count is kept in a local; `dispatch` stores it into `self.cycles` before
                // anything that can look at it (a send, a return).
                let mut cycles = self.cycles;
                let mut ip = self.ip_byte;
                // (Read from `self` at each test, a memory operand of the compare, rather than
                // held in a register the dispatch needs more.)
                self.cycle_limit = limit;
                while cycles < self.cycle_limit {
                    ip = ip.wrapping_add(1);
                    let bc = self.memory.heap_byte(ip.wrapping_sub(1)) as usize;
                    cycles += 1;
                    // Only sends, returns and primitives allocate, switch processes or stop.
                    if self.dispatch::<H, false>(bc, host, cycles, &mut ip)
                        && (self.memory.gc_requested || self.attention)
                    {
                        break;
                    }
                }
                self.ip_byte = ip;
                self.cycles = cycles;
            }
            if let Some(stop) = self.stop.take() {
                return stop;
            }
        }
        StopReason::CyclesDone
    }

    fn step_traced<H: Host>(&mut self, host: &mut H) {
        let bc = self.fetch_byte();
        self.cycles += 1;
        self.trace_bytecode(host, bc);
        let mut ip = self.ip_byte;
        let _ = self.dispatch::<H, true>(bc as usize, host, self.cycles, &mut ip);
        self.ip_byte = ip;
    }

    /// Timer and input events. Also where idleness is noticed.
    fn poll_io<H: Host>(&mut self, host: &mut H) {
        self.poll_due = self.cycles + POLL_INTERVAL;
        let now = self.millisecond_clock(host);
        if let Some(due) = self.io.timer_due {
            if (now.wrapping_sub(due) as i32) >= 0 {
                self.io.timer_due = None;
                let sem = self.io.timer_semaphore;
                self.asynchronous_signal(sem);
            }
        }
        while let Some(&(at, event)) = self.io.events.front() {
            if at > self.cycles {
                break;
            }
            self.io.events.pop_front();
            if let Some(log) = self.io.delivered.as_mut() {
                log.push((self.cycles, event));
            }
            self.record_input_event(event, now);
        }
        if core::mem::take(&mut self.io.drawn) {
            self.io.mouse_polls = 0;
            self.io.idle_streak = 0;
        }
        if !self.processes.pending_signals.is_empty() || self.processes.new_process.is_some() {
            return;
        }
        let background = self.running_background_process();
        if !background && self.io.mouse_polls < IDLE_MOUSE_POLLS {
            return;
        }
        self.io.mouse_polls = 0;
        // Sleep until the timer is due or input arrives; when we only guess idleness from mouse
        // polling, at most 20 ms at first, so that anything mistaken for idleness goes on soon,
        // up to 320 ms once the image has stayed idle.
        let longest = 20u32 << self.io.idle_streak.min(4);
        self.io.idle_streak = self.io.idle_streak.saturating_add(1);
        let wake = if background {
            // Every other process waits on a semaphore: only the timer or input can wake one.
            self.io.timer_due.unwrap_or(now.wrapping_add(longest))
        } else {
            self.io.timer_due.filter(|&due| due.wrapping_sub(now) < longest).unwrap_or(now.wrapping_add(longest))
        };
        match &mut self.clock {
            ClockSource::Virtual(c) => c.skip_to(self.cycles, wake),
            ClockSource::Host => self.stop_with(StopReason::Idle { wake_at: wake }),
        }
    }

    /// True when the process running has the lowest priority (SystemRockBottomPriority, 1):
    /// in the v2 image (and dbanay's) that is only the background process, `[true] whileTrue:
    /// []`, which runs when all others wait (e.g. the window scheduler on a Delay).
    fn running_background_process(&self) -> bool {
        let process = self.active_process();
        self.memory.is_object(process)
            && self.memory.fetch_word_length_of(process) > crate::scheduler::PRIORITY
            && self.memory.fetch_pointer(crate::scheduler::PRIORITY, process) == integer_object_of(1)
    }

    /// Turns a host event into the Blue Book's input words and signals the input semaphore.
    pub(crate) fn record_input_event(&mut self, event: InputEvent, now: u32) {
        crate::primitives::io::record_input_event(self, event, now);
    }

    /// A collection at a safe point: of the young objects, or of all when that is due (see
    /// `ObjectMemory::collect_garbage`), and of all before space is reported low.
    pub(crate) fn collect_garbage(&mut self) {
        self.collect_garbage_of(false);
    }

    /// A full collection: everything unreachable is freed (before a snapshot, or when an
    /// allocation failed).
    pub(crate) fn collect_all_garbage(&mut self) {
        self.collect_garbage_of(true);
    }

    fn collect_garbage_of(&mut self, full: bool) {
        self.store_context_registers();
        let mut roots = vec![self.active_context];
        roots.extend(self.io.roots());
        roots.extend([self.low_space.semaphore, self.message_selector, self.new_method]);
        roots.extend(self.processes.new_process);
        roots.extend(self.processes.pending_signals.iter().copied());
        let (oops, words) = (self.low_space.oops, self.low_space.words);
        let low = move |m: &ObjectMemory| m.is_low(oops, words) || m.is_critical();
        if full {
            self.memory.collect_full(&roots);
        } else {
            self.memory.collect_garbage(&roots);
            // (Old garbage counts as used until a full collection frees it.)
            if low(&self.memory) && !self.memory.last_collection_was_full() {
                self.memory.collect_full(&roots);
            }
        }
        self.stats.gcs += 1;
        self.method_cache.forget_freed(&self.memory);
        self.refresh_locations();
        if low(&self.memory) {
            if self.low_space.semaphore != NIL {
                let sem = self.low_space.semaphore;
                self.low_space.semaphore = NIL;
                self.asynchronous_signal(sem);
            }
            // An evaluation from the host that fills memory is stopped (the image would open a
            // "Space is low" notifier that nobody sees).
            self.abort_evaluation_for_low_space();
        }
    }

    // ---- registers (ch. 28 "Contexts") ----------------------------------------------------

    /// A MethodContext or BlockContext with room for its fixed fields (`MethodContext new: 0`
    /// is not one).
    pub(crate) fn is_context(&self, oop: Oop) -> bool {
        self.memory.context_loc(oop, TEMP_FRAME_START).is_some()
    }

    /// A BlockContext keeps its argument count where a MethodContext keeps its method.
    #[inline]
    pub(crate) fn is_block_context(&self, ctx: Oop) -> bool {
        is_integer_object(self.memory.fetch_pointer(METHOD, ctx))
    }

    pub(crate) fn fetch_context_registers(&mut self) {
        self.fetch_context_registers_inline()
    }

    /// `fetch_context_registers`, inlined into returns.
    #[inline(always)]
    fn fetch_context_registers_inline(&mut self) {
        let ctx = self.active_context;
        let ctx_loc = self.memory.loc(ctx);
        // (After a hostile `become:` the home can be any object; then these reads find other
        // words of the heap, and the limits below keep every later access within the object.)
        let field = |i: usize| self.memory.word_at(ctx_loc + i);
        let (ip, sp, method_or_count) = (field(INSTRUCTION_POINTER), field(STACK_POINTER), field(METHOD));
        let ip = (integer_value_of(ip) as isize - 1).max(0) as usize;
        // The image can store any stack pointer into a context (a debugger does): keep it
        // within the context.
        let length = self.memory.fetch_word_length_of(ctx);
        let sp = (integer_value_of(sp) as isize + TEMP_FRAME_START as isize - 1)
            .min(length as isize - 1)
            .max(TEMP_FRAME_START as isize - 1) as usize;
        // (Every way in checks `is_context`, and `become:` leaves the active context alone.)
        debug_assert!(length >= TEMP_FRAME_START, "context {ctx} has no room for its fixed fields");
        self.set_stack(ctx_loc, length, sp);
        self.fetch_home_registers(ctx_loc, method_or_count, ip);
    }

    /// `fetch_context_registers` for an active context that `unescaped_context` found at
    /// heap word `loc` with `length` fields (18 or 38): a MethodContext whose stack pointer
    /// the VM stored, within the context, so the lower clamp goes. (The upper one stays: the
    /// image can read a running block's caller, the one unescaped context it can reach,
    /// through the block's sender field, and store anything there.)
    #[inline(always)]
    fn fetch_unescaped_context(&mut self, loc: usize, length: usize) {
        let field = |i: usize| self.memory.word_at(loc + i);
        let (ip, sp, method_or_count) = (field(INSTRUCTION_POINTER), field(STACK_POINTER), field(METHOD));
        debug_assert!(length >= TEMP_FRAME_START, "an activation's context has its fixed fields");
        // (A hostile jump can have left any instruction pointer: clamped as in the full fetch.)
        let ip = (integer_value_of(ip) as isize - 1).max(0) as usize;
        // (A negative stack pointer reads as 16 bits, above any context: the upper clamp
        // then applies.)
        self.set_stack(loc, length, (integer_value_of(sp) as u16 as usize + TEMP_FRAME_START - 1).min(length - 1));
        self.fetch_home_registers(loc, method_or_count, ip);
    }

    /// The registers that come from the active context's home, its method and its receiver,
    /// and `ip_byte` from `ip` (relative to the method), for the active context at `ctx_loc`
    /// whose method field holds `method_or_count` and whose stack `set_stack` has set.
    #[inline(always)]
    fn fetch_home_registers(&mut self, ctx_loc: usize, method_or_count: Oop, ip: usize) {
        let ctx = self.active_context;
        let field = |i: usize| self.memory.word_at(ctx_loc + i);
        // A BlockContext keeps its argument count where a MethodContext keeps its method; a
        // MethodContext is its own home, so its fields are read only once.
        let home_loc = if is_integer_object(method_or_count) {
            self.home_context = field(HOME);
            // (The image could have made the home any object; its temporaries are stored
            // into without the write barrier.)
            self.memory.ensure_scanned(self.home_context);
            let home_loc = self.memory.loc(self.home_context);
            (self.receiver, self.method) =
                (self.memory.word_at(home_loc + RECEIVER), self.memory.word_at(home_loc + METHOD));
            self.temp_limit = self.memory.fetch_word_length_of(self.home_context).saturating_sub(TEMP_FRAME_START);
            home_loc
        } else {
            self.home_context = ctx;
            (self.receiver, self.method) = (field(RECEIVER), method_or_count);
            self.temp_limit = self.stack_end - self.stack_base;
            ctx_loc
        };
        self.home_loc = home_loc;
        self.method_loc = self.memory.loc(self.method);
        self.ip_byte = self.method_loc * 2 + ip;
        (self.receiver_loc, self.receiver_fields) = self.memory.pointer_fields_location(self.receiver);
        self.literal_limit = self.literal_limit_of(self.method);
    }

    /// The Blue Book's instructionPointer register (0-based: the byte the next fetch reads).
    #[inline(always)]
    pub(crate) fn instruction_pointer(&self) -> usize {
        self.ip_byte.wrapping_sub(self.method_loc * 2)
    }

    /// The Blue Book's stackPointer register, plus `TEMP_FRAME_START - 1`: the index in the
    /// active context of the stack's top value.
    #[inline(always)]
    pub(crate) fn stack_pointer(&self) -> usize {
        self.sp_loc - self.ctx_loc()
    }

    /// The heap word of the active context, `TEMP_FRAME_START` words before its stack (not a
    /// register of its own: one store less at every activation and return).
    #[inline(always)]
    pub(crate) fn ctx_loc(&self) -> usize {
        self.stack_base - TEMP_FRAME_START
    }

    /// The stack registers for an active context at heap word `ctx_loc` with `length` fields,
    /// its top value at field `sp`.
    #[inline(always)]
    fn set_stack(&mut self, ctx_loc: usize, length: usize, sp: usize) {
        self.sp_loc = ctx_loc + sp;
        self.stack_base = ctx_loc + TEMP_FRAME_START;
        self.stack_end = ctx_loc + length;
    }

    /// How many literals of `method` the literal bytecodes may read: its header's count,
    /// unless the object is too short for it. (Whatever `method` is, its object-table entry
    /// bounds the reads.)
    #[inline(always)]
    fn literal_limit_of(&self, method: Oop) -> usize {
        let (loc, words) = self.memory.location_and_length(method);
        if words == 0 {
            return 0;
        }
        (((self.memory.word_at(loc) >> 1) & 63) as usize).min(words - 1)
    }

    pub(crate) fn refresh_locations(&mut self) {
        // (Relative to the method and the context where they were, before they moved.)
        let ip = self.instruction_pointer();
        let sp = self.stack_pointer();
        let ctx_loc = self.memory.loc(self.active_context);
        self.home_loc = self.memory.loc(self.home_context);
        // The registers' contexts are stored into without the write barrier: if they were
        // young, they may be old now.
        self.memory.ensure_scanned(self.active_context);
        self.memory.ensure_scanned(self.home_context);
        self.method_loc = self.memory.loc(self.method);
        self.ip_byte = (self.method_loc * 2).wrapping_add(ip);
        (self.receiver_loc, self.receiver_fields) = self.memory.pointer_fields_location(self.receiver);
        // (become: can change what the registers' oops are.)
        let length = self.memory.fetch_word_length_of(self.active_context);
        self.set_stack(ctx_loc, length, sp.min(length.saturating_sub(1)).max(TEMP_FRAME_START - 1));
        self.temp_limit = self.memory.fetch_word_length_of(self.home_context).saturating_sub(TEMP_FRAME_START);
        self.literal_limit = self.literal_limit_of(self.method);
    }

    /// Receiver variable `index` (push receiver variable bytecodes).
    #[inline(always)]
    fn receiver_variable(&mut self, index: usize) -> Oop {
        if index < self.receiver_fields {
            self.memory.word_at(self.receiver_loc + index)
        } else {
            self.receiver_field_out_of_range(NIL)
        }
    }

    /// Stores into receiver variable `index` (store receiver variable bytecodes).
    #[inline(always)]
    fn store_receiver_variable(&mut self, index: usize, value: Oop) {
        if index < self.receiver_fields {
            self.memory.set_word_at(self.receiver_loc + index, value);
            self.memory.note_store(self.receiver, value);
        } else {
            self.receiver_field_out_of_range(value);
        }
    }

    /// A receiver variable the receiver does not have (a method of another class, after
    /// `become:` swapped method dictionaries; or a SmallInteger or byte object receiver): read
    /// as nil, a store dropped, nothing outside the receiver touched. Counted in `stats`.
    #[cold]
    fn receiver_field_out_of_range(&mut self, value: Oop) -> Oop {
        self.stats.receiver_fields_out_of_range += 1;
        let _ = value;
        NIL
    }

    pub(crate) fn store_context_registers(&mut self) {
        let (ip, sp) = self.context_registers(0);
        self.memory.set_word_at(self.ctx_loc() + INSTRUCTION_POINTER, ip);
        self.memory.set_word_at(self.ctx_loc() + STACK_POINTER, sp);
    }

    /// The instruction and stack pointer fields `store_context_registers` writes into the
    /// active context, once `popped` values have left its stack (an activation's receiver and
    /// arguments).
    #[inline(always)]
    fn context_registers(&self, popped: usize) -> (Oop, Oop) {
        // (A hostile jump can put ip anywhere; it is stored as it would be in 16 bits.)
        let ip = integer_object_of((self.instruction_pointer() as i16).wrapping_add(1));
        (ip, integer_object_of((self.stack_pointer() - popped + 1 - TEMP_FRAME_START) as i16))
    }

    /// Makes `block`, a BlockContext at heap word `loc` with `length` fields and its `count`
    /// arguments in place, the active context (primitives 81 and 82): the sender's registers
    /// go to its context, the block starts at its initial instruction pointer with the active
    /// context as its caller. What the registers' fetch would read from the block is at hand,
    /// so only its home's part is read.
    #[inline(always)]
    pub(crate) fn activate_block_context(&mut self, block: Oop, loc: usize, length: usize, count: usize) {
        // (The primitives checked that the arguments fit.)
        debug_assert!(length >= TEMP_FRAME_START + count, "block {block} has no room for {count} arguments");
        // As `store_context_registers`, and the block's fields, through one borrow of the heap
        // (see `heap_and_table`).
        let (sender_ip, sender_sp) = self.context_registers(0);
        let (sender, sender_loc) = (self.active_context, self.ctx_loc());
        let (heap, _) = self.memory.heap_and_table();
        heap[(sender_loc + INSTRUCTION_POINTER) & HEAP_MASK] = sender_ip;
        heap[(sender_loc + STACK_POINTER) & HEAP_MASK] = sender_sp;
        let initial_ip = heap[(loc + INITIAL_IP) & HEAP_MASK];
        heap[(loc + INSTRUCTION_POINTER) & HEAP_MASK] = initial_ip;
        heap[(loc + STACK_POINTER) & HEAP_MASK] = integer_object_of(count as i16);
        heap[(loc + CALLER) & HEAP_MASK] = sender;
        self.active_context = block;
        let ip = (integer_value_of(initial_ip) as isize - 1).max(0) as usize;
        self.set_stack(loc, length, TEMP_FRAME_START + count - 1);
        self.fetch_home_registers(loc, integer_object_of(count as i16), ip);
    }

    /// Marks `ctx` and its whole sender chain as referenced from elsewhere (never recycled).
    pub(crate) fn escape(&mut self, mut ctx: Oop) {
        while self.is_context(ctx) && !self.memory.is_escaped(ctx) {
            self.memory.set_escaped(ctx);
            ctx = self.memory.fetch_pointer(SENDER, ctx);
        }
    }

    /// Called on every oop a primitive hands to the image from a place the image could not
    /// see before (instVarAt:, asObject, someInstance...): a context must escape.
    pub(crate) fn expose(&mut self, oop: Oop) {
        if !is_integer_object(oop) && self.is_context(oop) {
            self.escape(oop);
        }
    }

    // ---- stack ----------------------------------------------------------------------------

    #[inline(always)]
    pub(crate) fn push(&mut self, value: Oop) {
        if self.sp_loc + 1 < self.stack_end {
            self.sp_loc += 1;
            self.memory.set_word_at(self.sp_loc, value);
        } else {
            self.fault_stack();
        }
    }
    #[inline(always)]
    pub(crate) fn pop_stack(&mut self) -> Oop {
        if self.sp_loc >= self.stack_base {
            let v = self.memory.word_at(self.sp_loc);
            self.sp_loc -= 1;
            v
        } else {
            self.fault_stack()
        }
    }
    #[inline(always)]
    pub(crate) fn stack_top(&self) -> Oop {
        self.stack_value(0)
    }
    /// The stack's `offset`th value from the top; nil below the stack (the pop, send or
    /// store that follows finds the fault).
    #[inline(always)]
    pub(crate) fn stack_value(&self, offset: usize) -> Oop {
        if self.sp_loc >= self.stack_base + offset {
            self.memory.word_at(self.sp_loc - offset)
        } else {
            NIL
        }
    }
    /// True when the stack holds at least `n` values; otherwise a stack fault (`fault_stack`).
    #[inline(always)]
    fn stack_holds(&mut self, n: usize) -> bool {
        if self.sp_loc + 1 >= self.stack_base + n {
            true
        } else {
            self.fault_stack();
            false
        }
    }
    /// A bytecode needed more of the stack than the context holds: a hand-made method, or
    /// one whose bytes were overwritten (the clock primitives write into any byte object, a
    /// CompiledMethod too). The Blue Book does not check; here the bytecode reads nil and
    /// pushes nothing, and the process is ended as `Process>>terminate` would at the next
    /// check (`end_faulted_process`), before it can run on with a stack it does not have.
    #[cold]
    #[inline(never)]
    fn fault_stack(&mut self) -> Oop {
        self.process_fault = true;
        self.attention = true;
        NIL
    }
    /// The heap word of the value under the top of the stack, that value and the top, when
    /// the stack holds two: one check for an inline binary operation's reads and its pop.
    #[inline(always)]
    fn two_operands(&self) -> Option<(usize, Oop, Oop)> {
        if self.sp_loc > self.stack_base {
            let at = self.sp_loc - 1;
            Some((at, self.memory.word_at(at), self.memory.word_at(at + 1)))
        } else {
            None
        }
    }
    /// Replaces the two values `two_operands` found (the first at heap word `at`) with `result`.
    #[inline(always)]
    fn replace_operands(&mut self, at: usize, result: Oop) {
        self.sp_loc -= 1;
        self.memory.set_word_at(at, result);
    }
    /// Stores into stack/temporary field `index` of the active context.
    pub(crate) fn store_stack_field(&mut self, index: usize, value: Oop) {
        self.memory.set_word_at(self.ctx_loc() + index, value);
    }
    #[inline(always)]
    pub(crate) fn pop(&mut self, n: usize) {
        if self.sp_loc + 1 >= self.stack_base + n {
            self.sp_loc -= n;
        } else {
            self.fault_stack();
        }
    }
    /// Replaces the receiver and `n` arguments with `result` (a successful primitive).
    #[inline(always)]
    pub(crate) fn pop_then_push(&mut self, n: usize, result: Oop) {
        if self.sp_loc >= self.stack_base + n {
            self.sp_loc -= n;
            self.memory.set_word_at(self.sp_loc, result);
        } else {
            self.fault_stack();
        }
    }

    #[inline(always)]
    fn fetch_byte(&mut self) -> u8 {
        // A hostile jump can send ip past the method, even past the heap (`heap_byte` wraps).
        let b = self.memory.heap_byte(self.ip_byte);
        self.ip_byte = self.ip_byte.wrapping_add(1);
        b
    }

    /// The byte at `ip` (the bytecode loop's local instruction pointer), advancing it.
    #[inline(always)]
    fn fetch_byte_at(&self, ip: &mut usize) -> u8 {
        let b = self.memory.heap_byte(*ip);
        *ip = ip.wrapping_add(1);
        b
    }

    #[inline(always)]
    fn temporary(&mut self, n: usize) -> Oop {
        if n < self.temp_limit {
            self.memory.word_at(self.home_loc + TEMP_FRAME_START + n)
        } else {
            self.field_out_of_range()
        }
    }
    #[inline(always)]
    fn store_temporary(&mut self, n: usize, value: Oop) {
        if n < self.temp_limit {
            let at = self.home_loc + TEMP_FRAME_START + n;
            self.memory.set_word_at(at, value);
        } else {
            self.field_out_of_range();
        }
    }
    #[inline(always)]
    fn literal(&mut self, n: usize) -> Oop {
        if n < self.literal_limit {
            self.memory.word_at(self.method_loc + 1 + n)
        } else {
            self.field_out_of_range()
        }
    }
    /// The value of the association `assoc` (push literal variable bytecodes).
    #[inline(always)]
    fn literal_variable(&mut self, assoc: Oop) -> Oop {
        match self.memory.pointer_field_location(VALUE_INDEX, assoc) {
            Some(at) => self.memory.word_at(at),
            None => self.field_out_of_range(),
        }
    }
    /// A temporary or literal beyond the context or method, or a literal variable that is not
    /// an association: read as nil, a store dropped, as for receiver variables.
    #[cold]
    #[inline(never)]
    fn field_out_of_range(&mut self) -> Oop {
        self.stats.fields_out_of_range += 1;
        NIL
    }

    // ---- bytecodes (ch. 28) -----------------------------------------------------------------

    /// Runs bytecode `bc`. Answers false for the bytecodes that cannot allocate, switch
    /// processes or stop the VM (pushes, stores, pops, plain jumps), so the loop tests those
    /// flags only after the others. `cycles` is the loop's count, stored into `self.cycles`
    /// before anything that can look at it (a send, a return).
    ///
    /// `TRACED` is false in `run`'s loop, which never runs with a trace (`step_traced` does):
    /// its returns then have no test for one.
    ///
    /// The arms name every byte value rather than a range: rustc turns a `match` on ranges
    /// into a chain of compares, but one on values into a single 256-entry jump table (no
    /// shift, no range check), and an arm of one value can use it as a constant.
    ///
    /// `bc` is the byte widened to `usize` as it is loaded: as a `u8` it was loaded, then
    /// copied and widened again into the register the arms keep it in, one instruction more
    /// at every bytecode (perf15: boot + idle 87.8 -> 86.6).
    #[inline(always)]
    #[allow(clippy::manual_range_patterns)] // (ranges would compile to compares: see above)
    fn dispatch<H: Host, const TRACED: bool>(&mut self, bc: usize, host: &mut H, cycles: u64, ip: &mut usize) -> bool {
        // The loop keeps the instruction pointer in a local (`ip`); what runs out of the loop's
        // reach (sends, returns, primitives) finds it in `self.ip_byte`, written back before
        // and read again after.
        macro_rules! out {
            ($e:expr) => {
                with_ip!(self, ip, $e)
            };
        }
        // 176-191: one arm each (the constant picks the operation at compile time), done
        // inline or left for the send after the `match`.
        macro_rules! arithmetic {
            ($bc:literal, $send:lifetime) => {
                match self.arithmetic_inline($bc) {
                    Some(r) => return r,
                    None => break $send,
                }
            };
        }
        'special: {
            match bc {
                // 0-15 push receiver variable
                0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12 | 13 | 14 | 15 => {
                    let v = self.receiver_variable(bc & 15);
                    self.push(v)
                }
                // 16-31 push temporary location
                16 | 17 | 18 | 19 | 20 | 21 | 22 | 23 | 24 | 25 | 26 | 27 | 28 | 29 | 30 | 31 => {
                    let v = self.temporary(bc & 15);
                    self.push(v)
                }
                // 32-63 push literal constant
                32 | 33 | 34 | 35 | 36 | 37 | 38 | 39 | 40 | 41 | 42 | 43 | 44 | 45 | 46 | 47 | 48 | 49 | 50 | 51
                | 52 | 53 | 54 | 55 | 56 | 57 | 58 | 59 | 60 | 61 | 62 | 63 => {
                    let v = self.literal(bc & 31);
                    self.push(v)
                }
                // 64-95 push literal variable
                64 | 65 | 66 | 67 | 68 | 69 | 70 | 71 | 72 | 73 | 74 | 75 | 76 | 77 | 78 | 79 | 80 | 81 | 82 | 83
                | 84 | 85 | 86 | 87 | 88 | 89 | 90 | 91 | 92 | 93 | 94 | 95 => {
                    let assoc = self.literal(bc & 31);
                    let v = self.literal_variable(assoc);
                    self.push(v)
                }
                // 96-103 pop and store receiver variable
                96 | 97 | 98 | 99 | 100 | 101 | 102 | 103 => {
                    let v = self.pop_stack();
                    self.store_receiver_variable(bc & 7, v)
                }
                // 104-111 pop and store temporary location
                104 | 105 | 106 | 107 | 108 | 109 | 110 | 111 => {
                    let v = self.pop_stack();
                    self.store_temporary(bc & 7, v)
                }
                // 112-119 push receiver, true, false, nil, -1, 0, 1, 2
                112 => self.push(self.receiver),
                113 => self.push(TRUE),
                114 => self.push(FALSE),
                115 => self.push(NIL),
                116 | 117 | 118 | 119 => self.push(integer_object_of((bc & 7) as i16 - 5)),
                // 120-124 return receiver, true, false, nil, stack top from the method
                120 => return out!(self.method_return::<H, TRACED>(host, cycles, self.receiver)),
                121 => return out!(self.method_return::<H, TRACED>(host, cycles, TRUE)),
                122 => return out!(self.method_return::<H, TRACED>(host, cycles, FALSE)),
                123 => return out!(self.method_return::<H, TRACED>(host, cycles, NIL)),
                124 => {
                    let v = self.pop_stack();
                    return out!(self.method_return::<H, TRACED>(host, cycles, v));
                }
                // 125 return stack top from a block (to its caller)
                125 => {
                    self.cycles = cycles;
                    let v = self.pop_stack();
                    let caller = self.memory.word_at(self.ctx_loc() + CALLER);
                    return out!({
                        if TRACED && self.trace.is_some() {
                            self.trace_return(host, v, true);
                        }
                        self.return_value(host, v, caller)
                    });
                }
                // 128-130 extended push, store, pop and store
                128 => {
                    let d = self.fetch_byte_at(ip);
                    self.extended_push(d)
                }
                129 => {
                    let d = self.fetch_byte_at(ip);
                    if !self.stack_holds(1) {
                        return true;
                    }
                    let v = self.stack_top();
                    return self.extended_store(d, v);
                }
                130 => {
                    let d = self.fetch_byte_at(ip);
                    let v = self.pop_stack();
                    return self.extended_store(d, v);
                }
                // 131-134 extended sends: single and double extended, to self and to super
                131 => {
                    self.cycles = cycles;
                    let d = self.fetch_byte_at(ip);
                    let sel = self.literal((d & 31) as usize);
                    out!(self.send_selector(host, sel, (d >> 5) as usize));
                    return true;
                }
                132 => {
                    self.cycles = cycles;
                    let count = self.fetch_byte_at(ip);
                    let lit = self.fetch_byte_at(ip);
                    let sel = self.literal(lit as usize);
                    out!(self.send_selector(host, sel, count as usize));
                    return true;
                }
                133 => {
                    self.cycles = cycles;
                    let d = self.fetch_byte_at(ip);
                    let sel = self.literal((d & 31) as usize);
                    out!(self.send_super(host, sel, (d >> 5) as usize));
                    return true;
                }
                134 => {
                    self.cycles = cycles;
                    let count = self.fetch_byte_at(ip);
                    let lit = self.fetch_byte_at(ip);
                    let sel = self.literal(lit as usize);
                    out!(self.send_super(host, sel, count as usize));
                    return true;
                }
                // 135 pop, 136 duplicate, 137 push thisContext
                135 => self.pop(1),
                136 => {
                    if !self.stack_holds(1) {
                        return true;
                    }
                    let v = self.stack_top();
                    self.push(v)
                }
                137 => {
                    let ctx = self.active_context;
                    self.escape(ctx);
                    self.push(ctx)
                }
                126 | 127 | 138 | 139 | 140 | 141 | 142 | 143 => return out!(self.unused_bytecode(bc as u8)),
                // 144-151 short unconditional jump
                144 | 145 | 146 | 147 | 148 | 149 | 150 | 151 => *ip = ip.wrapping_add((bc & 7) + 1),
                // 152-159 short conditional jump (on false)
                152 | 153 | 154 | 155 | 156 | 157 | 158 | 159 => {
                    return self.jump_if(host, cycles, ip, FALSE, (bc & 7) as isize + 1);
                }
                // 160-167 long unconditional jump
                160 | 161 | 162 | 163 | 164 | 165 | 166 | 167 => {
                    let d = self.fetch_byte_at(ip) as isize;
                    *ip = ip.wrapping_add_signed(((bc & 7) as isize - 4) * 256 + d);
                }
                // 168-171 long jump if true, 172-175 long jump if false
                168 | 169 | 170 | 171 | 172 | 173 | 174 | 175 => {
                    let d = self.fetch_byte_at(ip) as isize;
                    let condition = if bc & 4 == 0 { TRUE } else { FALSE };
                    return self.jump_if(host, cycles, ip, condition, (bc & 3) as isize * 256 + d);
                }
                // 176-191 arithmetic special selectors, one arm each (the constant then picks the
                // operation at compile time): + - < > <= >= = ~= * / \\ @ bitShift: // bitAnd: bitOr:
                176 => arithmetic!(176, 'special),
                177 => arithmetic!(177, 'special),
                178 => arithmetic!(178, 'special),
                179 => arithmetic!(179, 'special),
                180 => arithmetic!(180, 'special),
                181 => arithmetic!(181, 'special),
                182 => arithmetic!(182, 'special),
                183 => arithmetic!(183, 'special),
                184 => arithmetic!(184, 'special),
                185 => arithmetic!(185, 'special),
                186 => arithmetic!(186, 'special),
                187 => arithmetic!(187, 'special),
                188 => arithmetic!(188, 'special),
                189 => arithmetic!(189, 'special),
                190 => arithmetic!(190, 'special),
                191 => arithmetic!(191, 'special),
                // 198 ==, 199 class: primitives that cannot fail (the book never sends them), done
                // here without a call (one check that the stack holds the operands).
                198 => match self.two_operands() {
                    Some((at, a, b)) => self.replace_operands(at, if a == b { TRUE } else { FALSE }),
                    None => {
                        self.fault_stack();
                    }
                },
                199 => {
                    if self.sp_loc >= self.stack_base {
                        let top = self.sp_loc;
                        let class = self.memory.fetch_class_of(self.memory.word_at(top));
                        self.memory.set_word_at(top, class);
                    } else {
                        self.fault_stack();
                    }
                }
                // 192-207 the other special selectors, one arm each (as 176-191)
                200 => return out!(self.send_special(host, cycles, 200)), // blockCopy:
                201 => return out!(self.send_special(host, cycles, 201)), // value
                202 => return out!(self.send_special(host, cycles, 202)), // value:
                // at: at:put: size next nextPut: atEnd do: new new: x y: no primitive of their own
                // (their methods' primitives run as for any send), so they are sent as the
                // literal sends are, the selector and count from the specialSelectors Array.
                192 | 193 | 194 | 195 | 196 | 197 | 203 | 204 | 205 | 206 | 207 => {
                    let (selector, count) = self.special_selector(bc as u8);
                    return self.send_literal(host, cycles, ip, selector, count);
                }
                // 208-255 send literal selector with 0, 1 or 2 arguments
                208 | 209 | 210 | 211 | 212 | 213 | 214 | 215 | 216 | 217 | 218 | 219 | 220 | 221 | 222 | 223 => {
                    let sel = self.literal(bc & 15);
                    return self.send_literal(host, cycles, ip, sel, 0);
                }
                224 | 225 | 226 | 227 | 228 | 229 | 230 | 231 | 232 | 233 | 234 | 235 | 236 | 237 | 238 | 239 => {
                    let sel = self.literal(bc & 15);
                    return self.send_literal(host, cycles, ip, sel, 1);
                }
                240 | 241 | 242 | 243 | 244 | 245 | 246 | 247 | 248 | 249 | 250 | 251 | 252 | 253 | 254 | 255 => {
                    let sel = self.literal(bc & 15);
                    return self.send_literal(host, cycles, ip, sel, 2);
                }
                // (`bc` is a byte: the jump table has no entry, and no check, for this arm.)
                _ => unreachable!("bytecode {bc} is not a byte"),
            }
            return false;
        }
        // 176-191 not done inline. A SmallInteger receiver: the special selector's primitive
        // (a result out of range, a LargeInteger argument...), else the send. Any other
        // receiver: the send, as for a literal selector (one shared copy of it, with the
        // inlined cache hit and activation, for all sixteen).
        if self.stack_holds(2) && !is_integer_object(self.stack_value(1)) {
            let (selector, count) = self.special_selector(bc as u8);
            return self.send_literal(host, cycles, ip, selector, count);
        }
        with_ip!(self, ip, self.send_special(host, cycles, bc as u8))
    }

    /// Bytecodes 208-255: sends `selector` with `count` arguments. A method-cache hit on a
    /// quick return (header flag 5 or 6: the receiver, or one of its fields) runs here, with
    /// no call and nothing written to the send's registers; it cannot allocate, switch
    /// processes or stop, so the loop's flag tests are skipped too (false). Everything else
    /// is the full send (true).
    #[inline(always)]
    fn send_literal<H: Host>(
        &mut self,
        host: &mut H,
        cycles: u64,
        ip: &mut usize,
        selector: Oop,
        count: usize,
    ) -> bool {
        if !self.stack_holds(count + 1) {
            return true;
        }
        let receiver = self.memory.word_at(self.sp_loc - count);
        // (The cycle count is stored for whatever can look at it, all but the quick returns.)
        if self.watch_sends {
            self.cycles = cycles;
            self.message_selector = selector;
            self.argument_count = count;
            if with_ip!(self, ip, self.observe_send(host, receiver, selector, count)) {
                return true;
            }
        }
        let class = self.memory.fetch_class_of(receiver);
        self.stats.sends += 1;
        let Some(e) = self.method_cache.probe(selector, class) else {
            self.cycles = cycles;
            self.message_selector = selector;
            self.argument_count = count;
            with_ip!(
                self,
                ip,
                if self.find_new_method_in_class_missing_the_cache(class) {
                    self.execute_new_method(host)
                }
            );
            return true;
        };
        match e.info.flag {
            5 => return false, // quick return self: the receiver is already on top
            6 => {
                // (As in `execute_new_method`: a receiver without that field runs the bytecodes.
                // The stack holds the receiver, checked above: no check for the top's read
                // and write.)
                let top = self.sp_loc;
                if let Some(at) = self.memory.pointer_field_location(e.info.temps as usize, self.memory.word_at(top)) {
                    let v = self.memory.word_at(at);
                    self.memory.set_word_at(top, v);
                    return false;
                }
            }
            _ => {}
        }
        (self.new_method, self.new_info) = (e.method, e.info);
        self.message_selector = selector;
        self.argument_count = count;
        self.cycles = cycles;
        if e.info.primitive == 0 {
            // (Inlined here, the loop's commonest send: no call, no register saves. The other
            // sends call `activate_method`; inlined into all of them the loop grew slower.)
            with_ip!(self, ip, self.activate_new_method());
        } else {
            with_ip!(self, ip, self.execute_new_method(host));
        }
        true
    }

    /// Bytecodes 176-191 on two SmallIntegers, without a send or a call (`@` allocates its
    /// Point): what `dispatch` answers then, or None for the send (or the special selector's
    /// primitive), which `dispatch` makes after its `match`.
    #[inline(always)]
    fn arithmetic_inline(&mut self, bc: u8) -> Option<bool> {
        // One check that the stack holds both operands covers the reads and the pop (a
        // shorter stack takes the send, which faults).
        if let Some((at, receiver, argument)) = self.two_operands() {
            if receiver & argument & 1 == 1 {
                // `@` makes its Point here too (primitive 18 without the detour through the
                // special selector's primitive; Xerox's trace compatibility takes that). It
                // allocates: true, so that the loop sees a collection it asks for.
                let result = if bc != 187 {
                    crate::primitives::arithmetic::small_integer_special(bc, receiver, argument)
                } else if !self.xerox_trace_compat {
                    crate::primitives::arithmetic::make_point(self, receiver, argument)
                } else {
                    None
                };
                if let Some(result) = result {
                    self.replace_operands(at, result);
                    return Some(bc == 187);
                }
            }
        }
        None
    }

    /// Bytecodes 176-207 that were not done inline: the special selector's primitive if it
    /// has one (`bc` is a constant here, so only that one is compiled in), else the send.
    #[inline(always)]
    fn send_special<H: Host>(&mut self, host: &mut H, cycles: u64, bc: u8) -> bool {
        self.cycles = cycles;
        if !crate::primitives::special_selector_primitive(self, bc) {
            self.send_special_selector(host, bc);
        }
        true
    }

    /// Bytecodes 120-124: returns `value` from the home context to its sender, inlined here
    /// (the loop's most common way out of a context after the sends). False for a plain
    /// return, which cannot collect, switch processes or stop: the loop's flag tests are
    /// needed only after a cannotReturn: send or a stack fault.
    #[inline(always)]
    fn method_return<H: Host, const TRACED: bool>(&mut self, host: &mut H, cycles: u64, value: Oop) -> bool {
        self.cycles = cycles;
        let sender = self.memory.word_at(self.home_loc + SENDER);
        if TRACED && self.trace.is_some() {
            self.trace_return(host, value, false);
        }
        self.return_value(host, value, sender)
    }

    /// 126, 127 and 138-143 are unused in the Blue Book's set: only a hand-made or overwritten
    /// method has them (or an ip a hostile jump sent out of the method). The process ends, as
    /// for a stack fault.
    #[cold]
    fn unused_bytecode(&mut self, bc: u8) -> bool {
        log::warn!("unused bytecode {bc} in method {}", self.method);
        self.fault_stack();
        true
    }

    #[inline(always)]
    fn extended_push(&mut self, descriptor: u8) {
        let index = (descriptor & 63) as usize;
        let v = match descriptor >> 6 {
            0 => self.receiver_variable(index),
            1 => self.temporary(index),
            2 => self.literal(index),
            _ => {
                let assoc = self.literal(index);
                self.literal_variable(assoc)
            }
        };
        self.push(v)
    }

    /// True when it stopped the VM (a store into a literal).
    #[inline(always)]
    fn extended_store(&mut self, descriptor: u8, value: Oop) -> bool {
        let index = (descriptor & 63) as usize;
        match descriptor >> 6 {
            0 => self.store_receiver_variable(index, value),
            1 => self.store_temporary(index, value),
            2 => {
                self.stop_with(StopReason::Error(String::from("illegal store into a literal constant")));
                return true;
            }
            _ => {
                let assoc = self.literal(index);
                match self.memory.pointer_field_location(VALUE_INDEX, assoc) {
                    Some(at) => {
                        self.memory.set_word_at(at, value);
                        self.memory.note_store(assoc, value);
                    }
                    None => _ = self.field_out_of_range(),
                }
            }
        }
        false
    }

    /// True when it sent mustBeBoolean.
    fn jump_if<H: Host>(&mut self, host: &mut H, cycles: u64, ip: &mut usize, condition: Oop, offset: isize) -> bool {
        let boolean = self.pop_stack();
        if boolean == condition {
            *ip = ip.wrapping_add_signed(offset);
        } else if boolean != TRUE && boolean != FALSE {
            if self.process_fault {
                return true;
            }
            self.sp_loc += 1;
            self.cycles = cycles;
            with_ip!(self, ip, self.send_selector(host, SELECTOR_MUST_BE_BOOLEAN, 0));
            return true;
        }
        false
    }

    // ---- sends (ch. 28 "Send Bytecodes") ------------------------------------------------------

    /// Sends special selector `bc` (176-207): its selector and argument count are in the
    /// image's specialSelectors Array.
    fn send_special_selector<H: Host>(&mut self, host: &mut H, bc: u8) {
        let (selector, count) = self.special_selector(bc);
        self.send_selector_inline(host, selector, count)
    }

    /// Special selector `bc` (176-207) and its argument count, from the specialSelectors
    /// Array. A SmallInteger the image stored as the count (any value) reads as its 16 bits:
    /// a negative one becomes a count larger than any stack, which the send refuses, instead
    /// of one whose `+ 1` overflows.
    #[inline(always)]
    fn special_selector(&self, bc: u8) -> (Oop, usize) {
        let index = (bc - 176) as usize * 2;
        let selector = self.memory.fetch_pointer(index, SPECIAL_SELECTORS);
        let count = integer_value_of(self.memory.fetch_pointer(index + 1, SPECIAL_SELECTORS)) as u16 as usize;
        (selector, count)
    }

    pub(crate) fn send_selector<H: Host>(&mut self, host: &mut H, selector: Oop, count: usize) {
        self.send_selector_inline(host, selector, count)
    }

    /// `send_selector` inlined into the bytecode loop's literal sends (no call and register
    /// saves on each send; a cache hit runs without leaving the loop's function).
    #[inline(always)]
    fn send_selector_inline<H: Host>(&mut self, host: &mut H, selector: Oop, count: usize) {
        self.message_selector = selector;
        self.argument_count = count;
        if !self.stack_holds(count + 1) {
            return;
        }
        let receiver = self.memory.word_at(self.sp_loc - count);
        if self.watch_sends && self.observe_send(host, receiver, selector, count) {
            return;
        }
        let class = self.memory.fetch_class_of(receiver);
        self.send_selector_to_class(host, class)
    }

    fn send_super<H: Host>(&mut self, host: &mut H, selector: Oop, count: usize) {
        self.message_selector = selector;
        self.argument_count = count;
        if !self.stack_holds(count + 1) {
            return;
        }
        // Xerox's tracer printed no line for super sends (trace2, cycle 181). The method's
        // class is the value of its last literal; a hand-made method may have none.
        let assoc = self.literal(self.literal_limit.wrapping_sub(1));
        let method_class = self.literal_variable(assoc);
        let superclass = self
            .memory
            .pointer_field_location(CLASS_SUPERCLASS, method_class)
            .map_or(NIL, |at| self.memory.word_at(at));
        // A superclass that is a SmallInteger (a hostile image's) finds nothing, as nil does;
        // as nil it cannot be taken for the class of an empty method-cache entry (`NO_CLASS`).
        let superclass = if is_integer_object(superclass) { NIL } else { superclass };
        self.send_selector_to_class(host, superclass)
    }

    #[inline]
    pub(crate) fn send_selector_to_class<H: Host>(&mut self, host: &mut H, class: Oop) {
        self.stats.sends += 1;
        if !self.find_new_method_in_class(class) {
            return;
        }
        // (A method to activate skips `execute_new_method`, as the literal sends do.)
        if self.new_info.primitive == 0 && self.new_info.flag < 5 {
            self.activate_method();
        } else {
            self.execute_new_method(host)
        }
    }

    /// Method cache, then `lookupMethodInClass:`; on failure, doesNotUnderstand:. The hit is
    /// inlined into the send; the miss is out of line.
    #[inline(always)]
    fn find_new_method_in_class(&mut self, class: Oop) -> bool {
        if let Some(e) = self.method_cache.probe(self.message_selector, class) {
            (self.new_method, self.new_info) = (e.method, e.info);
            return true;
        }
        self.find_new_method_in_class_missing_the_cache(class)
    }

    #[cold]
    #[inline(never)]
    fn find_new_method_in_class_missing_the_cache(&mut self, class: Oop) -> bool {
        if !self.lookup_method_in_class(class) {
            return false;
        }
        self.new_info = self.method_info(self.new_method);
        self.method_cache.insert(self.message_selector, class, self.new_method, self.new_info);
        true
    }

    fn lookup_method_in_class(&mut self, class: Oop) -> bool {
        let mut current = class;
        // A hostile image (`String become: 3 @ 4`, a superclass loop) can break the chain:
        // what is not a class with a method dictionary, or a chain that never ends, finds
        // nothing.
        let mut depth = 0;
        while current != NIL {
            depth += 1;
            if !self.memory.is_object(current)
                || !self.memory.is_pointers(current)
                || self.memory.fetch_word_length_of(current) <= CLASS_MESSAGE_DICTIONARY
                || depth > 10_000
            {
                break;
            }
            let dictionary = self.memory.fetch_pointer(CLASS_MESSAGE_DICTIONARY, current);
            // What the result depends on, for `become:` (see `forget_lookups_through`).
            self.memory.note_in_lookup(current);
            self.memory.note_in_lookup(dictionary);
            if self.memory.is_pointers(dictionary)
                && self.memory.fetch_word_length_of(dictionary) > objects::METHOD_ARRAY
            {
                let methods = self.memory.fetch_pointer(objects::METHOD_ARRAY, dictionary);
                self.memory.note_in_lookup(methods);
            }
            if let Some(m) = objects::lookup_method_in_dictionary(&self.memory, dictionary, self.message_selector) {
                self.memory.note_in_lookup(m);
                self.memory.note_in_lookup(self.message_selector);
                self.new_method = m;
                return true;
            }
            current = self.memory.fetch_pointer(CLASS_SUPERCLASS, current);
        }
        if self.message_selector == SELECTOR_DOES_NOT_UNDERSTAND {
            self.stop_with(StopReason::Error(String::from(
                "recursive doesNotUnderstand: (the image has no doesNotUnderstand: method)",
            )));
            return false;
        }
        if !self.create_actual_message() {
            return false;
        }
        self.message_selector = SELECTOR_DOES_NOT_UNDERSTAND;
        self.lookup_method_in_class(class)
    }

    /// Sends doesNotUnderstand: for `selector` with the `count` arguments on the stack, as a
    /// failed lookup would.
    pub(crate) fn send_does_not_understand<H: Host>(&mut self, host: &mut H, selector: Oop, count: usize) {
        self.message_selector = selector;
        self.argument_count = count;
        if self.create_actual_message() {
            self.send_selector(host, SELECTOR_DOES_NOT_UNDERSTAND, 1);
        }
    }

    /// Packs the pending message into a Message for doesNotUnderstand:.
    fn create_actual_message(&mut self) -> bool {
        let count = self.argument_count;
        let Some(args) = self.memory.instantiate_class(CLASS_ARRAY, count) else {
            self.stop_with(StopReason::Error(String::from("out of memory creating a Message")));
            return false;
        };
        let Some(message) = self.memory.instantiate_class(CLASS_MESSAGE, 0) else {
            self.stop_with(StopReason::Error(String::from("out of memory creating a Message")));
            return false;
        };
        self.memory.store_pointer(MESSAGE_SELECTOR, message, self.message_selector);
        self.memory.store_pointer(MESSAGE_ARGUMENTS, message, args);
        for i in 0..count {
            let v = self.stack_value(count - 1 - i);
            self.memory.store_pointer(i, args, v);
        }
        self.pop(count);
        self.push(message);
        self.argument_count = 1;
        true
    }

    pub(crate) fn method_info(&self, method: Oop) -> MethodInfo {
        let words = self.memory.fetch_word_length_of(method);
        // (An empty CompiledMethod can be made: `CompiledMethod new: 0`.)
        let header = if words > 0 { self.memory.fetch_pointer(0, method) } else { 1 };
        let flag = ((header >> 13) & 7) as u8;
        let literals = ((header >> 1) & 63) as u8;
        let (primitive, args) = match flag {
            0..=4 => (0, flag),
            5 | 6 => (0, 0),
            _ => {
                let ext = self.memory.fetch_pointer((literals as usize).clamp(1, words) - 1, method);
                (((ext >> 1) & 0xff), ((ext >> 9) & 31) as u8)
            }
        };
        let literal_limit = self.literal_limit_of(method) as u8;
        let temps = ((header >> 8) & 31) as u8;
        let context_words = if header & 0x80 != 0 { LARGE_CONTEXT_WORDS } else { SMALL_CONTEXT_WORDS } as u8;
        MethodInfo {
            primitive,
            flag,
            args,
            temps,
            literal_limit,
            context_words,
            frame_temps: temps.min(context_words - TEMP_FRAME_START as u8),
            first_bytecode: (literals + 1) * 2,
        }
    }

    #[inline]
    pub(crate) fn execute_new_method<H: Host>(&mut self, host: &mut H) {
        let info = self.new_info;
        match info.flag {
            5 => return, // quick return self: the receiver is already on top
            // Quick return of a receiver variable; one the receiver lacks (see
            // `receiver_field_out_of_range`) runs the method's bytecodes instead.
            6 => {
                if let Some(at) = self.memory.pointer_field_location(info.temps as usize, self.stack_top()) {
                    let v = self.memory.word_at(at);
                    self.pop_then_push(0, v);
                    return;
                }
            }
            _ => {}
        }
        if info.primitive != 0 {
            if self.trace.is_some() {
                self.trace_primitive(host, info.primitive);
            }
            self.stats.primitive_calls += 1;
            if crate::primitives::dispatch(self, host, info.primitive).is_ok() {
                return;
            }
        }
        self.activate_new_method()
    }

    /// `activate_new_method` for a send whose method has no primitive (and is no quick
    /// return), from the sends other than the literal ones: a function of its own, which
    /// saves fewer registers than `execute_new_method` with the primitives inlined.
    #[inline(never)]
    fn activate_method(&mut self) {
        self.activate_new_method()
    }

    /// Inlined into `execute_new_method`, `activate_method` and the literal sends.
    #[inline(always)]
    fn activate_new_method(&mut self) {
        let count = self.argument_count;
        let (mut size, mut temps) = (self.new_info.context_words as u32, self.new_info.frame_temps as usize);
        if TEMP_FRAME_START + count > size as usize {
            // A hostile method can be sent with more arguments than its header makes room for.
            if TEMP_FRAME_START + count > LARGE_CONTEXT_WORDS as usize {
                self.stop_with(StopReason::Error(format!("a send of {count} arguments does not fit in a context")));
                return;
            }
            size = LARGE_CONTEXT_WORDS;
            temps = (self.new_info.temps as usize).min(size as usize - TEMP_FRAME_START);
        }
        let mut ctx = self.memory.pop_pooled_context(size);
        if ctx == 0 {
            match self.new_context(size) {
                Some(new) => ctx = new,
                None => return,
            }
        }
        // Each value is stored as soon as it is worked out (the sender's registers first,
        // into its context), so that few are live at once and none waits on the stack.
        let (sender, sender_loc) = (self.active_context, self.ctx_loc());
        let src = self.sp_loc - count;
        // The sender's registers, as `store_context_registers` writes them, once its stack
        // has lost the receiver and arguments (they move to the new context).
        let (sender_ip, sender_sp) = self.context_registers(count + 1);
        // (The heap and the table borrowed apart, each address loaded once: see
        // `heap_and_table`.)
        let (heap, table) = self.memory.heap_and_table();
        heap[(sender_loc + INSTRUCTION_POINTER) & HEAP_MASK] = sender_ip;
        heap[(sender_loc + STACK_POINTER) & HEAP_MASK] = sender_sp;
        let loc = table.loc(ctx);
        self.active_context = ctx;
        self.home_context = ctx;
        self.home_loc = loc;
        self.temp_limit = size as usize - TEMP_FRAME_START;
        // Every field is written here: a recycled context still holds its last values. The
        // temporaries and stack are nil-filled whole (a fixed length: stores, not a call),
        // then the receiver and arguments written over the first of them.
        let fields = &mut heap[loc..loc + size as usize];
        if size == SMALL_CONTEXT_WORDS {
            fields[TEMP_FRAME_START..SMALL_CONTEXT_WORDS as usize].fill(NIL);
        } else {
            fields[TEMP_FRAME_START..].fill(NIL);
        }
        fields[SENDER] = sender;
        fields[STACK_POINTER] = integer_object_of(temps as i16);
        fields[INITIAL_IP] = NIL;
        // The receiver and the first two arguments (most sends have no more) without the
        // loop's compare and branch for each word.
        let receiver = heap[src & HEAP_MASK];
        heap[(loc + RECEIVER) & HEAP_MASK] = receiver;
        let copy = |heap: &mut [u16; HEAP_WORDS], i: usize| {
            heap[(loc + RECEIVER + i) & HEAP_MASK] = heap[(src + i) & HEAP_MASK]
        };
        if count >= 1 {
            copy(heap, 1);
            if count >= 2 {
                copy(heap, 2);
                for i in 3..=count {
                    copy(heap, i);
                }
            }
        }
        self.receiver = receiver;
        (self.receiver_loc, self.receiver_fields) = table.pointer_fields_location(receiver);
        // The method's part, read from the send's registers only now.
        let (method, info) = (self.new_method, self.new_info);
        let first_bytecode = info.first_bytecode as usize;
        heap[(loc + METHOD) & HEAP_MASK] = method;
        heap[(loc + INSTRUCTION_POINTER) & HEAP_MASK] = integer_object_of(first_bytecode as i16 + 1);
        let method_loc = table.loc(method);
        self.method = method;
        self.method_loc = method_loc;
        self.ip_byte = method_loc * 2 + first_bytecode;
        self.literal_limit = info.literal_limit as usize;
        // (Last: it needs all of `self`, and the heap is borrowed until here.)
        self.set_stack(loc, size as usize, temps + TEMP_FRAME_START - 1);
    }

    /// A MethodContext of `words` fields when its pool is empty: allocated, after a
    /// collection if need be. None when even that fails; the VM has then stopped, or ended
    /// the runaway process.
    #[cold]
    #[inline(never)]
    fn new_context(&mut self, words: u32) -> Option<Oop> {
        if let Some(ctx) = self.memory.allocate_context(words) {
            return Some(ctx);
        }
        // Everything this send needs is reachable from the active context, so a collection
        // here is safe.
        self.collect_all_garbage();
        let ctx = self.memory.allocate_context(words);
        // (An evaluation stopped for low space is abandoned, not an error.)
        if ctx.is_none() && self.stop.is_none() && !self.terminate_runaway_process() {
            self.stop_with(StopReason::Error(String::from("out of object pointers for a new context")));
        }
        ctx
    }

    // ---- returns (ch. 28 "Return Bytecodes") ------------------------------------------------

    /// `returnValue:to:`, inlined into the return bytecodes (120-125). True unless it was a
    /// plain return: it sent cannotReturn: or the stack faulted.
    #[inline(always)]
    fn return_value<H: Host>(&mut self, host: &mut H, value: Oop, context: Oop) -> bool {
        if let Some((loc, length)) = self.memory.unescaped_context(context) {
            // The common case: a sender only the VM has seen, so it is resumable (the VM
            // clears a context's instruction pointer only when it returns, and then it is
            // nobody's sender) and its registers need no checks (`fetch_unescaped_context`).
            self.retire_active_context();
            self.active_context = context;
            self.fetch_unescaped_context(loc, length);
            self.push(value);
            return self.process_fault;
        }
        let resumable = match self.memory.context_loc(context, TEMP_FRAME_START) {
            Some(loc) => self.memory.word_at(loc + INSTRUCTION_POINTER) != NIL,
            None => false,
        };
        if !resumable {
            // cannotReturn: — the active context goes on the stack, so it escapes.
            let ctx = self.active_context;
            self.escape(ctx);
            self.push(ctx);
            self.push(value);
            self.send_selector(host, SELECTOR_CANNOT_RETURN, 1);
            return true;
        }
        self.retire_active_context();
        self.active_context = context;
        self.fetch_context_registers_inline();
        self.push(value);
        self.process_fault
    }

    /// nilContextFields for the returning active context: it can never be resumed. Only a
    /// context the image may still reference needs them cleared; one that never escaped is
    /// recycled (or garbage) and nobody looks at its fields again.
    #[inline(always)]
    fn retire_active_context(&mut self) {
        if !self.memory.recycle_context(self.active_context) {
            self.memory.set_word_at(self.ctx_loc() + SENDER, NIL);
            self.memory.set_word_at(self.ctx_loc() + INSTRUCTION_POINTER, NIL);
        }
    }

    // ---- process switching hook (scheduler.rs) ----------------------------------------------

    /// Stops `run` with `reason` (at the bytecode loop's next send or return).
    pub(crate) fn stop_with(&mut self, reason: StopReason) {
        self.stop = Some(reason);
        self.attention = true;
    }

    pub(crate) fn check_process_switch(&mut self) {
        while let Some(sem) = self.processes.pending_signals.pop_front() {
            self.synchronous_signal(sem);
        }
        if let Some(process) = self.processes.new_process.take() {
            self.stats.process_switches += 1;
            let active = self.active_process();
            let ctx = self.active_context;
            self.escape(ctx);
            self.store_context_registers();
            self.memory.store_pointer(crate::scheduler::SUSPENDED_CONTEXT, active, ctx);
            let scheduler = self.scheduler_pointer();
            self.memory.store_pointer(crate::scheduler::ACTIVE_PROCESS, scheduler, process);
            let new_ctx = self.memory.fetch_pointer(crate::scheduler::SUSPENDED_CONTEXT, process);
            if !self.is_context(new_ctx) {
                // (`Process forContext: (MethodContext new: 0) ...`): it cannot run; the next
                // ready process does.
                if !self.terminate_active_process("the process has no context to resume") {
                    self.stop_with(StopReason::Error(format!("process {process} has no context to resume")));
                }
                return;
            }
            self.active_context = new_ctx;
            self.fetch_context_registers();
        }
    }

    /// Not even a context can be allocated after a collection: the running process has filled
    /// the object table (a runaway recursion, e.g. an error inside error reporting) and the
    /// image could not stop it; its low-space process cannot preempt a process of its own
    /// priority, such as the input process. Rather than stop the VM, the process ends as
    /// `Process>>terminate` would end it: its contexts become garbage, the space comes back,
    /// and the next ready process (the woken low-space process among them) goes on. Answers
    /// false when no process could run instead.
    fn terminate_runaway_process(&mut self) -> bool {
        self.terminate_active_process("object memory full")
    }

    /// A bytecode could not run (`fault_stack`, `unused_bytecode`): its process ends. With no
    /// other process to run, the VM stops.
    fn end_faulted_process(&mut self) {
        self.process_fault = false;
        self.stats.process_faults += 1;
        if !self.terminate_active_process("a bytecode could not run") && self.stop.is_none() {
            self.stop_with(StopReason::Error(format!(
                "a bytecode of method {} could not run and no other process can",
                self.method
            )));
        }
    }

    /// Ends the running process (as `Process>>terminate`), switches to the next one and
    /// collects. False when there is no next process to run.
    fn terminate_active_process(&mut self, why: &str) -> bool {
        use crate::scheduler::{ACTIVE_PROCESS, PRIORITY, SUSPENDED_CONTEXT};
        let next = match self.processes.new_process.take() {
            Some(process) => Some(process),
            None => self.wake_highest_priority(),
        };
        let Some(next) = next else { return false };
        let new_ctx = self.memory.fetch_pointer(SUSPENDED_CONTEXT, next);
        if !self.is_context(new_ctx) {
            self.transfer_to(next);
            return false;
        }
        let running = self.active_process_in_image();
        log::warn!(
            "{why}: terminated the running process {running} (priority {}) after {} contexts",
            integer_value_of(self.memory.fetch_pointer(PRIORITY, running)),
            self.context_depth(self.active_context)
        );
        self.memory.store_pointer(SUSPENDED_CONTEXT, running, NIL);
        let scheduler = self.scheduler_pointer();
        self.memory.store_pointer(ACTIVE_PROCESS, scheduler, next);
        self.stats.process_switches += 1;
        self.active_context = new_ctx;
        self.fetch_context_registers();
        if running == self.hooks.eval_process {
            self.evaluation_process_ended(why);
        }
        // Win the space back now (this also signals the image's low-space semaphore, if it
        // has re-armed it, when space is still low).
        self.collect_all_garbage();
        true
    }

    /// Before `become:` of `a` and `b`: the cached lookups stay valid unless one of the two
    /// took part in a lookup (then they could now find another class, dictionary or method),
    /// so ordinary objects (a Set or an OrderedCollection that grows) keep the cache.
    pub(crate) fn forget_lookups_through(&mut self, a: Oop, b: Oop) {
        if self.memory.in_lookup(a) || self.memory.in_lookup(b) {
            self.flush_method_cache();
        }
    }

    pub(crate) fn flush_method_cache(&mut self) {
        self.method_cache.flush();
    }

    /// Number of contexts in the sender chain of `ctx` (for trace indentation).
    pub(crate) fn context_depth(&self, mut ctx: Oop) -> usize {
        let mut n = 0;
        while self.is_context(ctx) && n < 100_000 {
            n += 1;
            ctx = self.memory.fetch_pointer(SENDER, ctx);
        }
        n
    }

    pub(crate) fn mark_dirty(&mut self, rect: Rect) {
        self.io.damage = self.io.damage.union(&rect);
        self.io.drawn = true;
    }
}
