//! Reading the image's own objects: Forms, Strings and Symbols, class names, globals and
//! method dictionaries (Blue Book ch. 27). Every reader checks what it touches, so a damaged
//! or unusual object gives `None`, never a panic; the primitives, the tracer, evaluation and
//! `st80 info` all read objects through here.

use crate::object_memory::*;
use alloc::string::String;
use alloc::vec::Vec;

// Form fields (Blue Book ch. 18: bits width height offset).
pub(crate) const FORM_BITS: usize = 0;
pub(crate) const FORM_WIDTH: usize = 1;
pub(crate) const FORM_HEIGHT: usize = 2;
/// A Form has an `offset` after its extent: four fields in all.
const FORM_FIELDS: usize = 4;

// MethodDictionary fields (ch. 27 "Classes"): the methods Array, then the selectors.
pub(crate) const METHOD_ARRAY: usize = 1;
pub(crate) const SELECTOR_START: usize = 2;

// Association fields.
pub(crate) const KEY_INDEX: usize = 0;
pub(crate) const VALUE_INDEX: usize = 1;

/// Field `index` of pointer object `oop`, if `oop` is a live pointer object that has it.
pub(crate) fn field(m: &ObjectMemory, oop: Oop, index: usize) -> Option<Oop> {
    (m.is_object(oop) && m.is_pointers(oop) && index < m.fetch_word_length_of(oop)).then(|| m.fetch_pointer(index, oop))
}

/// The value of a SmallInteger.
pub(crate) fn small_integer(oop: Oop) -> Option<i16> {
    is_integer_object(oop).then(|| integer_value_of(oop))
}

/// The bytes of any byte object as text (Latin-1): a String, a Symbol, a ByteArray.
pub(crate) fn bytes_text(m: &ObjectMemory, oop: Oop) -> Option<String> {
    if !m.is_object(oop) || !m.is_bytes(oop) {
        return None;
    }
    Some(m.bytes_of(oop).iter().map(|&b| char::from(b)).collect())
}

/// The characters of a String or Symbol (and of nothing else).
pub(crate) fn string_of(m: &ObjectMemory, oop: Oop) -> Option<String> {
    if !m.is_object(oop) {
        return None;
    }
    let class = m.fetch_class_of(oop);
    if class != CLASS_SYMBOL && class != CLASS_STRING {
        return None;
    }
    bytes_text(m, oop)
}

/// Is `oop` the Symbol `name`?
pub(crate) fn is_symbol(m: &ObjectMemory, oop: Oop, name: &str) -> bool {
    m.is_object(oop)
        && m.fetch_class_of(oop) == CLASS_SYMBOL
        && m.is_bytes(oop)
        && m.bytes_of(oop).as_slice() == name.as_bytes()
}

/// The Symbol with this text, if the image has one (a linear scan: not for hot paths).
pub fn find_symbol(m: &ObjectMemory, name: &str) -> Option<Oop> {
    m.all_objects().find(|&o| {
        m.fetch_class_of(o) == CLASS_SYMBOL
            && m.fetch_byte_length_of(o) == name.len()
            && m.bytes_of(o) == name.as_bytes()
    })
}

/// The value of the global variable `name`: the Association (of the class of the guaranteed
/// `SchedulerAssociation`) whose key is the Symbol `name`.
pub fn global(m: &ObjectMemory, name: &str) -> Option<Oop> {
    global_association(m, name).map(|a| m.fetch_pointer(VALUE_INDEX, a))
}

/// The Association `global` takes the value of (a linear scan: not for hot paths).
pub(crate) fn global_association(m: &ObjectMemory, name: &str) -> Option<Oop> {
    association_with_key(m, find_symbol(m, name)?)
}

/// The first Association (in oop order) whose key is `key` (a linear scan).
fn association_with_key(m: &ObjectMemory, key: Oop) -> Option<Oop> {
    m.all_objects().find(|&o| is_association_of(m, o, key))
}

/// Whether `oop` is an Association (of the class of the guaranteed `SchedulerAssociation`)
/// whose key is `key`.
pub(crate) fn is_association_of(m: &ObjectMemory, oop: Oop, key: Oop) -> bool {
    m.is_object(oop)
        && m.fetch_class_of(oop) == m.fetch_class_of(SCHEDULER_ASSOCIATION)
        && m.is_pointers(oop)
        && m.fetch_word_length_of(oop) > VALUE_INDEX
        && m.fetch_pointer(KEY_INDEX, oop) == key
}

