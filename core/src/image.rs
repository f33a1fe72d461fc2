//! Image files: the Xerox interchange format (Blue Book ch. 30, "The Object Table" and the
//! snapshot layout) in either byte order.
//!
//! Layout: a 512-byte header whose first two 32-bit values are the object space length and the
//! object table length, both in 16-bit words; the object space from byte 512; the object table
//! from the next 512-byte boundary. Each table entry is two words: flags (count:8, odd:1,
//! pointers:1, free:1, unused:1, segment:4) and the word offset within the 64K-word segment.
//! Each object starts with its size in words (header included) and its class.
//!
//! Big-endian files are Xerox's originals. Little-endian files (dbanay's) store every word
//! little-endian, but keep byte-indexable contents in their natural order (including the
//! bytecodes of a CompiledMethod, after its header and literals) and store a Float's 32 bits as
//! one little-endian value, so its two words are swapped. We undo all three on load and redo
//! them on save; in memory, bytes are always packed big-endian in words.

use crate::object_memory::*;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Byte order of the 16-bit words in an image file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    /// Most significant byte first (the Xerox distribution).
    Big,
    /// Least significant byte first (e.g. dbanay's images).
    Little,
}

impl fmt::Display for ByteOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ByteOrder::Big => "big-endian",
            ByteOrder::Little => "little-endian",
        })
    }
}

/// Why an image file could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageError {
    /// The file is shorter than the header; carries its length in bytes.
    TooShort(usize),
    /// The header's lengths fit neither byte order; carries a guess at what the file is.
    NotAnImage(String),
    /// The header is readable but the objects are not; says what is wrong.
    Corrupt(String),
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageError::TooShort(n) => {
                write!(f, "not a Smalltalk-80 image: only {n} bytes (an image has a 512-byte header)")
            }
            ImageError::NotAnImage(why) => write!(f, "not a Smalltalk-80 image: {why}"),
            ImageError::Corrupt(why) => write!(f, "corrupt Smalltalk-80 image: {why}"),
        }
    }
}

/// What was learnt while loading, besides the objects.
#[derive(Clone, Debug)]
pub struct ImageInfo {
    /// Byte order the file was written in.
    pub byte_order: ByteOrder,
    /// Object space length from the header, in 16-bit words.
    pub object_space_words: usize,
    /// Object table length from the header, in entries.
    pub object_table_entries: usize,
}

pub(crate) const HEADER_BYTES: usize = 512;

pub(crate) fn read_u16(bytes: &[u8], at: usize, order: ByteOrder) -> u16 {
    let b = [bytes[at], bytes[at + 1]];
    match order {
        ByteOrder::Big => u16::from_be_bytes(b),
        ByteOrder::Little => u16::from_le_bytes(b),
    }
}

fn read_u32(bytes: &[u8], at: usize, order: ByteOrder) -> u32 {
    let b = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
    match order {
        ByteOrder::Big => u32::from_be_bytes(b),
        ByteOrder::Little => u32::from_le_bytes(b),
    }
}

pub(crate) fn object_table_start(object_space_words: usize) -> usize {
    (HEADER_BYTES + object_space_words * 2).div_ceil(512) * 512
}

/// Finds the byte order whose header lengths describe exactly this file.
pub(crate) fn detect(bytes: &[u8]) -> Result<(ByteOrder, usize, usize), ImageError> {
    if bytes.len() < HEADER_BYTES {
        return Err(ImageError::TooShort(bytes.len()));
    }
    // Squeak's header starts with a format number; check it first, as its other words could
    // pass for plausible (truncated) lengths.
    let magic_be = read_u32(bytes, 0, ByteOrder::Big);
    let magic_le = read_u32(bytes, 0, ByteOrder::Little);
    let squeak = [6502, 6504, 6505, 68000, 68002, 68003, 6521];
    if squeak.contains(&magic_be) || squeak.contains(&magic_le) {
        return Err(ImageError::NotAnImage(
            "this looks like a Squeak/Pharo image; st80 runs Smalltalk-80 (Xerox v2 format) images".into(),
        ));
    }
    for order in [ByteOrder::Big, ByteOrder::Little] {
        let os = read_u32(bytes, 0, order) as usize;
        let ot = read_u32(bytes, 4, order) as usize;
        if os == 0 || ot == 0 || !ot.is_multiple_of(2) || os > 1 << 26 || ot > 2 * MAX_OBJECTS {
            continue;
        }
        let end = object_table_start(os) + ot * 2;
        if end == bytes.len() {
            return Ok((order, os, ot));
        }
        if end > bytes.len() && (ot <= 2 * MAX_OBJECTS) && os * 2 < bytes.len() + (1 << 20) {
            return Err(ImageError::Corrupt(format!(
                "truncated: the header ({order}) says {end} bytes, the file has {}",
                bytes.len()
            )));
        }
    }
    Err(ImageError::NotAnImage(format!(
        "the header's object space and object table lengths do not match the file size ({} bytes) in either byte order",
        bytes.len()
    )))
}

