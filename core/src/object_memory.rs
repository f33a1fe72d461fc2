//! Object memory (Blue Book ch. 27 interface, ch. 30 implementation ideas).
//!
//! An object pointer (oop) is 16 bits: odd values are SmallIntegers (15-bit, two's complement),
//! even values index the object table (`oop >> 1`). Unlike the book we keep each object's
//! class, length and format in its object-table entry and only the fields in one flat word
//! heap, so `fetch_pointer` is two loads and compaction only rewrites table entries.
//!
//! Reclamation is mark-sweep-compact in two generations, run only at safe points between
//! bytecodes (so a primitive holding oops in locals never sees them move or vanish): a minor
//! collection traces, frees and slides only the objects made since the last collection, found
//! from the roots, from the old objects a write barrier remembered and from the old contexts; a
//! full one when old garbage piles up (see "garbage collection" below). MethodContexts that
//! never escaped (see `interpreter.rs`) are recycled on return, which removes most of the
//! garbage the book's reference counting was designed for.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

/// An object pointer: even for an object-table index, odd for a SmallInteger (ch. 30).
pub type Oop = u16;

// Guaranteed object pointers (Blue Book ch. 27, "Objects used by the interpreter").
/// `nil`.
pub const NIL: Oop = 2;
/// `false`.
pub const FALSE: Oop = 4;
/// `true`.
pub const TRUE: Oop = 6;
/// Association `#Processor -> aProcessorScheduler`.
pub const SCHEDULER_ASSOCIATION: Oop = 8;
/// Class SmallInteger.
pub const CLASS_SMALL_INTEGER: Oop = 12;
/// Class String.
pub const CLASS_STRING: Oop = 14;
/// Class Array.
pub const CLASS_ARRAY: Oop = 16;
/// The SystemDictionary `Smalltalk`.
pub const SMALLTALK: Oop = 18;
/// Class Float.
pub const CLASS_FLOAT: Oop = 20;
/// Class MethodContext.
pub const CLASS_METHOD_CONTEXT: Oop = 22;
/// Class BlockContext.
pub const CLASS_BLOCK_CONTEXT: Oop = 24;
/// Class Point.
pub const CLASS_POINT: Oop = 26;
/// Class LargePositiveInteger.
pub const CLASS_LARGE_POSITIVE_INTEGER: Oop = 28;
/// Class DisplayBitmap.
pub const CLASS_DISPLAY_BITMAP: Oop = 30;
/// Class Message.
pub const CLASS_MESSAGE: Oop = 32;
/// Class CompiledMethod.
pub const CLASS_COMPILED_METHOD: Oop = 34;
/// Class Semaphore.
pub const CLASS_SEMAPHORE: Oop = 38;
/// Class Character.
pub const CLASS_CHARACTER: Oop = 40;
/// Symbol `#doesNotUnderstand:`.
pub const SELECTOR_DOES_NOT_UNDERSTAND: Oop = 42;
/// Symbol `#cannotReturn:`.
pub const SELECTOR_CANNOT_RETURN: Oop = 44;
/// Array of the selectors sent by the special-selector bytecodes, each with its argument count.
pub const SPECIAL_SELECTORS: Oop = 48;
/// Array of the 256 Character instances.
pub const CHARACTER_TABLE: Oop = 50;
/// Symbol `#mustBeBoolean`.
pub const SELECTOR_MUST_BE_BOOLEAN: Oop = 52;
/// Class Symbol.
pub const CLASS_SYMBOL: Oop = 56;
/// Class Metaclass.
pub const CLASS_METACLASS: Oop = 60;
/// Every oop below this is a root of the garbage collector: the interpreter names them directly.
pub const LAST_GUARANTEED_OOP: Oop = 60;

/// Largest number of objects: oops are even 16-bit values.
pub const MAX_OBJECTS: usize = 32768;
// Every oop indexes the table (`oop >> 1`) without a bounds check (see `ObjectMemory::ot`).
const _: () = assert!(MAX_OBJECTS > (Oop::MAX >> 1) as usize);

// Class instance specification bits, as stored in the SmallInteger oop (ch. 27 "Classes").
/// Instances hold pointers.
pub const SPEC_POINTERS: u16 = 0x8000;
/// Instances hold words (when not pointers); otherwise bytes.
pub const SPEC_WORDS: u16 = 0x4000;
/// Instances have indexed fields.
pub const SPEC_INDEXABLE: u16 = 0x2000;
/// Class field: the superclass.
pub const CLASS_SUPERCLASS: usize = 0;
/// Class field: the MethodDictionary.
pub const CLASS_MESSAGE_DICTIONARY: usize = 1;
/// Class field: the instance specification (SmallInteger).
pub const CLASS_INSTANCE_SPEC: usize = 2;
/// `name` instance variable of a Class (a Metaclass has `thisClass` there instead).
pub const CLASS_NAME: usize = 6;

// Object table entry flags.
const F_FREE: u8 = 1;
const F_POINTERS: u8 = 2;
/// Byte-indexable: the last word may hold only one byte (see `F_ODD`).
const F_BYTES: u8 = 4;
const F_ODD: u8 = 8;
/// A MethodContext that may be referenced from somewhere other than its callee's sender field.
const F_ESCAPED: u8 = 32;
/// The object took part in a method lookup (a class on the superclass chain, its method
/// dictionary or the dictionary's methods Array, a selector, a method): the method cache may
/// hold a result that depends on it, so `become:` of it must flush the cache.
const F_IN_LOOKUP: u8 = 64;
/// A MethodContext waiting in a pool of free contexts (`recycle_context`): garbage, which the
/// image must not find (`instance_after`, `is_pooled`) until it is handed out again.
const F_POOLED: u8 = 128;

/// An object-table entry: where an object's fields are, how many, its class and flags.
#[derive(Clone, Copy, Debug, Default)]
pub struct Entry {
    /// Word index of field 0 in `heap`.
    pub loc: u32,
    /// Number of 16-bit words of fields.
    pub len: u32,
    /// The object's class.
    pub class: Oop,
    flags: u8,
}

/// How an object's fields are interpreted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Fields are object pointers.
    Pointers,
    /// Fields are 16-bit words.
    Words,
    /// Fields are bytes.
    Bytes,
}

/// True for a SmallInteger oop (low bit set).
#[inline(always)]
pub fn is_integer_object(oop: Oop) -> bool {
    oop & 1 == 1
}
/// The value of a SmallInteger oop.
#[inline(always)]
pub fn integer_value_of(oop: Oop) -> i16 {
    (oop as i16) >> 1
}
/// The SmallInteger oop for `value` (which must fit in 15 bits; see `is_integer_value`).
#[inline(always)]
pub fn integer_object_of(value: i16) -> Oop {
    ((value as u16) << 1) | 1
}
/// Smallest SmallInteger (-2^14).
pub const MIN_SMALL_INTEGER: i32 = -16384;
/// Largest SmallInteger (2^14 - 1).
pub const MAX_SMALL_INTEGER: i32 = 16383;
/// True when `value` fits in a SmallInteger.
#[inline(always)]
pub fn is_integer_value(value: i32) -> bool {
    (MIN_SMALL_INTEGER..=MAX_SMALL_INTEGER).contains(&value)
}

/// Recycled contexts kept for reuse, per size.
const CONTEXT_POOL_SIZE: usize = 64;

/// A stack of up to `CONTEXT_POOL_SIZE` free contexts of one size (an array, not a `Vec`: no
/// capacity check or call on the hot path of every activation and return).
#[derive(Clone, Copy)]
struct ContextPool {
    oops: [Oop; CONTEXT_POOL_SIZE],
    len: usize,
}

impl Default for ContextPool {
    fn default() -> ContextPool {
        ContextPool { oops: [0; CONTEXT_POOL_SIZE], len: 0 }
    }
}

/// The object table, read-only, beside a mutable borrow of the heap (`heap_and_table`).
pub(crate) struct Table<'a>(&'a [Entry; MAX_OBJECTS]);

impl Table<'_> {
    /// `ObjectMemory::loc` (which asks this).
    #[inline(always)]
    pub(crate) fn loc(&self, oop: Oop) -> usize {
        self.0[(oop >> 1) as usize].loc as usize
    }
    /// `ObjectMemory::pointer_fields_location` (which asks this).
    #[inline(always)]
    pub(crate) fn pointer_fields_location(&self, oop: Oop) -> (usize, usize) {
        let e = &self.0[(oop >> 1) as usize];
        let pointers = !is_integer_object(oop) && e.flags & F_POINTERS != 0;
        (e.loc as usize, if pointers { e.len as usize } else { 0 })
    }
}

