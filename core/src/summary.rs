//! A short description of a loaded image, for `st80 info`: sizes, counts, the active process
//! and the Display form's size. Works on any memory the loader accepted: every object it reads
//! is checked first, so an odd or damaged image gives "unknown" fields, never a panic.

use crate::image::{ByteOrder, ImageInfo};
use crate::object_memory::*;
use crate::objects::{association_in, field, is_instance_of, is_symbol, method_named, small_integer};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The process that was running when the image was saved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessSummary {
    /// The Process.
    pub oop: Oop,
    /// Its priority (1 = lowest), if it is a SmallInteger.
    pub priority: Option<i16>,
}

/// The `Display` global: a DisplayScreen (a Form: bits, width, height, offset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplaySummary {
    /// The Display object.
    pub oop: Oop,
    /// Name of its class, if readable.
    pub class_name: Option<String>,
    /// Width in pixels.
    pub width: i16,
    /// Height in pixels as saved.
    pub height: i16,
    /// The height the image gives the Display when it resumes: the v2 image shrinks it to at
    /// most 100 lines for the snapshot (`SystemDictionary>>snapshotAs:thenQuit:` keeps the
    /// real height in its temporary `height` and restores it after the snapshot primitive).
    pub resume_height: Option<i16>,
}

/// What an image holds, read without running it (for `st80 info` and tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Byte order of the file.
    pub byte_order: ByteOrder,
    /// Object space length from the file header, in 16-bit words (headers included).
    pub object_space_words: usize,
    /// Object table length from the file header, in entries.
    pub object_table_entries: usize,
    /// Live objects.
    pub objects: usize,
    /// Heap words holding object fields (our memory keeps object headers in the table).
    pub heap_words: usize,
    /// Objects that are classes (instances of a Metaclass).
    pub classes: usize,
    /// The SystemDictionary `Smalltalk`, if found.
    pub smalltalk: Option<Oop>,
    /// The Process running at snapshot time, if found.
    pub active_process: Option<ProcessSummary>,
    /// The Display, if found.
    pub display: Option<DisplaySummary>,
}

pub use crate::objects::class_name;

/// Finds the SystemDictionary `Smalltalk`: the guaranteed oop if it is one, else the value of
/// the Association whose key is `#Smalltalk`.
pub fn find_smalltalk(m: &ObjectMemory) -> Option<Oop> {
    if is_instance_of(m, SMALLTALK, "SystemDictionary") {
        return Some(SMALLTALK);
    }
    let candidates: Vec<Oop> = m.all_objects().filter(|&o| m.is_pointers(o)).collect();
    candidates.into_iter().find_map(|a| {
        let key = field(m, a, 0)?;
        let value = field(m, a, 1)?;
        (m.fetch_word_length_of(a) == 2 && is_symbol(m, key, "Smalltalk") && m.is_object(value)).then_some(value)
    })
}

/// The `height` temporary of the `snapshotAs:thenQuit:` activation the active process was
/// suspended in, if it was (its arguments are temporaries 0 and 1, `height` is 2).
fn snapshot_height(m: &ObjectMemory, smalltalk: Oop, process: Oop) -> Option<i16> {
    const TEMP_FRAME_START: usize = 6;
    let method = method_named(m, m.fetch_class_of(smalltalk), "snapshotAs:thenQuit:")?;
    let mut context = field(m, process, 1)?;
    for _ in 0..1000 {
        if field(m, context, 3) == Some(method) {
            return field(m, context, TEMP_FRAME_START + 2).and_then(small_integer).filter(|&h| h > 0);
        }
        context = field(m, context, 0)?;
    }
    None
}

/// Describes a loaded image.
pub fn summarize(memory: &ObjectMemory, info: &ImageInfo) -> Summary {
    let m = memory;
    let classes = m
        .all_objects()
        .filter(|&o| {
            let c = m.fetch_class_of(o);
            m.is_object(c) && m.fetch_class_of(c) == CLASS_METACLASS
        })
        .count();
    // SchedulerAssociation value: the ProcessorScheduler (quiescentProcessLists,
    // activeProcess); a Process is (nextLink, suspendedContext, priority, myList).
    let active_process = field(m, SCHEDULER_ASSOCIATION, 1)
        .and_then(|scheduler| field(m, scheduler, 1))
        .filter(|&p| m.is_object(p) && m.is_pointers(p))
        .map(|p| ProcessSummary { oop: p, priority: field(m, p, 2).and_then(small_integer) });
    let smalltalk = find_smalltalk(m);
    let display = smalltalk.and_then(|s| association_in(m, s, "Display")).and_then(|a| field(m, a, 1)).and_then(|d| {
        Some(DisplaySummary {
            oop: d,
            class_name: class_name(m, m.fetch_class_of(d)),
            width: small_integer(field(m, d, 1)?)?,
            height: small_integer(field(m, d, 2)?)?,
            resume_height: smalltalk.and_then(|s| snapshot_height(m, s, active_process.as_ref()?.oop)),
        })
    });
    Summary {
        byte_order: info.byte_order,
        object_space_words: info.object_space_words,
        object_table_entries: info.object_table_entries,
        objects: m.object_count(),
        heap_words: m.heap_words_used(),
        classes,
        smalltalk,
        active_process,
        display,
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "byte order:      {}", self.byte_order)?;
        writeln!(f, "object space:    {} words", self.object_space_words)?;
        writeln!(f, "object table:    {} entries", self.object_table_entries)?;
        writeln!(f, "objects:         {}", self.objects)?;
        writeln!(f, "heap words:      {}", self.heap_words)?;
        writeln!(f, "classes:         {}", self.classes)?;
        match self.smalltalk {
            Some(oop) => writeln!(f, "Smalltalk:       oop {oop}")?,
            None => writeln!(f, "Smalltalk:       not found")?,
        }
        match &self.active_process {
            Some(p) => match p.priority {
                Some(pri) => writeln!(f, "active process:  oop {}, priority {pri}", p.oop)?,
                None => writeln!(f, "active process:  oop {}, priority unknown", p.oop)?,
            },
            None => writeln!(f, "active process:  not found")?,
        }
        match &self.display {
            Some(d) => {
                let height = d.resume_height.unwrap_or(d.height);
                write!(
                    f,
                    "display:         {} x {height} ({}, oop {}",
                    d.width,
                    d.class_name.as_deref().unwrap_or("?"),
                    d.oop
                )?;
                if height != d.height {
                    write!(f, "; {} lines high in the file, as the snapshot left it", d.height)?;
                }
                write!(f, ")")
            }
            None => write!(f, "display:         not found"),
        }
    }
}
