//! An entry point for the primitive fuzz target (`fuzz/`); not part of the VM's API.

use crate::host::Host;
use crate::interpreter::Interpreter;
use crate::object_memory::{ObjectMemory, Oop};

impl Interpreter {
    /// Runs primitive `index` with `receiver` and `args` pushed on the active context's stack,
    /// as a send of a method declaring it would. Answers whether it succeeded, or None when the
    /// stack has no room for them. The oops must be SmallIntegers or live objects.
    #[doc(hidden)]
    pub fn fuzz_primitive<H: Host>(&mut self, host: &mut H, index: u16, receiver: Oop, args: &[Oop]) -> Option<bool> {
        if self.stack_pointer() + 1 + args.len() >= self.memory.fetch_word_length_of(self.active_context) {
            return None;
        }
        self.push(receiver);
        for &a in args {
            self.push(a);
        }
        self.argument_count = args.len();
        Some(crate::primitives::dispatch(self, host, index).is_ok())
    }
}

/// One run of the primitives fuzz target (fuzz/fuzz_targets/primitives.rs), shared with the
/// regression tests: `data` is [primitive, argument count % 7, cycles / 4, then little-endian
/// 16-bit oops for the receiver and arguments]; odd values are SmallIntegers, even ones pick
/// one of `objects` (the live objects of `memory`). The primitive runs on a copy of `memory`,
/// then the image runs on for the cycles. Answers whether the primitive succeeded (None when
/// it did not run).
#[doc(hidden)]
pub fn run_primitive_input(memory: &ObjectMemory, objects: &[Oop], data: &[u8]) -> Option<bool> {
    run_primitive_input_with_stats(memory, objects, data).map(|(ok, _)| ok)
}

/// `run_primitive_input`, also answering the interpreter's counters after the run.
#[doc(hidden)]
pub fn run_primitive_input_with_stats(
    memory: &ObjectMemory,
    objects: &[Oop],
    data: &[u8],
) -> Option<(bool, crate::interpreter::Stats)> {
    if data.len() < 5 || objects.is_empty() {
        return None;
    }
    let index = data[0] as u16;
    let nargs = (data[1] % 7) as usize;
    let cycles = data[2] as u64 * 4;
    let oops: alloc::vec::Vec<Oop> = data[3..]
        .chunks_exact(2)
        .take(nargs + 1)
        .map(|c| {
            let v = u16::from_le_bytes([c[0], c[1]]);
            if v & 1 == 1 {
                v
            } else {
                objects[(v as usize >> 1) % objects.len()]
            }
        })
        .collect();
    if oops.len() < nargs + 1 {
        return None;
    }
    let mut vm = Interpreter::new(memory.clone()).ok()?;
    vm.use_virtual_clock(crate::VirtualClock::default());
    let mut host = crate::NullHost;
    let ok = vm.fuzz_primitive(&mut host, index, oops[0], &oops[1..])?;
    vm.run(&mut host, cycles);
    Some((ok, vm.stats))
}
