//! A windowless [`Host`] for the st80 VM: for tests, CI, scripting and screenshots.
//!
//! Headless runs are deterministic: they put the interpreter on the core's
//! [`VirtualClock`] (time derived from bytecodes executed; see `st80_core::clock`), input comes
//! from a replayed log (`st80_host_std::replay`), and the result is read from the Display
//! (`st80_host_std::screen`). Everything the image can observe then follows from the work
//! done, so a run gives the same Display pixels and trace on every host and architecture. A
//! run on the host's clock (benchmarks) is possible too: [`run`] then simply goes on when the
//! image is idle.
//!
//! [`HeadlessHost`] supplies what the core asks for while it runs: trace and Transcript
//! sinks, snapshot storage (crash-safe, `st80_host_std::snapshot`) and host files.

use st80_core::host::{FileSystem, Host, SnapshotError};
use st80_core::{Interpreter, StopReason};
use st80_host_std::{HostFiles, SystemClock};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

pub use st80_core::clock::{VirtualClock, CYCLES_PER_MS, START_SECONDS_SINCE_1901};

/// Longest real sleep for one idle stop on the host's clock (nothing but the image's timer can
/// end a headless wait, so this only bounds how stale a wrong wake time can make us).
const MAX_REAL_IDLE_MS: i32 = 500;

/// Runs `cycles` bytecodes (fewer if the image quits, an evaluation ends or the VM stops).
/// On the host's clock an idle image sleeps until its timer is due, then goes on.
pub fn run(vm: &mut Interpreter, host: &mut HeadlessHost, cycles: u64) -> StopReason {
    let end = vm.cycles().saturating_add(cycles);
    loop {
        match vm.run(host, end - vm.cycles()) {
            StopReason::Idle { wake_at } => {
                idle_until(host, wake_at);
                if vm.cycles() >= end {
                    return StopReason::CyclesDone;
                }
            }
            other => return other,
        }
    }
}

/// Sleeps while the image is idle: until its clock reaches `wake_at` (at most
/// `MAX_REAL_IDLE_MS`; the virtual clock never idles).
pub fn idle_until(host: &mut HeadlessHost, wake_at: u32) {
    let ms = (wake_at.wrapping_sub(host.millisecond_clock()) as i32).clamp(0, MAX_REAL_IDLE_MS);
    std::thread::sleep(std::time::Duration::from_millis(ms as u64));
}

/// A windowless host. See the crate documentation.
pub struct HeadlessHost {
    clock: SystemClock,
    trace_writer: Option<BufWriter<Box<dyn Write>>>,
    trace_error: Option<io::Error>,
    trace_lines: Option<Vec<String>>,
    trace_count: u64,
    transcript_writer: Option<Box<dyn Write>>,
    /// Where snapshots (primitive 97) are written, atomically; None fails the primitive.
    snapshot_path: Option<PathBuf>,
    /// The files the image's file primitives (128-133) see; None makes them fail.
    files: Option<HostFiles>,
}

impl Default for HeadlessHost {
    fn default() -> Self {
        Self::new()
    }
}

impl HeadlessHost {
    pub fn new() -> HeadlessHost {
        HeadlessHost {
            clock: SystemClock::default(),
            trace_writer: None,
            trace_error: None,
            trace_lines: None,
            trace_count: 0,
            transcript_writer: None,
            snapshot_path: None,
            files: None,
        }
    }

    /// Writes snapshots the image takes to `path` (see
    /// [`write_image_atomically`](st80_host_std::write_image_atomically)).
    pub fn save_snapshots_to(&mut self, path: PathBuf) {
        self.snapshot_path = Some(path);
    }

    /// Where snapshots go, if anywhere.
    pub fn snapshot_path(&self) -> Option<&Path> {
        self.snapshot_path.as_deref()
    }

    /// Gives the image's file primitives (128-133) these files.
    pub fn set_files(&mut self, files: HostFiles) {
        self.files = Some(files);
    }

