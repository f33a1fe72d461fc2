//! Execution traces in the format of Xerox's `trace2` (every bytecode) and `trace3` (sends and
//! returns indented by context depth), so a run can be compared line by line with the traces
//! Xerox shipped with the image.
//!
//! Objects print as the Xerox tracer printed them: SmallIntegers in decimal, `nil` and `false`
//! by name, everything else as "a" + class name (so `true` is `aTrue`, and a class, whose class
//! is a metaclass without a name, is `aMetaclass`).

use crate::host::Host;
use crate::interpreter::Interpreter;
use crate::object_memory::*;
use crate::objects;
use alloc::format;
use alloc::string::String;

/// How much the interpreter traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceLevel {
    /// Every bytecode, send, primitive and return, like Xerox's `trace2`.
    Bytecodes,
    /// Sends, primitives and returns indented by context depth, like Xerox's `trace3`.
    Sends,
}

pub(crate) struct TraceState {
    level: TraceLevel,
    /// Depth of the context that was active when tracing began (printed with no indent).
    base_depth: usize,
}

impl TraceState {
    pub(crate) fn new(level: TraceLevel, base_depth: usize) -> TraceState {
        TraceState { level, base_depth }
    }
}

const SPECIAL_NAMES: [&str; 32] = [
    "+",
    "-",
    "<",
    ">",
    "<=",
    ">=",
    "=",
    "~=",
    "*",
    "/",
    "\\\\",
    "@",
    "bitShift:",
    "//",
    "bitAnd:",
    "bitOr:",
    "at:",
    "at:put:",
    "size",
    "next",
    "nextPut:",
    "atEnd",
    "==",
    "class",
    "blockCopy:",
    "value",
    "value:",
    "do:",
    "new",
    "new:",
    "x",
    "y",
];

/// The Xerox tracer's name for a bytecode.
pub fn bytecode_name(bc: u8) -> String {
    let n = bc as usize;
    match bc {
        0..=15 => format!("Push Receiver Instance Variable {}", n & 15),
        16..=31 => format!("Push Temporary Variable {}", n & 15),
        32..=63 => format!("Push Literal Constant {}", n & 31),
        64..=95 => format!("Push Literal Variable {}", n & 31),
        96..=103 => format!("Pop and Store Instance Variable {}", n & 7),
        104..=111 => format!("Pop and Store Temporary Variable {}", n & 7),
        112 => "Push self".into(),
        113 => "Push true".into(),
        114 => "Push false".into(),
        115 => "Push nil".into(),
        116 => "Push -1".into(),
        117 => "Push 0".into(),
        118 => "Push 1".into(),
        119 => "Push 2".into(),
        120 => "Return self From Method".into(),
        121 => "Return true From Method".into(),
        122 => "Return false From Method".into(),
        123 => "Return nil From Method".into(),
        124 => "Return Stack Top From Method".into(),
        125 => "Return Stack Top From Block".into(),
        128 => "Extended Push".into(),
        129 => "Extended Store".into(),
        130 => "Extended Pop and Store".into(),
        131 => "Single Extended Send".into(),
        132 => "Double Extended Send".into(),
        133 => "Single Send to Super".into(),
        134 => "Double Send to Super".into(),
        135 => "Pop Stack".into(),
        136 => "Duplicate Top".into(),
        137 => "Push Active Context".into(),
        144..=151 => format!("Jump {}", (n & 7) + 1),
        152..=159 => format!("Pop and Jump on False {}", (n & 7) + 1),
        // Long jumps: the Xerox tracer printed the name without the offset.
        160..=167 => "Jump ".into(),
        168..=171 => "Pop and Jump on True ".into(),
        172..=175 => "Pop and Jump on False ".into(),
        176..=207 => format!("Send {}", SPECIAL_NAMES[n - 176]),
        208..=223 => format!("Send Literal Selector #{} With No Arguments", n & 15),
        224..=239 => format!("Send Literal Selector #{} With One Argument", n & 15),
        240..=255 => format!("Send Literal Selector #{} With Two Arguments", n & 15),
        _ => "Unused".into(),
    }
}

impl Interpreter {
    fn trace_indent(&self, extra: usize) -> String {
        let Some(t) = &self.trace else {
            return String::new();
        };
        if t.level == TraceLevel::Bytecodes {
            return String::new();
        }
        let depth = self.context_depth(self.active_context) + extra;
        "\t".repeat(depth.saturating_sub(t.base_depth))
    }

    fn trace_level(&self) -> Option<TraceLevel> {
        self.trace.as_ref().map(|t| t.level)
    }

    pub(crate) fn trace_bytecode<H: Host>(&mut self, host: &mut H, bc: u8) {
        if self.trace_level() == Some(TraceLevel::Bytecodes) {
            host.trace(&format!("Bytecode <{bc}> {}", bytecode_name(bc)));
        }
    }

    pub(crate) fn trace_send<H: Host>(&mut self, host: &mut H, receiver: Oop, selector: Oop, count: usize) {
        let mut line = format!(
            "{}[cycle={}]  {} {}",
            self.trace_indent(0),
            self.cycles,
            self.print_oop(receiver),
            objects::bytes_text(&self.memory, selector).unwrap_or_else(|| format!("<{selector}>"))
        );
        for i in 0..count {
            line.push(' ');
            line.push_str(&self.print_oop(self.stack_value(count - 1 - i)));
        }
        host.trace(&line);
    }

    pub(crate) fn trace_primitive<H: Host>(&mut self, host: &mut H, index: u16) {
        if self.trace.is_some() {
            host.trace(&format!("{}Primitive #{index}", self.trace_indent(0)));
        }
    }

    pub(crate) fn trace_return<H: Host>(&mut self, host: &mut H, value: Oop, block: bool) {
        if self.trace.is_none() {
            return;
        }
        // Printed at the depth of the returning context, one deeper than its sender's sends.
        let indent = self.trace_indent(0);
        let kind = if block { "block" } else { "method" };
        host.trace(&format!("{indent}^ ({kind}) of {}", self.print_oop(value)));
    }

    fn print_oop(&self, oop: Oop) -> String {
        if is_integer_object(oop) {
            return format!("{}", integer_value_of(oop));
        }
        match oop {
            NIL => "nil".into(),
            FALSE => "false".into(),
            _ => {
                let class = self.memory.fetch_class_of(oop);
                let name = objects::name_field_of_class(&self.memory, class).unwrap_or_else(|| "Metaclass".into());
                format!("a{name}")
            }
        }
    }
}
