//! The image's file primitives (128-133) in the browser: [`MemFiles`], a flat directory held
//! in memory. The page loads it from the browser's storage (IndexedDB) before the VM starts
//! and writes back the files named by [`MemFiles::take_changed`] after each time slice, so
//! file-in, file-out and the changes log survive a reload.
//!
//! Names are flat (no `/`), as the image's `PosixFileDirectory` uses them. The sources file is
//! read-only, and the image's own snapshot file (`snapshot.im`) accepts and drops writes: the
//! VM hands the whole snapshot to `Host::save_snapshot` instead (the rules of the native
//! `HostFiles`, platforms/headless/src/files.rs).

use st80_core::host::FileSystem;
use std::collections::{BTreeMap, BTreeSet};

/// POSIX error numbers, as the native host reports them.
pub const ENOENT: i32 = 2;
pub const EBADF: i32 = 9;
pub const EACCES: i32 = 13;

pub const SOURCES_NAME: &str = "Smalltalk-80.sources";
pub const CHANGES_NAME: &str = "Smalltalk-80.changes";
pub const SNAPSHOT_NAME: &str = "snapshot.im";

/// Handles stay below SmallInteger maxVal so the image stores them without allocating.
const MAX_HANDLE: u32 = 16383;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
    /// Writes are accepted and dropped (the snapshot file; see the module documentation).
    Protected,
}

/// A flat in-memory directory; see the module documentation.
#[derive(Default)]
pub struct MemFiles {
    files: BTreeMap<String, Vec<u8>>,
    handles: BTreeMap<u32, String>,
    next_handle: u32,
    errno: i32,
    /// Names written, created, deleted or renamed since the last `take_changed`.
    changed: BTreeSet<String>,
}

impl MemFiles {
    pub fn new() -> MemFiles {
        MemFiles { next_handle: 3, ..Default::default() }
    }

    /// Puts a file in the directory (from the browser's storage or a file the user gave);
    /// not reported as changed.
    pub fn insert(&mut self, name: &str, bytes: Vec<u8>) {
        self.files.insert(name.to_string(), bytes);
    }

    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name).map(Vec::as_slice)
    }

    pub fn names(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }

    /// The names changed since the last call (a name no longer in [`names`](Self::names) was
    /// deleted or renamed away).
    pub fn take_changed(&mut self) -> Vec<String> {
        std::mem::take(&mut self.changed).into_iter().collect()
    }

    fn access(name: &str) -> Access {
        match name {
            SOURCES_NAME => Access::ReadOnly,
            SNAPSHOT_NAME => Access::Protected,
            _ => Access::ReadWrite,
        }
    }

    fn valid_name(name: &str) -> bool {
        !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
    }

    fn fail<T>(&mut self, errno: i32) -> Option<T> {
        self.errno = errno;
        None
    }

    fn new_handle(&mut self, name: &str) -> Option<u32> {
        if self.next_handle > MAX_HANDLE {
            return self.fail(libc_emfile());
        }
        let h = self.next_handle;
        self.next_handle += 1;
        self.handles.insert(h, name.to_string());
        Some(h)
    }

    /// The name behind `handle` and its access, or EBADF.
    fn handle(&mut self, handle: u32) -> Option<(String, Access)> {
        match self.handles.get(&handle) {
            Some(name) => Some((name.clone(), Self::access(name))),
            None => self.fail(EBADF),
        }
    }
}

/// EMFILE: too many open files.
fn libc_emfile() -> i32 {
    24
}

impl FileSystem for MemFiles {
    fn open(&mut self, name: &str) -> Option<u32> {
        if !Self::valid_name(name) {
            return self.fail(EACCES);
        }
        if !self.files.contains_key(name) && Self::access(name) != Access::Protected {
            return self.fail(ENOENT);
        }
        self.new_handle(name)
    }

    fn create(&mut self, name: &str) -> Option<u32> {
        if !Self::valid_name(name) {
            return self.fail(EACCES);
        }
        match Self::access(name) {
            Access::ReadOnly => return self.fail(EACCES),
            Access::Protected => {}
            Access::ReadWrite => {
                self.files.insert(name.to_string(), Vec::new());
                self.changed.insert(name.to_string());
            }
        }
        self.new_handle(name)
    }

    fn close(&mut self, handle: u32) -> bool {
        if self.handles.remove(&handle).is_none() {
            self.errno = EBADF;
            return false;
        }
        true
    }

    fn read(&mut self, handle: u32, offset: u64, buf: &mut [u8]) -> Option<usize> {
        let (name, _) = self.handle(handle)?;
        let data = self.files.get(&name).map(Vec::as_slice).unwrap_or(&[]);
        let start = (offset as usize).min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Some(n)
    }