    /// The files the image's file primitives use, if any.
    pub fn files_mut(&mut self) -> Option<&mut HostFiles> {
        self.files.as_mut()
    }

    /// Takes the files back (e.g. to hand them, with the handles the image holds, to another
    /// host).
    pub fn take_files(&mut self) -> Option<HostFiles> {
        self.files.take()
    }

    /// Sends what the image writes on its Transcript to `writer` (see
    /// `Interpreter::set_transcript_echo`).
    pub fn transcript_to(&mut self, writer: Box<dyn Write>) {
        self.transcript_writer = Some(writer);
    }

    /// Streams every trace line, newline-terminated, to `writer` (through a 64 KiB buffer;
    /// call [`flush`](Self::flush) at the end). After the first write error (e.g. a closed
    /// pipe) the writer is dropped and the error kept in [`trace_error`](Self::trace_error).
    pub fn trace_to(&mut self, writer: Box<dyn Write>) {
        self.trace_writer = Some(BufWriter::with_capacity(64 * 1024, writer));
    }

    /// Also keeps every trace line in memory; read them with [`take_trace`](Self::take_trace).
    pub fn collect_trace(&mut self) {
        self.trace_lines.get_or_insert_with(Vec::new);
    }

    /// The trace lines collected so far (empties the collection, which goes on collecting).
    pub fn take_trace(&mut self) -> Vec<String> {
        self.trace_lines.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// How many trace lines the VM has emitted.
    pub fn trace_count(&self) -> u64 {
        self.trace_count
    }

    /// The first error writing the trace, if any.
    pub fn trace_error(&self) -> Option<&io::Error> {
        self.trace_error.as_ref()
    }

    /// Flushes the trace writer.
    pub fn flush(&mut self) -> io::Result<()> {
        if let Some(err) = self.trace_error.take() {
            return Err(err);
        }
        match self.trace_writer.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Host for HeadlessHost {
    fn millisecond_clock(&mut self) -> u32 {
        self.clock.millisecond_clock()
    }

    fn seconds_since_1901(&mut self) -> u32 {
        self.clock.seconds_since_1901()
    }

    fn save_snapshot(&mut self, image: &[u8]) -> Result<(), SnapshotError> {
        st80_host_std::snapshot::save_snapshot(self.snapshot_path.as_deref(), image)
    }

    fn file_system(&mut self) -> Option<&mut dyn FileSystem> {
        self.files.as_mut().map(|f| f as &mut dyn FileSystem)
    }

    fn trace(&mut self, line: &str) {
        self.trace_count += 1;
        if let Some(lines) = self.trace_lines.as_mut() {
            lines.push(line.to_owned());
        }
        if let Some(w) = self.trace_writer.as_mut() {
            let result = w.write_all(line.as_bytes()).and_then(|()| w.write_all(b"\n"));
            if let Err(err) = result {
                if err.kind() == io::ErrorKind::BrokenPipe {
                    log::debug!("trace reader went away; no more trace will be written");
                } else {
                    log::warn!("trace output failed, no more trace will be written: {err}");
                }
                self.trace_writer = None;
                self.trace_error = Some(err);
            }
        }
    }

    fn transcript(&mut self, text: &str) {
        if let Some(w) = self.transcript_writer.as_mut() {
            // Best effort: a closed stdout must not stop the VM.
            let _ = w.write_all(text.as_bytes()).and_then(|()| w.flush());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_goes_to_writer_and_memory() {
        struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.0.borrow_mut().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let buf = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut h = HeadlessHost::new();
        h.trace_to(Box::new(Shared(buf.clone())));
        h.collect_trace();
        h.trace("one");
        h.trace("two");
        h.flush().unwrap();
        assert_eq!(&*buf.borrow(), b"one\ntwo\n");
        assert_eq!(h.take_trace(), vec!["one", "two"]);
        assert_eq!(h.trace_count(), 2);
    }
}