/// The object memory (ch. 30): object table, heap, allocation and garbage collection.
#[derive(Clone)]
pub struct ObjectMemory {
    pub(crate) heap: Box<[u16; HEAP_WORDS]>,
    /// First unused word of `heap` (allocation is a bump; compaction slides everything down).
    top: usize,
    /// The object table: a fixed-size array indexed by `oop >> 1`, which is below
    /// `MAX_OBJECTS` for every 16-bit oop, so no access needs a bounds check.
    ot: Box<[Entry; MAX_OBJECTS]>,
    /// The free oops, a stack: `free[..free_len]` are free, the last handed out first. The
    /// ones popped since the last collection, `free[free_len..young_end]`, are the young
    /// generation's oops (see `collect_young`): the list of young objects costs nothing.
    free: Box<[Oop; MAX_OBJECTS]>,
    free_len: usize,
    /// `free_len` just after the last collection.
    young_end: usize,
    /// `top` just after the last collection: the young objects' fields are all above it.
    old_top: usize,
    /// Old objects that may hold young oops (see `note_store`), each once: the ones marked
    /// `REMEMBERED` since the last collection, and the `ALWAYS_SCANNED` ones (old contexts).
    /// (Indexed by any 16-bit oop, so that even a hostile store into a SmallInteger cannot
    /// overflow it.)
    remembered: Box<[Oop; 1 << 16]>,
    remembered_len: usize,
    /// The next collection must be a full one (nothing loaded yet: see `finish_loading`).
    need_full: bool,
    /// Old oops that `become:` gave a young object's fields (see `swap_pointers_of`).
    old_with_young_fields: Vec<Oop>,
    /// Free oops after the last full collection: minor collections go on while they leave at
    /// least half of it.
    free_after_full: usize,
    /// Full collections so far (`gc_count` counts both kinds).
    pub full_gc_count: u64,
    /// Testing aid: at each minor collection, also mark everything reachable the full way and
    /// count in `generation_errors` the live objects the minor one would have freed (a missed
    /// write barrier). Slow; off by default.
    pub verify_generations: bool,
    /// See `verify_generations`.
    pub generation_errors: u64,
    /// See `last_collection_was_full`.
    last_full: bool,
    /// Heap words we may grow to before collecting becomes mandatory.
    /// Set by allocation when space runs low; the interpreter collects at its next safe point.
    pub gc_requested: bool,
    /// Free MethodContexts of each size, reused without a collection. (Two fields rather
    /// than an array indexed by size: each path then addresses its pool as a constant.)
    small_contexts: ContextPool,
    large_contexts: ContextPool,
    /// Garbage collections run so far.
    pub gc_count: u64,
    /// Free oops below which allocation asks for a collection (see `collect_garbage` for how
    /// it backs off when memory is nearly full).
    oop_gc_threshold: usize,
    /// Allocations (and refused allocations) since the last collection: near a full object
    /// table a collection is requested at most once per `MIN_GC_SPACING` of them.
    allocations_since_gc: usize,
    /// Objects left after the last collection.
    survivors: usize,
    /// Compaction's bitmap of live objects' first words (kept to avoid reallocating it).
    starts: Vec<u64>,
    /// The mark phase's queue of the objects it traces (allocated once, as `starts` is kept:
    /// see `mark_reachable`).
    mark_queue: Box<[Oop; MAX_OBJECTS]>,
    /// The mark phase's marks, a byte per oop (not a flag in the table): nonzero means "not
    /// to be traced", set for every SmallInteger oop as well, so that marking a field is one
    /// load and test whatever the field holds (see `mark_reachable`).
    marks: Box<[u8; 1 << 16]>,
}

/// The most words the objects may take in an image file, headers included (16 segments of 64K
/// words, Blue Book ch. 30): memory is full there, so anything in memory can be saved.
pub const MAX_SPACE_WORDS: usize = 16 << 16;
/// Words of the heap, allocated once: what an image file can hold, since the fields of the
/// objects never take more than their space (`allocate` keeps them within
/// `MAX_SPACE_WORDS`, the loader refuses more). A power of two, so that an index masked with
/// `HEAP_MASK` needs no bounds check (see `word_at`).
pub const HEAP_WORDS: usize = MAX_SPACE_WORDS;
pub(crate) const HEAP_MASK: usize = HEAP_WORDS - 1;
const _: () = assert!(HEAP_WORDS.is_power_of_two());
/// The most fields one object can have: its size word (header included) is 16 bits.
pub const MAX_OBJECT_FIELDS: usize = 0xffff - 2;

/// Spare oops and words kept so that primitives between safe points never run out.
const OOP_RESERVE: usize = 1500;
/// Oops only MethodContexts may take: when the object table is full, `new` fails (a primitive
/// failure the image handles) while sends can still run the image's handling of it.
const CONTEXT_RESERVE: usize = 200;
/// Fewest allocations between two collections asked for by a nearly full object table; a
/// collection there frees little, and collecting at every few allocations is a storm.
const MIN_GC_SPACING: usize = 512;
const WORD_RESERVE: usize = 64 * 1024;
/// Words of a small MethodContext (stack of 12 plus the 6 fixed fields).
pub const SMALL_CONTEXT_WORDS: u32 = 18;
/// Words of a large MethodContext (stack of 32 plus the 6 fixed fields).
pub const LARGE_CONTEXT_WORDS: u32 = 38;

impl Default for ObjectMemory {
    fn default() -> Self {
        Self::new()
    }
}

impl ObjectMemory {
    /// An empty memory; objects are added with `load_object`.
    pub fn new() -> ObjectMemory {
        ObjectMemory {
            heap: vec![0; HEAP_WORDS]
                .into_boxed_slice()
                .try_into()
                .unwrap_or_else(|_| unreachable!("HEAP_WORDS words")),
            top: 0,
            ot: vec![Entry { flags: F_FREE, ..Entry::default() }; MAX_OBJECTS]
                .into_boxed_slice()
                .try_into()
                .unwrap_or_else(|_| unreachable!("MAX_OBJECTS entries")),
            free: vec![0; MAX_OBJECTS].into_boxed_slice().try_into().unwrap_or_else(|_| unreachable!("MAX_OBJECTS")),
            free_len: 0,
            young_end: 0,
            old_top: 0,
            remembered: vec![0; 1 << 16].into_boxed_slice().try_into().unwrap_or_else(|_| unreachable!("2^16 oops")),
            remembered_len: 0,
            need_full: true,
            old_with_young_fields: Vec::new(),
            free_after_full: 0,
            full_gc_count: 0,
            verify_generations: false,
            generation_errors: 0,
            last_full: false,
            gc_requested: false,
            small_contexts: ContextPool::default(),
            large_contexts: ContextPool::default(),
            gc_count: 0,
            oop_gc_threshold: OOP_RESERVE,
            allocations_since_gc: 0,
            starts: Vec::new(),
            mark_queue: vec![0; MAX_OBJECTS]
                .into_boxed_slice()
                .try_into()
                .unwrap_or_else(|_| unreachable!("MAX_OBJECTS entries")),
            marks: vec![0; 1 << 16].into_boxed_slice().try_into().unwrap_or_else(|_| unreachable!("2^16 marks")),
            survivors: 0,
        }
    }

    /// Installs an object read from an image at a fixed oop (used by the loader). False when
    /// the heap has no room for it (the image holds more than an image file can).
    pub fn load_object(&mut self, oop: Oop, class: Oop, format: Format, odd: bool, fields: &[u16]) -> bool {
        let Some(loc) = self.reserve(fields.len()) else { return false };
        self.heap[loc..loc + fields.len()].copy_from_slice(fields);
        self.ot[(oop >> 1) as usize] = Entry {
            loc: loc as u32,
            len: fields.len() as u32,
            class,
            flags: format_flags(format) | if odd { F_ODD } else { 0 },
        };
        true
    }

    /// Sets an object's format (the loader learns it from the class after reading the object).
    pub fn set_format(&mut self, oop: Oop, format: Format) {
        let e = &mut self.ot[(oop >> 1) as usize];
        e.flags = (e.flags & !(F_POINTERS | F_BYTES)) | format_flags(format);
    }

    /// Called once after loading: builds the free-oop list (lowest oops handed out first).
    pub fn finish_loading(&mut self) {
        self.free_len = 0;
        // Guaranteed oops are GC roots; never hand one out for a new object.
        for i in (1..MAX_OBJECTS).rev() {
            if self.ot[i].flags & F_FREE != 0 && i << 1 > LAST_GUARANTEED_OOP as usize {
                self.free[self.free_len] = (i << 1) as Oop;
                self.free_len += 1;
            }
        }
        // Every loaded object is old (none can point at a young one yet), its contexts scanned
        // at each minor collection: the first collection need not be a full one.
        reset_marks(&mut self.marks);
        self.remembered_len = 0;
        for i in 1..MAX_OBJECTS {
            let e = &self.ot[i];
            if e.flags & F_FREE == 0 {
                let oop = (i << 1) as Oop;
                self.marks[oop as usize] = OLD;
                if e.class == CLASS_METHOD_CONTEXT || e.class == CLASS_BLOCK_CONTEXT {
                    self.remember(oop, ALWAYS_SCANNED);
                }
            }
        }
        self.need_full = false;
        self.free_after_full = self.free_len;
        self.end_collection();
    }

    /// Room for `words` fields at the top of the heap. (`allocate` never asks for more than
    /// there is: its object-space limit is the heap's size.)
    fn reserve(&mut self, words: usize) -> Option<usize> {
        let loc = self.top;
        if loc + words > HEAP_WORDS {
            return None;
        }
        self.top += words;
        Some(loc)
    }

    // ---- object table queries -------------------------------------------------------------

