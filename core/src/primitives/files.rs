//! Host file primitives 128 and 130-133: the POSIX file system of dbanay's `snapshot.im`
//! (classes `PosixFileDirectory`, `PosixFile`, `PosixFilePage`), served by
//! [`Host::file_system`]. Files are read and written in pages of [`FILE_PAGE_BYTES`] bytes;
//! page N (from 1) holds bytes `(N - 1) * 512` onwards.
//!
//! What the image passes (its methods are `<primitive: N>` with an empty body, so a failed
//! primitive answers the receiver):
//!
//! | prim | receiver | arguments | answer |
//! |---|---|---|---|
//! | 128 `beSnapshotFile` | a PosixFile | | the receiver |
//! | 130 `doPrimCommand:name:page:` | a PosixFile | 0 read / 1 write / 2 truncate / 3 size / 4 open / 5 close, a name (open), a PosixFilePage (read, write, truncate; nil truncates to 0) | true or false; the size or nil |
//! | 131 `doPrimitive:arg1:arg2:` | a PosixFileDirectory | 0 create / 1 delete / 2 rename / 3 list, a name (the new name for rename), the PosixFile (rename) | a handle or nil (create); true or false; an Array of Strings (list) |
//! | 132 `lastError` | a PosixFile | | errno |
//! | 133 `errorString:` | a PosixFile | an errno | a String |
//!
//! Operations the host refuses (a missing file, a name outside the root, a full disk) do not
//! fail the primitive: they answer false or nil, so the image's own code raises an error that
//! names the operation and the host's error text (primitives 132 and 133). Malformed arguments
//! (not a page, a negative page number) and a host without a file system fail it.

use super::{positive_integer_for, positive_integer_value, require, small_int, OrFail, PrimResult, PrimitiveFailed};
use crate::host::{Errno, FileSystem, Host, FILE_PAGE_BYTES};
use crate::interpreter::Interpreter;
use crate::object_memory::*;
use crate::objects::bytes_text;

/// Fields of `File` (fileDirectory fileName pageCache serialNumber lastPageNumber binary
/// readWrite error) and `PosixFile` (fd cachedPageSize).
const FILE_NAME: usize = 1;
const FILE_FD: usize = 8;
/// Fields of `FilePage` (file page binary) and `PosixFilePage` (pageNumber bytesInPage).
const PAGE_BYTES: usize = 1;
const PAGE_NUMBER: usize = 3;
const PAGE_SIZE: usize = 4;

/// The host's file system; a host without one fails every file primitive.
fn file_system<H: Host>(host: &mut H) -> Result<&mut dyn FileSystem, PrimitiveFailed> {
    host.file_system().or_fail()
}

/// Primitive 132, `lastError`: the error number of the last failed operation.
pub(crate) fn primitive_last_error<H: Host>(it: &mut Interpreter, host: &mut H) -> PrimResult {
    file_system(host)?;
    let errno = it.last_errno.clamp(0, MAX_SMALL_INTEGER) as i16;
    it.pop_then_push(0, integer_object_of(errno));
    Ok(())
}

/// Primitive 133, `errorString:`: the host's text for an error number.
pub(crate) fn primitive_error_string<H: Host>(it: &mut Interpreter, host: &mut H) -> PrimResult {
    let fs = file_system(host)?;
    let code = small_int(it.stack_top()).or_fail()?;
    let text = fs.error_string(code);
    let s = it.new_string(&text).or_fail()?;
    it.pop_then_push(1, s);
    Ok(())
}

/// The value of a host file operation; a failure is remembered for `lastError` (primitive
/// 132), as C's `errno` is.
fn record<T>(it: &mut Interpreter, result: Result<T, Errno>) -> Option<T> {
    result.map_err(|Errno(code)| it.last_errno = code).ok()
}

/// A pointer object with at least `fields` fields.
fn has_fields(it: &Interpreter, oop: Oop, fields: usize) -> bool {
    it.memory.is_object(oop) && it.memory.is_pointers(oop) && it.memory.fetch_word_length_of(oop) >= fields
}

/// The handle stored in a PosixFile's `fd` (None when nil or not an integer).
fn handle_of(it: &Interpreter, file: Oop) -> Option<u32> {
    positive_integer_value(it, it.memory.fetch_pointer(FILE_FD, file))
}

fn handle_object(it: &mut Interpreter, handle: u32) -> Option<Oop> {
    positive_integer_for(it, handle)
}

/// Primitive 128, `beSnapshotFile`: snapshots go to this file from now on.
pub(crate) fn primitive_be_snapshot_file<H: Host>(it: &mut Interpreter, host: &mut H) -> PrimResult {
    let fs = file_system(host)?;
    let file = it.stack_top();
    require(has_fields(it, file, FILE_FD + 1))?;
    if let Some(handle) = handle_of(it, file) {
        fs.be_snapshot_file(handle);
    }
    Ok(())
}

/// A PosixFilePage's page number (from 1), its ByteArray, and the bytes the page holds.
struct Page {
    oop: Oop,
    number: u32,
    bytes: Oop,
    capacity: usize,
    size: Option<usize>,
}

fn page_of(it: &Interpreter, page: Oop) -> Option<Page> {
    if !has_fields(it, page, PAGE_SIZE + 1) {
        return None;
    }
    let number = small_int(it.memory.fetch_pointer(PAGE_NUMBER, page)).filter(|&n| n >= 1)? as u32;
    let bytes = it.memory.fetch_pointer(PAGE_BYTES, page);
    if is_integer_object(bytes) || !it.memory.is_object(bytes) || !it.memory.is_bytes(bytes) {
        return None;
    }
    let capacity = it.memory.fetch_byte_length_of(bytes).min(FILE_PAGE_BYTES);
    let size = small_int(it.memory.fetch_pointer(PAGE_SIZE, page)).and_then(|n| usize::try_from(n).ok());
    Some(Page { oop: page, number, bytes, capacity, size })
}

