//! A windowless, deterministic [`Host`] for the st80 VM: for tests, CI and screenshots.
//!
//! Everything the image can observe is derived from the work done, never from the machine
//! running it, so a run gives the same result (the same Display pixels, the same trace) on
//! every host and architecture:
//!
//! * **Clock.** `millisecond_clock` is `cycles / cycles_per_ms` (default [`CYCLES_PER_MS`])
//!   plus the virtual time skipped while the VM was idle (see [`HeadlessHost::idle`]),
//!   wrapping at 2^32. `seconds_since_1901`, the wall clock, is local time: the start date
//!   ([`START_SECONDS_SINCE_1901`], 31 December 2025, 4:00 pm, unless
//!   [`HeadlessHost::with_start`] says otherwise) plus that many milliseconds / 1000.
//! * **Input.** Events are scripted with [`HeadlessHost::push_event`] and delivered, in the
//!   order given, by `poll_event` once the VM has run `at_cycle` cycles.
//! * **Display.** Changed rectangles are accumulated in [`HeadlessHost::dirty`]; the pixels are
//!   read from `Interpreter::display()` and turned into a PNG by [`display_to_png`] or a
//!   fingerprint by [`display_hash`].
//! * **Trace.** Trace lines go to a writer (buffered; see [`HeadlessHost::trace_to`]) and/or
//!   are kept in memory (see [`HeadlessHost::collect_trace`]).

pub mod clock;
pub mod files;
pub mod replay;
pub mod sources;

pub use files::{Access, HostFiles};
use st80_core::host::{FileSystem, Host, InputEvent, Rect};
use st80_core::interpreter::DisplayForm;
use std::collections::VecDeque;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Bytecodes per virtual millisecond (a 1 MHz-bytecode machine, about what a Dorado did).
pub const CYCLES_PER_MS: u64 = 1000;

/// The default start of the virtual wall clock, local time: 2025-12-31 16:00:00 as seconds
/// since 1901-01-01 00:00:00 (Smalltalk-80's epoch), i.e. 2026-01-01 (125 years of 365 days
/// plus 31 leap days) less 8 hours. It is what the image showed when this clock started at
/// 2026-01-01 and the VM did not yet undo the image's Pacific zone rule: the image reads the
/// same clock values as before, so every recorded display hash stays valid.
pub const START_SECONDS_SINCE_1901: u32 = (125 * 365 + 31) * 86_400 - 8 * 3600;

/// Virtual milliseconds that pass for each `idle(None)` call (nothing to wait for but input).
const IDLE_STEP_MS: u64 = 16;
/// Longest real sleep of one idle call with the real clock.
const MAX_REAL_IDLE_MS: i32 = 500;

/// A deterministic host without a window. See the crate documentation.
pub struct HeadlessHost {
    cycles_per_ms: u64,
    /// Virtual milliseconds skipped while idle; added to the cycle-derived clock.
    idle_ms: u64,
    /// Highest cycle count seen in a host call (the clock never runs backwards).
    last_cycles: u64,
    /// Scripted input, sorted by cycle (stable: equal cycles keep the order pushed).
    events: VecDeque<(u64, InputEvent)>,
    dirty: Rect,
    display_size: Option<(usize, usize)>,
    cursor: [u16; 16],
    cursor_pos: (i32, i32),
    trace_writer: Option<BufWriter<Box<dyn Write>>>,
    trace_error: Option<io::Error>,
    trace_lines: Option<Vec<String>>,
    trace_count: u64,
    transcript_writer: Option<Box<dyn Write>>,
    /// Where snapshots (primitive 97) are written, atomically; None fails the primitive.
    snapshot_path: Option<PathBuf>,
    /// The files the image's file primitives (128-133) see; None makes them fail.
    files: Option<HostFiles>,
    /// When set, the clock is the real one (for benchmarks), measured from this instant.
    real_time: Option<Instant>,
    /// Local wall-clock time at cycle 0, seconds since 1901.
    start_seconds: u32,
}

impl Default for HeadlessHost {
    fn default() -> Self {
        Self::new()
    }
}

impl HeadlessHost {
    pub fn new() -> HeadlessHost {
        HeadlessHost {
            cycles_per_ms: CYCLES_PER_MS,
            idle_ms: 0,
            last_cycles: 0,
            events: VecDeque::new(),
            dirty: Rect::default(),
            display_size: None,
            cursor: [0; 16],
            cursor_pos: (0, 0),
            trace_writer: None,
            trace_error: None,
            trace_lines: None,
            trace_count: 0,
            transcript_writer: None,
            snapshot_path: None,
            files: None,
            real_time: None,
            start_seconds: START_SECONDS_SINCE_1901,
        }
    }