    /// The object-table entry of `oop`.
    #[inline(always)]
    pub fn entry(&self, oop: Oop) -> &Entry {
        &self.ot[(oop >> 1) as usize]
    }
    /// True when `oop` names a live object (not a SmallInteger, not a free entry).
    #[inline]
    pub fn is_object(&self, oop: Oop) -> bool {
        !is_integer_object(oop) && self.ot[(oop >> 1) as usize].flags & F_FREE == 0
    }
    /// The class of `oop` (SmallInteger for integer oops).
    #[inline(always)]
    pub fn fetch_class_of(&self, oop: Oop) -> Oop {
        if is_integer_object(oop) {
            CLASS_SMALL_INTEGER
        } else {
            self.ot[(oop >> 1) as usize].class
        }
    }
    /// Where the fields of `oop` start, if it is a live MethodContext or BlockContext with at
    /// least its `fixed` fields: the check and the location from one object-table entry.
    #[inline(always)]
    pub fn context_loc(&self, oop: Oop, fixed: usize) -> Option<usize> {
        if is_integer_object(oop) {
            return None;
        }
        let e = &self.ot[(oop >> 1) as usize];
        let context = e.class == CLASS_METHOD_CONTEXT || e.class == CLASS_BLOCK_CONTEXT;
        (e.flags & F_FREE == 0 && context && e.len as usize >= fixed).then_some(e.loc as usize)
    }
    /// Where the fields of `oop` are and how many, when it is a MethodContext that only the
    /// VM has seen: one an activation made that never escaped (its flags say nothing else:
    /// the image's own MethodContexts start escaped, see `instantiate_class`). Its
    /// instruction and stack pointers are as the VM stored them, and its size is one of the
    /// two an activation allocates.
    #[inline(always)]
    pub fn unescaped_context(&self, oop: Oop) -> Option<(usize, usize)> {
        let e = &self.ot[(oop >> 1) as usize];
        (!is_integer_object(oop) && e.flags == F_POINTERS && e.class == CLASS_METHOD_CONTEXT)
            .then_some((e.loc as usize, e.len as usize))
    }
    /// Where the fields of `oop` are and how many pointer fields it has (none for a
    /// SmallInteger or an object of words or bytes), from one object-table entry.
    #[inline(always)]
    pub fn pointer_fields_location(&self, oop: Oop) -> (usize, usize) {
        Table(&self.ot).pointer_fields_location(oop)
    }
    /// Where the fields of `oop` are and how many words they take, from one object-table entry.
    #[inline(always)]
    pub fn location_and_length(&self, oop: Oop) -> (usize, usize) {
        let e = &self.ot[(oop >> 1) as usize];
        (e.loc as usize, e.len as usize)
    }
    /// Where pointer field `index` of `oop` is, if `oop` is an object of pointers with that
    /// field (for bytecodes that name a field of an object they cannot trust).
    #[inline(always)]
    pub fn pointer_field_location(&self, index: usize, oop: Oop) -> Option<usize> {
        let (loc, fields) = self.pointer_fields_location(oop);
        (index < fields).then_some(loc + index)
    }
    /// Number of 16-bit words of fields.
    #[inline(always)]
    pub fn fetch_word_length_of(&self, oop: Oop) -> usize {
        self.ot[(oop >> 1) as usize].len as usize
    }
    /// Number of bytes of fields (for byte objects, exact).
    #[inline]
    pub fn fetch_byte_length_of(&self, oop: Oop) -> usize {
        let e = &self.ot[(oop >> 1) as usize];
        e.len as usize * 2 - (e.flags & F_ODD != 0) as usize
    }
    /// How the fields of `oop` are laid out.
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
    /// True when the fields hold pointers.
    #[inline]
    pub fn is_pointers(&self, oop: Oop) -> bool {
        self.ot[(oop >> 1) as usize].flags & F_POINTERS != 0
    }
    /// True when the fields hold bytes.
    #[inline]
    pub fn is_bytes(&self, oop: Oop) -> bool {
        self.ot[(oop >> 1) as usize].flags & F_BYTES != 0
    }
    /// True for a byte object whose last word holds only one byte.
    pub fn is_odd(&self, oop: Oop) -> bool {
        self.ot[(oop >> 1) as usize].flags & F_ODD != 0
    }

    // ---- field access (ch. 27 "Object Memory Interface") --------------------------------

    /// Pointer field `index` (0-based) of `oop`.
    #[inline(always)]
    pub fn fetch_pointer(&self, index: usize, oop: Oop) -> Oop {
        let e = &self.ot[(oop >> 1) as usize];
        debug_assert!(index < e.len as usize, "field {index} of {oop} out of range");
        self.word_at(e.loc as usize + index)
    }
    /// Stores `value` into pointer field `index` of `oop`.
    #[inline(always)]
    pub fn store_pointer(&mut self, index: usize, oop: Oop, value: Oop) {
        let e = &self.ot[(oop >> 1) as usize];
        debug_assert!(index < e.len as usize, "field {index} of {oop} out of range");
        self.set_word_at(e.loc as usize + index, value);
        self.note_store(oop, value);
    }
    /// Word field `index` (0-based) of `oop`.
    #[inline(always)]
    pub fn fetch_word(&self, index: usize, oop: Oop) -> u16 {
        self.fetch_pointer(index, oop)
    }
    /// Stores `value` into word field `index` of `oop`.
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
    /// Stores `value` into byte field `index` (0-based) of `oop`.
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
    /// The fields of an object as a mutable slice.
    pub fn words_mut(&mut self, oop: Oop) -> &mut [u16] {
        let e = self.ot[(oop >> 1) as usize];
        &mut self.heap[e.loc as usize..(e.loc + e.len) as usize]
    }
    /// The word index in `heap` of field 0, for hot loops that index the heap directly.
    #[inline(always)]
    pub fn loc(&self, oop: Oop) -> usize {
        Table(&self.ot).loc(oop)
    }
    /// The whole heap of fields.
    #[inline(always)]
    pub fn heap(&self) -> &[u16] {
        &self.heap[..]
    }
    /// Heap word `index`, for the interpreter's hot paths. The index is masked to the heap's
    /// size, which leaves every index below `HEAP_WORDS` as it is and lets the compiler drop
    /// the bounds check; the callers check their indexes against the object they address (the
    /// active context, the method, the receiver), so they are always in range.
    #[inline(always)]
    pub fn word_at(&self, index: usize) -> u16 {
        debug_assert!(index < HEAP_WORDS, "heap word {index} out of range");
        self.heap[index & HEAP_MASK]
    }
    /// Stores heap word `index` (masked as in `word_at`).
    #[inline(always)]
    pub fn set_word_at(&mut self, index: usize, value: u16) {
        debug_assert!(index < HEAP_WORDS, "heap word {index} out of range");
        self.heap[index & HEAP_MASK] = value;
    }
    /// Byte `index` of the heap counted as the image counts bytes: byte 2n is the high byte of
    /// word n (see `fetch_byte`). For the interpreter's bytecode fetch: one load, no shifts.
    #[inline(always)]
    ///
    /// The index is masked to the heap's bytes like `word_at`'s: an ip a hostile jump sent past
    /// the heap reads from its start (bytes of other objects, as past the end of any method).
    pub fn heap_byte(&self, index: usize) -> u8 {
        // In host memory the high byte of a word comes first only on a big-endian host.
        const HIGH_BYTE_OFFSET: usize = cfg!(target_endian = "little") as usize;
        // SAFETY: `[u8; 2 * HEAP_WORDS]` has the size of `[u16; HEAP_WORDS]`, alignment 1 and
        // no invalid bit patterns, so it can view the initialised words of `self.heap`, which
        // `&self` keeps borrowed (and unmoved) for the reference's lifetime.
        let bytes = unsafe { &*self.heap.as_ptr().cast::<[u8; 2 * HEAP_WORDS]>() };
        bytes[(index ^ HIGH_BYTE_OFFSET) & (2 * HEAP_WORDS - 1)]
    }
    /// The whole heap, mutable.
    #[inline(always)]
    pub fn heap_mut(&mut self) -> &mut [u16] {
        &mut self.heap[..]
    }
    /// The heap to write, as its fixed-size array (indexes masked with `HEAP_MASK` need no
    /// bounds check, see `word_at`), and the object table to read, borrowed apart. Code that
    /// does both (an activation) then keeps each address in a register: through `self`, every
    /// store into the heap makes the compiler reload the table's address (it cannot tell that
    /// the heap's words do not overlap the memory's own fields).
    #[inline(always)]
    pub(crate) fn heap_and_table(&mut self) -> (&mut [u16; HEAP_WORDS], Table<'_>) {
        (&mut self.heap, Table(&self.ot))
    }
    /// A copy of the bytes of a byte object.
    pub fn bytes_of(&self, oop: Oop) -> Vec<u8> {
        (0..self.fetch_byte_length_of(oop)).map(|i| self.fetch_byte(i, oop)).collect()
    }

    // ---- classes ----------------------------------------------------------------------------

    /// The instance specification of `class` (the SmallInteger oop itself, so the `SPEC_*`
    /// bits apply); that of a non-indexable object without fields when `class` is no class
    /// (a hostile image can make it anything).
    pub fn instance_specification(&self, class: Oop) -> u16 {
        self.class_instance_specification(class).unwrap_or(integer_object_of(0))
    }
    /// `instance_specification` when `class` has a class's shape (a pointer object with that
    /// field), None otherwise: for the primitives that fail on what is no class. A field that
    /// is not a SmallInteger reads as the specification 0.
    pub fn class_instance_specification(&self, class: Oop) -> Option<u16> {
        if !self.is_object(class) || !self.is_pointers(class) || self.fetch_word_length_of(class) <= CLASS_INSTANCE_SPEC
        {
            return None;
        }
        let spec = self.fetch_pointer(CLASS_INSTANCE_SPEC, class);
        Some(if is_integer_object(spec) { spec } else { integer_object_of(0) })
    }
    /// Number of named (fixed) fields of instances of `class`.
    pub fn fixed_fields_of_class(&self, class: Oop) -> usize {
        fixed_fields_of_spec(self.instance_specification(class))
    }
    /// How instances of `class` lay out their fields.
    pub fn format_of_class(&self, class: Oop) -> Format {
        format_of_spec(self.instance_specification(class))
    }

    // ---- allocation -------------------------------------------------------------------------

    /// Free object-table entries.
    pub fn oops_left(&self) -> usize {
        self.free_len
    }
    /// Words left before the object space is full (see [`MAX_SPACE_WORDS`]).
    pub fn words_left(&self) -> usize {
        MAX_SPACE_WORDS.saturating_sub(self.space_used())
    }
    /// Words the objects would take in an image file: fields, plus a 2-word header for each
    /// entry in use (counting the never-allocated low entries too, a few words too many).
    fn space_used(&self) -> usize {
        self.top + 2 * (MAX_OBJECTS - self.free_len)
    }
    /// Live objects (excluding the unused entry 0).
    pub fn object_count(&self) -> usize {
        self.ot.iter().filter(|e| e.flags & F_FREE == 0).count() - 1
    }
    /// Heap words below the allocation point (live fields plus garbage not yet compacted).
    pub fn heap_words_used(&self) -> usize {
        self.top
    }

    /// Allocates an object of `words` fields filled with `fill`. Fails (None) when only the
    /// contexts' reserve of oops is left; the caller then fails its primitive.
    pub fn allocate(&mut self, class: Oop, words: usize, format: Format, odd: bool, fill: u16) -> Option<Oop> {
        self.allocate_inline(class, words, format, odd, fill)
    }

    /// `allocate`, inlined where most allocations are made: `instantiate_class` (`new`),
    /// `instantiate_with_pointers` (`@`) and `blockCopy:`.
    #[inline(always)]
    pub(crate) fn allocate_inline(
        &mut self,
        class: Oop,
        words: usize,
        format: Format,
        odd: bool,
        fill: u16,
    ) -> Option<Oop> {
        if self.free_len <= CONTEXT_RESERVE {
            self.allocations_since_gc += 1;
            self.request_gc();
            return None;
        }
        self.allocate_from_reserve(class, words, format, odd, fill)
    }

