//! Checking an image file without running it (`st80 check`).
//!
//! Works on the file's bytes, not on a loaded memory, so it sees what the loader would smooth
//! over (count fields, free entries, the object space layout) and never trusts a value before
//! it has checked it: any file gives a report or an [`ImageError`], never a panic.
//!
//! What an image in the interchange format must satisfy (Blue Book ch. 27 and 30): every live
//! object-table entry locates a whole object inside the object space, no two objects overlap,
//! every class pointer and pointer field refers to a live entry, each object's format and length
//! agree with its class's instance specification, each count field is nonzero (0 marks a free
//! chunk) and at least the number of references to the object unless saturated (>= 128), free
//! entries carry nothing but the free bit, and CompiledMethods have SmallInteger headers whose
//! literal frame fits and whose header extension (flag 7) is a SmallInteger.

use crate::image::{detect, object_table_start, read_u16, ByteOrder, ImageError, HEADER_BYTES, SATURATED_COUNT};
use crate::object_memory::*;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// Where in an object a problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// The file header or the image as a whole.
    Image,
    /// The object-table entry (flags, count, location).
    Entry,
    /// The object's class pointer.
    Class,
    /// Field `n` (0-based, after the two-word header).
    Field(usize),
}

/// One thing wrong with an image file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The object (table index * 2); None for whole-image problems.
    pub oop: Option<Oop>,
    /// The object's class name, when it could be read.
    pub class_name: Option<String>,
    /// Where in the object the problem is.
    pub place: Place,
    /// What is wrong, in words.
    pub what: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.oop {
            None => f.write_str("image")?,
            Some(oop) => {
                write!(f, "object {oop}")?;
                if let Some(name) = &self.class_name {
                    write!(f, " ({name})")?;
                }
            }
        }
        match self.place {
            Place::Image => {}
            Place::Entry => f.write_str(" entry")?,
            Place::Class => f.write_str(" class")?,
            Place::Field(n) => write!(f, " field {n}")?,
        }
        write!(f, ": {}", self.what)
    }
}

/// The result of a check: what the file is, and everything wrong with it.
#[derive(Clone, Debug)]
pub struct Report {
    /// The file's byte order.
    pub byte_order: ByteOrder,
    /// Words of object space, as the header gives them.
    pub object_space_words: usize,
    /// Entries of the object table, as the header gives them.
    pub object_table_entries: usize,
    /// Entries in use.
    pub live_objects: usize,
    /// Everything wrong, in object order.
    pub problems: Vec<Problem>,
}

impl Report {
    /// True when nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

#[derive(Clone, Copy, Default)]
struct Entry {
    flags: u16,
    /// Word address of the object header in the object space.
    addr: usize,
    /// From the size word: header included.
    size: usize,
    /// The entry is live and its object lies wholly inside the object space.
    valid: bool,
}

const FREE: u16 = 0x20;
const POINTERS: u16 = 0x40;
const ODD: u16 = 0x80;
const UNUSED: u16 = 0x10;

/// The guaranteed classes (Blue Book ch. 27, "Objects used by the interpreter").
const GUARANTEED_CLASSES: [(Oop, &str); 15] = [
    (CLASS_SMALL_INTEGER, "SmallInteger"),
    (CLASS_STRING, "String"),
    (CLASS_ARRAY, "Array"),
    (CLASS_FLOAT, "Float"),
    (CLASS_METHOD_CONTEXT, "MethodContext"),
    (CLASS_BLOCK_CONTEXT, "BlockContext"),
    (CLASS_POINT, "Point"),
    (CLASS_LARGE_POSITIVE_INTEGER, "LargePositiveInteger"),
    (CLASS_DISPLAY_BITMAP, "DisplayBitmap"),
    (CLASS_MESSAGE, "Message"),
    (CLASS_COMPILED_METHOD, "CompiledMethod"),
    (CLASS_SEMAPHORE, "Semaphore"),
    (CLASS_CHARACTER, "Character"),
    (CLASS_SYMBOL, "Symbol"),
    (CLASS_METACLASS, "Metaclass"),
];

struct Image<'a> {
    bytes: &'a [u8],
    order: ByteOrder,
    entries: Vec<Entry>,
    problems: Vec<Problem>,
}

