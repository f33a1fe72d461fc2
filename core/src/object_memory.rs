//! Object memory (Blue Book ch. 27 interface, ch. 30 implementation ideas).
//!
//! An object pointer (oop) is 16 bits: odd values are SmallIntegers (15-bit, two's complement),
//! even values index the object table (`oop >> 1`). Unlike the book we keep each object's
//! class, length and format in its object-table entry and only the fields in one flat word
//! heap, so `fetch_pointer` is two loads and compaction only rewrites table entries.
//!
//! Reclamation is mark-sweep-compact, run only at safe points between bytecodes (so a primitive
//! holding oops in locals never sees them move or vanish). MethodContexts that never escaped
//! (see `interpreter.rs`) are recycled on return, which removes most of the garbage the book's
//! reference counting was designed for.

use alloc::vec;
use alloc::vec::Vec;

pub type Oop = u16;

// Guaranteed object pointers (Blue Book ch. 27, "Objects used by the interpreter").
pub const NIL: Oop = 2;
pub const FALSE: Oop = 4;
pub const TRUE: Oop = 6;
pub const SCHEDULER_ASSOCIATION: Oop = 8;
pub const CLASS_SMALL_INTEGER: Oop = 12;
pub const CLASS_STRING: Oop = 14;
pub const CLASS_ARRAY: Oop = 16;
pub const SMALLTALK: Oop = 18;
pub const CLASS_FLOAT: Oop = 20;
pub const CLASS_METHOD_CONTEXT: Oop = 22;
pub const CLASS_BLOCK_CONTEXT: Oop = 24;
pub const CLASS_POINT: Oop = 26;
pub const CLASS_LARGE_POSITIVE_INTEGER: Oop = 28;
pub const CLASS_DISPLAY_BITMAP: Oop = 30;
pub const CLASS_MESSAGE: Oop = 32;
pub const CLASS_COMPILED_METHOD: Oop = 34;
pub const CLASS_SEMAPHORE: Oop = 38;
pub const CLASS_CHARACTER: Oop = 40;
pub const SELECTOR_DOES_NOT_UNDERSTAND: Oop = 42;
pub const SELECTOR_CANNOT_RETURN: Oop = 44;
pub const SPECIAL_SELECTORS: Oop = 48;
pub const CHARACTER_TABLE: Oop = 50;
pub const SELECTOR_MUST_BE_BOOLEAN: Oop = 52;
pub const CLASS_SYMBOL: Oop = 56;
pub const CLASS_METACLASS: Oop = 60;
/// Every oop below this is a root of the garbage collector: the interpreter names them directly.
pub const LAST_GUARANTEED_OOP: Oop = 60;

/// Largest number of objects: oops are even 16-bit values.
pub const MAX_OBJECTS: usize = 32768;

// Class instance specification bits, as stored in the SmallInteger oop (ch. 27 "Classes").
pub const SPEC_POINTERS: u16 = 0x8000;
pub const SPEC_WORDS: u16 = 0x4000;
pub const SPEC_INDEXABLE: u16 = 0x2000;
pub const CLASS_SUPERCLASS: usize = 0;
pub const CLASS_MESSAGE_DICTIONARY: usize = 1;
pub const CLASS_INSTANCE_SPEC: usize = 2;
/// `name` instance variable of a Class (a Metaclass has `thisClass` there instead).
pub const CLASS_NAME: usize = 6;

// Object table entry flags.
const F_FREE: u8 = 1;
const F_POINTERS: u8 = 2;
/// Byte-indexable: the last word may hold only one byte (see `F_ODD`).
const F_BYTES: u8 = 4;
const F_ODD: u8 = 8;
const F_MARK: u8 = 16;
/// A MethodContext that may be referenced from somewhere other than its callee's sender field.
const F_ESCAPED: u8 = 32;

#[derive(Clone, Copy, Debug, Default)]
pub struct Entry {
    /// Word index of field 0 in `heap`.
    pub loc: u32,
    /// Number of 16-bit words of fields.
    pub len: u32,
    pub class: Oop,
    flags: u8,
}

/// How an object's fields are interpreted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pointers,
    Words,
    Bytes,
}

#[inline(always)]
pub fn is_integer_object(oop: Oop) -> bool {
    oop & 1 == 1
}
#[inline(always)]
pub fn integer_value_of(oop: Oop) -> i16 {
    (oop as i16) >> 1
}
#[inline(always)]
pub fn integer_object_of(value: i16) -> Oop {
    ((value as u16) << 1) | 1
}
pub const MIN_SMALL_INTEGER: i32 = -16384;
pub const MAX_SMALL_INTEGER: i32 = 16383;
#[inline(always)]
pub fn is_integer_value(value: i32) -> bool {
    (MIN_SMALL_INTEGER..=MAX_SMALL_INTEGER).contains(&value)
}

