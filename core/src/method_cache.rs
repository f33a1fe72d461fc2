//! The method cache (Blue Book ch. 28 "Method Cache"): recent (selector, class) lookups and
//! their methods with decoded headers, so most sends skip the dictionary search.

use crate::interpreter::MethodInfo;
use crate::object_memory::Oop;
use alloc::vec;
use alloc::vec::Vec;

#[derive(Clone, Copy, Default)]
struct Entry {
    selector: Oop,
    class: Oop,
    method: Oop,
    info: MethodInfo,
}

/// Number of entries (a power of two).
const SIZE: usize = 2048;

pub(crate) struct MethodCache {
    entries: Vec<Entry>,
}

impl MethodCache {
    pub(crate) fn new() -> MethodCache {
        MethodCache { entries: vec![Entry::default(); SIZE] }
    }

    #[inline(always)]
    fn index(selector: Oop, class: Oop) -> usize {
        ((selector ^ class.rotate_left(5)) >> 1) as usize & (SIZE - 1)
    }

    /// The method cached for `selector` sent to an instance of `class`.
    #[inline(always)]
    pub(crate) fn probe(&self, selector: Oop, class: Oop) -> Option<(Oop, MethodInfo)> {
        let e = &self.entries[Self::index(selector, class)];
        (e.selector == selector && e.class == class && e.method != 0).then_some((e.method, e.info))
    }

    /// Remembers a lookup, replacing whatever shared its slot.
    #[inline]
    pub(crate) fn insert(&mut self, selector: Oop, class: Oop, method: Oop, info: MethodInfo) {
        self.entries[Self::index(selector, class)] = Entry { selector, class, method, info };
    }

    /// Forgets every lookup (after a collection or `become:` moved objects, or a method
    /// changed: primitive 89).
    pub(crate) fn flush(&mut self) {
        self.entries.fill(Entry::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(args: u8) -> MethodInfo {
        MethodInfo { args, ..MethodInfo::default() }
    }

    #[test]
    fn finds_what_was_inserted_for_that_class_only() {
        let mut cache = MethodCache::new();
        assert!(cache.probe(100, 200).is_none());
        cache.insert(100, 200, 300, info(2));
        let (method, i) = cache.probe(100, 200).unwrap();
        assert_eq!((method, i.args), (300, 2));
        assert!(cache.probe(100, 202).is_none(), "another class");
        assert!(cache.probe(102, 200).is_none(), "another selector");
    }

    #[test]
    fn a_colliding_entry_replaces_the_old_and_flush_forgets_all() {
        let mut cache = MethodCache::new();
        // Selectors 2 * SIZE apart share a slot for the same class.
        let (a, b) = (4, 4 + 2 * SIZE as Oop);
        cache.insert(a, 10, 300, info(0));
        cache.insert(b, 10, 302, info(1));
        assert!(cache.probe(a, 10).is_none());
        assert_eq!(cache.probe(b, 10).map(|(m, _)| m), Some(302));
        cache.insert(a, 12, 304, info(0));
        cache.flush();
        assert!(cache.probe(b, 10).is_none() && cache.probe(a, 12).is_none());
    }
}
