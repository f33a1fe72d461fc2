//! The bytecode interpreter (Blue Book ch. 28). STUB: being written.
use crate::host::Host;
use crate::object_memory::*;

/// Why `run` returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The requested number of cycles (bytecodes) ran.
    CyclesDone,
    /// The image asked to quit (primitive 113).
    Quit,
    /// The VM cannot go on (e.g. no method for doesNotUnderstand:); the text says why.
    Error(alloc::string::String),
}

/// Which execution trace to emit through `Host::trace`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceLevel {
    /// Every bytecode, send, primitive and return, like Xerox's `trace2`.
    Bytecodes,
    /// Sends, primitives and returns indented by context depth, like Xerox's `trace3`.
    Sends,
}

/// The current Display form: `bits` holds `height` rows of `raster()` words, 1 bits black.
pub struct DisplayForm<'a> {
    pub width: usize,
    pub height: usize,
    pub bits: &'a [u16],
}

impl DisplayForm<'_> {
    pub fn raster(&self) -> usize {
        self.width.div_ceil(16)
    }
    pub fn pixel(&self, x: usize, y: usize) -> bool {
        let w = self.bits[y * self.raster() + x / 16];
        w & (0x8000 >> (x % 16)) != 0
    }
}

pub struct Interpreter {
    pub memory: ObjectMemory,
}

impl Interpreter {
    pub fn new(memory: ObjectMemory) -> Result<Interpreter, alloc::string::String> {
        Ok(Interpreter { memory })
    }
    pub fn run<H: Host>(&mut self, _host: &mut H, _cycles: u64) -> StopReason {
        todo!()
    }
    pub fn cycles(&self) -> u64 {
        0
    }
    pub fn set_trace(&mut self, _level: Option<TraceLevel>) {}
    pub fn display(&self) -> Option<DisplayForm<'_>> {
        None
    }
}