#[derive(Clone)]
pub struct ObjectMemory {
    pub(crate) heap: Vec<u16>,
    /// First unused word of `heap` (allocation is a bump; compaction slides everything down).
    top: usize,
    ot: Vec<Entry>,
    free_oops: Vec<Oop>,
    /// Heap words we may grow to before collecting becomes mandatory.
    heap_limit: usize,
    /// Set by allocation when space runs low; the interpreter collects at its next safe point.
    pub gc_requested: bool,
    /// Free MethodContexts by size (small, large), reused without a collection.
    context_pool: [Vec<Oop>; 2],
    pub gc_count: u64,
    /// Free oops below which allocation asks for a collection. Halved after a collection
    /// that could not get back above the reserve, so a nearly full memory is not collected
    /// at every safe point.
    oop_gc_threshold: usize,
}

/// The most words the objects may take in an image file, headers included (16 segments of 64K
/// words, Blue Book ch. 30): memory is full there, so anything in memory can be saved.
pub const MAX_SPACE_WORDS: usize = 16 << 16;
/// The most fields one object can have: its size word (header included) is 16 bits.
pub const MAX_OBJECT_FIELDS: usize = 0xffff - 2;

/// Spare oops and words kept so that primitives between safe points never run out.
const OOP_RESERVE: usize = 1500;
const WORD_RESERVE: usize = 64 * 1024;
pub const SMALL_CONTEXT_WORDS: u32 = 18;
pub const LARGE_CONTEXT_WORDS: u32 = 38;

impl ObjectMemory {
    /// An empty memory with `heap_words` of room; objects are added with `load_object`.
    pub fn new(heap_words: usize) -> ObjectMemory {
        let heap_limit = heap_words.max(1 << 20);
        ObjectMemory {
            heap: vec![0; heap_limit],
            top: 0,
            ot: vec![Entry { flags: F_FREE, ..Entry::default() }; MAX_OBJECTS],
            free_oops: Vec::new(),
            heap_limit,
            gc_requested: false,
            context_pool: [Vec::new(), Vec::new()],
            gc_count: 0,
            oop_gc_threshold: OOP_RESERVE,
        }
    }

    /// Installs an object read from an image at a fixed oop (used by the loader).
    pub fn load_object(&mut self, oop: Oop, class: Oop, format: Format, odd: bool, fields: &[u16]) {
        let loc = self.reserve(fields.len());
        self.heap[loc..loc + fields.len()].copy_from_slice(fields);
        self.ot[(oop >> 1) as usize] = Entry {
            loc: loc as u32,
            len: fields.len() as u32,
            class,
            flags: format_flags(format) | if odd { F_ODD } else { 0 },
        };
    }

    /// Sets an object's format (the loader learns it from the class after reading the object).
    pub fn set_format(&mut self, oop: Oop, format: Format) {
        let e = &mut self.ot[(oop >> 1) as usize];
        e.flags = (e.flags & !(F_POINTERS | F_BYTES)) | format_flags(format);
    }

    /// Called once after loading: builds the free-oop list (lowest oops handed out first).
    pub fn finish_loading(&mut self) {
        self.free_oops =
            (1..MAX_OBJECTS).rev().filter(|&i| self.ot[i].flags & F_FREE != 0).map(|i| (i << 1) as Oop).collect();
        // Guaranteed oops are GC roots; never hand one out for a new object.
        self.free_oops.retain(|&o| o > LAST_GUARANTEED_OOP);
    }

    fn reserve(&mut self, words: usize) -> usize {
        let loc = self.top;
        if loc + words > self.heap.len() {
            let new_len = (self.heap.len() * 2).max(loc + words + WORD_RESERVE);
            self.heap.resize(new_len, 0);
            self.heap_limit = self.heap_limit.max(new_len);
        }
        self.top += words;
        if self.heap.len() - self.top < WORD_RESERVE {
            self.gc_requested = true;
        }
        loc
    }

    // ---- object table queries -------------------------------------------------------------

