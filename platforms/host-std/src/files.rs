//! The host side of the image's file primitives (128, 130-133): [`HostFiles`], a
//! [`FileSystem`] confined to one root directory.
//!
//! * **Sandbox.** A name is a relative path of plain components under the root; `..`, `.`,
//!   absolute paths, drive prefixes, and links that resolve outside the root are refused with
//!   `EACCES`, as is any name a link makes ambiguous.
//! * **Mapped names.** A few names the image uses stand for files that may live elsewhere:
//!   the sources file (read-only), the changes file, and the image's own snapshot file (see
//!   [`Access::Protected`]). They are listed with the root's files.
//! * **Handles** are small integers (from 3), unique within the run.
//! * **Errors** are OS error numbers (`EACCES` for refused names, `EBADF` for unknown
//!   handles); the core's file primitives keep the last one for the image.

use st80_core::host::{Errno, FileSystem};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};

/// POSIX error numbers used when the refusal is ours, not the OS's.
pub const EACCES: i32 = 13;
pub const EBADF: i32 = 9;
pub const ENOENT: i32 = 2;
pub const EIO: i32 = 5;
pub const ENOSPC: i32 = 28;

/// The names the Xerox v2 image (and dbanay's snapshot.im) use for its sources, changes and
/// snapshot files.
pub const SOURCES_NAME: &str = "Smalltalk-80.sources";
pub const CHANGES_NAME: &str = "Smalltalk-80.changes";
pub const SNAPSHOT_NAME: &str = "snapshot.im";

/// How a mapped file may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read and written like any file in the root.
    ReadWrite,
    /// Opened read-only; writing, truncating, deleting and renaming it fail (`EACCES`).
    ReadOnly,
    /// Reads see the file; writes and truncations are accepted and dropped; it is never
    /// created, emptied, deleted or renamed. For the image's own snapshot file, which the VM
    /// writes atomically at a snapshot (the image's snapshot code opens it, rewrites its
    /// first page and closes it just before), and for a changes file marked read-only (what
    /// the user does is then not recorded; a warning says so).
    Protected,
}

struct Mapping {
    name: String,
    path: PathBuf,
    access: Access,
}

struct Handle {
    /// None: a protected image file that does not exist yet (reads nothing, drops writes).
    file: Option<File>,
    path: PathBuf,
    access: Access,
    /// Written since opened: closing flushes it to disk.
    dirty: bool,
}

/// A [`FileSystem`] over one root directory. See the module documentation.
pub struct HostFiles {
    root: PathBuf,
    mappings: Vec<Mapping>,
    handles: BTreeMap<u32, Handle>,
    next_handle: u32,
    snapshot_file: Option<PathBuf>,
}

/// Handles stay below SmallInteger maxVal so the image stores them without allocating.
const MAX_HANDLE: u32 = 16383;

fn os_errno(e: &io::Error) -> Errno {
    Errno(e.raw_os_error().unwrap_or(match e.kind() {
        io::ErrorKind::NotFound => ENOENT,
        io::ErrorKind::PermissionDenied => EACCES,
        _ => EIO,
    }))
}

/// The canonical form of `path`, or of its parent joined with its last component when it does
/// not exist (None if neither can be resolved).
fn resolve_existing_or_parent(path: &Path) -> io::Result<PathBuf> {
    match path.symlink_metadata() {
        Ok(_) => path.canonicalize(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let parent = path.parent().ok_or(e)?;
            let name = path.file_name().ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
            Ok(parent.canonicalize()?.join(name))
        }
        Err(e) => Err(e),
    }
}