impl Image<'_> {
    /// Word `i` of the object space (the caller keeps `i` inside it).
    fn word(&self, i: usize) -> u16 {
        read_u16(self.bytes, HEADER_BYTES + i * 2, self.order)
    }
    fn is_live(&self, oop: Oop) -> bool {
        !is_integer_object(oop) && self.entries.get(oop as usize >> 1).is_some_and(|e| e.valid)
    }
    fn fields(&self, oop: Oop) -> usize {
        self.entries[oop as usize >> 1].size - 2
    }
    fn field(&self, oop: Oop, n: usize) -> u16 {
        self.word(self.entries[oop as usize >> 1].addr + 2 + n)
    }
    fn class_of(&self, oop: Oop) -> u16 {
        self.word(self.entries[oop as usize >> 1].addr + 1)
    }
    /// A live pointer object with superclass, methods and a SmallInteger instance spec.
    fn is_class(&self, oop: Oop) -> bool {
        self.is_live(oop)
            && self.entries[oop as usize >> 1].flags & POINTERS != 0
            && self.fields(oop) > CLASS_INSTANCE_SPEC
            && is_integer_object(self.field(oop, CLASS_INSTANCE_SPEC))
    }
    /// The name of a class (or `X class` for a metaclass), if it can be read safely.
    fn class_name(&self, class: Oop) -> Option<String> {
        if !self.is_class(class) || self.fields(class) <= CLASS_NAME {
            return None;
        }
        let name = self.field(class, CLASS_NAME);
        if self.class_of(class) == CLASS_METACLASS {
            // A metaclass holds its sole instance (`thisClass`) where a class holds its name.
            if !self.is_class(name) || self.fields(name) <= CLASS_NAME {
                return None;
            }
            return self.symbol(self.field(name, CLASS_NAME)).map(|n| format!("{n} class"));
        }
        self.symbol(name)
    }
    fn symbol(&self, oop: Oop) -> Option<String> {
        if !self.is_live(oop) || self.class_of(oop) != CLASS_SYMBOL {
            return None;
        }
        let e = self.entries[oop as usize >> 1];
        let len = (e.size - 2) * 2 - (e.flags & ODD != 0) as usize;
        if len > 64 {
            return None;
        }
        let at = HEADER_BYTES + (e.addr + 2) * 2;
        // Bytes are in natural order in both byte orders (see image.rs).
        let raw = &self.bytes[at..at + len];
        raw.iter().all(|b| b.is_ascii_graphic()).then(|| raw.iter().map(|&b| b as char).collect())
    }
    /// Class names are filled in at the end, when every entry has been read.
    fn report(&mut self, oop: Option<Oop>, place: Place, what: String) {
        self.problems.push(Problem { oop, class_name: None, place, what });
    }
}