    /// A new object of `class` whose `N` pointer fields are `fields` (instantiateClass:
    /// and the stores into it, for a Point), inlined where it is used: the bytecode loop's
    /// `@` makes most of the Points the image allocates. None when memory is full.
    #[inline(always)]
    pub(crate) fn instantiate_with_pointers<const N: usize>(&mut self, class: Oop, fields: [Oop; N]) -> Option<Oop> {
        let oop = self.allocate_inline(class, N, Format::Pointers, false, NIL)?;
        let loc = self.ot[(oop >> 1) as usize].loc as usize;
        for (i, field) in fields.into_iter().enumerate() {
            self.heap[(loc + i) & HEAP_MASK] = field;
        }
        Some(oop)
    }

    /// `allocate`, allowed to take the last oops (for MethodContexts), inlined into
    /// `allocate` and `allocate_context`.
    #[inline(always)]
    fn allocate_from_reserve(&mut self, class: Oop, words: usize, format: Format, odd: bool, fill: u16) -> Option<Oop> {
        if words > MAX_OBJECT_FIELDS {
            return None;
        }
        let after = self.space_used() + words + 2;
        if after > MAX_SPACE_WORDS - WORD_RESERVE {
            // Collect at the next safe point (spaced out, as for oops); past the reserve, fail
            // (the caller fails its primitive) rather than grow beyond what an image file can
            // hold, and collect before the image retries.
            if after > MAX_SPACE_WORDS {
                self.gc_requested = true;
                return None;
            }
            if self.allocations_since_gc >= MIN_GC_SPACING {
                self.gc_requested = true;
            }
        }
        if self.free_len == 0 {
            return None;
        }
        self.free_len -= 1;
        // (`free_len` stays below the stack's size; the mask spares the bounds check.)
        let oop = self.free[self.free_len % MAX_OBJECTS];
        self.allocations_since_gc += 1;
        if self.free_len < self.oop_gc_threshold {
            self.request_gc();
        }
        // The space check above bounds the fields: `top + words <= after <= MAX_SPACE_WORDS`,
        // the heap's size (what `reserve` would check again).
        let loc = self.top;
        debug_assert!(loc + words <= HEAP_WORDS);
        self.top = loc + words;
        if words <= 8 {
            // Most objects are small (Points, Rectangles, Associations): a store per field,
            // without the bulk fill's set-up.
            for i in 0..words {
                self.heap[(loc + i) & HEAP_MASK] = fill;
            }
        } else {
            self.heap[loc..loc + words].fill(fill);
        }
        self.ot[(oop >> 1) as usize] = Entry {
            loc: loc as u32,
            len: words as u32,
            class,
            flags: format_flags(format) | if odd { F_ODD } else { 0 },
        };
        Some(oop)
    }

    /// Asks for a collection at the next safe point, unless memory is so full that the last
    /// one was only a few allocations ago (it would free nearly nothing).
    fn request_gc(&mut self) {
        if self.allocations_since_gc >= MIN_GC_SPACING || self.free_len >= 2 * OOP_RESERVE {
            self.gc_requested = true;
        }
    }

    /// `instantiateClass:withPointers:` etc. of the book, in one: `indexable` counts pointers,
    /// words or bytes depending on the class's format.
    pub fn instantiate_class(&mut self, class: Oop, indexable: usize) -> Option<Oop> {
        let spec = self.instance_specification(class);
        self.instantiate_class_with_spec(class, spec, indexable)
    }

    /// `instantiate_class` for a caller that has read the class's instance specification
    /// (`spec`) already.
    #[inline]
    pub fn instantiate_class_with_spec(&mut self, class: Oop, spec: u16, indexable: usize) -> Option<Oop> {
        let fixed = fixed_fields_of_spec(spec);
        let format = format_of_spec(spec);
        // (One call of `allocate`, inlined, rather than one for each format.)
        let (words, odd, fill) = match format {
            Format::Pointers => (fixed + indexable, false, NIL),
            Format::Words => (fixed + indexable, false, 0),
            Format::Bytes => (fixed + indexable.div_ceil(2), indexable & 1 == 1, 0),
        };
        let oop = self.allocate_inline(class, words, format, odd, fill)?;
        // A MethodContext the image makes itself (a debugger's, `Process forContext:`) is
        // referenced by the image from the start: it must never be recycled when it returns.
        if class == CLASS_METHOD_CONTEXT {
            self.set_escaped(oop);
        }
        Some(oop)
    }

    /// A MethodContext of `words` fields, reusing a recycled one when possible. A recycled
    /// one keeps the fields of the context that returned (valid oops: the pool is emptied at
    /// every collection); the caller stores every field before the next safe point.
    #[inline]
    pub fn allocate_context(&mut self, words: u32) -> Option<Oop> {
        match self.pop_pooled_context(words) {
            0 => self.allocate_from_reserve(CLASS_METHOD_CONTEXT, words as usize, Format::Pointers, false, NIL),
            oop => Some(oop),
        }
    }

    /// A recycled MethodContext of `words` fields from its pool, or 0 (no object's oop) when
    /// the pool is empty: `allocate_context`'s common case, for the activation's hot path.
    #[inline(always)]
    pub fn pop_pooled_context(&mut self, words: u32) -> Oop {
        let free = if words == LARGE_CONTEXT_WORDS { &mut self.large_contexts } else { &mut self.small_contexts };
        if free.len == 0 {
            return 0;
        }
        free.len -= 1;
        // (`len` never exceeds the pool's size; the mask spares the bounds check.)
        let oop = free.oops[free.len % CONTEXT_POOL_SIZE];
        self.ot[(oop >> 1) as usize].flags = F_POINTERS;
        oop
    }

    /// Takes back the context `oop` that just returned, when nothing but its callees can have
    /// referenced it: a MethodContext that never escaped (`F_ESCAPED`). One of the two sizes
    /// that activations allocate goes to its pool (while there is room). True for such a
    /// context, which nobody can look at again, so its fields need not be cleared.
    #[inline]
    pub fn recycle_context(&mut self, oop: Oop) -> bool {
        let e = &mut self.ot[(oop >> 1) as usize];
        if e.flags != F_POINTERS || e.class != CLASS_METHOD_CONTEXT {
            return false;
        }
        let free = match e.len {
            SMALL_CONTEXT_WORDS => &mut self.small_contexts,
            LARGE_CONTEXT_WORDS => &mut self.large_contexts,
            // (A hand-made MethodContext of another size is garbage, never reused.)
            _ => return true,
        };
        if free.len < CONTEXT_POOL_SIZE {
            e.flags = F_POINTERS | F_POOLED;
            free.oops[free.len] = oop;
            free.len += 1;
        }
        true
    }
    /// True for a context waiting in a pool (see `F_POOLED`): garbage, not to be handed to
    /// the image.
    pub fn is_pooled(&self, oop: Oop) -> bool {
        self.ot[(oop >> 1) as usize].flags & F_POOLED != 0
    }
    /// True when the context `oop` may be referenced other than as a callee's sender, so it cannot be recycled.
    #[inline(always)]
    pub fn is_escaped(&self, oop: Oop) -> bool {
        self.ot[(oop >> 1) as usize].flags & F_ESCAPED != 0
    }
    /// Marks the context `oop` as escaped (see `is_escaped`).
    #[inline(always)]
    pub fn set_escaped(&mut self, oop: Oop) {
        self.ot[(oop >> 1) as usize].flags |= F_ESCAPED;
    }
    /// Marks `oop` as part of a method lookup (see `F_IN_LOOKUP`); SmallIntegers and free
    /// entries are left alone.
    pub fn note_in_lookup(&mut self, oop: Oop) {
        if self.is_object(oop) {
            self.ot[(oop >> 1) as usize].flags |= F_IN_LOOKUP;
        }
    }
    /// True when `oop` took part in a method lookup since it was allocated (`note_in_lookup`).
    pub fn in_lookup(&self, oop: Oop) -> bool {
        self.is_object(oop) && self.ot[(oop >> 1) as usize].flags & F_IN_LOOKUP != 0
    }

    // ---- become, enumeration ------------------------------------------------------------

    /// `become:` (primitive 72): the two oops exchange their objects.
    pub fn swap_pointers_of(&mut self, a: Oop, b: Oop) {
        self.ot.swap((a >> 1) as usize, (b >> 1) as usize);
        // The ages stay with the oops (`marks`), the fields go with the entries. (Collections
        // grow by `become:`, so this is common: no full collection is forced.)
        if is_integer_object(a) || is_integer_object(b) || a == b {
            return;
        }
        // An old oop may now name fields that hold young oops (the other's, remembered or
        // scanned): it is remembered, or scanned for good if either object was or is a context
        // (every old context must be). One that now names fields above the old objects (a
        // young object's, or an old oop's that an earlier `become:` gave young fields) is
        // listed: a minor collection slides the fields there, and must move these too. A young
        // oop that now names old fields is freed as a young object, its words left to a full
        // collection.
        let scanned = |m: &Self, oop: Oop| {
            m.marks[oop as usize] == ALWAYS_SCANNED
                || matches!(m.ot[(oop >> 1) as usize].class, CLASS_METHOD_CONTEXT | CLASS_BLOCK_CONTEXT)
        };
        let state = if scanned(self, a) || scanned(self, b) { ALWAYS_SCANNED } else { REMEMBERED };
        for oop in [a, b] {
            if self.marks[oop as usize] != YOUNG {
                self.remember(oop, state);
                if self.ot[(oop >> 1) as usize].loc as usize >= self.old_top {
                    self.old_with_young_fields.push(oop);
                }
            }
        }
        // (A program doing nothing but `become:` must not grow the list without bound.)
        if self.old_with_young_fields.len() > MAX_OBJECTS {
            self.old_with_young_fields.sort_unstable();
            self.old_with_young_fields.dedup();
        }
    }

    /// First object (by oop order) of `class` after `after` (0 = from the start).
    pub fn instance_after(&self, class: Oop, after: Oop) -> Option<Oop> {
        let start = (after >> 1) as usize + 1;
        (start..MAX_OBJECTS)
            .find(|&i| self.ot[i].flags & (F_FREE | F_POOLED) == 0 && self.ot[i].class == class)
            .map(|i| (i << 1) as Oop)
    }

