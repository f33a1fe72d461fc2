//! The method cache (Blue Book ch. 28 "Method Cache"): recent (selector, class) lookups and
//! their methods with decoded headers, so most sends skip the dictionary search.

use crate::interpreter::MethodInfo;
use crate::object_memory::{ObjectMemory, Oop};
use alloc::boxed::Box;
use alloc::vec;

#[derive(Clone, Copy)]
pub(crate) struct Entry {
    selector: Oop,
    class: Oop,
    pub(crate) method: Oop,
    pub(crate) info: MethodInfo,
}

/// The class of an empty entry: a SmallInteger, which no probe asks for, so an empty entry
/// never matches and the probe needs no test of its own for it. A probe's class is the class
/// of a receiver, always an object (the loader refuses an odd class pointer, and every
/// allocation names a class object: `start_evaluation` checks the image's Process), or a
/// super send's superclass, nil when it is not an object.
const NO_CLASS: Oop = 1;

impl Entry {
    const EMPTY: Entry = Entry { selector: 0, class: NO_CLASS, method: 0, info: MethodInfo::NONE };
}

/// Number of entries (a power of two).
const SIZE: usize = 2048;

pub(crate) struct MethodCache {
    /// A fixed-size array (not a `Vec`): the masked index needs no bounds check.
    entries: Box<[Entry; SIZE]>,
}

impl MethodCache {
    pub(crate) fn new() -> MethodCache {
        let entries: Box<[Entry]> = vec![Entry::EMPTY; SIZE].into_boxed_slice();
        MethodCache { entries: entries.try_into().unwrap_or_else(|_| unreachable!("SIZE entries")) }
    }

    /// The first of the two entries (a set) where a lookup of `selector` in `class` can be:
    /// an even index. (Oops are even, so the hash's bit 0 would be the class's bit 11 alone;
    /// the set is chosen by bits 1-10.)
    #[inline(always)]
    fn set(selector: Oop, class: Oop) -> usize {
        (selector ^ class.rotate_left(5)) as usize & (SIZE - 2)
    }

    /// The entry for `selector` sent to an instance of `class`, if it is cached. (A reference
    /// rather than a copy: an `Option` of the method and header would be told from `None` by
    /// a test of the header's bits.)
    #[inline(always)]
    pub(crate) fn probe(&self, selector: Oop, class: Oop) -> Option<&Entry> {
        debug_assert!(class != NO_CLASS, "a probe for the class of an empty entry");
        let set = Self::set(selector, class);
        let e = &self.entries[set];
        if e.selector == selector && e.class == class {
            return Some(e);
        }
        let e = &self.entries[set | 1];
        (e.selector == selector && e.class == class).then_some(e)
    }

    /// Remembers a lookup in the first entry of its set; the entry there moves to the second,
    /// whose entry is forgotten. (Two ways: two lookups a loop repeats that hash to the same
    /// set no longer evict each other at every turn, as they did in a direct-mapped cache.)
    #[inline]
    pub(crate) fn insert(&mut self, selector: Oop, class: Oop, method: Oop, info: MethodInfo) {
        let set = Self::set(selector, class);
        self.entries[set | 1] = self.entries[set];
        self.entries[set] = Entry { selector, class, method, info };
    }

    /// Forgets the lookups that name an object the collector just freed: its oop may be
    /// reused for another object. The others stay valid, since the cache holds oops (which a
    /// collection does not move) and decoded headers, never heap locations.
    pub(crate) fn forget_freed(&mut self, memory: &ObjectMemory) {
        for e in self.entries.iter_mut() {
            if e.class != NO_CLASS
                && !(memory.is_object(e.selector) && memory.is_object(e.class) && memory.is_object(e.method))
            {
                *e = Entry::EMPTY;
            }
        }
    }