    #[inline(always)]
    pub fn entry(&self, oop: Oop) -> &Entry {
        &self.ot[(oop >> 1) as usize]
    }
    /// True when `oop` names a live object (not a SmallInteger, not a free entry).
    #[inline]
    pub fn is_object(&self, oop: Oop) -> bool {
        !is_integer_object(oop) && self.ot[(oop >> 1) as usize].flags & F_FREE == 0
    }
    #[inline(always)]
    pub fn fetch_class_of(&self, oop: Oop) -> Oop {
        if is_integer_object(oop) {
            CLASS_SMALL_INTEGER
        } else {
            self.ot[(oop >> 1) as usize].class
        }
    }
    #[inline(always)]
    pub fn fetch_word_length_of(&self, oop: Oop) -> usize {
        self.ot[(oop >> 1) as usize].len as usize
    }
    #[inline]
    pub fn fetch_byte_length_of(&self, oop: Oop) -> usize {
        let e = &self.ot[(oop >> 1) as usize];
        e.len as usize * 2 - (e.flags & F_ODD != 0) as usize
    }
    pub fn format_of(&self, oop: Oop) -> Format {
        let f = self.ot[(oop >> 1) as usize].flags;
        if f & F_POINTERS != 0 {
            Format::Pointers
        } else if f & F_BYTES != 0 {
            Format::Bytes
        } else {
            Format::Words
        }
    }
    #[inline]
    pub fn is_pointers(&self, oop: Oop) -> bool {
        self.ot[(oop >> 1) as usize].flags & F_POINTERS != 0
    }
    #[inline]
    pub fn is_bytes(&self, oop: Oop) -> bool {
        self.ot[(oop >> 1) as usize].flags & F_BYTES != 0
    }
    pub fn is_odd(&self, oop: Oop) -> bool {
        self.ot[(oop >> 1) as usize].flags & F_ODD != 0
    }

    // ---- field access (ch. 27 "Object Memory Interface") --------------------------------

    #[inline(always)]
    pub fn fetch_pointer(&self, index: usize, oop: Oop) -> Oop {
        let e = &self.ot[(oop >> 1) as usize];
        debug_assert!(index < e.len as usize, "field {index} of {oop} out of range");
        self.heap[e.loc as usize + index]
    }
    #[inline(always)]
    pub fn store_pointer(&mut self, index: usize, oop: Oop, value: Oop) {
        let e = &self.ot[(oop >> 1) as usize];
        debug_assert!(index < e.len as usize, "field {index} of {oop} out of range");
        self.heap[e.loc as usize + index] = value;
    }
    #[inline(always)]
    pub fn fetch_word(&self, index: usize, oop: Oop) -> u16 {
        self.fetch_pointer(index, oop)
    }
    #[inline(always)]
    pub fn store_word(&mut self, index: usize, oop: Oop, value: u16) {
        self.store_pointer(index, oop, value)
    }
    /// Bytes are packed big-endian in words (byte 0 is the high byte of word 0), whatever the
    /// host or the image file's byte order.
    #[inline(always)]
    pub fn fetch_byte(&self, index: usize, oop: Oop) -> u8 {
        let w = self.fetch_pointer(index / 2, oop);
        if index & 1 == 0 {
            (w >> 8) as u8
        } else {
            w as u8
        }
    }
    #[inline(always)]
    pub fn store_byte(&mut self, index: usize, oop: Oop, value: u8) {
        let w = self.fetch_pointer(index / 2, oop);
        let w = if index & 1 == 0 { (w & 0x00ff) | ((value as u16) << 8) } else { (w & 0xff00) | value as u16 };
        self.store_pointer(index / 2, oop, w)
    }
    /// The fields of an object as a slice (e.g. a bitmap for BitBlt or the display).
    pub fn words(&self, oop: Oop) -> &[u16] {
        let e = &self.ot[(oop >> 1) as usize];
        &self.heap[e.loc as usize..(e.loc + e.len) as usize]
    }
    pub fn words_mut(&mut self, oop: Oop) -> &mut [u16] {
        let e = self.ot[(oop >> 1) as usize];
        &mut self.heap[e.loc as usize..(e.loc + e.len) as usize]
    }
    /// The word index in `heap` of field 0, for hot loops that index the heap directly.
    #[inline(always)]
    pub fn loc(&self, oop: Oop) -> usize {
        self.ot[(oop >> 1) as usize].loc as usize
    }
    #[inline(always)]
    pub fn heap(&self) -> &[u16] {
        &self.heap
    }
    #[inline(always)]
    pub fn heap_mut(&mut self) -> &mut [u16] {
        &mut self.heap
    }
    pub fn bytes_of(&self, oop: Oop) -> Vec<u8> {
        (0..self.fetch_byte_length_of(oop)).map(|i| self.fetch_byte(i, oop)).collect()
    }