    fn write(&mut self, handle: u32, offset: u64, data: &[u8]) -> bool {
        let Some((name, access)) = self.handle(handle) else { return false };
        match access {
            Access::ReadOnly => {
                self.errno = EACCES;
                false
            }
            Access::Protected => true,
            Access::ReadWrite => {
                let file = self.files.entry(name.clone()).or_default();
                let end = offset as usize + data.len();
                if file.len() < end {
                    file.resize(end, 0);
                }
                file[offset as usize..end].copy_from_slice(data);
                self.changed.insert(name);
                true
            }
        }
    }

    fn truncate(&mut self, handle: u32, size: u64) -> bool {
        let Some((name, access)) = self.handle(handle) else { return false };
        match access {
            Access::ReadOnly => {
                self.errno = EACCES;
                false
            }
            Access::Protected => true,
            Access::ReadWrite => {
                self.files.entry(name.clone()).or_default().resize(size as usize, 0);
                self.changed.insert(name);
                true
            }
        }
    }

    fn size(&mut self, handle: u32) -> Option<u64> {
        let (name, _) = self.handle(handle)?;
        Some(self.files.get(&name).map_or(0, |f| f.len() as u64))
    }

    fn delete(&mut self, name: &str) -> bool {
        if !Self::valid_name(name) || Self::access(name) != Access::ReadWrite {
            self.errno = EACCES;
            return false;
        }
        if self.files.remove(name).is_none() {
            self.errno = ENOENT;
            return false;
        }
        self.changed.insert(name.to_string());
        true
    }

    fn rename(&mut self, old: &str, new: &str) -> bool {
        let writable = |n: &str| Self::valid_name(n) && Self::access(n) == Access::ReadWrite;
        if !writable(old) || !writable(new) {
            self.errno = EACCES;
            return false;
        }
        let Some(bytes) = self.files.remove(old) else {
            self.errno = ENOENT;
            return false;
        };
        self.files.insert(new.to_string(), bytes);
        // Open handles follow the file.
        for n in self.handles.values_mut().filter(|n| *n == old) {
            *n = new.to_string();
        }
        self.changed.insert(old.to_string());
        self.changed.insert(new.to_string());
        true
    }

    fn list(&mut self) -> Option<Vec<String>> {
        Some(self.files.keys().filter(|n| !n.starts_with('.')).cloned().collect())
    }

    fn errno(&self) -> i32 {
        self.errno
    }

    fn error_string(&self, code: i32) -> String {
        match code {
            0 => "no error",
            ENOENT => "No such file or directory",
            EBADF => "Bad file descriptor",
            EACCES => "Permission denied",
            24 => "Too many open files",
            _ => "Unknown error",
        }
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_rename_delete() {
        let mut f = MemFiles::new();
        assert_eq!(f.open("a.st"), None);
        assert_eq!(f.errno(), ENOENT);
        let h = f.create("a.st").unwrap();
        assert!(f.write(h, 4, b"xy"));
        let mut buf = [9u8; 8];
        assert_eq!(f.read(h, 0, &mut buf), Some(6));
        assert_eq!(&buf[..6], b"\0\0\0\0xy");
        assert_eq!(f.read(h, 10, &mut buf), Some(0));
        assert!(f.truncate(h, 5));
        assert_eq!(f.size(h), Some(5));
        assert!(f.rename("a.st", "b.st"));
        assert!(f.write(h, 0, b"z"), "the handle follows the rename");
        assert_eq!(f.get("b.st").unwrap()[0], b'z');
        assert_eq!(f.take_changed(), vec!["a.st".to_string(), "b.st".to_string()]);
        assert!(f.close(h));
        assert!(!f.close(h));
        assert_eq!(f.errno(), EBADF);
        assert!(f.delete("b.st"));
        assert_eq!(f.list(), Some(vec![]));
        assert_eq!(f.take_changed(), vec!["b.st".to_string()]);
    }

    #[test]
    fn sources_read_only_snapshot_protected_names_flat() {
        let mut f = MemFiles::new();
        f.insert(SOURCES_NAME, b"source".to_vec());
        let h = f.open(SOURCES_NAME).unwrap();
        assert!(!f.write(h, 0, b"x"));
        assert_eq!(f.errno(), EACCES);
        assert_eq!(f.create(SOURCES_NAME), None);
        assert!(!f.delete(SOURCES_NAME));
        let s = f.open(SNAPSHOT_NAME).unwrap();
        assert!(f.write(s, 0, b"dropped"));
        assert_eq!(f.get(SNAPSHOT_NAME), None);
        assert_eq!(f.open("../etc/passwd"), None);
        assert_eq!(f.errno(), EACCES);
        assert_eq!(f.create("a/b"), None);
        assert!(f.take_changed().is_empty());
    }
}