    /// Changes how many bytecodes make one virtual millisecond (at least 1).
    pub fn with_cycles_per_ms(mut self, cycles_per_ms: u64) -> HeadlessHost {
        self.cycles_per_ms = cycles_per_ms.max(1);
        self
    }

    /// Streams every trace line, newline-terminated, to `writer` (through a 64 KiB buffer;
    /// call [`flush`](Self::flush) at the end). After the first write error (e.g. a closed
    /// pipe) the writer is dropped and the error kept in [`trace_error`](Self::trace_error).
    /// Writes snapshots the image takes to `path` (see [`write_image_atomically`]).
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

    /// Starts the virtual wall clock at `local_seconds_since_1901` (local time; see
    /// [`clock::parse_start_date`]) instead of [`START_SECONDS_SINCE_1901`].
    pub fn with_start(mut self, local_seconds_since_1901: u32) -> HeadlessHost {
        self.start_seconds = local_seconds_since_1901;
        self
    }

    /// Uses the machine's real clock instead of the cycle-derived one (for benchmarks: the
    /// image then measures real time, and its wall clock is the host's local time). Runs are no
    /// longer reproducible.
    pub fn with_real_time(mut self) -> HeadlessHost {
        self.real_time = Some(Instant::now());
        self
    }

    /// Sends what the image writes on its Transcript to `writer` (see
    /// `Interpreter::set_transcript_echo`).
    pub fn transcript_to(&mut self, writer: Box<dyn Write>) {
        self.transcript_writer = Some(writer);
    }

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

    /// Queues `event` for delivery once the VM has run `at_cycle` cycles. Events with the same
    /// cycle are delivered in the order pushed.
    pub fn push_event(&mut self, at_cycle: u64, event: InputEvent) {
        let at = self.events.partition_point(|&(c, _)| c <= at_cycle);
        self.events.insert(at, (at_cycle, event));
    }

    /// Events queued and not yet delivered.
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// The union of the rectangles reported changed since the last call (None if none).
    pub fn take_dirty(&mut self) -> Option<Rect> {
        let d = std::mem::take(&mut self.dirty);
        (!d.is_empty()).then_some(d)
    }

    /// The union of the rectangles reported changed so far (empty if none).
    pub fn dirty(&self) -> Rect {
        self.dirty
    }

    /// The size last given by `display_resized`.
    pub fn display_size(&self) -> Option<(usize, usize)> {
        self.display_size
    }

    /// The cursor image last set by the VM (16 rows, most significant bit leftmost).
    pub fn cursor(&self) -> &[u16; 16] {
        &self.cursor
    }

    /// The cursor position last set by the VM.
    pub fn cursor_position(&self) -> (i32, i32) {
        self.cursor_pos
    }

    /// Virtual milliseconds since the start, not wrapped.
    fn now_ms(&mut self, cycles: u64) -> u64 {
        self.last_cycles = self.last_cycles.max(cycles);
        self.last_cycles / self.cycles_per_ms + self.idle_ms
    }
}

impl Host for HeadlessHost {
    fn millisecond_clock(&mut self, cycles: u64) -> u32 {
        match self.real_time {
            Some(start) => start.elapsed().as_millis() as u32,
            None => self.now_ms(cycles) as u32,
        }
    }