/// Parses an image file into a fresh object memory.
pub fn load(bytes: &[u8]) -> Result<(ObjectMemory, ImageInfo), ImageError> {
    let (order, os_words, ot_words) = detect(bytes)?;
    let ot_start = object_table_start(os_words);
    let entries = ot_words / 2;
    let corrupt = |s: String| Err(ImageError::Corrupt(s));
    let mut memory = ObjectMemory::new();
    // First pass: raw words; formats need the classes, which may come later in the file.
    let mut pending: Vec<(Oop, bool, bool)> = Vec::with_capacity(entries);
    // One buffer for every object's fields (not an allocation each: start-up time).
    let mut fields: Vec<u16> = Vec::new();
    for i in 0..entries {
        let flags = read_u16(bytes, ot_start + i * 4, order);
        let location = read_u16(bytes, ot_start + i * 4 + 2, order) as usize;
        if flags & 0x20 != 0 || i == 0 {
            continue;
        }
        let oop = (i * 2) as Oop;
        let word_addr = (flags as usize & 0xf) * 65536 + location;
        if word_addr + 2 > os_words {
            return corrupt(format!("object {oop} lies outside the object space"));
        }
        let at = HEADER_BYTES + word_addr * 2;
        let size = read_u16(bytes, at, order) as usize;
        if size < 2 || word_addr + size > os_words {
            return corrupt(format!("object {oop} has an impossible size {size}"));
        }
        let class = read_u16(bytes, at + 2, order);
        if is_integer_object(class) || (class as usize >> 1) >= entries {
            return corrupt(format!("object {oop} has an invalid class pointer {class}"));
        }
        // (The size check above keeps these bytes within the object space.)
        let words = bytes[at + 4..at + 2 * size].chunks_exact(2).map(|b| [b[0], b[1]]);
        fields.clear();
        match order {
            ByteOrder::Big => fields.extend(words.map(u16::from_be_bytes)),
            ByteOrder::Little => fields.extend(words.map(u16::from_le_bytes)),
        }
        let pointers = flags & 0x40 != 0;
        let odd = flags & 0x80 != 0;
        let format = if pointers { Format::Pointers } else { Format::Words };
        if !memory.load_object(oop, class, format, odd, &fields) {
            return corrupt(format!(
                "object {oop}: the objects' fields take more than {} words, all an image file can hold",
                crate::object_memory::HEAP_WORDS
            ));
        }
        pending.push((oop, pointers, odd));
    }
    for &(oop, pointers, odd) in &pending {
        let class = memory.fetch_class_of(oop);
        if !memory.is_object(class) || memory.fetch_word_length_of(class) <= CLASS_INSTANCE_SPEC {
            return corrupt(format!("object {oop} has class {class}, which is not a class"));
        }
        if pointers {
            continue;
        }
        let format = match memory.format_of_class(class) {
            Format::Bytes => Format::Bytes,
            _ if odd => Format::Bytes,
            _ => Format::Words,
        };
        if order == ByteOrder::Little {
            little_endian_fixup(class, format, memory.words_mut(oop));
        }
        memory.set_format(oop, format);
    }
    memory.finish_loading();
    for oop in [NIL, FALSE, TRUE, SCHEDULER_ASSOCIATION, SPECIAL_SELECTORS, CLASS_METHOD_CONTEXT] {
        if !memory.is_object(oop) {
            return corrupt(format!("the guaranteed object {oop} is missing"));
        }
    }
    Ok((memory, ImageInfo { byte_order: order, object_space_words: os_words, object_table_entries: entries }))
}

/// Converts a non-pointer object's words between the little-endian file convention and ours;
/// the conversion is its own inverse, so `save` uses it too.
fn little_endian_fixup(class: Oop, format: Format, w: &mut [u16]) {
    if class == CLASS_FLOAT && w.len() == 2 {
        w.swap(0, 1);
    } else if format == Format::Bytes {
        // A CompiledMethod's header and literals are words; only what follows is bytes.
        let skip = if class == CLASS_COMPILED_METHOD && !w.is_empty() {
            // The header is the same word in either convention only after the swap decision,
            // so read it as a word (it was read little-endian, i.e. correctly).
            (1 + ((w[0] >> 1) & 0x3f) as usize).min(w.len())
        } else {
            0
        };
        for x in &mut w[skip..] {
            *x = x.swap_bytes();
        }
    }
}

/// The object space of an image file: 16 segments of 64K words (segment:4 + location:16).
pub const MAX_OBJECT_SPACE_WORDS: usize = MAX_SPACE_WORDS;
/// A count field at or above this is "overflowed": a reference-counting VM neither increments
/// nor decrements it (Blue Book ch. 30, `countUp:`/`countDown:`), so the object is permanent.
pub const SATURATED_COUNT: u16 = 128;

/// Why memory could not be written as an image file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaveError {
    /// An object with more fields than a 16-bit size word can give.
    ObjectTooLarge {
        /// The object.
        oop: Oop,
        /// Its fields.
        words: usize,
    },
    /// More object space than 16 segments of 64K words (the words needed).
    ObjectSpaceTooLarge(usize),
}