    // ---- classes ----------------------------------------------------------------------------

    /// The instance specification of `class`; that of a non-indexable object without fields
    /// when `class` is no class (a hostile image can make it anything).
    pub fn instance_specification(&self, class: Oop) -> u16 {
        if !self.is_object(class) || !self.is_pointers(class) || self.fetch_word_length_of(class) <= CLASS_INSTANCE_SPEC
        {
            return integer_object_of(0);
        }
        let spec = self.fetch_pointer(CLASS_INSTANCE_SPEC, class);
        if is_integer_object(spec) {
            spec
        } else {
            integer_object_of(0)
        }
    }
    /// Number of named (fixed) fields of instances of `class`.
    pub fn fixed_fields_of_class(&self, class: Oop) -> usize {
        ((self.instance_specification(class) >> 1) & 0x7ff) as usize
    }
    pub fn format_of_class(&self, class: Oop) -> Format {
        let spec = self.instance_specification(class);
        if spec & SPEC_POINTERS != 0 {
            Format::Pointers
        } else if spec & SPEC_WORDS != 0 {
            Format::Words
        } else {
            Format::Bytes
        }
    }

    // ---- allocation -------------------------------------------------------------------------

    pub fn oops_left(&self) -> usize {
        self.free_oops.len()
    }
    /// Words left before the object space is full (see [`MAX_SPACE_WORDS`]).
    pub fn words_left(&self) -> usize {
        MAX_SPACE_WORDS.saturating_sub(self.space_used())
    }
    /// Words the objects would take in an image file: fields, plus a 2-word header for each
    /// entry in use (counting the never-allocated low entries too, a few words too many).
    fn space_used(&self) -> usize {
        self.top + 2 * (MAX_OBJECTS - self.free_oops.len())
    }
    pub fn object_count(&self) -> usize {
        self.ot.iter().filter(|e| e.flags & F_FREE == 0).count() - 1
    }
    pub fn heap_words_used(&self) -> usize {
        self.top
    }

    /// Allocates an object of `words` fields filled with `fill`. Fails (None) only when no oop
    /// is left even in the reserve; the caller then fails its primitive.
    pub fn allocate(&mut self, class: Oop, words: usize, format: Format, odd: bool, fill: u16) -> Option<Oop> {
        if words > MAX_OBJECT_FIELDS {
            return None;
        }
        let after = self.space_used() + words + 2;
        if after > MAX_SPACE_WORDS - WORD_RESERVE {
            // Collect at the next safe point; past the reserve, fail (the caller fails its
            // primitive) rather than grow beyond what an image file can hold.
            self.gc_requested = true;
            if after > MAX_SPACE_WORDS {
                return None;
            }
        }
        let oop = self.free_oops.pop()?;
        if self.free_oops.len() < self.oop_gc_threshold {
            self.gc_requested = true;
        }
        let loc = self.reserve(words);
        self.heap[loc..loc + words].fill(fill);
        self.ot[(oop >> 1) as usize] = Entry {
            loc: loc as u32,
            len: words as u32,
            class,
            flags: format_flags(format) | if odd { F_ODD } else { 0 },
        };
        Some(oop)
    }

    /// `instantiateClass:withPointers:` etc. of the book, in one: `indexable` counts pointers,
    /// words or bytes depending on the class's format.
    pub fn instantiate_class(&mut self, class: Oop, indexable: usize) -> Option<Oop> {
        let fixed = self.fixed_fields_of_class(class);
        match self.format_of_class(class) {
            Format::Pointers => self.allocate(class, fixed + indexable, Format::Pointers, false, NIL),
            Format::Words => self.allocate(class, fixed + indexable, Format::Words, false, 0),
            Format::Bytes => self.allocate(class, fixed + indexable.div_ceil(2), Format::Bytes, indexable & 1 == 1, 0),
        }
    }

    /// A MethodContext of `words` fields, reusing a recycled one when possible.
    #[inline]
    pub fn allocate_context(&mut self, words: u32) -> Option<Oop> {
        let pool = (words == LARGE_CONTEXT_WORDS) as usize;
        if let Some(oop) = self.context_pool[pool].pop() {
            let e = &mut self.ot[(oop >> 1) as usize];
            e.flags = F_POINTERS;
            let (loc, len) = (e.loc as usize, e.len as usize);
            self.heap[loc..loc + len].fill(NIL);
            return Some(oop);
        }
        self.allocate(CLASS_METHOD_CONTEXT, words as usize, Format::Pointers, false, NIL)
    }