    fn save_snapshot(&mut self, image: &[u8]) -> Result<(), String> {
        let path = self.snapshot_path.as_ref().ok_or("no file to save the image to was given")?;
        write_image_atomically(path, image).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn file_system(&mut self) -> Option<&mut dyn FileSystem> {
        self.files.as_mut().map(|f| f as &mut dyn FileSystem)
    }

    fn seconds_since_1901(&mut self, cycles: u64) -> u32 {
        match self.real_time {
            Some(_) => clock::local_seconds_since_1901(),
            None => self.start_seconds.wrapping_add((self.now_ms(cycles) / 1000) as u32),
        }
    }

    fn poll_event(&mut self, cycles: u64) -> Option<InputEvent> {
        self.last_cycles = self.last_cycles.max(cycles);
        match self.events.front() {
            Some(&(at, event)) if at <= cycles => {
                self.events.pop_front();
                log::debug!("cycle {cycles}: input {event:?} (scripted for {at})");
                Some(event)
            }
            _ => None,
        }
    }

    fn display_resized(&mut self, width: usize, height: usize) {
        log::debug!("display is now {width}x{height}");
        self.display_size = Some((width, height));
        self.dirty = Rect::new(0, 0, width as i32, height as i32);
    }

    fn display_changed(&mut self, rect: Rect) {
        self.dirty = self.dirty.union(&rect);
    }

    fn cursor_changed(&mut self, bits: &[u16; 16]) {
        self.cursor = *bits;
    }

    fn cursor_moved(&mut self, x: i32, y: i32) {
        self.cursor_pos = (x, y);
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

    /// With the virtual clock no real time passes here: the clock jumps to `wake_at` (or 16 ms
    /// on when there is nothing to wait for), so a wait on a Delay ends at once in real time
    /// and lasts exactly its duration on the image's clock. Scripted input still arrives at its cycle (the idle image keeps
    /// running bytecodes), so a replay is exact. The result depends only on the sequence of
    /// calls, so runs stay reproducible.
    fn idle(&mut self, wake_at: Option<u32>) {
        if let Some(start) = self.real_time {
            // A real clock: really wait (at most MAX_REAL_IDLE_MS; scripted input is tied to
            // cycles, so nothing else can end the wait early).
            let now = start.elapsed().as_millis() as u32;
            let ms = wake_at.map_or(IDLE_STEP_MS as i32, |t| t.wrapping_sub(now) as i32).clamp(0, MAX_REAL_IDLE_MS);
            std::thread::sleep(std::time::Duration::from_millis(ms as u64));
            return;
        }
        let now = self.now_ms(self.last_cycles);
        let skip = match wake_at {
            // Treat the wrapping difference as signed: a wake time in the past skips nothing.
            Some(t) => (t.wrapping_sub(now as u32) as i32).max(0) as u64,
            None => IDLE_STEP_MS,
        };
        self.idle_ms += skip;
    }

    fn transcript(&mut self, text: &str) {
        if let Some(w) = self.transcript_writer.as_mut() {
            // Best effort: a closed stdout must not stop the VM.
            let _ = w.write_all(text.as_bytes()).and_then(|()| w.flush());
        }
    }
}

/// Replaces the image at `path` with `bytes` so that a crash at any moment leaves either the
/// old or the new image, never a mix: the bytes go to a temporary file in the same directory
/// (`.NAME.tmp-PID-N`, with the old file's permissions), which is flushed to disk (fsync) and
/// then renamed over `path`; the previous image is kept as `path` + `.bak` (a hard link, so it
/// costs no copy, made before the rename, so `path` is the old image until the new one
/// replaces it in one step); finally the directory is synced. On any error the temporary
/// files are removed and `path` (and its `.bak`) are as they were.
///
/// Two environment variables inject faults, for tests:
/// * `ST80_SNAPSHOT_WRITE_CHUNK_DELAY_US=N` writes in chunks of
///   `ST80_SNAPSHOT_WRITE_CHUNK_BYTES` (default 4096) bytes, sleeping N microseconds after
///   each, so a test can kill the process mid-write;
/// * `ST80_SNAPSHOT_FAULT=enospc|eio` fails the write half-way as a full disk (or an I/O
///   error) would.
pub fn write_image_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    if path.is_dir() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "is a directory"));
    }
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    temp_name.push(format!(".tmp-{}-{n}", std::process::id()));
    let temp = dir.join(temp_name);
    let mut bak_temp = temp.as_os_str().to_owned();
    bak_temp.push(".bak");
    let bak_temp = PathBuf::from(bak_temp);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temp)?;
        if let Ok(meta) = std::fs::metadata(path) {
            let _ = file.set_permissions(meta.permissions());
        }
        write_with_faults(&mut file, bytes)?;
        file.sync_all()?;
        drop(file);
        if path.exists() {
            let mut bak = path.as_os_str().to_owned();
            bak.push(".bak");
            if std::fs::hard_link(path, &bak_temp).is_err() {
                std::fs::copy(path, &bak_temp)?;
            }
            std::fs::rename(&bak_temp, PathBuf::from(bak))?;
        }
        std::fs::rename(&temp, path)?;
        // Make the renames durable (a no-op where directories cannot be opened).
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
        let _ = std::fs::remove_file(&bak_temp);
    }
    result
}

