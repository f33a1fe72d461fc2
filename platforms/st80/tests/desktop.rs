//! The desktop window under a real X server: each test starts its own `Xvfb`, runs
//! `st80 run IMAGE --scale 1 --no-confirm ...` on it, and looks at the window from outside with
//! `xdotool` (input, finding the window) and ImageMagick's `import` (X screenshots).
//!
//! Needs Xvfb, xdotool, ImageMagick and setxkbmap (`bash ci/desktop-deps.sh` installs them) and
//! the Xerox v2 image. Without them a test prints `SKIPPED: ...` and passes, except with
//! `CI=true`, where it fails. The tests run one at a time (a lock), each on its own display.
#![cfg(feature = "desktop")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
mod common;

use common::{read_hash, run_headless, scratch, ST80};

static SERIAL: Mutex<()> = Mutex::new(());

fn skip(why: &str) {
    if st80_tests::in_ci() {
        panic!("{why}; CI=true, so this is a failure, not a skip");
    }
    eprintln!("SKIPPED: {why}");
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// An Xvfb server, killed on drop.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Option<Xvfb> {
        for tool in ["Xvfb", "xdotool", "import", "convert", "identify", "setxkbmap", "xkbcomp"] {
            if !have(tool) {
                skip(&format!("{tool} is not installed (bash ci/desktop-deps.sh installs it)"));
                return None;
            }
        }
        let base = 100 + std::process::id() % 400;
        for n in base..base + 100 {
            if Path::new(&format!("/tmp/.X{n}-lock")).exists() || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                continue;
            }
            let child = Command::new("Xvfb")
                .args([format!(":{n}").as_str(), "-screen", "0", "1280x1024x24", "-nolisten", "tcp", "-noreset"])
                .current_dir(std::env::temp_dir()) // it may write server-N.xkb files there
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("starting Xvfb");
            let mut x = Xvfb { child, display: format!(":{n}") };
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = x.child.try_wait() {
                    break; // lost a race for this display number: try the next
                }
                if x.tool("xdotool", &["getmouselocation"]).status.success() {
                    return Some(x);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("could not start Xvfb");
    }

    fn tool(&self, name: &str, args: &[&str]) -> Output {
        Command::new(name).args(args).env("DISPLAY", &self.display).output().unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn run(&self, name: &str, args: &[&str]) -> Vec<u8> {
        let out = self.tool(name, args);
        assert!(out.status.success(), "{name} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM lets Xvfb remove its lock file and socket; SIGKILL if it does not go.
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The st80 desktop running on an Xvfb.
struct Desktop {
    child: Child,
    window: String,
    dir: PathBuf,
}

impl Desktop {
    /// Starts `st80 run COPY-OF-IMAGE --scale 1 --no-confirm EXTRA...` and waits for the window
    /// (centred on the screen, so the pointer starts at its centre).
    fn start(x: &Xvfb, dir: &Path, extra: &[&str]) -> Option<Desktop> {
        Desktop::start_image(x, st80_tests::XEROX_V2, dir, extra)
    }

    /// The same with another image (and its .sources/.changes beside the copy).
    fn start_image(x: &Xvfb, name: &str, dir: &Path, extra: &[&str]) -> Option<Desktop> {
        let image = st80_tests::image(name)?;
        let dir = dir.to_path_buf();
        let copy = dir.join(image.file_name().unwrap());
        std::fs::copy(&image, &copy).unwrap();
        for side in ["Smalltalk-80.sources", "Smalltalk-80.changes"] {
            let from = image.with_file_name(side);
            if from.exists() && name != st80_tests::XEROX_V2 {
                std::fs::copy(&from, dir.join(side)).unwrap();
            }
        }
        let child = Command::new(ST80)
            .arg("run")
            .arg(&copy)
            .args(["--scale", "1", "--no-confirm"])
            .args(extra)
            .env("DISPLAY", &x.display)
            .env("SDL_VIDEODRIVER", "x11") // fail rather than fall back to another driver
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.txt")).unwrap())
            .spawn()
            .expect("starting st80");
        let mut d = Desktop { child, window: String::new(), dir };
        let started = Instant::now();
        // Without a GL driver (Xvfb) the desktop's first window fails to get an accelerated
        // renderer and is replaced by a second one: take a window only once the same one alone
        // is found twice, half a second apart.
        loop {
            let out = x.tool("xdotool", &["search", "--name", "^st80"]);
            let ids: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
            if let [id] = &ids[..] {
                if *id == d.window {
                    break;
                }
                d.window = id.clone();
                std::thread::sleep(Duration::from_millis(500));
                continue;
            }
            if let Ok(Some(status)) = d.child.try_wait() {
                panic!("st80 exited with {status} before showing a window: {}", d.stderr());
            }
            assert!(started.elapsed() < Duration::from_secs(30), "no st80 window after 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(d)
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.txt")).unwrap_or_default()
    }

    /// The window's pixels as 8-bit gray, and its size.
    fn grab(&self, x: &Xvfb, name: &str) -> Gray {
        let png = self.dir.join(format!("{name}.png"));
        x.run("import", &["-window", &self.window, png.to_str().unwrap()]);
        Gray::read(&png)
    }

    /// Waits until two X screenshots 0.7 s apart are the same (at least 3 s after start).
    fn settle(&self, x: &Xvfb) -> Gray {
        std::thread::sleep(Duration::from_secs(3));
        let started = Instant::now();
        let mut last = self.grab(x, "settle");
        loop {
            std::thread::sleep(Duration::from_millis(700));
            let now = self.grab(x, "settle");
            if now == last {
                return now;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "the desktop never settled");
            last = now;
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM (the desktop quits as if closed with --no-confirm) and waits; the stderr text.
    fn quit(mut self) -> String {
        let _ = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status();
        self.wait()
    }

    fn wait(&mut self) -> String {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let err = self.stderr();
                assert!(status.success(), "st80 failed ({status}): {err}");
                return err;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = self.child.kill();
                panic!("st80 did not exit: {}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An 8-bit gray image.
#[derive(PartialEq, Eq)]
struct Gray {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Gray {
    fn read(file: &Path) -> Gray {
        let size = Command::new("identify").args(["-format", "%w %h"]).arg(file).output().unwrap();
        let size = String::from_utf8_lossy(&size.stdout).to_string();
        let mut it = size.split_whitespace().map(|n| n.parse::<usize>().unwrap_or_else(|_| panic!("size {size:?}")));
        let (width, height) = (it.next().unwrap(), it.next().unwrap());
        let out = Command::new("convert").arg(file).args(["-depth", "8", "gray:-"]).output().unwrap();
        assert!(out.status.success(), "convert {}", file.display());
        assert_eq!(out.stdout.len(), width * height, "{}", file.display());
        Gray { width, height, pixels: out.stdout }
    }

    /// How many pixels differ inside the box x0 <= x < x1, y0 <= y < y1.
    fn count_diff(&self, other: &Gray, (x0, y0, x1, y1): (usize, usize, usize, usize)) -> usize {
        (y0..y1.min(self.height))
            .flat_map(|y| (x0..x1.min(self.width)).map(move |x| y * self.width + x))
            .filter(|&i| self.pixels[i] != other.pixels[i])
            .count()
    }

    /// The bounding box (x0, y0, x1, y1) of the pixels that differ, and how many differ.
    fn diff(&self, other: &Gray) -> (usize, (usize, usize, usize, usize)) {
        self.diff_in(other, (0, 0, self.width, self.height))
    }

    /// Pixels that differ inside the rectangle (x0, y0, x1, y1), x1 and y1 excluded, and their
    /// bounding box.
    fn diff_in(&self, other: &Gray, area: (usize, usize, usize, usize)) -> (usize, (usize, usize, usize, usize)) {
        assert_eq!((self.width, self.height), (other.width, other.height));
        let mut n = 0;
        let mut bb = (usize::MAX, usize::MAX, 0, 0);
        for (i, (a, b)) in self.pixels.iter().zip(&other.pixels).enumerate() {
            let (x, y) = (i % self.width, i / self.width);
            if a != b && (area.0..area.2).contains(&x) && (area.1..area.3).contains(&y) {
                n += 1;
                bb = (bb.0.min(x), bb.1.min(y), bb.2.max(x), bb.3.max(y));
            }
        }
        (n, bb)
    }
}

/// `dir/name` as a string argument (st80 runs in the package directory: paths are absolute).
fn abs(dir: &Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}

fn lock() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn the_window_shows_the_display_pixel_for_pixel() {
    let _serial = lock();
    let Some(x) = Xvfb::start() else { return };
    let dir = scratch("pixels");
    let Some(d) = Desktop::start(&x, &dir, &["--screenshot", &abs(&dir, "vm.png")]) else { return };
    let screen = d.settle(&x);
    let err = d.quit();
    assert!(err.contains("window closed"), "{err}");
    let vm = Gray::read(&dir.join("vm.png"));
    assert_eq!((screen.width, screen.height), (640, 480), "the window is not the Display's size");
    let (n, bb) = screen.diff(&vm);
    assert_eq!(n, 0, "{n} pixels differ between the window and the Display form, in {bb:?}");
    let black = screen.pixels.iter().filter(|&&p| p < 128).count();
    assert!(black > 10_000, "the desktop is nearly blank ({black} black pixels)");
}

#[test]
fn the_yellow_button_opens_the_screen_menu() {
    let _serial = lock();
    let Some(x) = Xvfb::start() else { return };
    let Some(d) = Desktop::start(&x, &scratch("menu"), &[]) else { return };
    d.settle(&x);
    // On the background right of the windows (the window under the pointer at the start gives
    // up control: settle again).
    x.run("xdotool", &["mousemove", "--window", &d.window, "620", "440"]);
    let before = d.settle(&x);
    // Right button = yellow with the default mapping.
    x.run("xdotool", &["mousedown", "3"]);
    std::thread::sleep(Duration::from_millis(1500));
    let after = d.grab(&x, "menu");
    x.run("xdotool", &["mouseup", "3"]);
    // The menu (restore display ... quit, about 115 x 135 pixels) opens by the pointer, at the
    // right edge; the window that had control (the browser) is deactivated too.
    let (n, bb) = before.diff(&after);
    let in_menu = before.count_diff(&after, (520, 300, 640, 460));
    assert!(in_menu > 3000, "only {in_menu} pixels changed where the menu goes ({n} in all, in {bb:?})");
    d.quit();
}

#[test]
fn a_replayed_session_ends_on_the_headless_screen() {
    let _serial = lock();
    let Some(x) = Xvfb::start() else { return };
    let Some(image) = st80_tests::image(st80_tests::XEROX_V2) else { return };
    let dir = scratch("replay");
    let log = dir.join("menu-replay.txt");
    std::fs::write(&log, "300000 mouse 620 300\n320000 button yellow down\n").unwrap();
    let headless = run_headless(
        &image,
        &["--cycles", "800000", "--replay", log.to_str().unwrap(), "--screenshot", &abs(&dir, "replay-headless.png")],
        &dir,
        "replay-headless",
    );
    let headless_err = String::from_utf8_lossy(&headless.out.stderr).into_owned();
    let headless = headless.hash.unwrap_or_else(|| panic!("the headless run failed: {headless_err}"));
    let Some(mut d) = Desktop::start(
        &x,
        &dir,
        &[
            "--cycles",
            "800000",
            "--replay",
            log.to_str().unwrap(),
            "--screenshot",
            &abs(&dir, "replay-desktop.png"),
            "--hash-out",
            &abs(&dir, "replay-desktop.hash"),
        ],
    ) else {
        return;
    };
    let desktop = d.wait();
    assert!(desktop.contains("cycles done"), "{desktop}");
    // The summary accounts for the frames the window showed (at least the first).
    let frames = desktop.split(" frames drawn in").next().and_then(|s| s.rsplit('(').next());
    assert!(frames.and_then(|n| n.parse::<u64>().ok()).is_some_and(|n| n >= 1), "{desktop}");
    let hash = read_hash(&dir.join("replay-desktop.hash"));
    assert_eq!(hash, headless, "desktop: {desktop}\nheadless: {headless_err}");
}

/// Every printable ASCII character (the replay's `type` takes the rest of its line).
const ASCII_LINE: &str =
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// Opening a workspace from the screen menu and framing it, per image: the pointer positions
/// (background, "workspace" item, frame top left, frame bottom right, inside the workspace).
struct WorkspaceSteps {
    image: &'static str,
    points: [(i32, i32); 5],
}

const XEROX_WORKSPACE: WorkspaceSteps =
    WorkspaceSteps { image: st80_tests::XEROX_V2, points: [(620, 300), (580, 248), (40, 250), (600, 460), (300, 350)] };
const SNAPSHOT_WORKSPACE: WorkspaceSteps = WorkspaceSteps {
    image: st80_tests::DBANAY_SNAPSHOT,
    points: [(800, 700), (800, 648), (40, 630), (1000, 790), (500, 710)],
};

impl WorkspaceSteps {
    /// The workspace's frame once opened (from its top-left to its bottom-right corner): where
    /// the typed text shows. (What the image redraws of the windows behind it depends on
    /// when the clicks that open it arrive, which real input cannot pin to a cycle.)
    fn area(&self) -> (usize, usize, usize, usize) {
        let [_, _, tl, br, _] = self.points;
        (tl.0 as usize, tl.1 as usize, br.0 as usize + 1, br.1 as usize + 1)
    }

    /// The replay log that opens the workspace and types `text` (headless reference).
    fn replay(&self, text: &str) -> String {
        let [bg, item, tl, br, inside] = self.points;
        format!(
            "300000 mouse {} {}\n320000 button yellow down\n600000 mouse {} {}\n700000 button yellow up\n\
             900000 mouse {} {}\n1000000 button red down\n1100000 mouse {} {}\n1300000 button red up\n\
             1400000 mouse {} {}\n1500000 type {text}\n",
            bg.0, bg.1, item.0, item.1, tl.0, tl.1, br.0, br.1, inside.0, inside.1
        )
    }

    /// The same through the X server, into the desktop's window.
    fn open_in(&self, x: &Xvfb, d: &Desktop) {
        let [bg, item, tl, br, inside] = self.points;
        let to = |p: (i32, i32)| {
            x.run("xdotool", &["mousemove", "--window", &d.window, &p.0.to_string(), &p.1.to_string()]);
            std::thread::sleep(Duration::from_millis(400));
        };
        to(bg);
        d.settle(x);
        x.run("xdotool", &["mousedown", "3"]);
        std::thread::sleep(Duration::from_millis(1200));
        to(item);
        x.run("xdotool", &["mouseup", "3"]);
        std::thread::sleep(Duration::from_millis(1000));
        to(tl);
        x.run("xdotool", &["mousedown", "1"]);
        std::thread::sleep(Duration::from_millis(400));
        to(br);
        x.run("xdotool", &["mouseup", "1"]);
        std::thread::sleep(Duration::from_millis(1000));
        to(inside);
        // Type only once the workspace has control and the screen is still.
        d.settle(x);
    }
}

/// The headless screen after `log` (a replay) on `image`.
fn headless_screen(image: &str, dir: &Path, log: &str, cycles: &str) -> Option<Gray> {
    let image = st80_tests::image(image)?;
    let file = dir.join("reference.txt");
    std::fs::write(&file, log).unwrap();
    let png = dir.join("reference.png");
    let out = Command::new(ST80)
        .arg("run")
        .arg(&image)
        .args(["--headless", "--cycles", cycles, "--replay"])
        .arg(&file)
        .arg("--screenshot")
        .arg(&png)
        .output()
        .unwrap();
    assert!(out.status.success(), "headless reference: {}", String::from_utf8_lossy(&out.stderr));
    Some(Gray::read(&png))
}

/// Types every printable ASCII character with xdotool (US layout: shift for the capitals and
/// symbols) into a new workspace and compares the window with the same text delivered by a
/// headless replay: what the image shows must be what was typed.
fn typed_text_matches_the_replay(steps: &WorkspaceSteps, name: &str) {
    let _serial = lock();
    let Some(x) = Xvfb::start() else { return };
    let dir = scratch(name);
    let Some(reference) = headless_screen(steps.image, &dir, &steps.replay(ASCII_LINE), "5000000") else { return };
    let Some(d) = Desktop::start_image(&x, steps.image, &dir, &[]) else { return };
    steps.open_in(&x, &d);
    x.run("xdotool", &["type", "--delay", "40", ASCII_LINE]);
    let screen = d.settle(&x);
    d.quit();
    assert_eq!((screen.width, screen.height), (reference.width, reference.height));
    let (n, bb) = screen.diff_in(&reference, steps.area());
    assert_eq!(n, 0, "{n} pixels differ from the replayed text, in {bb:?} (see {})", dir.display());
}

#[test]
fn every_ascii_character_typed_reaches_the_xerox_image() {
    typed_text_matches_the_replay(&XEROX_WORKSPACE, "ascii-xerox");
}

#[test]
fn every_ascii_character_typed_reaches_the_snapshot_image() {
    typed_text_matches_the_replay(&SNAPSHOT_WORKSPACE, "ascii-snapshot");
}

/// A few keys through a German layout, where this X server honours `setxkbmap de`: the image
/// shows the characters the German key caps give.
#[test]
fn typing_follows_the_keyboard_layout() {
    let _serial = lock();
    let Some(x) = Xvfb::start() else { return };
    x.run("setxkbmap", &["-display", &x.display, "de"]);
    // Some Xvfb builds (Debian 12's xserver 21.1) accept but ignore keymap changes.
    let keymap = String::from_utf8_lossy(&x.run("xkbcomp", &["-xkb", &x.display, "-"])).into_owned();
    if !(keymap.contains("+de+") || keymap.contains("+de(")) {
        eprintln!("NOTE: this X server ignored `setxkbmap de`; the US layout is covered by the ASCII tests");
        return;
    }
    let dir = scratch("german");
    // German: the US y key gives z, AltGr+q is @, shift+2 is ", shift+7 is /; ä has no code in
    // the image and is dropped.
    let Some(reference) = headless_screen(XEROX_WORKSPACE.image, &dir, &XEROX_WORKSPACE.replay("zy@\"/x"), "5000000")
    else {
        return;
    };
    let Some(d) = Desktop::start(&x, &dir, &[]) else { return };
    XEROX_WORKSPACE.open_in(&x, &d);
    for k in ["z", "y", "ISO_Level3_Shift+q", "shift+2", "shift+7", "adiaeresis", "x"] {
        x.run("xdotool", &["key", k]);
        std::thread::sleep(Duration::from_millis(150));
    }
    let screen = d.settle(&x);
    d.quit();
    let (n, bb) = screen.diff_in(&reference, XEROX_WORKSPACE.area());
    assert_eq!(n, 0, "{n} pixels differ from the replayed text, in {bb:?} (see {})", dir.display());
}

/// Text typed, selected with Escape (the v2 image's "select the current type-in") and cut
/// with Delete (its cut key) is on the X clipboard.
#[test]
fn cut_in_the_image_reaches_the_host_clipboard() {
    let _serial = lock();
    let Some(x) = Xvfb::start() else { return };
    if !have("xclip") {
        skip("xclip is not installed (bash ci/desktop-deps.sh installs it)");
        return;
    }
    let Some(d) = Desktop::start(&x, &scratch("clipboard"), &[]) else { return };
    XEROX_WORKSPACE.open_in(&x, &d);
    x.run("xdotool", &["type", "--delay", "40", "x _ 3 + 4. ^Transcript show: 'Hi!'"]);
    std::thread::sleep(Duration::from_millis(500));
    for k in ["Escape", "Delete"] {
        x.run("xdotool", &["key", k]);
        std::thread::sleep(Duration::from_millis(300));
    }
    d.settle(&x);
    let clip = x.run("xclip", &["-o", "-selection", "clipboard"]);
    d.quit();
    assert_eq!(String::from_utf8_lossy(&clip), "x _ 3 + 4. ^Transcript show: 'Hi!'");
}

/// With no display at all, one line that suggests --headless, and exit status 2 (SDL would
/// otherwise run on its invisible offscreen driver).
#[test]
fn without_a_display_it_says_so_and_exits_2() {
    let Some(image) = st80_tests::image(st80_tests::XEROX_V2) else { return };
    let out = Command::new(ST80)
        .arg("run")
        .arg(&image)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("SDL_VIDEODRIVER")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no display") && err.contains("--headless"), "{err}");
}

/// The snapshot image's 1024x808 Display on a 1280x1024 screen: the window is the Display's
/// size, centred; F11 makes it full screen (no window manager here) showing the whole picture.
#[test]
fn the_window_fits_and_is_centred_and_goes_full_screen() {
    let _serial = lock();
    let Some(x) = Xvfb::start() else { return };
    let dir = scratch("window");
    let Some(d) = Desktop::start_image(&x, st80_tests::DBANAY_SNAPSHOT, &dir, &["--screenshot", &abs(&dir, "vm.png")])
    else {
        return;
    };
    let screen = d.settle(&x);
    let geometry = String::from_utf8_lossy(&x.run("xdotool", &["getwindowgeometry", &d.window])).into_owned();
    assert!(geometry.contains("Position: 128,108") && geometry.contains("Geometry: 1024x808"), "{geometry}");
    let title = String::from_utf8_lossy(&x.run("xdotool", &["getwindowname", &d.window])).into_owned();
    assert!(title.contains("snapshot.im"), "title {title:?}");
    x.run("xdotool", &["mousemove", "--window", &d.window, "1000", "790"]);
    x.run("xdotool", &["key", "F11"]);
    std::thread::sleep(Duration::from_millis(1000));
    let geometry = String::from_utf8_lossy(&x.run("xdotool", &["getwindowgeometry", &d.window])).into_owned();
    assert!(geometry.contains("Position: 0,0") && geometry.contains("Geometry: 1280x1024"), "{geometry}");
    let png = dir.join("full.png");
    x.run("import", &["-window", "root", png.to_str().unwrap()]);
    // The whole Display, scaled by 1.25 into 1280x1010 with bars above and below: the
    // picture's corners are where the Display's are.
    let full = Gray::read(&png);
    let fitted = dir.join("fitted.png");
    let out = Command::new("convert")
        .arg(&png)
        .args(["-crop", "1280x1010+0+7", "-sample", "1024x808!"])
        .arg(&fitted)
        .output()
        .unwrap();
    assert!(out.status.success());
    let fitted = Gray::read(&fitted);
    let (n, _) = fitted.diff(&screen);
    assert!(n < 1024 * 808 / 20, "{n} pixels of the full-screen picture differ from the window's");
    assert!(full.pixels[..1280 * 5].iter().all(|&p| p == 0), "no letterbox bar at the top");
    x.run("xdotool", &["key", "F11"]);
    std::thread::sleep(Duration::from_millis(1000));
    let geometry = String::from_utf8_lossy(&x.run("xdotool", &["getwindowgeometry", &d.window])).into_owned();
    assert!(geometry.contains("Position: 128,108") && geometry.contains("Geometry: 1024x808"), "{geometry}");
    d.quit();
}

#[test]
fn an_idle_desktop_uses_almost_no_cpu() {
    let _serial = lock();
    let Some(x) = Xvfb::start() else { return };
    let Some(d) = Desktop::start(&x, &scratch("idle"), &[]) else { return };
    d.settle(&x);
    let ticks = || -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", d.pid())).unwrap();
        // Fields after the command name (which is in parentheses): utime is field 14, stime 15.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = rest.split(' ').collect();
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    };
    let hz = String::from_utf8_lossy(&Command::new("getconf").arg("CLK_TCK").output().unwrap().stdout)
        .trim()
        .parse::<f64>()
        .unwrap_or(100.0);
    let before = ticks();
    std::thread::sleep(Duration::from_secs(5));
    let cpu = (ticks() - before) as f64 / hz;
    d.quit();
    eprintln!("idle desktop: {cpu:.2} s CPU in 5 s");
    assert!(cpu <= 0.25, "the idle desktop used {cpu:.2} s of CPU in 5 s (at most 0.25 allowed)");
}