    /// Iterates over all live object oops.
    pub fn all_objects(&self) -> impl Iterator<Item = Oop> + '_ {
        (1..MAX_OBJECTS).filter(|&i| self.ot[i].flags & F_FREE == 0).map(|i| (i << 1) as Oop)
    }

    // ---- garbage collection -----------------------------------------------------------------
    //
    // Two generations. An object is old once it has survived a collection, young before;
    // `marks[oop]` says which between collections (`YOUNG` also for a free entry). A minor
    // collection (`collect_young`) traces only the young objects, from the roots and from the
    // old objects that may point at young ones, which the write barrier (`note_store`)
    // remembers; it frees and compacts only the young objects (the oops and heap words handed
    // out since the last collection). Old garbage waits for a full collection
    // (`collect_full`), which the minor ones call for when they free too little.
    //
    // Contexts are not behind the barrier: the interpreter pushes into the active context, and
    // stores into its home's temporaries, with plain stores. Every old MethodContext and
    // BlockContext is therefore `ALWAYS_SCANNED` instead (the interpreter only runs objects of
    // those classes as contexts, `context_loc`; and `ensure_scanned` covers a block's home,
    // which it does not check), scanned at each minor collection as remembered objects are.

    /// The write barrier: `value` is being stored into a field of `target`. Remembers an old
    /// `target` when `value` is a young object (or a dangling oop: harmless, it is only
    /// scanned). Every store of an oop into an object that is not a context goes through here
    /// (`store_pointer`, and the interpreter's stores into receiver variables and literal
    /// variables).
    #[inline(always)]
    pub fn note_store(&mut self, target: Oop, value: Oop) {
        if self.marks[target as usize] == OLD && self.marks[value as usize] == YOUNG {
            self.remember(target, REMEMBERED);
        }
    }

    /// Marks the old `oop` as `state` (`REMEMBERED` or `ALWAYS_SCANNED`, never lowering it)
    /// and lists it, once.
    #[cold]
    fn remember(&mut self, oop: Oop, state: u8) {
        let m = &mut self.marks[oop as usize];
        if *m == OLD {
            self.remembered[self.remembered_len % (1 << 16)] = oop;
            self.remembered_len += 1;
        }
        *m = (*m).max(state);
    }

    /// Makes the old `oop` scanned at every minor collection, so that the interpreter may store
    /// into it without the barrier: for the home of a block, which the image could have made
    /// any object. (A young one is promoted with the check made again, see `refresh_locations`.)
    #[inline]
    pub fn ensure_scanned(&mut self, oop: Oop) {
        if matches!(self.marks[oop as usize], OLD | REMEMBERED) && !is_integer_object(oop) {
            self.remember(oop, ALWAYS_SCANNED);
        }
    }

    /// Collects the young objects, or everything when that is due: before anything was loaded
    /// (`finish_loading` makes the loaded objects old), or when the minor collection leaves
    /// less than half the free oops the last full one did (old garbage has piled up), or the
    /// object space nearly full.
    pub fn collect_garbage(&mut self, extra_roots: &[Oop]) {
        if self.need_full {
            self.collect_full(extra_roots);
            return;
        }
        self.collect_young(extra_roots);
        if self.free_len < self.free_after_full / 2 || self.words_left() < 2 * WORD_RESERVE {
            self.collect_full(extra_roots);
        }
    }

    /// True when the last collection was a full one (everything unreachable was freed).
    pub fn last_collection_was_full(&self) -> bool {
        self.last_full
    }

    /// Mark from the guaranteed oops and `extra_roots`, free the rest, compact the heap.
    pub fn collect_full(&mut self, extra_roots: &[Oop]) {
        self.gc_count += 1;
        self.full_gc_count += 1;
        self.begin_collection();
        // Pooled contexts are garbage by construction; forget them (they are freed below).
        // (Their `F_POOLED` goes with their entries, freed by the sweep.)
        self.small_contexts.len = 0;
        self.large_contexts.len = 0;
        // Nothing is marked yet, and every SmallInteger (odd oop) is never to be traced.
        reset_marks(&mut self.marks);
        let traced = {
            let mut t = Tracer::new(&self.heap, &self.ot, &mut self.marks, &mut self.mark_queue);
            t.mark_roots(extra_roots);
            t.drain()
        };
        // Sweep: free unmarked entries, and find the lowest garbage object: everything below
        // it stays where it is (after a few collections that is most of the heap, the image's
        // old objects), so compaction starts there.
        let (ot, marks, free) = (&mut *self.ot, &self.marks, &mut *self.free);
        let mut free_len = 0;
        let mut first_hole = self.top;
        for i in (1..MAX_OBJECTS).rev() {
            let e = &mut ot[i];
            if e.flags & F_FREE != 0 {
                if i << 1 > LAST_GUARANTEED_OOP as usize {
                    free[free_len] = (i << 1) as Oop;
                    free_len += 1;
                }
            } else if marks[i << 1] == YOUNG {
                if e.len > 0 {
                    first_hole = first_hole.min(e.loc as usize);
                }
                *e = Entry { flags: F_FREE, ..Entry::default() };
                free[free_len] = (i << 1) as Oop;
                free_len += 1;
            } else if e.len == 0 {
                // Nothing to move; any location in range will do.
                e.loc = 0;
            }
        }
        self.free_len = free_len;
        // Every survivor is old now (its mark says so); the live contexts are scanned at every
        // minor collection from now on, nothing else is remembered.
        self.remembered_len = 0;
        self.old_with_young_fields.clear();
        self.promote_contexts(traced);
        self.compact(first_hole, traced);
        self.need_full = false;
        self.last_full = true;
        self.free_after_full = self.free_len;
        self.end_collection();
    }

    /// A minor collection: frees the young objects that neither the roots nor the remembered
    /// old objects reach, and slides the young survivors down over the freed ones. Old objects
    /// stay where they are, marked or not.
    fn collect_young(&mut self, extra_roots: &[Oop]) {
        self.gc_count += 1;
        self.begin_collection();
        // Pooled contexts are garbage; the young ones go with the other young garbage (an old
        // one stays in its pool: old objects are not freed here).
        for pool in [&mut self.small_contexts, &mut self.large_contexts] {
            let (oops, n) = (pool.oops, pool.len.min(CONTEXT_POOL_SIZE));
            pool.len = 0;
            for oop in oops.into_iter().take(n) {
                if self.marks[oop as usize] != YOUNG {
                    pool.oops[pool.len] = oop;
                    pool.len += 1;
                }
            }
        }
        let traced = {
            let mut t = Tracer::new(&self.heap, &self.ot, &mut self.marks, &mut self.mark_queue);
            t.mark_roots(extra_roots);
            // (An old context in a pool is scanned too: a stale stack slot may still name it,
            // and a full collection traces such a one whole.)
            for &oop in &self.remembered[..self.remembered_len.min(1 << 16)] {
                if self.ot[(oop >> 1) as usize].flags & F_FREE == 0 {
                    t.scan(oop);
                }
            }
            let mut traced = t.drain();
            // Old oops that `become:` gave young fields (traced above, as remembered) move
            // with the young objects: the compaction takes the mark queue's objects.
            self.old_with_young_fields.sort_unstable();
            self.old_with_young_fields.dedup();
            for &oop in &self.old_with_young_fields {
                let e = &self.ot[(oop >> 1) as usize];
                if e.flags & F_FREE == 0 && e.loc as usize >= self.old_top {
                    self.mark_queue[traced % MAX_OBJECTS] = oop;
                    traced += 1;
                }
            }
            self.old_with_young_fields.clear();
            traced
        };
        if self.verify_generations {
            self.generation_errors += self.count_missed(extra_roots) as u64;
        }
        // Sweep the young oops (`free[free_len..young_end]`): the dead ones go back on the
        // free stack, written over the same stretch (the write index never passes the read one).
        let mut first_hole = self.top;
        let mut w = self.free_len;
        for r in self.free_len..self.young_end.min(MAX_OBJECTS) {
            let oop = self.free[r];
            let e = &mut self.ot[(oop >> 1) as usize];
            if self.marks[oop as usize] == YOUNG {
                // (A young oop that `become:` gave old fields leaves its words to a full
                // collection.)
                if e.len > 0 && e.loc as usize >= self.old_top {
                    first_hole = first_hole.min(e.loc as usize);
                }
                *e = Entry { flags: F_FREE, ..Entry::default() };
                self.free[w] = oop;
                w += 1;
            } else if e.len == 0 {
                e.loc = 0;
            }
        }
        self.free_len = w;
        // The remembered objects' young referents are old now: only the contexts stay listed.
        let mut kept = 0;
        for r in 0..self.remembered_len.min(1 << 16) {
            let oop = self.remembered[r];
            // (An entry whose oop `become:` made young since is dropped too.)
            match self.marks[oop as usize] {
                ALWAYS_SCANNED => {
                    self.remembered[kept] = oop;
                    kept += 1;
                }
                REMEMBERED => self.marks[oop as usize] = OLD,
                _ => {}
            }
        }
        self.remembered_len = kept;
        // The survivors were all young (the old ones were not traced): the new old contexts
        // among them join the scanned ones.
        self.promote_contexts(traced);
        self.compact(first_hole, traced);
        self.last_full = false;
        self.end_collection();
    }

    /// Resets what a collection of either kind starts from.
    fn begin_collection(&mut self) {
        self.gc_requested = false;
        self.allocations_since_gc = 0;
    }

    /// What both kinds of collection leave for the next: the young generation starts empty.
    fn end_collection(&mut self) {
        self.young_end = self.free_len;
        self.old_top = self.top;
        // Near a full table, the next collection waits until half the free oops are used
        // (`request_gc` also spaces collections by `MIN_GC_SPACING` allocations).
        self.oop_gc_threshold = OOP_RESERVE.min(self.free_len / 2);
        self.survivors = MAX_OBJECTS - 1 - self.free_len;
    }

    /// Lists the contexts among the `traced` objects just marked (the mark queue's) as
    /// `ALWAYS_SCANNED`.
    fn promote_contexts(&mut self, traced: usize) {
        for k in 0..traced {
            let oop = self.mark_queue[k % MAX_OBJECTS];
            let class = self.ot[(oop >> 1) as usize].class;
            if class == CLASS_METHOD_CONTEXT || class == CLASS_BLOCK_CONTEXT {
                self.remember(oop, ALWAYS_SCANNED);
            }
        }
    }

    /// Slides the live objects at or above heap word `first_hole` down over the freed ones.
    /// Every live object there is among the `traced` ones of the mark queue (a full
    /// collection's queue has every live object; a minor one's every young survivor, and only
    /// young objects lie above the old ones).
    fn compact(&mut self, first_hole: usize, traced: usize) {
        // Each such object gets its start bit set in `starts` (bit n for heap word
        // `first_hole + n`) and its oop written over its field 0, whose value waits in the
        // entry's `loc` meanwhile; then a walk over the bitmap visits those objects in address
        // order (linear time, no sort) and slides them down.
        let (ot, heap, starts) = (&mut *self.ot, &mut *self.heap, &mut self.starts);
        starts.clear();
        starts.resize((self.top - first_hole).div_ceil(64), 0);
        for &oop in &self.mark_queue[..traced] {
            let i = (oop >> 1) as usize;
            let e = &mut ot[i];
            // (Entry 0 is no object's; the sweep leaves it alone too.)
            if i != 0 && e.len > 0 && e.loc as usize >= first_hole {
                let loc = e.loc as usize;
                let bit = loc - first_hole;
                starts[bit / 64] |= 1 << (bit % 64);
                e.loc = heap[loc & HEAP_MASK] as u32;
                heap[loc & HEAP_MASK] = oop;
            }
        }
        let mut dest = first_hole;
        for w in 0..self.starts.len() {
            let mut bits = self.starts[w];
            while bits != 0 {
                let src = first_hole + w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let e = &mut self.ot[(self.heap[src] >> 1) as usize];
                let (field0, len) = (e.loc as u16, e.len as usize);
                e.loc = dest as u32;
                // dest <= src: the copy moves down, and heap[dest] is already behind the walk.
                if src != dest {
                    self.heap.copy_within(src + 1..src + len, dest + 1);
                }
                self.heap[dest] = field0;
                dest += len;
            }
        }
        self.top = dest;
    }

    /// `verify_generations`: the live objects reachable from the roots (marked the full way,
    /// in a second set of marks) that the minor collection's marks leave young.
    fn count_missed(&self, extra_roots: &[Oop]) -> usize {
        let mut marks: Box<[u8; 1 << 16]> = vec![0; 1 << 16].try_into().unwrap_or_else(|_| unreachable!("2^16"));
        let mut queue: Box<[Oop; MAX_OBJECTS]> =
            vec![0; MAX_OBJECTS].try_into().unwrap_or_else(|_| unreachable!("MAX_OBJECTS"));
        reset_marks(&mut marks);
        let mut t = Tracer::new(&self.heap, &self.ot, &mut marks, &mut queue);
        t.mark_roots(extra_roots);
        let n = t.drain();
        queue[..n].iter().filter(|&&oop| self.marks[oop as usize] == YOUNG).count()
    }

    /// Objects the last collection kept (live then; `object_count` also counts garbage made
    /// since): what a leak would make grow. (After a minor collection, the old garbage too.)
    pub fn survivors_of_last_collection(&self) -> usize {
        self.survivors
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

/// `marks[oop]` between collections: a young object, or a free entry.
const YOUNG: u8 = 0;
/// An object that survived a collection, and every SmallInteger oop (never traced).
const OLD: u8 = 1;
/// An old object the write barrier listed since the last collection (see `note_store`).
const REMEMBERED: u8 = 2;
/// An old object listed for good (until the next full collection): a context.
const ALWAYS_SCANNED: u8 = 3;

/// Marks every even oop `YOUNG` and every odd one (a SmallInteger) `OLD`, never to be traced.
fn reset_marks(marks: &mut [u8; 1 << 16]) {
    let pattern: [u8; 16] = core::array::from_fn(|i| (i & 1) as u8);
    for chunk in marks.chunks_exact_mut(16) {
        chunk.copy_from_slice(&pattern);
    }
}

/// The mark phase: marks reachable young objects `OLD` and queues each once. The queue is
/// never popped, only walked (`drain`), so afterwards it lists the objects marked, which the
/// sweep and compaction use. Every oop is queued at most once and only even ones are, so the
/// queue never outgrows the table (reserved once and kept between collections), and the
/// masked index needs no bounds check. The heap and the table are borrowed apart, so a
/// pointer object's fields are one slice (one bounds check per object, not per field).
struct Tracer<'a> {
    heap: &'a [u16; HEAP_WORDS],
    ot: &'a [Entry; MAX_OBJECTS],
    marks: &'a mut [u8; 1 << 16],
    queue: &'a mut [Oop; MAX_OBJECTS],
    tail: usize,
}