impl HostFiles {
    /// A file system whose files are those under `root` (which must be a directory).
    pub fn new(root: &Path) -> io::Result<HostFiles> {
        let root = root.canonicalize()?;
        if !root.is_dir() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{} is not a directory", root.display())));
        }
        Ok(HostFiles { root, mappings: Vec::new(), handles: BTreeMap::new(), next_handle: 3, snapshot_file: None })
    }

    /// The file system an image at `image` gets by default: the root is `root` or the image's
    /// directory; `Smalltalk-80.sources` (read-only) and `Smalltalk-80.changes` are `sources`
    /// and `changes`, by default those files beside the image; `snapshot.im` (the name the v2
    /// image's snapshot code opens) and the image's own name are the image file the VM
    /// writes at a snapshot, `snapshot` (by default the image itself), with [`Access::Protected`].
    pub fn for_image(
        image: &Path,
        root: Option<&Path>,
        sources: Option<&Path>,
        changes: Option<&Path>,
        snapshot: Option<&Path>,
    ) -> io::Result<HostFiles> {
        let beside = match image.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut files = HostFiles::new(root.unwrap_or(&beside))?;
        let sources = sources.map(Path::to_path_buf).unwrap_or_else(|| beside.join(SOURCES_NAME));
        let changes = changes.map(Path::to_path_buf).unwrap_or_else(|| beside.join(CHANGES_NAME));
        files.map(SOURCES_NAME, &sources, Access::ReadOnly);
        if changes.metadata().is_ok_and(|m| m.permissions().readonly()) {
            log::warn!("{} is read-only: changes will not be recorded", changes.display());
            files.map(CHANGES_NAME, &changes, Access::Protected);
        } else {
            files.map(CHANGES_NAME, &changes, Access::ReadWrite);
        }
        if let Some(name) = image.file_name().and_then(|n| n.to_str()) {
            if resolve_existing_or_parent(image).is_ok_and(|p| p.parent() == Some(files.root.as_path())) {
                files.map(name, image, Access::Protected);
            }
        }
        files.map(SNAPSHOT_NAME, snapshot.unwrap_or(image), Access::Protected);
        Ok(files)
    }

    /// The root directory (canonical).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Makes the image's file name `name` stand for `path` (which may lie outside the root),
    /// used as `access` says. A later mapping of the same name replaces an earlier one.
    pub fn map(&mut self, name: &str, path: &Path, access: Access) {
        let path = resolve_existing_or_parent(path).unwrap_or_else(|_| path.to_path_buf());
        self.mappings.retain(|m| m.name != name);
        self.mappings.push(Mapping { name: name.to_string(), path, access });
    }

    /// The host file and access the image's file name `name` is mapped to, if it is.
    pub fn mapped(&self, name: &str) -> Option<(&Path, Access)> {
        self.mappings.iter().find(|m| m.name == name).map(|m| (m.path.as_path(), m.access))
    }

    /// The file the image last designated as its snapshot file (primitive 128), if any.
    pub fn snapshot_file(&self) -> Option<&Path> {
        self.snapshot_file.as_deref()
    }

    /// Number of open handles.
    pub fn open_count(&self) -> usize {
        self.handles.len()
    }

    /// How `path` (canonical) may be used: a mapping's access if a mapping points at it.
    fn access_of(&self, path: &Path) -> Access {
        self.mappings.iter().find(|m| m.path == path).map(|m| m.access).unwrap_or(Access::ReadWrite)
    }

    /// The canonical path `name` stands for, or the error refusing it.
    fn resolve(&self, name: &str) -> Result<PathBuf, Errno> {
        if let Some(m) = self.mappings.iter().find(|m| m.name == name) {
            return Ok(m.path.clone());
        }
        let rel = Path::new(name);
        if name.is_empty() || name.contains('\0') || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(Errno(EACCES));
        }
        // Backslashes are separators on Windows only; refuse them everywhere for one behaviour.
        if name.contains('\\') {
            return Err(Errno(EACCES));
        }
        let joined = self.root.join(rel);
        let path = match joined.symlink_metadata() {
            Ok(_) => joined.canonicalize().map_err(|e| {
                // A dangling link: creating through it would write wherever it points.
                if joined.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
                    Errno(EACCES)
                } else {
                    os_errno(&e)
                }
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                resolve_existing_or_parent(&joined).map_err(|e| os_errno(&e))?
            }
            Err(e) => return Err(os_errno(&e)),
        };
        if !path.starts_with(&self.root) {
            return Err(Errno(EACCES));
        }
        Ok(path)
    }

    fn new_handle(&mut self, file: Option<File>, path: PathBuf, access: Access) -> Result<u32, Errno> {
        for _ in 0..=MAX_HANDLE {
            let h = self.next_handle;
            self.next_handle = if h >= MAX_HANDLE { 3 } else { h + 1 };
            if let std::collections::btree_map::Entry::Vacant(e) = self.handles.entry(h) {
                e.insert(Handle { file, path, access, dirty: false });
                return Ok(h);
            }
        }
        Err(Errno(24)) // EMFILE
    }

    fn open_path(&mut self, path: PathBuf, create: bool) -> Result<u32, Errno> {
        let access = self.access_of(&path);
        if path.is_dir() {
            return Err(Errno(21)); // EISDIR
        }
        if create && !path.exists() && in_read_only_dir(&path) {
            return Err(Errno(EACCES));
        }
        let result = match access {
            Access::ReadOnly if create => return Err(Errno(EACCES)),
            Access::ReadOnly => OpenOptions::new().read(true).open(&path),
            Access::Protected => match OpenOptions::new().read(true).open(&path) {
                Ok(f) => Ok(f),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return self.new_handle(None, path, access);
                }
                Err(e) => Err(e),
            },
            Access::ReadWrite if path.metadata().is_ok_and(|m| m.permissions().readonly()) => {
                // Marked read-only: kept so even for a superuser.
                if create {
                    return Err(Errno(EACCES));
                }
                let file = OpenOptions::new().read(true).open(&path).map_err(|e| os_errno(&e))?;
                return self.new_handle(Some(file), path, Access::ReadOnly);
            }
            Access::ReadWrite if create => {
                OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path)
            }
            Access::ReadWrite => OpenOptions::new().read(true).write(true).open(&path),
        };
        let file = result.map_err(|e| os_errno(&e))?;
        self.new_handle(Some(file), path, access)
    }

    /// Applies a change to an open file, as its access allows: a protected file (the running
    /// image) silently ignores it, a read-only one refuses it with EACCES.
    fn modify(&mut self, handle: u32, change: impl FnOnce(&mut File) -> io::Result<()>) -> Result<(), Errno> {
        let h = self.handle(handle)?;
        let result = match (h.access, h.file.as_mut()) {
            (Access::Protected, _) => return Ok(()),
            (Access::ReadOnly, _) | (_, None) => Err(io::Error::from_raw_os_error(EACCES)),
            (_, Some(file)) => {
                h.dirty = true;
                change(file)
            }
        };
        result.map_err(|e| os_errno(&e))
    }

    fn handle(&mut self, handle: u32) -> Result<&mut Handle, Errno> {
        self.handles.get_mut(&handle).ok_or(Errno(EBADF))
    }
}

