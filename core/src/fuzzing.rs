//! An entry point for the primitive fuzz target (`fuzz/`); not part of the VM's API.

use crate::host::Host;
use crate::interpreter::Interpreter;
use crate::object_memory::Oop;

impl Interpreter {
    /// Runs primitive `index` with `receiver` and `args` pushed on the active context's stack,
    /// as a send of a method declaring it would. Answers whether it succeeded, or None when the
    /// stack has no room for them. The oops must be SmallIntegers or live objects.
    #[doc(hidden)]
    pub fn fuzz_primitive<H: Host>(&mut self, host: &mut H, index: u16, receiver: Oop, args: &[Oop]) -> Option<bool> {
        if self.sp + 1 + args.len() >= self.memory.fetch_word_length_of(self.active_context) {
            return None;
        }
        self.push(receiver);
        for &a in args {
            self.push(a);
        }
        self.argument_count = args.len();
        Some(crate::primitives::dispatch(self, host, index))
    }
}