    /// Forgets every lookup (after `become:` of an object a lookup went through, or when a
    /// method changed: primitive 89).
    pub(crate) fn flush(&mut self) {
        self.entries.fill(Entry::EMPTY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object_memory::{integer_object_of, Format, NIL, SPEC_POINTERS};

    #[test]
    fn a_collection_forgets_only_lookups_naming_a_freed_object() {
        let mut m = ObjectMemory::new();
        let spec = integer_object_of(0) | SPEC_POINTERS;
        m.load_object(100, 100, Format::Pointers, false, &[NIL, NIL, spec]);
        m.load_object(NIL, 100, Format::Pointers, false, &[]);
        m.finish_loading();
        let new = |m: &mut ObjectMemory| m.allocate(100, 1, Format::Pointers, false, NIL).unwrap();
        let (selector, class, method) = (new(&mut m), new(&mut m), new(&mut m));
        let (dead_selector, dead_class, dead_method) = (new(&mut m), new(&mut m), new(&mut m));
        let mut cache = MethodCache::new();
        cache.insert(selector, class, method, info(1));
        cache.insert(dead_selector, class, method, info(0));
        cache.insert(selector, dead_class, method, info(0));
        cache.insert(class, selector, dead_method, info(0));
        m.collect_garbage(&[selector, class, method]);
        cache.forget_freed(&m);
        assert_eq!(cache.probe(selector, class).map(|e| (e.method, e.info.args)), Some((method, 1)));
        assert!(cache.probe(dead_selector, class).is_none());
        assert!(cache.probe(selector, dead_class).is_none());
        assert!(cache.probe(class, selector).is_none(), "its method was freed");
        // The freed oops are handed out again; nothing cached answers for them.
        let reused = (0..3).map(|_| new(&mut m)).collect::<Vec<_>>();
        assert!(reused.contains(&dead_method) || reused.contains(&dead_selector));
        assert!(cache.probe(dead_selector, class).is_none());
    }

    fn info(args: u8) -> MethodInfo {
        MethodInfo { args, ..MethodInfo::default() }
    }

    #[test]
    fn finds_what_was_inserted_for_that_class_only() {
        let mut cache = MethodCache::new();
        assert!(cache.probe(100, 200).is_none());
        // An empty entry answers to nothing, even to the oops it was zeroed with.
        assert!((0..SIZE as Oop * 2).all(|s| cache.probe(s, 0).is_none() && cache.probe(0, s * 2).is_none()));
        cache.insert(100, 200, 300, info(2));
        let e = cache.probe(100, 200).unwrap();
        assert_eq!((e.method, e.info.args), (300, 2));
        assert!(cache.probe(100, 202).is_none(), "another class");
        assert!(cache.probe(102, 200).is_none(), "another selector");
    }

    #[test]
    fn two_colliding_entries_stay_a_third_replaces_the_older_and_flush_forgets_all() {
        let mut cache = MethodCache::new();
        // Selectors SIZE apart share a set for the same class.
        let (a, b, c) = (4, 4 + SIZE as Oop, 4 + 2 * SIZE as Oop);
        assert_eq!(MethodCache::set(a, 10), MethodCache::set(b, 10));
        assert_eq!(MethodCache::set(a, 10), MethodCache::set(c, 10));
        cache.insert(a, 10, 300, info(0));
        cache.insert(b, 10, 302, info(1));
        assert_eq!(cache.probe(a, 10).map(|e| e.method), Some(300));
        assert_eq!(cache.probe(b, 10).map(|e| e.method), Some(302));
        cache.insert(c, 10, 304, info(2));
        assert!(cache.probe(a, 10).is_none(), "the older of the two is forgotten");
        assert_eq!(cache.probe(b, 10).map(|e| e.method), Some(302));
        assert_eq!(cache.probe(c, 10).map(|e| (e.method, e.info.args)), Some((304, 2)));
        cache.insert(a, 12, 306, info(0));
        cache.flush();
        assert!(cache.probe(b, 10).is_none() && cache.probe(c, 10).is_none() && cache.probe(a, 12).is_none());
    }
}