impl<'a> Tracer<'a> {
    fn new(
        heap: &'a [u16; HEAP_WORDS],
        ot: &'a [Entry; MAX_OBJECTS],
        marks: &'a mut [u8; 1 << 16],
        queue: &'a mut [Oop; MAX_OBJECTS],
    ) -> Self {
        Tracer { heap, ot, marks, queue, tail: 0 }
    }

    /// Most fields hold a SmallInteger or an object marked already (or old): one load and test
    /// of the mark byte, indexed by the 16-bit oop itself, settles those. A free entry (a
    /// dangling oop in a corrupt image) is marked and not traced; the sweep frees it.
    #[inline(always)]
    fn mark(&mut self, oop: Oop) {
        let m = &mut self.marks[oop as usize];
        if *m == YOUNG {
            *m = OLD;
            if self.ot[(oop >> 1) as usize].flags & F_FREE == 0 {
                self.queue[self.tail % MAX_OBJECTS] = oop;
                self.tail += 1;
            }
        }
    }

    /// Marks the guaranteed oops (the interpreter names them directly) and `roots`.
    fn mark_roots(&mut self, roots: &[Oop]) {
        for oop in (2..=LAST_GUARANTEED_OOP).step_by(2).chain(roots.iter().copied()) {
            self.mark(oop);
        }
    }

    /// Marks the class and the oops among the fields of `oop`.
    #[inline(always)]
    fn scan(&mut self, oop: Oop) {
        let e = self.ot[(oop >> 1) as usize];
        self.mark(e.class);
        let loc = e.loc as usize;
        let pointers = if e.flags & F_POINTERS != 0 {
            e.len as usize
        } else if e.class == CLASS_COMPILED_METHOD && e.len > 0 {
            // Header and literals are oops; the bytecodes after them are not.
            (((self.heap[loc & HEAP_MASK] >> 1) & 0x3f) as usize + 1).min(e.len as usize)
        } else {
            0
        };
        for &child in &self.heap[loc..loc + pointers] {
            self.mark(child);
        }
    }

    /// Scans the queued objects until none is left; answers how many were queued.
    fn drain(mut self) -> usize {
        let mut head = 0;
        while head < self.tail {
            let oop = self.queue[head % MAX_OBJECTS];
            head += 1;
            self.scan(oop);
        }
        self.tail
    }
}

/// Named fields of a class's instances, from its instance specification.
fn fixed_fields_of_spec(spec: u16) -> usize {
    ((spec >> 1) & 0x7ff) as usize
}