/// True when the directory holding `path` is marked read-only (no write bits). Honoured even
/// for a superuser, like read-only files: a read-only image directory is never written into.
fn in_read_only_dir(path: &Path) -> bool {
    path.parent().and_then(|d| d.metadata().ok()).is_some_and(|m| m.permissions().readonly())
}

impl FileSystem for HostFiles {
    fn open(&mut self, name: &str) -> Result<u32, Errno> {
        // A mapped changes file that is missing is made, so what the user does is recorded.
        let make = self.mappings.iter().any(|m| m.name == name && m.access == Access::ReadWrite && !m.path.exists());
        let path = self.resolve(name)?;
        self.open_path(path, make)
    }

    fn create(&mut self, name: &str) -> Result<u32, Errno> {
        let path = self.resolve(name)?;
        self.open_path(path, true)
    }

    fn close(&mut self, handle: u32) -> Result<(), Errno> {
        let h = self.handles.remove(&handle).ok_or(Errno(EBADF))?;
        match h.file.filter(|_| h.dirty) {
            Some(f) => f.sync_data().map_err(|e| os_errno(&e)),
            None => Ok(()),
        }
    }

    fn read(&mut self, handle: u32, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let h = self.handle(handle)?;
        let Some(file) = h.file.as_mut() else {
            return Ok(0);
        };
        let result = (|| {
            file.seek(SeekFrom::Start(offset))?;
            let mut n = 0;
            while n < buf.len() {
                match file.read(&mut buf[n..]) {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(n)
        })();
        result.map_err(|e| os_errno(&e))
    }

    fn write(&mut self, handle: u32, offset: u64, data: &[u8]) -> Result<(), Errno> {
        self.modify(handle, |file| file.seek(SeekFrom::Start(offset)).and_then(|_| file.write_all(data)))
    }

    fn truncate(&mut self, handle: u32, size: u64) -> Result<(), Errno> {
        self.modify(handle, |file| file.set_len(size))
    }

    fn size(&mut self, handle: u32) -> Result<u64, Errno> {
        let h = self.handle(handle)?;
        let Some(file) = h.file.as_ref() else {
            return Ok(0);
        };
        file.metadata().map(|m| m.len()).map_err(|e| os_errno(&e))
    }

    fn delete(&mut self, name: &str) -> Result<(), Errno> {
        let path = self.resolve(name)?;
        if self.access_of(&path) != Access::ReadWrite || in_read_only_dir(&path) {
            return Err(Errno(EACCES));
        }
        std::fs::remove_file(&path).map_err(|e| os_errno(&e))
    }

    fn rename(&mut self, old: &str, new: &str) -> Result<(), Errno> {
        let (old_path, new_path) = (self.resolve(old)?, self.resolve(new)?);
        if self.access_of(&old_path) != Access::ReadWrite
            || self.access_of(&new_path) != Access::ReadWrite
            || in_read_only_dir(&old_path)
            || in_read_only_dir(&new_path)
        {
            return Err(Errno(EACCES));
        }
        std::fs::rename(&old_path, &new_path).map_err(|e| os_errno(&e))?;
        for h in self.handles.values_mut().filter(|h| h.path == old_path) {
            h.path = new_path.clone();
        }
        Ok(())
    }

    fn list(&mut self) -> Result<Vec<String>, Errno> {
        let entries = std::fs::read_dir(&self.root).map_err(|e| os_errno(&e))?;
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.') && n.chars().all(|c| (c as u32) < 256))
            .filter(|n| self.resolve(n).is_ok_and(|p| p.is_file()))
            .collect();
        for m in &self.mappings {
            if m.path.is_file() && !names.contains(&m.name) {
                names.push(m.name.clone());
            }
        }
        names.sort();
        Ok(names)
    }

    fn error_string(&self, code: i32) -> String {
        let text = io::Error::from_raw_os_error(code).to_string();
        // "No such file or directory (os error 2)" -> "No such file or directory"
        match text.rfind(" (os error") {
            Some(at) => text[..at].to_string(),
            None => text,
        }
    }

    fn be_snapshot_file(&mut self, handle: u32) {
        if let Some(h) = self.handles.get(&handle) {
            log::info!("the image names {} as its snapshot file", h.path.display());
            self.snapshot_file = Some(h.path.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("st80-files-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    #[cfg(unix)]
    fn a_read_only_directory_is_never_written_even_by_root() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("readonly-dir");
        std::fs::write(dir.join("old.txt"), b"x").unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        let mut fs = HostFiles::new(&dir).unwrap();
        assert!(fs.create("new.txt").is_err());
        assert!(fs.delete("old.txt").is_err());
        assert!(fs.rename("old.txt", "other.txt").is_err());
        assert!(fs.open("old.txt").is_ok(), "reading still works");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(!dir.join("new.txt").exists() && dir.join("old.txt").exists());
    }

    #[test]
    fn pages_round_trip_and_sandbox_holds() {
        let dir = temp_dir("unit");
        let root = dir.join("root");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(dir.join("outside.txt"), b"secret").unwrap();
        let mut fs = HostFiles::new(&root).unwrap();
        let h = fs.create("a.txt").unwrap();
        assert!(fs.write(h, 512, b"page two").is_ok());
        assert_eq!(fs.size(h), Ok(520));
        let mut buf = [0u8; 512];
        assert_eq!(fs.read(h, 512, &mut buf), Ok(8));
        assert_eq!(&buf[..8], b"page two");
        assert!(fs.truncate(h, 515).is_ok());
        assert!(fs.close(h).is_ok());
        assert_eq!(fs.close(h), Err(Errno(EBADF)));
        assert_eq!(std::fs::read(root.join("a.txt")).unwrap().len(), 515);
        assert_eq!(fs.list(), Ok(vec!["a.txt".to_string()]));
        assert!(fs.rename("a.txt", "b.txt").is_ok());
        assert!(fs.delete("b.txt").is_ok());
        assert_eq!(fs.open("b.txt"), Err(Errno(ENOENT)));
        assert_eq!(fs.error_string(ENOENT), "No such file or directory");
        for bad in ["../outside.txt", "/etc/passwd", "..", ".", "", "x/../../outside.txt", "sub\\x"] {
            assert_eq!(fs.open(bad), Err(Errno(EACCES)), "{bad}");
            assert!(fs.create(bad).is_err(), "{bad}");
            assert!(fs.delete(bad).is_err(), "{bad}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.join("outside.txt"), root.join("link")).unwrap();
            std::os::unix::fs::symlink(dir.join("nowhere"), root.join("dangling")).unwrap();
            assert!(fs.open("link").is_err());
            assert!(fs.create("dangling").is_err());
            assert!(!dir.join("nowhere").exists());
            assert_eq!(fs.list(), Ok(vec![]));
        }
        assert_eq!(std::fs::read(dir.join("outside.txt")).unwrap(), b"secret");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn mapped_files_keep_their_access() {
        let dir = temp_dir("map");
        let root = dir.join("root");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(dir.join("src.sources"), b"source text").unwrap();
        std::fs::write(root.join("img.im"), b"image bytes").unwrap();
        let mut fs = HostFiles::new(&root).unwrap();
        fs.map("Smalltalk-80.sources", &dir.join("src.sources"), Access::ReadOnly);
        fs.map("snapshot.im", &root.join("img.im"), Access::Protected);
        assert_eq!(
            fs.list(),
            Ok(vec!["Smalltalk-80.sources".to_string(), "img.im".to_string(), "snapshot.im".to_string()])
        );
        let s = fs.open("Smalltalk-80.sources").unwrap();
        let mut buf = [0u8; 512];
        assert_eq!(fs.read(s, 0, &mut buf), Ok(11));
        assert!(fs.write(s, 0, b"x").is_err());
        assert!(fs.truncate(s, 0).is_err());
        assert!(fs.create("Smalltalk-80.sources").is_err());
        assert!(fs.delete("Smalltalk-80.sources").is_err());
        // The image file, under either name: readable, writes dropped, never emptied.
        for name in ["snapshot.im", "img.im"] {
            let i = fs.create(name).unwrap();
            assert!(fs.write(i, 0, b"garbage").is_ok());
            assert!(fs.truncate(i, 0).is_ok());
            fs.be_snapshot_file(i);
            assert!(fs.close(i).is_ok());
        }
        assert_eq!(fs.snapshot_file(), Some(root.canonicalize().unwrap().join("img.im").as_path()));
        assert_eq!(std::fs::read(root.join("img.im")).unwrap(), b"image bytes");
        assert_eq!(std::fs::read(dir.join("src.sources")).unwrap(), b"source text");
        // A mapped image that does not exist yet is not created by opening it.
        fs.map("snapshot.im", &root.join("new.im"), Access::Protected);
        let n = fs.create("snapshot.im").unwrap();
        assert!(fs.write(n, 0, b"x").is_ok());
        assert_eq!(fs.size(n), Ok(0));
        assert!(!root.join("new.im").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