    /// Returns a context that nothing else can reference to the pool (see `F_ESCAPED`).
    #[inline]
    pub fn recycle_context(&mut self, oop: Oop) {
        let e = &self.ot[(oop >> 1) as usize];
        if e.flags & F_ESCAPED == 0 && e.class == CLASS_METHOD_CONTEXT {
            let pool = (e.len == LARGE_CONTEXT_WORDS) as usize;
            if self.context_pool[pool].len() < 64 {
                self.context_pool[pool].push(oop);
            }
        }
    }
    #[inline(always)]
    pub fn is_escaped(&self, oop: Oop) -> bool {
        self.ot[(oop >> 1) as usize].flags & F_ESCAPED != 0
    }
    #[inline(always)]
    pub fn set_escaped(&mut self, oop: Oop) {
        self.ot[(oop >> 1) as usize].flags |= F_ESCAPED;
    }

    // ---- become, enumeration ------------------------------------------------------------

    /// `become:` (primitive 72): the two oops exchange their objects.
    pub fn swap_pointers_of(&mut self, a: Oop, b: Oop) {
        self.ot.swap((a >> 1) as usize, (b >> 1) as usize);
    }

    /// First object (by oop order) of `class` after `after` (0 = from the start).
    pub fn instance_after(&self, class: Oop, after: Oop) -> Option<Oop> {
        let start = (after >> 1) as usize + 1;
        (start..MAX_OBJECTS)
            .find(|&i| self.ot[i].flags & F_FREE == 0 && self.ot[i].class == class)
            .map(|i| (i << 1) as Oop)
    }

    /// Iterates over all live object oops.
    pub fn all_objects(&self) -> impl Iterator<Item = Oop> + '_ {
        (1..MAX_OBJECTS).filter(|&i| self.ot[i].flags & F_FREE == 0).map(|i| (i << 1) as Oop)
    }

    // ---- garbage collection -----------------------------------------------------------------

    /// Mark from the guaranteed oops and `extra_roots`, free the rest, compact the heap.
    pub fn collect_garbage(&mut self, extra_roots: &[Oop]) {
        self.gc_count += 1;
        self.gc_requested = false;
        // Pooled contexts are garbage by construction; forget them (they are freed below).
        self.context_pool[0].clear();
        self.context_pool[1].clear();
        let mut stack: Vec<Oop> = Vec::with_capacity(1024);
        for oop in (2..=LAST_GUARANTEED_OOP).step_by(2).chain(extra_roots.iter().copied()) {
            self.mark(oop, &mut stack);
        }
        while let Some(oop) = stack.pop() {
            let e = self.ot[(oop >> 1) as usize];
            self.mark(e.class, &mut stack);
            if e.flags & F_POINTERS != 0 {
                for i in e.loc as usize..(e.loc + e.len) as usize {
                    let child = self.heap[i];
                    self.mark(child, &mut stack);
                }
            } else if e.class == CLASS_COMPILED_METHOD {
                // Header and literals are oops; the bytecodes after them are not.
                let header = self.heap[e.loc as usize];
                let literals = ((header >> 1) & 0x3f) as usize;
                for i in 1..=literals.min(e.len as usize - 1) {
                    let child = self.heap[e.loc as usize + i];
                    self.mark(child, &mut stack);
                }
            }
        }
        // Sweep: free unmarked entries, collect live ones in address order for sliding.
        let mut live: Vec<u32> = Vec::with_capacity(MAX_OBJECTS);
        self.free_oops.clear();
        for i in (1..MAX_OBJECTS).rev() {
            let e = &mut self.ot[i];
            if e.flags & F_FREE != 0 {
                if i << 1 > LAST_GUARANTEED_OOP as usize {
                    self.free_oops.push((i << 1) as Oop);
                }
            } else if e.flags & F_MARK == 0 {
                *e = Entry { flags: F_FREE, ..Entry::default() };
                self.free_oops.push((i << 1) as Oop);
            } else {
                e.flags &= !F_MARK;
                live.push(i as u32);
            }
        }
        live.sort_unstable_by_key(|&i| self.ot[i as usize].loc);
        let mut dest = 0usize;
        for i in live {
            let e = &mut self.ot[i as usize];
            let (src, len) = (e.loc as usize, e.len as usize);
            if src != dest {
                self.heap.copy_within(src..src + len, dest);
            }
            e.loc = dest as u32;
            dest += len;
        }
        self.top = dest;
        self.oop_gc_threshold = OOP_RESERVE.min(self.free_oops.len() / 2);
        // Keep at least a quarter of the heap free after a collection, growing if needed.
        let want = (self.top + self.top / 3).max(self.top + 4 * WORD_RESERVE);
        if want > self.heap.len() {
            self.heap.resize(want, 0);
        }
        self.heap_limit = self.heap.len();
    }

    #[inline]
    fn mark(&mut self, oop: Oop, stack: &mut Vec<Oop>) {
        if is_integer_object(oop) {
            return;
        }
        let e = &mut self.ot[(oop >> 1) as usize];
        if e.flags & (F_MARK | F_FREE) == 0 {
            e.flags |= F_MARK;
            stack.push(oop);
        }
    }

    /// True when a collection left less than the VM's own reserve: whatever limits the image
    /// set (or none), the program filling memory must be told or stopped now.
    pub fn is_critical(&self) -> bool {
        self.oops_left() < OOP_RESERVE || self.words_left() < WORD_RESERVE
    }

    /// True when free oops or words have fallen below what the image asked to be warned at.
    pub fn is_low(&self, oops: usize, words: usize) -> bool {
        self.oops_left() < oops || self.words_left() < words
    }
}

