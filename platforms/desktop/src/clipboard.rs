//! Copy out: the image's own copy and cut (`ParagraphEditor>>copySelection`, `cut`) store the
//! text in the class variable `CurrentSelection` of ParagraphEditor (a Text: string and runs).
//! The desktop reads that variable (read-only) between slices and hands new text to the host
//! clipboard, so what the user copies in Smalltalk can be pasted in other programs.

use st80_core::object_memory::{is_integer_object, ObjectMemory, Oop, CLASS_STRING};
use st80_core::summary::class_name;
use st80_core::Interpreter;

/// `Class` fields (Behavior: superclass methodDict format subclasses; ClassDescription:
/// instanceVariables organization; Class: name classPool sharedPools).
const CLASS_POOL: usize = 7;

/// Watches ParagraphEditor's `CurrentSelection` for new text.
pub struct SelectionWatch {
    /// The class pool's Association for `CurrentSelection`.
    association: Oop,
    last: Vec<u8>,
}

impl SelectionWatch {
    /// Finds the variable; None if the image has no such editor.
    pub fn new(vm: &Interpreter) -> Option<SelectionWatch> {
        let m = &vm.memory;
        let class = vm.global("ParagraphEditor")?;
        if class_name(m, class).as_deref() != Some("ParagraphEditor") {
            return None;
        }
        let pool = pointer(m, class, CLASS_POOL)?;
        let key = vm.find_symbol("CurrentSelection")?;
        // A Dictionary here is a Set of Associations: tally, then the indexed slots.
        let association = (1..m.fetch_word_length_of(pool))
            .filter_map(|i| pointer(m, pool, i))
            .find(|&a| pointer(m, a, 0) == Some(key) && m.fetch_word_length_of(a) == 2)?;
        let last = selection_bytes(m, association).unwrap_or_default();
        Some(SelectionWatch { association, last })
    }

    /// The selection's text if it changed since the last call (CR as newline).
    pub fn changed(&mut self, vm: &Interpreter) -> Option<String> {
        let bytes = selection_bytes(&vm.memory, self.association)?;
        if bytes == self.last {
            return None;
        }
        self.last = bytes;
        Some(host_text(&self.last))
    }
}

/// Field `index` of a pointer object, if it has one and it is an object.
fn pointer(m: &ObjectMemory, oop: Oop, index: usize) -> Option<Oop> {
    if is_integer_object(oop) || !m.is_object(oop) || !m.is_pointers(oop) || index >= m.fetch_word_length_of(oop) {
        return None;
    }
    let field = m.fetch_pointer(index, oop);
    (!is_integer_object(field) && m.is_object(field)).then_some(field)
}

/// The characters of the association's value: a Text (its string) or a String.
fn selection_bytes(m: &ObjectMemory, association: Oop) -> Option<Vec<u8>> {
    let value = pointer(m, association, 1)?;
    let string = if m.fetch_class_of(value) == CLASS_STRING { value } else { pointer(m, value, 0)? };
    (m.fetch_class_of(string) == CLASS_STRING).then(|| m.bytes_of(string))
}

/// The host's form of the image's text: CR becomes newline; codes outside ASCII are dropped
/// (`_` stays `_`, which the image shows as a left arrow, so the text pastes back the same).
pub fn host_text(bytes: &[u8]) -> String {
    bytes
        .iter()
        .filter_map(|&b| match b {
            b'\r' => Some('\n'),
            b'\t' | b'\n' | 0x20..=0x7e => Some(char::from(b)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_text_uses_newlines() {
        assert_eq!(super::host_text(b"x _ 3.\ry\t^x\xa0"), "x _ 3.\ny\t^x");
    }
}