/// How a class's instances lay out their fields, from its instance specification.
fn format_of_spec(spec: u16) -> Format {
    if spec & SPEC_POINTERS != 0 {
        Format::Pointers
    } else if spec & SPEC_WORDS != 0 {
        Format::Words
    } else {
        Format::Bytes
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
        tiny_memory_loading(|_| {})
    }

    /// `tiny_memory`, with what `load` adds loaded too.
    fn tiny_memory_loading(load: impl FnOnce(&mut ObjectMemory)) -> ObjectMemory {
        let mut m = ObjectMemory::new();
        // A pointer class with 2 fixed fields: superclass, methods, spec.
        let spec = integer_object_of(0) | SPEC_POINTERS | (2 << 1);
        m.load_object(100, 100, Format::Pointers, false, &[NIL, NIL, spec]);
        m.load_object(NIL, 100, Format::Pointers, false, &[]);
        load(&mut m);
        m.finish_loading();
        m
    }

    #[test]
    fn an_object_made_with_its_pointers_holds_them_and_nothing_else_moves() {
        let mut m = tiny_memory();
        let before = m.allocate(100, 1, Format::Pointers, false, NIL).unwrap();
        m.store_pointer(0, before, 7);
        let pair = m.instantiate_with_pointers(100, [integer_object_of(3), integer_object_of(-4)]).unwrap();
        let after = m.allocate(100, 1, Format::Pointers, false, NIL).unwrap();
        assert_eq!(m.fetch_class_of(pair), 100);
        assert_eq!(m.fetch_word_length_of(pair), 2);
        assert_eq!((m.fetch_pointer(0, pair), m.fetch_pointer(1, pair)), (integer_object_of(3), integer_object_of(-4)));
        assert_eq!((m.fetch_pointer(0, before), m.fetch_pointer(0, after)), (7, NIL), "its neighbours' fields");
        // A full table: no object, as `allocate` answers.
        while m.allocate(100, 0, Format::Pointers, false, NIL).is_some() {}
        assert_eq!(m.instantiate_with_pointers(100, [NIL, NIL]), None);
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
    fn the_loader_cannot_put_more_fields_in_the_heap_than_an_image_file_holds() {
        let mut m = ObjectMemory::new();
        let big = vec![0u16; MAX_OBJECT_FIELDS];
        let fit = HEAP_WORDS / MAX_OBJECT_FIELDS;
        for i in 0..fit {
            assert!(m.load_object(2 * (i as Oop + 100), 100, Format::Words, false, &big), "object {i} fits");
        }
        assert!(!m.load_object(2 * (fit as Oop + 100), 100, Format::Words, false, &big), "one more does not");
        assert!(m.heap_words_used() <= HEAP_WORDS);
    }

    #[test]
    fn heap_bytes_count_as_the_image_does_up_to_the_last_byte_then_wrap() {
        let mut m = tiny_memory();
        let last = m.heap().len() - 1;
        m.heap_mut()[0] = 0x1234;
        m.heap_mut()[last] = 0xabcd;
        assert_eq!((m.heap_byte(0), m.heap_byte(1)), (0x12, 0x34));
        assert_eq!((m.heap_byte(2 * last), m.heap_byte(2 * last + 1)), (0xab, 0xcd));
        let o = m.allocate(100, 2, Format::Bytes, true, 0).unwrap();
        m.store_byte(2, o, 0x56);
        assert_eq!(m.heap_byte(2 * m.loc(o) + 2), 0x56);
        // Past the heap, indexes wrap to its start (a hostile jump's ip reads other bytes).
        assert_eq!(last, HEAP_WORDS - 1);
        assert_eq!((m.heap_byte(2 * last + 2), m.heap_byte(2 * last + 3)), (0x12, 0x34));
        assert_eq!(m.word_at(0), 0x1234);
        assert_eq!(m.word_at(last), 0xabcd);
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

    /// `tiny_memory` after its first (full) collection, with `holder` old.
    fn memory_with_an_old_object() -> (ObjectMemory, Oop) {
        let mut m = tiny_memory();
        let holder = m.instantiate_class(100, 3).unwrap();
        m.collect_garbage(&[holder]);
        assert_eq!(m.full_gc_count, 0, "the first collection is a minor one: what was loaded is old");
        (m, holder)
    }

    #[test]
    fn a_minor_collection_frees_young_garbage_and_keeps_what_old_objects_were_given() {
        let (mut m, holder) = memory_with_an_old_object();
        m.verify_generations = true;
        let kept = m.instantiate_class(100, 1).unwrap();
        let child = m.instantiate_class(100, 0).unwrap();
        m.store_pointer(0, kept, child);
        m.store_pointer(2, kept, integer_object_of(9));
        for _ in 0..50 {
            m.instantiate_class(100, 4).unwrap();
        }
        // Only the old holder names `kept`, and only through the write barrier.
        m.store_pointer(1, holder, kept);
        let (oops, top) = (m.oops_left(), m.heap_words_used());
        m.collect_garbage(&[holder]);
        assert_eq!((m.gc_count, m.full_gc_count), (2, 0), "a minor collection");
        assert_eq!(m.generation_errors, 0);
        assert_eq!(m.oops_left(), oops + 50, "the 50 unreferenced young objects were freed");
        assert_eq!(m.heap_words_used(), top - 50 * 6, "and their words reclaimed");
        assert_eq!(m.fetch_pointer(1, holder), kept);
        assert_eq!((m.fetch_pointer(0, kept), m.fetch_pointer(2, kept)), (child, integer_object_of(9)));
        assert_eq!(m.fetch_class_of(child), 100, "the young survivors moved with their fields");
        // Old garbage stays until a full collection.
        m.store_pointer(1, holder, NIL);
        m.collect_garbage(&[holder]);
        assert!(m.is_object(kept) && m.is_object(child), "old objects are not freed by a minor collection");
        m.collect_full(&[holder]);
        assert!(!m.is_object(kept) && !m.is_object(child));
        assert!(m.is_object(holder));
    }

    #[test]
    fn a_store_the_barrier_did_not_see_would_free_a_live_object_and_verification_counts_it() {
        let (mut m, holder) = memory_with_an_old_object();
        m.verify_generations = true;
        let young = m.instantiate_class(100, 0).unwrap();
        // A raw store, as only the interpreter makes and only into contexts.
        let loc = m.loc(holder);
        m.set_word_at(loc, young);
        m.collect_garbage(&[holder]);
        assert_eq!(m.generation_errors, 1, "the young object reachable only through the old one");
    }

    #[test]
    fn a_context_loaded_from_the_image_is_scanned_without_the_barrier() {
        let ctx: Oop = 200;
        let mut m = tiny_memory_loading(|m| {
            m.load_object(ctx, CLASS_METHOD_CONTEXT, Format::Pointers, false, &[NIL; 18]);
        });
        m.verify_generations = true;
        let young = m.allocate(100, 0, Format::Pointers, false, NIL).unwrap();
        let loc = m.loc(ctx);
        m.set_word_at(loc + 6, young);
        m.collect_garbage(&[ctx]);
        assert_eq!((m.gc_count, m.full_gc_count, m.generation_errors), (1, 0, 0));
        assert!(m.is_object(young));
    }

    #[test]
    fn old_contexts_are_scanned_without_the_barrier() {
        let mut m = tiny_memory();
        let ctx = m.allocate_context(SMALL_CONTEXT_WORDS).unwrap();
        m.collect_garbage(&[ctx]);
        m.verify_generations = true;
        let young = m.instantiate_class(100, 0).unwrap();
        let loc = m.loc(ctx);
        m.set_word_at(loc + 7, young); // a push into an old context: no barrier
        m.collect_garbage(&[ctx]);
        assert_eq!((m.gc_count, m.full_gc_count, m.generation_errors), (2, 0, 0));
        assert!(m.is_object(young));
    }

    #[test]
    fn an_object_made_always_scanned_keeps_what_raw_stores_give_it_across_collections() {
        // (A block's home that the image made some other object: the interpreter stores its
        // temporaries there without the barrier, see `ensure_scanned`.)
        let (mut m, holder) = memory_with_an_old_object();
        m.verify_generations = true;
        m.ensure_scanned(holder);
        let loc = m.loc(holder);
        for round in 0..3 {
            let young = m.instantiate_class(100, 0).unwrap();
            m.set_word_at(loc + round, young);
            m.collect_garbage(&[holder]);
            assert!(m.is_object(young), "round {round}");
        }
        assert_eq!((m.full_gc_count, m.generation_errors), (0, 0));
    }

    #[test]
    fn become_between_an_old_and_a_young_object_keeps_both_objects_fields() {
        let (mut m, holder) = memory_with_an_old_object();
        m.verify_generations = true;
        for _ in 0..10 {
            m.instantiate_class(100, 0).unwrap(); // garbage below the young object: it moves
        }
        let young = m.instantiate_class(100, 1).unwrap();
        let child = m.instantiate_class(100, 0).unwrap();
        m.store_pointer(0, young, child);
        m.store_pointer(1, young, integer_object_of(5));
        m.store_pointer(0, holder, integer_object_of(7));
        let top = m.heap_words_used();
        m.swap_pointers_of(holder, young);
        // The old oop names the young fields, the only path to `child`.
        m.collect_garbage(&[holder, young]);
        assert_eq!((m.full_gc_count, m.generation_errors), (0, 0), "a minor collection, nothing missed");
        assert_eq!(m.heap_words_used(), top - 10 * 2, "the garbage's words reclaimed");
        assert_eq!((m.fetch_pointer(0, holder), m.fetch_pointer(1, holder)), (child, integer_object_of(5)));
        assert_eq!(m.fetch_class_of(child), 100);
        assert_eq!((m.fetch_word_length_of(holder), m.fetch_word_length_of(young)), (3, 5));
        assert_eq!(m.fetch_pointer(0, young), integer_object_of(7));
        m.collect_garbage(&[holder, young]);
        assert_eq!((m.fetch_pointer(0, holder), m.generation_errors), (child, 0));
    }

    #[test]
    fn become_between_two_old_objects_keeps_what_either_was_given() {
        let mut m = tiny_memory();
        let (a, b) = (m.instantiate_class(100, 0).unwrap(), m.instantiate_class(100, 0).unwrap());
        m.collect_garbage(&[a, b]);
        m.verify_generations = true;
        // Twice, so that each of the two is once the one the barrier remembered.
        for (given, other) in [(a, b), (b, a)] {
            let young = m.instantiate_class(100, 0).unwrap();
            m.store_pointer(0, given, young);
            m.swap_pointers_of(a, b);
            m.collect_garbage(&[a, b]);
            assert_eq!((m.full_gc_count, m.generation_errors), (0, 0));
            assert_eq!(m.fetch_pointer(0, other), young);
            assert!(m.is_object(young));
        }
    }

    #[test]
    fn old_garbage_piling_up_turns_a_minor_collection_into_a_full_one() {
        let (mut m, holder) = memory_with_an_old_object();
        let free_after_full = m.oops_left();
        // Each round promotes a chain of objects the holder then drops.
        let mut rounds = 0;
        while m.full_gc_count == 0 {
            let mut head = NIL;
            for _ in 0..1000 {
                let o = m.instantiate_class(100, 0).unwrap();
                m.store_pointer(0, o, head);
                head = o;
            }
            m.store_pointer(2, holder, head);
            m.collect_garbage(&[holder]);
            m.store_pointer(2, holder, NIL);
            rounds += 1;
            assert!(rounds < 100, "no full collection came");
        }
        assert!(m.oops_left() > free_after_full - 1100, "the full collection freed the old garbage");
    }

    #[test]
    fn marks_start_afresh_at_each_collection_and_a_dangling_field_is_not_traced() {
        let mut m = tiny_memory();
        let live = m.instantiate_class(100, 2).unwrap();
        let child = m.instantiate_class(100, 0).unwrap();
        m.store_pointer(0, live, child);
        // A field naming a free entry (a corrupt image's dangling oop): the collection must
        // neither trace it nor bring the entry back to life.
        let dangling = m.free[m.free_len - 1];
        m.store_pointer(1, live, dangling);
        let before = m.oops_left();
        m.collect_garbage(&[live]);
        assert_eq!(m.oops_left(), before, "nothing was garbage");
        assert!(!m.is_object(dangling), "the dangling oop stays free");
        // The second collection sees no marks left over from the first: with `child`
        // unreferenced, it goes (and a stale mark would have kept it).
        m.store_pointer(0, live, NIL);
        m.collect_full(&[live]);
        assert!(!m.is_object(child), "the unreferenced child was freed");
        assert!(m.is_object(live));
        assert_eq!(m.oops_left(), before + 1);
    }

    #[test]
    fn compaction_keeps_every_object_when_address_order_differs_from_oop_order() {
        let mut m = tiny_memory();
        // Reused oops and `become:` put objects at addresses unrelated to their oops; some have
        // no fields at all; garbage sits between the survivors.
        let mut keep = Vec::new();
        for round in 0..3 {
            for n in 0..40usize {
                let o = m.allocate(100, n % 7, Format::Words, false, 0).unwrap();
                for f in 0..n % 7 {
                    m.store_word(f, o, (o ^ (f as u16) ^ round) | 0x8000);
                }
                if n % 3 != 0 {
                    keep.push(o);
                }
            }
            let (a, b) = (keep[round as usize], keep[keep.len() - 1]);
            m.swap_pointers_of(a, b);
            let expected: Vec<Vec<u16>> = keep.iter().map(|&o| m.words(o).to_vec()).collect();
            m.collect_garbage(&keep);
            for (o, words) in keep.iter().zip(&expected) {
                assert_eq!(m.words(*o), &words[..], "object {o} after collection {round}");
            }
            let live: usize = keep.iter().map(|&o| m.fetch_word_length_of(o)).sum();
            assert_eq!(m.heap_words_used(), 3 + live);
        }
    }

    #[test]
    fn a_full_table_fails_new_objects_keeps_contexts_and_is_not_collected_in_a_storm() {
        let mut m = tiny_memory();
        let mut live = Vec::new();
        while let Some(o) = m.instantiate_class(100, 0) {
            live.push(o);
        }
        assert_eq!(m.oops_left(), CONTEXT_RESERVE, "new objects stop at the contexts' reserve");
        m.collect_garbage(&live);
        assert!(m.is_critical());
        // Refused allocations right after a collection do not ask for another one...
        for _ in 1..MIN_GC_SPACING {
            assert_eq!(m.instantiate_class(100, 0), None);
            assert!(!m.gc_requested);
        }
        // ...until enough of them have happened that garbage may have appeared.
        assert_eq!(m.instantiate_class(100, 0), None);
        assert!(m.gc_requested);
        // A send can still get a context from the reserve.
        let ctx = m.allocate_context(SMALL_CONTEXT_WORDS).unwrap();
        assert_eq!(m.fetch_class_of(ctx), CLASS_METHOD_CONTEXT);
        assert_eq!(m.oops_left(), CONTEXT_RESERVE - 1);
    }

    #[test]
    fn only_contexts_the_image_cannot_name_are_recycled_and_pooled_ones_stay_hidden() {
        let mut m = tiny_memory();
        // The class MethodContext: pointers, indexable, the six fixed fields.
        let spec = integer_object_of(0) | SPEC_POINTERS | SPEC_INDEXABLE | (6 << 1);
        m.load_object(CLASS_METHOD_CONTEXT, 100, Format::Pointers, false, &[NIL, NIL, spec]);
        // A context an activation made and that returned goes to the pool, hidden from the
        // image's enumeration, and is handed out again.
        let a = m.allocate_context(SMALL_CONTEXT_WORDS).unwrap();
        assert!(m.recycle_context(a));
        assert!(m.is_pooled(a));
        assert_eq!(m.instance_after(CLASS_METHOD_CONTEXT, 0), None, "a pooled context is garbage");
        assert_eq!(m.allocate_context(SMALL_CONTEXT_WORDS), Some(a));
        assert!(!m.is_pooled(a));
        assert_eq!(m.instance_after(CLASS_METHOD_CONTEXT, 0), Some(a));
        // One that escaped, or that the image made itself (`MethodContext new: 12`, which it
        // holds from the start), keeps its fields and its identity.
        m.set_escaped(a);
        assert!(!m.recycle_context(a));
        let made = m.instantiate_class(CLASS_METHOD_CONTEXT, 12).unwrap();
        assert_eq!(m.fetch_word_length_of(made), SMALL_CONTEXT_WORDS as usize);
        assert!(!m.recycle_context(made));
        assert_ne!(m.allocate_context(SMALL_CONTEXT_WORDS), Some(made));
        // A context of neither size an activation uses is never handed out for one.
        let odd = m.allocate(CLASS_METHOD_CONTEXT, 7, Format::Pointers, false, NIL).unwrap();
        assert!(m.recycle_context(odd), "nothing references it");
        assert!(!m.is_pooled(odd));
        assert_ne!(m.allocate_context(SMALL_CONTEXT_WORDS), Some(odd));
        // A collection frees what waits in the pools.
        let b = m.allocate_context(LARGE_CONTEXT_WORDS).unwrap();
        assert!(m.recycle_context(b));
        m.collect_garbage(&[]);
        assert!(!m.is_object(b));
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

    /// Random programs against a model of the object graph: allocations, stores through the
    /// barrier, raw stores into contexts (as the interpreter pushes), `become:` of any two
    /// objects, dropped roots, minor and full collections. After every collection each object
    /// the model still reaches must be alive with the fields the model says, and
    /// `verify_generations` must have found no young object a minor collection missed.
    #[test]
    fn random_programs_keep_every_reachable_object_across_both_kinds_of_collection() {
        use alloc::collections::BTreeMap;
        type Model = BTreeMap<Oop, (Vec<Oop>, bool)>;
        /// Field `i` of `target` set to `value` in memory and model, as the interpreter
        /// stores: into a context without the barrier. False when it has no field `i`.
        fn store(m: &mut ObjectMemory, model: &mut Model, target: Oop, i: usize, value: Oop) -> bool {
            let (fields, is_context) = model.get_mut(&target).unwrap();
            if i >= fields.len() {
                return false;
            }
            fields[i] = value;
            if *is_context {
                let loc = m.loc(target);
                m.set_word_at(loc + i, value);
            } else {
                m.store_pointer(i, target, value);
            }
            true
        }
        for seed in 1..=30u64 {
            let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let mut next = move |n: usize| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                (rng % n as u64) as usize
            };
            let mut m = tiny_memory();
            m.verify_generations = true;
            // The model: each object's fields, and whether it is a context.
            let mut model = Model::new();
            let mut roots: Vec<Oop> = Vec::new();
            let (mut minors, mut fulls, mut recycled) = (0, 0, 0);
            for step in 0..6000 {
                let objects: Vec<Oop> = model.keys().copied().collect();
                let any = |k: usize| objects[k % objects.len()];
                match next(100) {
                    0..=29 => {
                        let context = next(10) == 0;
                        let made = if context {
                            m.allocate_context(SMALL_CONTEXT_WORDS)
                        } else {
                            m.instantiate_class(100, next(4))
                        };
                        if let Some(o) = made {
                            assert!(!model.contains_key(&o), "seed {seed} step {step}: {o} handed out twice");
                            if context {
                                assert_eq!(
                                    (m.fetch_class_of(o), m.fetch_word_length_of(o)),
                                    (CLASS_METHOD_CONTEXT, SMALL_CONTEXT_WORDS as usize),
                                    "seed {seed} step {step}: a context from the pool"
                                );
                            }
                            // (A recycled context keeps its last fields: the activation
                            // writes them all, as here.)
                            let loc = m.loc(o);
                            for i in 0..m.fetch_word_length_of(o) {
                                m.set_word_at(loc + i, NIL);
                            }
                            model.insert(o, (vec![NIL; m.fetch_word_length_of(o)], context));
                            // (A context is a root, as the interpreter's active chain is.)
                            if context || next(3) == 0 || roots.is_empty() {
                                roots.push(o);
                            } else if !objects.is_empty() {
                                // Reachable from an existing object instead (maybe an old one).
                                let holder = any(next(1 << 16));
                                let i = next(model[&holder].0.len().max(1));
                                if !store(&mut m, &mut model, holder, i, o) {
                                    roots.push(o);
                                }
                            }
                        }
                    }
                    30..=69 if !objects.is_empty() => {
                        let (target, value) = (any(next(1 << 16)), any(next(1 << 16)));
                        let value = if next(4) == 0 { integer_object_of(next(100) as i16) } else { value };
                        let i = next(model[&target].0.len().max(1));
                        store(&mut m, &mut model, target, i, value);
                    }
                    70..=74 if objects.len() >= 2 => {
                        let (a, b) = (any(next(1 << 16)), any(next(1 << 16)));
                        m.swap_pointers_of(a, b);
                        let (fa, fb) = (model[&a].clone(), model[&b].clone());
                        model.insert(a, fb);
                        model.insert(b, fa);
                    }
                    75..=82 if !roots.is_empty() => {
                        roots.swap_remove(next(roots.len()));
                    }
                    // A context returns: recycled when nothing names it (as the interpreter
                    // recycles one that never escaped), and then gone from the model.
                    83 | 84 if !roots.is_empty() => {
                        let k = next(roots.len());
                        let o = roots[k];
                        let named = roots.iter().filter(|&&r| r == o).count() > 1
                            || model.values().any(|(f, _)| f.contains(&o));
                        if model[&o].1 && !named && m.recycle_context(o) {
                            roots.swap_remove(k);
                            model.remove(&o);
                            recycled += 1;
                        }
                    }
                    85..=87 => {
                        let full = next(4) == 0;
                        if full {
                            m.collect_full(&roots);
                        } else {
                            m.collect_garbage(&roots);
                        }
                        if m.last_collection_was_full() {
                            fulls += 1;
                        } else {
                            minors += 1;
                        }
                        assert_eq!(m.generation_errors, 0, "seed {seed} step {step}");
                        // What the model reaches from the roots; the rest may be gone.
                        let mut reached = alloc::collections::BTreeSet::new();
                        let mut todo = roots.clone();
                        while let Some(o) = todo.pop() {
                            if model.contains_key(&o) && reached.insert(o) {
                                todo.extend(model[&o].0.iter().copied());
                            }
                        }
                        model.retain(|o, _| reached.contains(o));
                        for (&o, (fields, _)) in &model {
                            assert!(m.is_object(o), "seed {seed} step {step}: {o} was freed");
                            let got: Vec<Oop> = (0..fields.len()).map(|i| m.fetch_pointer(i, o)).collect();
                            assert_eq!(&got, fields, "seed {seed} step {step}: the fields of {o}");
                        }
                    }
                    _ => {}
                }
            }
            assert!(
                minors > 20 && fulls > 5 && recycled > 5,
                "seed {seed}: {minors} minor and {fulls} full collections, {recycled} contexts recycled"
            );
        }
    }
}