/// `write_all`, with the test hooks of [`write_image_atomically`].
fn write_with_faults(file: &mut std::fs::File, bytes: &[u8]) -> io::Result<()> {
    let env_num = |name: &str| std::env::var(name).ok().and_then(|v| v.trim().parse::<u64>().ok());
    let fault = std::env::var("ST80_SNAPSHOT_FAULT").ok();
    let (bytes, injected) = match fault.as_deref() {
        Some("enospc") => (&bytes[..bytes.len() / 2], Some(io::Error::from_raw_os_error(files::ENOSPC))),
        Some("eio") => (&bytes[..bytes.len() / 2], Some(io::Error::from_raw_os_error(files::EIO))),
        _ => (bytes, None),
    };
    match env_num("ST80_SNAPSHOT_WRITE_CHUNK_DELAY_US") {
        Some(delay) => {
            let chunk = env_num("ST80_SNAPSHOT_WRITE_CHUNK_BYTES").unwrap_or(4096).max(1) as usize;
            for part in bytes.chunks(chunk) {
                file.write_all(part)?;
                std::thread::sleep(std::time::Duration::from_micros(delay));
            }
        }
        None => file.write_all(bytes)?,
    }
    match injected {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Number of 16-bit words per row and a word fetch that treats missing words as white, so a
/// form whose bits are shorter than its size says never makes us panic.
fn word_at(form: &DisplayForm<'_>, row: usize, word: usize) -> u16 {
    form.bits.get(row * form.raster() + word).copied().unwrap_or(0)
}

/// The mask of the bits of word `word` of a row that lie inside `width` (1 = inside).
fn word_mask(width: usize, word: usize) -> u16 {
    let first = word * 16;
    if first + 16 <= width {
        0xffff
    } else if first >= width {
        0
    } else {
        !(0xffffu16 >> (width - first))
    }
}

/// The Display form as a PNG: 1-bit grayscale, `width` x `height` pixels, black where the
/// form has a 1 bit, white elsewhere. An empty form (zero width or height) gives a 1x1 white
/// image, since PNG has no empty images.
pub fn display_to_png(form: &DisplayForm<'_>) -> Vec<u8> {
    let (width, height) = if form.width == 0 || form.height == 0 { (1, 1) } else { (form.width, form.height) };
    let empty = form.width == 0 || form.height == 0;
    let row_bytes = width.div_ceil(8);
    let mut data = Vec::with_capacity(row_bytes * height);
    for y in 0..height {
        let start = data.len();
        for x in 0..form.raster().max(1) {
            let w = if empty { 0 } else { word_at(form, y, x) & word_mask(width, x) };
            // PNG grayscale: 0 = black, so invert.
            data.extend_from_slice(&(!w).to_be_bytes());
        }
        data.truncate(start + row_bytes);
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width as u32, height as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        let mut writer = encoder.write_header().expect("writing a PNG header to memory cannot fail");
        writer.write_image_data(&data).expect("the PNG data has exactly the size of the header");
    }
    out
}

/// A fingerprint of the Display's pixels, the same on every architecture: 16 lowercase hex
/// digits of the 64-bit FNV-1a hash (offset basis 0xcbf29ce484222325, prime 0x100000001b3)
/// over the bytes of: `width` and `height` as little-endian u32, then each row's words from
/// left to right, each word big-endian (leftmost pixel = most significant bit), with the bits
/// past `width` in a row's last word cleared.
pub fn display_hash(form: &DisplayForm<'_>) -> String {
    let mut h = Fnv1a64::new();
    h.write(&(form.width as u32).to_le_bytes());
    h.write(&(form.height as u32).to_le_bytes());
    for y in 0..form.height {
        for x in 0..form.raster() {
            let w = word_at(form, y, x) & word_mask(form.width, x);
            h.write(&w.to_be_bytes());
        }
    }
    format!("{:016x}", h.0)
}

struct Fnv1a64(u64);

impl Fnv1a64 {
    fn new() -> Fnv1a64 {
        Fnv1a64(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use st80_core::host::MouseButton;

    #[test]
    fn start_date_is_2025_12_31_4pm() {
        // 1901-01-01 to 1970-01-01 is 2_177_452_800 s; 1970-01-01 to 2026-01-01 is 1_767_225_600 s.
        assert_eq!(clock::parse_start_date("2025-12-31T16:00"), Ok(START_SECONDS_SINCE_1901));
        assert_eq!(START_SECONDS_SINCE_1901 as u64, 1_767_225_600 + 2_177_452_800 - 8 * 3600);
    }

    #[test]
    fn clock_follows_cycles_and_idle() {
        let mut h = HeadlessHost::new();
        assert_eq!(h.millisecond_clock(0), 0);
        assert_eq!(h.millisecond_clock(12_345), 12);
        h.idle(Some(100));
        assert_eq!(h.millisecond_clock(12_345), 100);
        h.idle(Some(50)); // in the past: no jump
        assert_eq!(h.millisecond_clock(12_345), 100);
        h.idle(None);
        assert_eq!(h.millisecond_clock(12_345), 116);
        // The clock never runs backwards, even if asked with an older cycle count.
        assert_eq!(h.millisecond_clock(1_012_345), 1116);
        assert_eq!(h.millisecond_clock(12_345), 1116);
        assert_eq!(h.seconds_since_1901(2_400_000), START_SECONDS_SINCE_1901 + 2);
        // Wrapping: 2^32 ms after the start the clock is back near 0.
        let mut w = HeadlessHost::new();
        assert_eq!(w.millisecond_clock(((1u64 << 32) + 5) * CYCLES_PER_MS), 5);
    }

    #[test]
    fn events_arrive_in_cycle_order() {
        let mut h = HeadlessHost::new();
        let up = InputEvent::Button { button: MouseButton::Red, down: false };
        let down = InputEvent::Button { button: MouseButton::Red, down: true };
        let mv = InputEvent::MouseMove { x: 3, y: 4 };
        h.push_event(200, up);
        h.push_event(100, mv);
        h.push_event(200, down);
        assert_eq!(h.poll_event(50), None);
        assert_eq!(h.poll_event(100), Some(mv));
        assert_eq!(h.poll_event(150), None);
        assert_eq!(h.poll_event(200), Some(up));
        assert_eq!(h.poll_event(200), Some(down));
        assert_eq!(h.poll_event(1000), None);
        // Idling skips virtual time but never delivers an event before its cycle.
        h.push_event(5000, mv);
        h.idle(None);
        assert_eq!(h.poll_event(1000), None);
        assert_eq!(h.poll_event(5000), Some(mv));
    }

    #[test]
    fn dirty_rects_accumulate() {
        let mut h = HeadlessHost::new();
        assert_eq!(h.take_dirty(), None);
        h.display_changed(Rect::new(10, 10, 5, 5));
        h.display_changed(Rect::new(0, 20, 2, 2));
        assert_eq!(h.take_dirty(), Some(Rect::new(0, 10, 15, 12)));
        assert_eq!(h.take_dirty(), None);
    }

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

    #[test]
    fn png_and_hash_ignore_padding_bits() {
        // 20 x 2: row 0 has pixel 0 and pixel 19 black; row 1 is white but has padding set.
        let bits = [0x8000, 0x1000, 0x0000, 0x0fff];
        let form = DisplayForm { width: 20, height: 2, bits: &bits };
        let clean = [0x8000, 0x1000, 0x0000, 0x0000];
        let clean_form = DisplayForm { width: 20, height: 2, bits: &clean };
        assert_eq!(display_hash(&form), display_hash(&clean_form));
        assert_eq!(display_to_png(&form), display_to_png(&clean_form));
        let other = [0x8000, 0x0000, 0x0000, 0x0000];
        let other_form = DisplayForm { width: 20, height: 2, bits: &other };
        assert_ne!(display_hash(&form), display_hash(&other_form));

        let mut decoder = png::Decoder::new(std::io::Cursor::new(display_to_png(&form)));
        decoder.set_transformations(png::Transformations::IDENTITY);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (20, 2));
        assert_eq!(info.bit_depth, png::BitDepth::One);
        // Row 0: pixel 0 black (bit 0), pixels 1..18 white, pixel 19 black; the 4 bits past
        // the width are white. Row 1: all white.
        assert_eq!(&buf[..3], &[0x7f, 0xff, 0xef]);
        assert_eq!(&buf[3..6], &[0xff, 0xff, 0xff]);
    }

    #[test]
    fn hash_is_fixed() {
        // Pins the documented algorithm: changing it changes every recorded hash.
        let form = DisplayForm { width: 0, height: 0, bits: &[] };
        let mut h = Fnv1a64::new();
        h.write(&[0; 8]);
        assert_eq!(display_hash(&form), format!("{:016x}", h.0));
        assert_eq!(Fnv1a64::new().0, 0xcbf29ce484222325);
        let mut a = Fnv1a64::new();
        a.write(b"a");
        assert_eq!(a.0, 0xaf63dc4c8601ec8c); // FNV-1a-64("a"), the published test vector
        let _ = display_to_png(&form); // 1x1 white, no panic
    }
}