fn page_offset(page: &Page) -> u64 {
    (page.number as u64 - 1) * FILE_PAGE_BYTES as u64
}

/// Primitive 130: receiver file, arguments command, name, page.
pub(crate) fn primitive_file_operation<H: Host>(it: &mut Interpreter, host: &mut H) -> PrimResult {
    let fs = file_system(host)?;
    let (file, command, name, page) = (it.stack_value(3), it.stack_value(2), it.stack_value(1), it.stack_top());
    require(has_fields(it, file, FILE_FD + 1))?;
    let result = match small_int(command) {
        Some(0) => {
            let (handle, page) = (handle_of(it, file).or_fail()?, page_of(it, page).or_fail()?);
            let mut buf = [0u8; FILE_PAGE_BYTES];
            match record(it, fs.read(handle, page_offset(&page), &mut buf[..page.capacity])) {
                Some(n) => {
                    let n = n.min(page.capacity);
                    for (i, &b) in buf[..n].iter().enumerate() {
                        it.memory.store_byte(i, page.bytes, b);
                    }
                    it.memory.store_pointer(PAGE_SIZE, page.oop, integer_object_of(n as i16));
                    TRUE
                }
                None => FALSE,
            }
        }
        Some(1) => {
            let (handle, page) = (handle_of(it, file).or_fail()?, page_of(it, page).or_fail()?);
            let size = page.size.filter(|&n| n <= page.capacity).or_fail()?;
            let data: alloc::vec::Vec<u8> = (0..size).map(|i| it.memory.fetch_byte(i, page.bytes)).collect();
            super::boolean(record(it, fs.write(handle, page_offset(&page), &data)).is_some())
        }
        Some(2) => {
            let handle = handle_of(it, file).or_fail()?;
            let size = if page == NIL {
                0
            } else {
                let page = page_of(it, page).or_fail()?;
                let size = page.size.filter(|&n| n <= FILE_PAGE_BYTES).or_fail()?;
                page_offset(&page) + size as u64
            };
            super::boolean(record(it, fs.truncate(handle, size)).is_some())
        }
        Some(3) => {
            let handle = handle_of(it, file).or_fail()?;
            match record(it, fs.size(handle)).and_then(|s| u32::try_from(s).ok()) {
                Some(size) => positive_integer_for(it, size).or_fail()?,
                None => NIL,
            }
        }
        Some(4) => {
            let name = bytes_text(&it.memory, name).or_fail()?;
            match record(it, fs.open(&name)) {
                Some(handle) => {
                    let Some(fd) = handle_object(it, handle) else {
                        let _ = fs.close(handle);
                        return Err(PrimitiveFailed);
                    };
                    it.memory.store_pointer(FILE_FD, file, fd);
                    TRUE
                }
                None => FALSE,
            }
        }
        Some(5) => {
            let closed = match handle_of(it, file) {
                Some(handle) => record(it, fs.close(handle)).is_some(),
                None => false,
            };
            it.memory.store_pointer(FILE_FD, file, NIL);
            super::boolean(closed)
        }
        _ => return Err(PrimitiveFailed),
    };
    it.pop_then_push(3, result);
    Ok(())
}

/// Primitive 131: receiver directory, arguments command, arg1 (a name or nil), arg2.
pub(crate) fn primitive_directory_operation<H: Host>(it: &mut Interpreter, host: &mut H) -> PrimResult {
    let fs = file_system(host)?;
    let (command, arg1, arg2) = (it.stack_value(2), it.stack_value(1), it.stack_top());
    let name = if arg1 == NIL { None } else { Some(bytes_text(&it.memory, arg1).or_fail()?) };
    let result = match (small_int(command), name) {
        (Some(0), Some(name)) => match record(it, fs.create(&name)) {
            Some(handle) => match handle_object(it, handle) {
                Some(fd) => fd,
                None => {
                    let _ = fs.close(handle);
                    return Err(PrimitiveFailed);
                }
            },
            None => NIL,
        },
        (Some(1), Some(name)) => super::boolean(record(it, fs.delete(&name)).is_some()),
        (Some(2), Some(new_name)) => {
            let file = arg2;
            require(has_fields(it, file, FILE_FD + 1))?;
            let old_name = bytes_text(&it.memory, it.memory.fetch_pointer(FILE_NAME, file)).or_fail()?;
            if record(it, fs.rename(&old_name, &new_name)).is_some() {
                it.memory.store_pointer(FILE_NAME, file, arg1);
                TRUE
            } else {
                FALSE
            }
        }
        (Some(3), _) => {
            let Some(names) = record(it, fs.list()) else {
                // Like a missing directory: nothing to list.
                let empty = it.memory.instantiate_class(CLASS_ARRAY, 0).or_fail()?;
                it.pop_then_push(3, empty);
                return Ok(());
            };
            // Allocation never collects garbage here (a collection only runs between
            // bytecodes), so the new Array and Strings are safe until stored.
            let array = it.memory.instantiate_class(CLASS_ARRAY, names.len()).or_fail()?;
            for (i, n) in names.iter().enumerate() {
                let s = it.new_string(n).or_fail()?;
                it.memory.store_pointer(i, array, s);
            }
            array
        }
        _ => return Err(PrimitiveFailed),
    };
    it.pop_then_push(3, result);
    Ok(())
}