/// Checks an image file. Errors are files that are not images at all (or are truncated);
/// everything else wrong is listed in the report.
pub fn check(bytes: &[u8]) -> Result<Report, ImageError> {
    let (order, space_words, ot_words) = detect(bytes)?;
    let ot_start = object_table_start(space_words);
    let n = ot_words / 2;
    let mut img = Image { bytes, order, entries: vec![Entry::default(); n], problems: Vec::new() };
    if n > MAX_OBJECTS {
        img.report(None, Place::Image, format!("the object table has {n} entries; oops allow {MAX_OBJECTS}"));
    }

    // Entries: flags, and that each live object lies in the object space.
    for i in 0..n {
        let flags = read_u16(bytes, ot_start + i * 4, order);
        let location = read_u16(bytes, ot_start + i * 4 + 2, order) as usize;
        let oop = (i * 2) as Oop;
        if flags & FREE != 0 {
            // Entry 0 is no object; it is free in every image, whatever else its bits hold.
            if i != 0 && (flags != FREE || location != 0) {
                img.report(
                    Some(oop),
                    Place::Entry,
                    format!("a free entry with other bits set (flags {flags:#06x}, location {location})"),
                );
            }
            continue;
        }
        if i == 0 {
            img.report(Some(0), Place::Entry, "entry 0 is in use; oop 0 names no object".into());
            continue;
        }
        if flags & UNUSED != 0 {
            img.report(Some(oop), Place::Entry, format!("the unused bit is set (flags {flags:#06x})"));
        }
        if flags >> 8 == 0 {
            img.report(
                Some(oop),
                Place::Entry,
                "count 0 on a live entry (that marks a free chunk; reference-counting VMs refuse it)".into(),
            );
        }
        let addr = (flags as usize & 0xf) * 65536 + location;
        if addr + 2 > space_words {
            img.report(
                Some(oop),
                Place::Entry,
                format!("located at word {addr}, outside the object space ({space_words} words)"),
            );
            continue;
        }
        let size = img.word(addr) as usize;
        if size < 2 {
            img.report(Some(oop), Place::Entry, format!("size {size} at word {addr} (the header alone is 2)"));
            continue;
        }
        if addr + size > space_words {
            img.report(
                Some(oop),
                Place::Entry,
                format!("{size} words at word {addr} run past the object space ({space_words} words)"),
            );
            continue;
        }
        img.entries[i] = Entry { flags, addr, size, valid: true };
    }

    // Layout: objects must not share words.
    let mut by_addr: Vec<(usize, usize)> =
        img.entries.iter().enumerate().filter(|(_, e)| e.valid).map(|(i, e)| (e.addr, i)).collect();
    by_addr.sort_unstable();
    for pair in by_addr.windows(2) {
        let (a, i) = pair[0];
        let (b, j) = pair[1];
        if a + img.entries[i].size > b {
            img.report(Some((j * 2) as Oop), Place::Entry, format!("its words overlap object {} (at word {a})", i * 2));
        }
    }

    for (oop, name) in GUARANTEED_CLASSES {
        if !img.is_class(oop) {
            img.report(Some(oop), Place::Image, format!("the guaranteed class {name} is missing or not a class"));
        }
    }
    for oop in [NIL, FALSE, TRUE, SCHEDULER_ASSOCIATION, SMALLTALK, SPECIAL_SELECTORS, CHARACTER_TABLE] {
        if !img.is_live(oop) {
            img.report(Some(oop), Place::Image, "a guaranteed object is missing".into());
        }
    }

    // Objects: class, format, fields; count the references as we go.
    let mut refs = vec![0u32; n];
    let count = |refs: &mut Vec<u32>, p: Oop| {
        if !is_integer_object(p) && (p as usize >> 1) < refs.len() {
            refs[p as usize >> 1] += 1;
        }
    };
    let mut live = 0;
    for i in 1..n {
        if !img.entries[i].valid {
            continue;
        }
        live += 1;
        let oop = (i * 2) as Oop;
        let e = img.entries[i];
        let class = img.class_of(oop);
        count(&mut refs, class);
        if !img.is_live(class) {
            img.report(Some(oop), Place::Class, format!("{} is not a live object", describe(class)));
        } else if !img.is_class(class) {
            img.report(
                Some(oop),
                Place::Class,
                format!("{class} is not a class (no SmallInteger instance specification)"),
            );
        } else {
            check_format(&mut img, oop, class);
        }
        let fields = e.size - 2;
        if e.flags & POINTERS != 0 {
            for k in 0..fields {
                let p = img.field(oop, k);
                count(&mut refs, p);
                if !is_integer_object(p) && !img.is_live(p) {
                    img.report(Some(oop), Place::Field(k), format!("{} is not a live object", describe(p)));
                }
            }
        } else if class == CLASS_COMPILED_METHOD {
            for p in check_method(&mut img, oop) {
                count(&mut refs, p);
            }
        }
    }

    // Counts: a reference-counting VM frees an object when its count reaches 0, so a count
    // below the references (and not saturated) leaves dangling pointers behind.
    for (i, &r) in refs.iter().enumerate().skip(1) {
        let e = img.entries[i];
        let c = (e.flags >> 8) as u32;
        if e.valid && c != 0 && c < SATURATED_COUNT as u32 && c < r {
            img.report(Some((i * 2) as Oop), Place::Entry, format!("count {c}, but {r} references"));
        }
    }

    let mut problems = core::mem::take(&mut img.problems);
    for p in &mut problems {
        p.class_name = p.oop.filter(|&o| img.is_live(o)).and_then(|o| img.class_name(img.class_of(o)));
    }
    Ok(Report {
        byte_order: order,
        object_space_words: space_words,
        object_table_entries: n,
        live_objects: live,
        problems,
    })
}