fn format_flags(format: Format) -> u8 {
    match format {
        Format::Pointers => F_POINTERS,
        Format::Words => 0,
        Format::Bytes => F_BYTES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_integer_encoding_round_trips_at_the_limits() {
        for v in [MIN_SMALL_INTEGER, -1, 0, 1, MAX_SMALL_INTEGER] {
            let oop = integer_object_of(v as i16);
            assert!(is_integer_object(oop));
            assert_eq!(integer_value_of(oop) as i32, v);
        }
        assert!(!is_integer_value(MAX_SMALL_INTEGER + 1));
        assert!(!is_integer_value(MIN_SMALL_INTEGER - 1));
        assert_eq!(integer_object_of(-1), 0xffff);
        assert_eq!(integer_object_of(0), 1);
    }

    fn tiny_memory() -> ObjectMemory {
        let mut m = ObjectMemory::new(1 << 16);
        // A pointer class with 2 fixed fields: superclass, methods, spec.
        let spec = integer_object_of(0) | SPEC_POINTERS | (2 << 1);
        m.load_object(100, 100, Format::Pointers, false, &[NIL, NIL, spec]);
        m.load_object(NIL, 100, Format::Pointers, false, &[]);
        m.finish_loading();
        m
    }

    #[test]
    fn bytes_are_big_endian_within_words() {
        let mut m = tiny_memory();
        let o = m.allocate(100, 2, Format::Bytes, true, 0).unwrap();
        m.store_byte(0, o, 0x12);
        m.store_byte(1, o, 0x34);
        m.store_byte(2, o, 0x56);
        assert_eq!(m.fetch_word(0, o), 0x1234);
        assert_eq!(m.fetch_byte(2, o), 0x56);
        assert_eq!(m.fetch_byte_length_of(o), 3);
    }

    #[test]
    fn garbage_is_freed_and_live_objects_keep_their_fields() {
        let mut m = tiny_memory();
        let before = m.oops_left();
        let live = m.instantiate_class(100, 0).unwrap();
        for _ in 0..100 {
            m.instantiate_class(100, 5).unwrap();
        }
        let other = m.instantiate_class(100, 0).unwrap();
        m.store_pointer(0, live, other);
        m.store_pointer(1, live, integer_object_of(-7));
        m.collect_garbage(&[live]);
        assert_eq!(m.oops_left(), before - 2);
        assert_eq!(m.fetch_pointer(0, live), other);
        assert_eq!(integer_value_of(m.fetch_pointer(1, live)), -7);
        assert_eq!(m.fetch_class_of(other), 100);
        assert_eq!(m.heap_words_used(), 3 + 2 + 2);
    }

    #[test]
    fn become_swaps_identities() {
        let mut m = tiny_memory();
        let a = m.instantiate_class(100, 0).unwrap();
        let b = m.instantiate_class(100, 1).unwrap();
        m.store_pointer(0, a, integer_object_of(1));
        m.store_pointer(0, b, integer_object_of(2));
        m.swap_pointers_of(a, b);
        assert_eq!(m.fetch_word_length_of(a), 3);
        assert_eq!(integer_value_of(m.fetch_pointer(0, a)), 2);
        assert_eq!(integer_value_of(m.fetch_pointer(0, b)), 1);
    }
}
