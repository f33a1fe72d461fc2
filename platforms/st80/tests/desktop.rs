//! The desktop window under a real X server: each test starts its own `Xvfb`, runs
//! `st80 run IMAGE --scale 1 --no-confirm ...` on it, and looks at the window from outside with
//! `xdotool` (input, finding the window) and ImageMagick's `import` (X screenshots).
//!
//! Needs Xvfb, xdotool, ImageMagick and setxkbmap (`bash ci/desktop-deps.sh` installs them) and
//! the Xerox v2 image. Without them a test prints `SKIPPED: ...` and passes, except with
//! `CI=true`, where it fails. The tests run one at a time (a lock), each on its own display.
#![cfg(feature = "desktop")]

use st80_core::InputEvent;
use st80_headless::replay;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
        let image = st80_tests::image(st80_tests::XEROX_V2)?;
        let dir = dir.to_path_buf();
        let copy = dir.join("VirtualImage");
        std::fs::copy(&image, &copy).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_st80"))
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
        loop {
            let out = x.tool("xdotool", &["search", "--name", "^st80"]);
            if let Some(id) = String::from_utf8_lossy(&out.stdout).lines().next() {
                d.window = id.to_string();
                break;
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
        assert_eq!((self.width, self.height), (other.width, other.height));
        let mut n = 0;
        let mut bb = (usize::MAX, usize::MAX, 0, 0);
        for (i, (a, b)) in self.pixels.iter().zip(&other.pixels).enumerate() {
            if a != b {
                n += 1;
                let (x, y) = (i % self.width, i / self.width);
                bb = (bb.0.min(x), bb.1.min(y), bb.2.max(x), bb.3.max(y));
            }
        }
        (n, bb)
    }
}

fn hash_in(stderr: &str) -> String {
    let h = stderr.split("hash ").nth(1).unwrap_or_else(|| panic!("no hash in: {stderr}"));
    h.chars().take_while(|c| c.is_ascii_hexdigit()).collect()
}

/// A fresh directory for one test's files (under Cargo's target/tmp).
fn test_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("desktop").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
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
    let dir = test_dir("pixels");
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
    let Some(d) = Desktop::start(&x, &test_dir("menu"), &[]) else { return };
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
    let dir = test_dir("replay");
    let log = dir.join("menu-replay.txt");
    std::fs::write(&log, "300000 mouse 620 300\n320000 button yellow down\n").unwrap();
    let headless = Command::new(env!("CARGO_BIN_EXE_st80"))
        .arg("run")
        .arg(&image)
        .args(["--headless", "--cycles", "800000", "--replay"])
        .arg(&log)
        .args(["--screenshot", &abs(&dir, "replay-headless.png")])
        .output()
        .unwrap();
    let headless = String::from_utf8_lossy(&headless.stderr).into_owned();
    let Some(mut d) = Desktop::start(
        &x,
        &dir,
        &["--cycles", "800000", "--replay", log.to_str().unwrap(), "--screenshot", &abs(&dir, "replay-desktop.png")],
    ) else {
        return;
    };
    let desktop = d.wait();
    assert!(desktop.contains("cycles done"), "{desktop}");
    assert_eq!(hash_in(&desktop), hash_in(&headless), "desktop: {desktop}\nheadless: {headless}");
}

#[test]
fn typing_follows_the_keyboard_layout() {
    let _serial = lock();
    let Some(x) = Xvfb::start() else { return };
    x.run("setxkbmap", &["-display", &x.display, "de"]);
    // Some Xvfb builds (Debian 12's xserver 21.1) accept but ignore keymap changes; then the
    // layout is US and the test checks that instead.
    let keymap = String::from_utf8_lossy(&x.run("xkbcomp", &["-xkb", &x.display, "-"])).into_owned();
    let german = keymap.contains("+de+") || keymap.contains("+de(");
    if !german {
        eprintln!("NOTE: this X server ignored `setxkbmap de`; checking the US layout instead");
    }
    let dir = test_dir("german");
    let rec = abs(&dir, "german.log");
    let Some(d) = Desktop::start(&x, &dir, &["--record", &rec]) else { return };
    d.settle(&x);
    // The pointer over the window gives it the keyboard (no window manager: focus follows the
    // pointer).
    x.run("xdotool", &["mousemove", "--window", &d.window, "620", "440"]);
    std::thread::sleep(Duration::from_millis(300));
    // `key z` presses the key the layout has z on (German: the US y key), and so on.
    for k in ["z", "y", "ISO_Level3_Shift+q", "adiaeresis", "shift+2", "x"] {
        x.run("xdotool", &["key", k]);
        std::thread::sleep(Duration::from_millis(150));
    }
    std::thread::sleep(Duration::from_millis(500));
    d.quit();
    let text = std::fs::read_to_string(&rec).unwrap();
    let events = replay::parse(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"));
    let typed: String = events
        .iter()
        .filter_map(|(_, e)| match *e {
            InputEvent::Key { code, down: true } if (32..127).contains(&code) => Some(char::from(code as u8)),
            _ => None,
        })
        .collect();
    // German: AltGr+q is @, shift+2 is "; US: AltGr is no modifier, shift+2 is @. ä has no
    // code in the image and is dropped.
    let expected = if german { "zy@\"x" } else { "zyq@x" };
    assert_eq!(typed, expected, "recorded:\n{text}");
    let shift: Vec<_> = events.iter().filter(|(_, e)| matches!(e, InputEvent::Key { code: 136, .. })).collect();
    assert_eq!(shift.len(), 2, "shift down and up:\n{text}");
}

#[test]
fn an_idle_desktop_uses_almost_no_cpu() {
    let _serial = lock();
    let Some(x) = Xvfb::start() else { return };
    let Some(d) = Desktop::start(&x, &test_dir("idle"), &[]) else { return };
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