/// Symbols and global Associations remembered by name, for the host's evaluations
/// (`Interpreter::start_evaluation`): each lookup is otherwise a scan of the whole object
/// table, and every evaluation needs eight (about 0.4 M instructions, more than many
/// evaluations run). A remembered oop is checked before it is used, since a collection can
/// free a Symbol nothing refers to and hand its oop out again and `become:` can swap it; one
/// that no longer fits is looked up again, so the answers are the scans'.
#[derive(Default)]
pub(crate) struct KnownObjects {
    symbols: Vec<(&'static str, Oop)>,
    associations: Vec<(&'static str, Oop)>,
}

impl KnownObjects {
    /// `find_symbol`, remembered.
    pub(crate) fn symbol(&mut self, m: &ObjectMemory, name: &'static str) -> Option<Oop> {
        if let Some(oop) = Self::remembered(&self.symbols, name) {
            if is_symbol(m, oop, name) {
                return Some(oop);
            }
        }
        let oop = find_symbol(m, name)?;
        Self::remember(&mut self.symbols, name, oop);
        Some(oop)
    }

    /// `global`, its Association remembered; the value is read each time.
    pub(crate) fn global(&mut self, m: &ObjectMemory, name: &'static str) -> Option<Oop> {
        let key = self.symbol(m, name)?;
        let association = match Self::remembered(&self.associations, name) {
            Some(a) if is_association_of(m, a, key) => a,
            _ => {
                // (The key was just found or checked: only the Associations are scanned.)
                let a = association_with_key(m, key)?;
                Self::remember(&mut self.associations, name, a);
                a
            }
        };
        Some(m.fetch_pointer(VALUE_INDEX, association))
    }

    fn remembered(list: &[(&'static str, Oop)], name: &str) -> Option<Oop> {
        list.iter().find(|(n, _)| *n == name).map(|&(_, oop)| oop)
    }

    fn remember(list: &mut Vec<(&'static str, Oop)>, name: &'static str, oop: Oop) {
        list.retain(|(n, _)| *n != name);
        list.push((name, oop));
    }
}

/// The Association in a Dictionary-like object (a Set of Associations: named fields, then
/// the associations or nil) whose key is the Symbol `key`.
pub(crate) fn association_in(m: &ObjectMemory, dictionary: Oop, key: &str) -> Option<Oop> {
    if !m.is_object(dictionary) || !m.is_pointers(dictionary) {
        return None;
    }
    (0..m.fetch_word_length_of(dictionary))
        .filter_map(|i| field(m, dictionary, i))
        .find(|&a| field(m, a, KEY_INDEX).is_some_and(|k| is_symbol(m, k, key)))
}

/// The text of a class's `name` field; None for a metaclass, whose field there holds its sole
/// instance (the Xerox tracer prints its instances as `aMetaclass`).
pub(crate) fn name_field_of_class(m: &ObjectMemory, class: Oop) -> Option<String> {
    if !m.is_object(class) || m.fetch_word_length_of(class) <= CLASS_NAME {
        return None;
    }
    string_of(m, m.fetch_pointer(CLASS_NAME, class))
}

/// A class's name; for a metaclass, "Foo class".
pub fn class_name(m: &ObjectMemory, class: Oop) -> Option<String> {
    if !m.is_object(class) {
        return None;
    }
    if m.fetch_class_of(class) == CLASS_METACLASS {
        // A Metaclass has `thisClass` where a Class has `name`.
        let this = field(m, class, CLASS_NAME)?;
        if m.fetch_class_of(this) == class {
            let mut s = class_name(m, this)?;
            s.push_str(" class");
            return Some(s);
        }
        return None;
    }
    string_of(m, field(m, class, CLASS_NAME)?)
}

/// Is `oop` an instance of the class named `name`?
pub(crate) fn is_instance_of(m: &ObjectMemory, oop: Oop, name: &str) -> bool {
    m.is_object(oop) && class_name(m, m.fetch_class_of(oop)).is_some_and(|s| s == name)
}

/// `lookupMethodInDictionary:` (ch. 27): the method for `selector`, probing from its hash.
pub(crate) fn lookup_method_in_dictionary(m: &ObjectMemory, dictionary: Oop, selector: Oop) -> Option<Oop> {
    if !m.is_object(dictionary) || !m.is_pointers(dictionary) {
        return None;
    }
    let length = m.fetch_word_length_of(dictionary);
    if length <= SELECTOR_START {
        return None;
    }
    let mask = length - SELECTOR_START - 1;
    let mut index = (mask & (selector >> 1) as usize) + SELECTOR_START;
    let mut wrapped = false;
    loop {
        let next = m.fetch_pointer(index, dictionary);
        if next == NIL {
            return None;
        }
        if next == selector {
            let array = m.fetch_pointer(METHOD_ARRAY, dictionary);
            let ok =
                m.is_object(array) && m.is_pointers(array) && m.fetch_word_length_of(array) > index - SELECTOR_START;
            let method = if ok { m.fetch_pointer(index - SELECTOR_START, array) } else { NIL };
            // Only a CompiledMethod can run (a hostile image can store anything there).
            return (m.is_object(method)
                && m.fetch_class_of(method) == CLASS_COMPILED_METHOD
                && !m.is_pointers(method)
                && m.fetch_word_length_of(method) > 0)
                .then_some(method);
        }
        index += 1;
        if index == length {
            if wrapped {
                return None;
            }
            wrapped = true;
            index = SELECTOR_START;
        }
    }
}

/// The method named `selector` in the method dictionary of `class` itself (not its
/// superclasses), found by the selector's text.
pub(crate) fn method_named(m: &ObjectMemory, class: Oop, selector: &str) -> Option<Oop> {
    let dictionary = field(m, class, CLASS_MESSAGE_DICTIONARY)?;
    let methods = field(m, dictionary, METHOD_ARRAY)?;
    (SELECTOR_START..m.fetch_word_length_of(dictionary))
        .find(|&i| field(m, dictionary, i).is_some_and(|s| is_symbol(m, s, selector)))
        .and_then(|i| field(m, methods, i - SELECTOR_START))
}

/// A Form's bitmap and extent, checked: `bits` is a word object holding at least `height`
/// rows of `ceil(width / 16)` words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FormLayout {
    pub bits: Oop,
    pub width: usize,
    pub height: usize,
}

/// The layout of Form `form`, if it is a well-formed one.
pub(crate) fn form_layout(m: &ObjectMemory, form: Oop) -> Option<FormLayout> {
    if !m.is_object(form) || !m.is_pointers(form) || m.fetch_word_length_of(form) < FORM_FIELDS {
        return None;
    }
    let bits = m.fetch_pointer(FORM_BITS, form);
    let width = small_integer(m.fetch_pointer(FORM_WIDTH, form))?;
    let height = small_integer(m.fetch_pointer(FORM_HEIGHT, form))?;
    if width < 0 || height < 0 || !m.is_object(bits) || m.is_pointers(bits) {
        return None;
    }
    let (width, height) = (width as usize, height as usize);
    (m.fetch_word_length_of(bits) >= width.div_ceil(16) * height).then_some(FormLayout { bits, width, height })
}

/// The 16 rows of a 16x16 cursor Form (most significant bit leftmost).
pub(crate) fn cursor_bits(m: &ObjectMemory, form: Oop) -> Option<[u16; 16]> {
    if !m.is_object(form) || !m.is_pointers(form) || m.fetch_word_length_of(form) <= FORM_HEIGHT {
        return None;
    }
    // beCursor: "Fail if the receiver does not match the size expected by the hardware".
    let sixteen = integer_object_of(16);
    if m.fetch_pointer(FORM_WIDTH, form) != sixteen || m.fetch_pointer(FORM_HEIGHT, form) != sixteen {
        return None;
    }
    let bits = m.fetch_pointer(FORM_BITS, form);
    if !m.is_object(bits) || m.is_pointers(bits) || m.fetch_word_length_of(bits) < 16 {
        return None;
    }
    Some(core::array::from_fn(|i| m.fetch_word(i, bits)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// A memory with just enough of the guaranteed objects to read: a pointer class, String
    /// and Symbol classes, an Association class (the class of `SchedulerAssociation`).
    struct Image {
        m: ObjectMemory,
    }

    const CLASS_OBJECT: Oop = 100;
    const CLASS_ASSOCIATION: Oop = 102;
    const CLASS_WORDS: Oop = 104;

    impl Image {
        fn new() -> Image {
            let mut m = ObjectMemory::new();
            let pointers = |fixed: u16| integer_object_of(0) | SPEC_POINTERS | (fixed << 1);
            let bytes = integer_object_of(0) | SPEC_INDEXABLE;
            let words = integer_object_of(0) | SPEC_WORDS | SPEC_INDEXABLE;
            let class = |spec| [NIL, NIL, spec, NIL, NIL, NIL, NIL];
            m.load_object(CLASS_OBJECT, CLASS_METACLASS, Format::Pointers, false, &class(pointers(7)));
            m.load_object(CLASS_ASSOCIATION, CLASS_METACLASS, Format::Pointers, false, &class(pointers(2)));
            m.load_object(CLASS_WORDS, CLASS_METACLASS, Format::Pointers, false, &class(words));
            m.load_object(CLASS_STRING, CLASS_METACLASS, Format::Pointers, false, &class(bytes));
            m.load_object(CLASS_SYMBOL, CLASS_METACLASS, Format::Pointers, false, &class(bytes));
            m.load_object(CLASS_METACLASS, CLASS_OBJECT, Format::Pointers, false, &class(pointers(7)));
            m.load_object(NIL, CLASS_OBJECT, Format::Pointers, false, &[]);
            m.load_object(SCHEDULER_ASSOCIATION, CLASS_ASSOCIATION, Format::Pointers, false, &[NIL, NIL]);
            m.finish_loading();
            Image { m }
        }

        fn bytes(&mut self, class: Oop, text: &str) -> Oop {
            let o = self.m.instantiate_class(class, text.len()).unwrap();
            for (i, b) in text.bytes().enumerate() {
                self.m.store_byte(i, o, b);
            }
            o
        }

        fn pointers(&mut self, class: Oop, fields: &[Oop]) -> Oop {
            let o = self.m.allocate(class, fields.len(), Format::Pointers, false, NIL).unwrap();
            for (i, &f) in fields.iter().enumerate() {
                self.m.store_pointer(i, o, f);
            }
            o
        }

        fn words(&mut self, words: &[u16]) -> Oop {
            let o = self.m.instantiate_class(CLASS_WORDS, words.len()).unwrap();
            for (i, &w) in words.iter().enumerate() {
                self.m.store_word(i, o, w);
            }
            o
        }

        /// A class named `name` (with its metaclass) whose method dictionary holds `methods`.
        fn class(&mut self, name: &str, methods: &[(Oop, Oop)]) -> Oop {
            let size = methods.len().next_power_of_two().max(2);
            let array = self.pointers(CLASS_OBJECT, &alloc::vec![NIL; size]);
            let mut dict = alloc::vec![NIL, array];
            dict.resize(SELECTOR_START + size, NIL);
            let dict = self.pointers(CLASS_OBJECT, &dict);
            for &(selector, method) in methods {
                // Probe as lookupMethodInDictionary: does.
                let mut i = (selector >> 1) as usize & (size - 1);
                while self.m.fetch_pointer(SELECTOR_START + i, dict) != NIL {
                    i = (i + 1) % size;
                }
                self.m.store_pointer(SELECTOR_START + i, dict, selector);
                self.m.store_pointer(i, array, method);
            }
            let symbol = self.bytes(CLASS_SYMBOL, name);
            let spec = integer_object_of(0) | SPEC_POINTERS;
            let meta = self.pointers(CLASS_METACLASS, &[NIL, NIL, spec, NIL, NIL, NIL, NIL]);
            let class = self.pointers(meta, &[NIL, dict, spec, NIL, NIL, NIL, symbol]);
            self.m.store_pointer(CLASS_NAME, meta, class);
            class
        }
    }

    #[test]
    fn strings_symbols_and_globals() {
        let mut im = Image::new();
        let key = im.bytes(CLASS_SYMBOL, "Transcript");
        let text = im.bytes(CLASS_STRING, "hello\r");
        let assoc = im.pointers(CLASS_ASSOCIATION, &[key, text]);
        let dict = im.pointers(CLASS_OBJECT, &[integer_object_of(1), NIL, assoc]);
        let m = &im.m;
        assert_eq!(string_of(m, text).as_deref(), Some("hello\r"));
        assert_eq!(string_of(m, dict), None, "not a String");
        assert_eq!(bytes_text(m, integer_object_of(3)), None);
        assert!(is_symbol(m, key, "Transcript"));
        assert!(!is_symbol(m, text, "hello\r"), "a String is not a Symbol");
        assert_eq!(find_symbol(m, "Transcript"), Some(key));
        assert_eq!(find_symbol(m, "Transcrip"), None);
        assert_eq!(global(m, "Transcript"), Some(text));
        assert_eq!(global(m, "Display"), None);
        assert_eq!(association_in(m, dict, "Transcript"), Some(assoc));
        assert_eq!(association_in(m, dict, "Smalltalk"), None);
        assert_eq!(field(m, dict, 3), None, "out of range");
        assert_eq!(field(m, text, 0), None, "not a pointer object");
    }

    #[test]
    fn remembered_symbols_and_globals_answer_as_the_scans_do_after_the_objects_change() {
        let mut im = Image::new();
        let key = im.bytes(CLASS_SYMBOL, "Compiler");
        let (first, second, third) = (integer_object_of(1), integer_object_of(2), integer_object_of(3));
        let assoc = im.pointers(CLASS_ASSOCIATION, &[key, first]);
        let mut known = KnownObjects::default();
        assert_eq!(known.global(&im.m, "Compiler"), Some(first));
        assert_eq!(known.symbol(&im.m, "Compiler"), Some(key));
        assert_eq!(known.global(&im.m, "Transcript"), None);
        // The value is read each time.
        im.m.store_pointer(VALUE_INDEX, assoc, second);
        assert_eq!(known.global(&im.m, "Compiler"), Some(second));
        // The remembered Association no longer has the key: the one that has is found.
        let other = im.bytes(CLASS_SYMBOL, "Other");
        im.m.store_pointer(KEY_INDEX, assoc, other);
        let moved = im.pointers(CLASS_ASSOCIATION, &[key, third]);
        assert_eq!(known.global(&im.m, "Compiler"), Some(third));
        assert_eq!(global_association(&im.m, "Compiler"), Some(moved));
        // `become:` swaps the remembered Symbol with a String: the Symbol is found where it
        // went, as a scan finds it.
        let string = im.bytes(CLASS_STRING, "Compiler");
        im.m.swap_pointers_of(key, string);
        assert_eq!(known.symbol(&im.m, "Compiler"), Some(string));
        assert_eq!(known.symbol(&im.m, "Compiler"), find_symbol(&im.m, "Compiler"));
    }

    #[test]
    fn class_names_and_method_lookup() {
        let mut im = Image::new();
        let selectors: Vec<Oop> = ["printOn:", "size", "at:", "x"].iter().map(|s| im.bytes(CLASS_SYMBOL, s)).collect();
        // Lookup answers only CompiledMethods (byte objects of that class), so the methods
        // here are such objects; the last entry holds a SmallInteger, which lookup refuses.
        let mut methods: Vec<(Oop, Oop)> =
            selectors.iter().map(|&s| (s, im.bytes(CLASS_COMPILED_METHOD, "code"))).collect();
        methods[3].1 = integer_object_of(3);
        let point = im.class("Point", &methods);
        let instance = im.pointers(point, &[]);
        let m = &im.m;
        let meta = m.fetch_class_of(point);
        assert_eq!(class_name(m, point).as_deref(), Some("Point"));
        assert_eq!(class_name(m, meta).as_deref(), Some("Point class"));
        assert_eq!(name_field_of_class(m, point).as_deref(), Some("Point"));
        assert_eq!(name_field_of_class(m, meta), None, "a metaclass has no name of its own");
        assert!(is_instance_of(m, instance, "Point"));
        let dict = m.fetch_pointer(CLASS_MESSAGE_DICTIONARY, point);
        for &(s, method) in &methods[..3] {
            assert_eq!(lookup_method_in_dictionary(m, dict, s), Some(method));
        }
        assert_eq!(lookup_method_in_dictionary(m, dict, selectors[3]), None, "not a CompiledMethod");
        assert_eq!(lookup_method_in_dictionary(m, dict, NIL), None);
        assert_eq!(method_named(m, point, "at:"), Some(methods[2].1));
        assert_eq!(method_named(m, point, "y"), None);
    }

    #[test]
    fn forms_and_cursors() {
        let mut im = Image::new();
        let rows: Vec<u16> = (0..16).map(|i| 1 << i).collect();
        let bits = im.words(&rows);
        let sixteen = integer_object_of(16);
        let cursor = im.pointers(CLASS_OBJECT, &[bits, sixteen, sixteen, NIL]);
        let wide = im.pointers(CLASS_OBJECT, &[bits, integer_object_of(17), integer_object_of(8), NIL]);
        let too_tall = im.pointers(CLASS_OBJECT, &[bits, sixteen, integer_object_of(17), NIL]);
        let negative = im.pointers(CLASS_OBJECT, &[bits, integer_object_of(-1), sixteen, NIL]);
        let m = &im.m;
        assert_eq!(cursor_bits(m, cursor), Some(core::array::from_fn(|i| 1 << i)));
        assert_eq!(cursor_bits(m, wide), None, "a cursor is 16x16");
        assert_eq!(form_layout(m, cursor), Some(FormLayout { bits, width: 16, height: 16 }));
        assert_eq!(form_layout(m, wide), Some(FormLayout { bits, width: 17, height: 8 }), "two words a row");
        assert_eq!(form_layout(m, too_tall), None, "more rows than bits");
        assert_eq!(form_layout(m, negative), None);
        assert_eq!(form_layout(m, bits), None, "not a Form");
    }
}