fn describe(p: Oop) -> String {
    if p == 0 {
        String::from("oop 0")
    } else {
        format!("oop {p}")
    }
}

/// Format and length against the class's instance specification (ch. 27 "Classes").
fn check_format(img: &mut Image, oop: Oop, class: Oop) {
    let e = img.entries[oop as usize >> 1];
    let spec = img.field(class, CLASS_INSTANCE_SPEC);
    let fixed = ((spec >> 1) & 0x7ff) as usize;
    let fields = e.size - 2;
    let pointers = e.flags & POINTERS != 0;
    let odd = e.flags & ODD != 0;
    if (spec & SPEC_POINTERS != 0) != pointers {
        let (is, want) = if pointers { ("pointers", "non-pointer") } else { ("non-pointer", "pointers") };
        img.report(Some(oop), Place::Entry, format!("holds {is}, but its class makes {want} objects"));
        return;
    }
    if odd && (pointers || spec & SPEC_WORDS != 0) {
        img.report(Some(oop), Place::Entry, "the odd-length bit is set on an object of words".into());
    }
    if odd && fields == 0 {
        img.report(Some(oop), Place::Entry, "the odd-length bit is set on an empty object".into());
    }
    if spec & SPEC_INDEXABLE == 0 && fields != fixed {
        img.report(Some(oop), Place::Entry, format!("{fields} fields, but its class gives its instances {fixed}"));
    } else if fields < fixed {
        img.report(Some(oop), Place::Entry, format!("{fields} fields, fewer than the {fixed} named by its class"));
    }
}

/// Header and literal frame of a CompiledMethod; answers the literals (for the counts).
fn check_method(img: &mut Image, oop: Oop) -> Vec<Oop> {
    let fields = img.fields(oop);
    if fields == 0 {
        img.report(Some(oop), Place::Entry, "a CompiledMethod without a header".into());
        return Vec::new();
    }
    let header = img.field(oop, 0);
    if !is_integer_object(header) {
        img.report(Some(oop), Place::Field(0), format!("the method header {header:#06x} is not a SmallInteger"));
        return Vec::new();
    }
    let literals = ((header >> 1) & 0x3f) as usize;
    if 1 + literals > fields {
        img.report(
            Some(oop),
            Place::Field(0),
            format!("the header names {literals} literals, but the method has {} words after it", fields - 1),
        );
        return Vec::new();
    }
    let mut out = Vec::with_capacity(literals);
    for k in 1..=literals {
        let p = img.field(oop, k);
        out.push(p);
        if !is_integer_object(p) && !img.is_live(p) {
            img.report(Some(oop), Place::Field(k), format!("literal {} is {}, not a live object", k - 1, describe(p)));
        }
    }
    // (An odd-length method with no word after its literals is caught by fuzz/check.)
    let bytecodes =
        ((fields - 1 - literals) * 2).saturating_sub((img.entries[oop as usize >> 1].flags & ODD != 0) as usize);
    if bytecodes == 0 {
        img.report(Some(oop), Place::Entry, "a CompiledMethod without bytecodes".into());
    }
    let flag = header >> 13;
    let temps = ((header >> 8) & 0x1f) as usize;
    let args = if flag == 7 {
        if literals < 2 {
            img.report(Some(oop), Place::Field(0), "flag 7 (header extension) with fewer than 2 literals".into());
            return out;
        }
        let extension = img.field(oop, literals - 1);
        if !is_integer_object(extension) {
            img.report(Some(oop), Place::Field(literals - 1), "the header extension is not a SmallInteger".into());
            return out;
        }
        ((extension >> 9) & 0x1f) as usize
    } else if flag < 5 {
        flag as usize
    } else {
        0
    };
    if args > temps {
        img.report(Some(oop), Place::Field(0), format!("{args} arguments but only {temps} temporaries"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_images_are_errors_not_reports() {
        assert!(check(&[0; 10]).is_err());
        assert!(check(&[0xff; 4096]).is_err());
    }
}
