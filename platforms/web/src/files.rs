//! The image's file primitives (128-133) in the browser: [`MemFiles`], a flat directory held
//! in memory. The page loads it from the browser's storage (IndexedDB) before the VM starts
//! and writes back the files named by [`MemFiles::take_changed`] after each time slice, so
//! file-in, file-out and the changes log survive a reload.
//!
//! Names are flat (no `/`), as the image's `PosixFileDirectory` uses them. The sources file is
//! read-only, and the image's own snapshot file (`snapshot.im`) accepts and drops writes: the
//! VM hands the whole snapshot to `Host::save_snapshot` instead (the rules of the native
//! `HostFiles`, platforms/host-std/src/files.rs).

use st80_core::host::{Errno, FileSystem};
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
    /// Names written, created, deleted or renamed since the last `take_changed`.
    changed: BTreeSet<String>,
}

/// EMFILE: too many open files.
const EMFILE: i32 = 24;

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

    fn check_name(name: &str) -> Result<(), Errno> {
        let valid = !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0']);
        if valid {
            Ok(())
        } else {
            Err(Errno(EACCES))
        }
    }

    fn new_handle(&mut self, name: &str) -> Result<u32, Errno> {
        if self.next_handle > MAX_HANDLE {
            return Err(Errno(EMFILE));
        }
        let h = self.next_handle;
        self.next_handle += 1;
        self.handles.insert(h, name.to_string());
        Ok(h)
    }

    /// The name behind `handle` and its access.
    fn handle(&self, handle: u32) -> Result<(String, Access), Errno> {
        let name = self.handles.get(&handle).ok_or(Errno(EBADF))?;
        Ok((name.clone(), Self::access(name)))
    }

    /// Applies a change to the file behind `handle`, as its access allows.
    fn modify(&mut self, handle: u32, change: impl FnOnce(&mut Vec<u8>)) -> Result<(), Errno> {
        let (name, access) = self.handle(handle)?;
        match access {
            Access::ReadOnly => Err(Errno(EACCES)),
            Access::Protected => Ok(()),
            Access::ReadWrite => {
                change(self.files.entry(name.clone()).or_default());
                self.changed.insert(name);
                Ok(())
            }
        }
    }
}

impl FileSystem for MemFiles {
    fn open(&mut self, name: &str) -> Result<u32, Errno> {
        Self::check_name(name)?;
        if !self.files.contains_key(name) && Self::access(name) != Access::Protected {
            return Err(Errno(ENOENT));
        }
        self.new_handle(name)
    }

    fn create(&mut self, name: &str) -> Result<u32, Errno> {
        Self::check_name(name)?;
        match Self::access(name) {
            Access::ReadOnly => return Err(Errno(EACCES)),
            Access::Protected => {}
            Access::ReadWrite => {
                self.files.insert(name.to_string(), Vec::new());
                self.changed.insert(name.to_string());
            }
        }
        self.new_handle(name)
    }

    fn close(&mut self, handle: u32) -> Result<(), Errno> {
        self.handles.remove(&handle).map(|_| ()).ok_or(Errno(EBADF))
    }

    fn read(&mut self, handle: u32, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let (name, _) = self.handle(handle)?;
        let data = self.files.get(&name).map(Vec::as_slice).unwrap_or(&[]);
        let start = (offset as usize).min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }

    fn write(&mut self, handle: u32, offset: u64, data: &[u8]) -> Result<(), Errno> {
        self.modify(handle, |file| {
            let end = offset as usize + data.len();
            if file.len() < end {
                file.resize(end, 0);
            }
            file[offset as usize..end].copy_from_slice(data);
        })
    }

    fn truncate(&mut self, handle: u32, size: u64) -> Result<(), Errno> {
        self.modify(handle, |file| file.resize(size as usize, 0))
    }

    fn size(&mut self, handle: u32) -> Result<u64, Errno> {
        let (name, _) = self.handle(handle)?;
        Ok(self.files.get(&name).map_or(0, |f| f.len() as u64))
    }

    fn delete(&mut self, name: &str) -> Result<(), Errno> {
        Self::check_name(name)?;
        if Self::access(name) != Access::ReadWrite {
            return Err(Errno(EACCES));
        }
        self.files.remove(name).ok_or(Errno(ENOENT))?;
        self.changed.insert(name.to_string());
        Ok(())
    }

    fn rename(&mut self, old: &str, new: &str) -> Result<(), Errno> {
        for n in [old, new] {
            Self::check_name(n)?;
            if Self::access(n) != Access::ReadWrite {
                return Err(Errno(EACCES));
            }
        }
        let bytes = self.files.remove(old).ok_or(Errno(ENOENT))?;
        self.files.insert(new.to_string(), bytes);
        // Open handles follow the file.
        for n in self.handles.values_mut().filter(|n| *n == old) {
            *n = new.to_string();
        }
        self.changed.insert(old.to_string());
        self.changed.insert(new.to_string());
        Ok(())
    }

    fn list(&mut self) -> Result<Vec<String>, Errno> {
        Ok(self.files.keys().filter(|n| !n.starts_with('.')).cloned().collect())
    }

    fn error_string(&self, code: i32) -> String {
        match code {
            0 => "no error",
            ENOENT => "No such file or directory",
            EBADF => "Bad file descriptor",
            EACCES => "Permission denied",
            EMFILE => "Too many open files",
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
        assert_eq!(f.open("a.st"), Err(Errno(ENOENT)));
        let h = f.create("a.st").unwrap();
        assert_eq!(f.write(h, 4, b"xy"), Ok(()));
        let mut buf = [9u8; 8];
        assert_eq!(f.read(h, 0, &mut buf), Ok(6));
        assert_eq!(&buf[..6], b"\0\0\0\0xy");
        assert_eq!(f.read(h, 10, &mut buf), Ok(0));
        assert_eq!(f.truncate(h, 5), Ok(()));
        assert_eq!(f.size(h), Ok(5));
        assert_eq!(f.rename("a.st", "b.st"), Ok(()));
        assert_eq!(f.write(h, 0, b"z"), Ok(()), "the handle follows the rename");
        assert_eq!(f.get("b.st").unwrap()[0], b'z');
        assert_eq!(f.take_changed(), vec!["a.st".to_string(), "b.st".to_string()]);
        assert_eq!(f.close(h), Ok(()));
        assert_eq!(f.close(h), Err(Errno(EBADF)));
        assert_eq!(f.delete("b.st"), Ok(()));
        assert_eq!(f.list(), Ok(vec![]));
        assert_eq!(f.take_changed(), vec!["b.st".to_string()]);
    }

    #[test]
    fn sources_read_only_snapshot_protected_names_flat() {
        let mut f = MemFiles::new();
        f.insert(SOURCES_NAME, b"source".to_vec());
        let h = f.open(SOURCES_NAME).unwrap();
        assert_eq!(f.write(h, 0, b"x"), Err(Errno(EACCES)));
        assert_eq!(f.create(SOURCES_NAME), Err(Errno(EACCES)));
        assert_eq!(f.delete(SOURCES_NAME), Err(Errno(EACCES)));
        let s = f.open(SNAPSHOT_NAME).unwrap();
        assert_eq!(f.write(s, 0, b"dropped"), Ok(()));
        assert_eq!(f.get(SNAPSHOT_NAME), None);
        assert_eq!(f.open("../etc/passwd"), Err(Errno(EACCES)));
        assert_eq!(f.create("a/b"), Err(Errno(EACCES)));
        assert!(f.take_changed().is_empty());
    }
}