impl fmt::Display for SaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaveError::ObjectTooLarge { oop, words } => {
                write!(f, "object {oop} has {words} fields; an image file holds at most {MAX_OBJECT_FIELDS} per object")
            }
            SaveError::ObjectSpaceTooLarge(words) => {
                write!(f, "the objects need {words} words; an image file holds at most {MAX_OBJECT_SPACE_WORDS}")
            }
        }
    }
}

/// The references to each object from the fields of `live` objects (class pointers, pointer
/// fields, a CompiledMethod's header-and-literals), as a reference-counting VM counts them.
fn count_references(memory: &ObjectMemory, live: &[Oop]) -> Vec<u32> {
    let mut refs = alloc::vec![0u32; MAX_OBJECTS];
    let mut add = |oop: Oop| {
        if !is_integer_object(oop) {
            refs[oop as usize >> 1] += 1;
        }
    };
    for &oop in live {
        add(memory.fetch_class_of(oop));
        let words = memory.words(oop);
        match memory.format_of(oop) {
            Format::Pointers => words.iter().for_each(|&w| add(w)),
            _ if memory.fetch_class_of(oop) == CLASS_COMPILED_METHOD && !words.is_empty() => {
                let literals = ((words[0] >> 1) & 0x3f) as usize;
                words[1..(1 + literals).min(words.len())].iter().for_each(|&w| add(w));
            }
            _ => {}
        }
    }
    refs
}

/// Writes the memory as an image file in `order`, in the interchange layout of Xerox's
/// originals: objects packed from word 0 of the object space in oop order (no free chunks, no
/// extra word for huge objects), free entries as the free bit alone, and every live entry's
/// count field holding its references (saturated at 128; never 0, which marks a free chunk;
/// the guaranteed objects pinned at 128), so a reference-counting VM can run the image.
/// Object pointers are kept; the table lists every oop up to the highest one in use.
pub fn save(memory: &ObjectMemory, order: ByteOrder) -> Result<Vec<u8>, SaveError> {
    let live: Vec<Oop> = memory.all_objects().collect();
    let refs = count_references(memory, &live);
    let last = live.last().copied().unwrap_or(0) as usize >> 1;
    let entries = last + 1;
    let mut space: Vec<u16> = Vec::with_capacity(memory.heap_words_used() + 2 * live.len());
    let mut table: Vec<(u16, u16)> = alloc::vec![(0x20, 0); entries];
    for &oop in &live {
        let addr = space.len();
        let class = memory.fetch_class_of(oop);
        let len = memory.fetch_word_length_of(oop);
        if len > MAX_OBJECT_FIELDS {
            return Err(SaveError::ObjectTooLarge { oop, words: len });
        }
        let format = memory.format_of(oop);
        let count = if oop <= LAST_GUARANTEED_OOP {
            SATURATED_COUNT
        } else {
            refs[oop as usize >> 1].clamp(1, SATURATED_COUNT as u32) as u16
        };
        let mut flags = count << 8 | (addr >> 16) as u16 & 0xf;
        if format == Format::Pointers {
            flags |= 0x40;
        }
        if memory.is_odd(oop) {
            flags |= 0x80;
        }
        table[oop as usize >> 1] = (flags, addr as u16);
        space.push((len + 2) as u16);
        space.push(class);
        let start = space.len();
        space.extend_from_slice(memory.words(oop));
        if order == ByteOrder::Little && format != Format::Pointers {
            little_endian_fixup(class, format, &mut space[start..]);
        }
    }
    if space.len() > MAX_OBJECT_SPACE_WORDS {
        return Err(SaveError::ObjectSpaceTooLarge(space.len()));
    }
    let put16 = |out: &mut Vec<u8>, v: u16| match order {
        ByteOrder::Big => out.extend_from_slice(&v.to_be_bytes()),
        ByteOrder::Little => out.extend_from_slice(&v.to_le_bytes()),
    };
    let put32 = |out: &mut Vec<u8>, v: u32| match order {
        ByteOrder::Big => out.extend_from_slice(&v.to_be_bytes()),
        ByteOrder::Little => out.extend_from_slice(&v.to_le_bytes()),
    };
    let mut out = Vec::with_capacity(object_table_start(space.len()) + entries * 4);
    put32(&mut out, space.len() as u32);
    put32(&mut out, (entries * 2) as u32);
    out.resize(HEADER_BYTES, 0);
    for &w in &space {
        put16(&mut out, w);
    }
    out.resize(object_table_start(space.len()), 0);
    for &(flags, loc) in &table {
        put16(&mut out, flags);
        put16(&mut out, loc);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_short_and_garbage_files() {
        assert_eq!(load(&[0; 10]).err(), Some(ImageError::TooShort(10)));
        assert!(matches!(load(&[0xff; 2048]), Err(ImageError::NotAnImage(_))));
        let mut squeak = alloc::vec![0u8; 4096];
        squeak[..4].copy_from_slice(&6502u32.to_le_bytes());
        let e = load(&squeak).err().unwrap();
        assert!(format!("{e}").contains("Squeak"), "{e}");
    }
}
