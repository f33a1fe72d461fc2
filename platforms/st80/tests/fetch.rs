//! `st80 fetch`, `st80 list` and `st80` with no arguments. Downloads come from a small HTTP
//! server on 127.0.0.1 (a thread of this test), given to st80 as the mirror
//! (`--mirror`/`$ST80_IMAGES_URL`); it serves the real image files from `$ST80_IMAGES`, or
//! broken versions of them, so st80 checks them against the sha256 values it ships with.
//! The download tests need the cargo feature `fetch` (on by default).
#![cfg_attr(not(feature = "fetch"), allow(dead_code, unused_imports))]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
mod common;

use common::{scratch, text, ST80};

const LSB: &str = "dbanay/VirtualImageLSB";
const SOURCES: &str = "dbanay/Smalltalk-80.sources";

/// What the server does with one request for a path.
#[derive(Clone)]
enum Reply {
    /// 200 with these bytes.
    Body(Vec<u8>),
    /// Announces all the bytes (Content-Length) but sends only the first half, then closes.
    Truncated(Vec<u8>),
    /// Reads the request and never answers (until the client gives up).
    Silent,
}

/// An HTTP/1.1 server on 127.0.0.1 with a queue of replies per path (the last one repeats;
/// an unknown path gets 404). Its thread ends with the test binary.
struct Server {
    base: String,
    replies: Arc<Mutex<HashMap<String, Vec<Reply>>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let replies: Arc<Mutex<HashMap<String, Vec<Reply>>>> = Arc::default();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, q) = (replies.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, q) = (r.clone(), q.clone());
                std::thread::spawn(move || serve(stream, &r, &q));
            }
        });
        Server { base, replies, requests }
    }

    fn on(&self, path: &str, replies: Vec<Reply>) {
        self.replies.lock().unwrap().insert(format!("/{path}"), replies);
    }

    fn requests_for(&self, path: &str) -> usize {
        self.requests.lock().unwrap().iter().filter(|p| **p == format!("/{path}")).count()
    }
}

fn serve(mut stream: TcpStream, replies: &Mutex<HashMap<String, Vec<Reply>>>, requests: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
    }
    requests.lock().unwrap().push(path.clone());
    let reply = {
        let mut map = replies.lock().unwrap();
        match map.get_mut(&path) {
            Some(queue) if queue.len() > 1 => Some(queue.remove(0)),
            Some(queue) => queue.first().cloned(),
            None => None,
        }
    };
    let head = |len: usize| format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n");
    match reply {
        None => {
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
        Some(Reply::Body(bytes)) => {
            let _ = stream.write_all(head(bytes.len()).as_bytes());
            let _ = stream.write_all(&bytes);
        }
        Some(Reply::Truncated(bytes)) => {
            let _ = stream.write_all(head(bytes.len()).as_bytes());
            let _ = stream.write_all(&bytes[..bytes.len() / 2]);
        }
        Some(Reply::Silent) => {
            // Hold the connection open until the client closes it.
            let _ = stream.read_to_end(&mut Vec::new());
        }
    }
}

/// Runs `st80 ARGS` with `$ST80_IMAGES` = `images` and no proxy (the server is local).
fn st80_in(images: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(ST80);
    cmd.args(args).env("RUST_LOG", "warn").env("ST80_IMAGES", images).env_remove("ST80_IMAGES_URL");
    for var in ["http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null()).output().expect("the st80 binary runs")
}

/// `st80 fetch --mirror BASE --timeout 1 NAMES...` into `dir`.
fn fetch(server: &Server, dir: &Path, names: &[&str]) -> Output {
    let mut args = vec!["fetch", "--mirror", &server.base, "--timeout", "1"];
    args.extend_from_slice(names);
    st80_in(dir, &args)
}

/// The real file `name` from $ST80_IMAGES, or None (the test is skipped; a failure under CI).
fn real(name: &str) -> Option<Vec<u8>> {
    common::image_bytes(name)
}

/// Every file under `dir`, relative, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.push(path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn show(out: &Output) -> String {
    format!("status {:?}\nstdout:\n{}stderr:\n{}", out.status, text(&out.stdout), text(&out.stderr))
}

#[cfg(feature = "fetch")]
#[test]
fn fetch_downloads_a_set_checks_it_and_does_not_download_it_again() {
    let (Some(lsb), Some(sources)) = (real(LSB), real(SOURCES)) else { return };
    let server = Server::start();
    server.on(LSB, vec![Reply::Body(lsb.clone())]);
    server.on(SOURCES, vec![Reply::Body(sources.clone())]);
    let dir = scratch("set");

    let out = fetch(&server, &dir, &["lsb"]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(files_in(&dir), [SOURCES, LSB], "{}", show(&out));
    assert_eq!(std::fs::read(dir.join(LSB)).unwrap(), lsb);
    assert_eq!(std::fs::read(dir.join(SOURCES)).unwrap(), sources);
    assert!(text(&out.stdout).contains(&format!("{LSB}: downloaded 596128 bytes, sha256 ok")), "{}", show(&out));

    // The files are usable: `st80 info` reads the image fetched.
    let info = st80_in(&dir, &["info", dir.join(LSB).to_str().unwrap()]);
    assert!(text(&info.stdout).contains("byte order:      little-endian"), "{}", show(&info));

    // A second fetch finds them and asks the server for nothing.
    let again = fetch(&server, &dir, &["lsb"]);
    assert!(again.status.success(), "{}", show(&again));
    assert!(text(&again.stdout).contains(&format!("{LSB}: already here, sha256 ok")), "{}", show(&again));
    assert_eq!(server.requests_for(LSB), 1);
    assert_eq!(server.requests_for(SOURCES), 1);

    // `st80 list` (and `--list`) shows the set as here, in this directory.
    let list = st80_in(&dir, &["--list"]);
    assert!(list.status.success(), "{}", show(&list));
    let stdout = text(&list.stdout);
    assert!(stdout.contains(&format!("image directory: {} ($ST80_IMAGES)", dir.display())), "{stdout}");
    assert!(stdout.contains(&format!("  here: {}", dir.join(LSB).display())), "{stdout}");
    assert!(stdout.contains("snapshot (default):"), "{stdout}");
    assert!(stdout.contains("get it with: st80 fetch snapshot"), "{stdout}");
}

#[cfg(feature = "fetch")]
#[test]
fn a_file_with_the_wrong_sha256_is_rejected_and_nothing_is_left() {
    let Some(lsb) = real(LSB) else { return };
    let mut bad = lsb.clone();
    bad[1000] ^= 0xff; // same size, different bytes
    let server = Server::start();
    server.on(LSB, vec![Reply::Body(bad)]);
    let dir = scratch("wrong-sha");

    let out = fetch(&server, &dir, &[LSB]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{LSB}: {}/{LSB}: the file downloaded has sha256", server.base)), "{err}");
    assert!(err.contains("421a494805e4d9f9cd8e4c337f0022ed85bc53f7e1131b9f1ed6ef1cc7991166"), "{err}");
    assert!(err.contains("rejected"), "{err}");
    assert_eq!(files_in(&dir), Vec::<String>::new(), "{}", show(&out));
    assert_eq!(server.requests_for(LSB), 1, "a wrong checksum is not retried");
}

#[cfg(feature = "fetch")]
#[test]
fn a_truncated_download_is_retried_then_reported_and_nothing_is_left() {
    let Some(lsb) = real(LSB) else { return };
    let server = Server::start();
    server.on(LSB, vec![Reply::Truncated(lsb.clone())]);
    let dir = scratch("truncated");

    let out = fetch(&server, &dir, &[LSB]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = text(&out.stderr);
    assert!(err.contains("the download stopped after 298064 of 596128 bytes"), "{err}");
    assert!(err.contains("trying again (3 of 3)"), "{err}");
    assert!(err.contains(&format!("fetch: 1 of 1 files not fetched: {LSB}")), "{err}");
    assert_eq!(files_in(&dir), Vec::<String>::new());
    assert_eq!(server.requests_for(LSB), 3);

    // Once the server sends the whole file, the next try succeeds.
    server.on(LSB, vec![Reply::Truncated(lsb.clone()), Reply::Body(lsb.clone())]);
    let out = fetch(&server, &dir, &[LSB]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(text(&out.stderr).contains("trying again (2 of 3)"), "{}", show(&out));
    assert_eq!(std::fs::read(dir.join(LSB)).unwrap(), lsb);
    assert_eq!(files_in(&dir), [LSB]);
}

#[cfg(feature = "fetch")]
#[test]
fn a_server_that_stops_answering_gives_a_clear_error_and_a_retry_works() {
    let Some(lsb) = real(LSB) else { return };
    let server = Server::start();
    server.on(LSB, vec![Reply::Silent]);
    let dir = scratch("silent");

    let out = fetch(&server, &dir, &[LSB]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{LSB}: {}/{LSB}: the server did not answer in time", server.base)), "{err}");
    assert_eq!(files_in(&dir), Vec::<String>::new());

    // The server is back: running st80 fetch again gets the file.
    server.on(LSB, vec![Reply::Body(lsb.clone())]);
    let out = fetch(&server, &dir, &[LSB]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(std::fs::read(dir.join(LSB)).unwrap(), lsb);

    // A server silent once and then answering: st80 tries again by itself.
    let dir = scratch("silent-once");
    server.on(LSB, vec![Reply::Silent, Reply::Body(lsb.clone())]);
    let out = fetch(&server, &dir, &[LSB]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(text(&out.stderr).contains("did not answer in time; trying again (2 of 3)"), "{}", show(&out));
    assert_eq!(files_in(&dir), [LSB]);
}

#[cfg(feature = "fetch")]
#[test]
fn a_changed_file_is_left_alone_unless_forced() {
    let Some(lsb) = real(LSB) else { return };
    let server = Server::start();
    server.on(LSB, vec![Reply::Body(lsb.clone())]);
    let dir = scratch("changed");
    std::fs::create_dir_all(dir.join("dbanay")).unwrap();
    std::fs::write(dir.join(LSB), b"an image saved since").unwrap();

    let out = fetch(&server, &dir, &[LSB]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(text(&out.stderr).contains("left alone; `st80 fetch --force"), "{}", show(&out));
    assert_eq!(std::fs::read(dir.join(LSB)).unwrap(), b"an image saved since");
    assert_eq!(server.requests_for(LSB), 0);

    let out = fetch(&server, &dir, &["--force", LSB]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(std::fs::read(dir.join(LSB)).unwrap(), lsb);
    assert_eq!(std::fs::read(dir.join(format!("{LSB}.bak"))).unwrap(), b"an image saved since");
}

#[cfg(feature = "fetch")]
#[test]
fn unknown_names_and_files_without_an_address_are_reported() {
    let dir = scratch("unknown");
    let out = st80_in(&dir, &["fetch", "nosuchimage"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(text(&out.stderr).contains("no image or file named 'nosuchimage'; known sets: snapshot, lsb, xerox-v2"));

    // The Xerox tape files have no public address: without a mirror, st80 says where to put them.
    let out = st80_in(&dir, &["fetch", "xerox-v2/VirtualImage"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = text(&out.stderr);
    assert!(err.contains("xerox-v2/VirtualImage: no public download address is known"), "{err}");
    assert!(err.contains(&format!("Copy it by hand to {}", dir.join("xerox-v2/VirtualImage").display())), "{err}");
    assert_eq!(files_in(&dir), Vec::<String>::new());
}

#[test]
fn no_arguments_without_an_image_says_how_to_get_one() {
    let dir = scratch("no-image");
    let out = st80_in(&dir, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "st80: no image yet: `st80 fetch` downloads the default one (snapshot, 2.1 MB) into {}",
            dir.display()
        )),
        "{err}"
    );
    assert!(text(&out.stdout).is_empty());
}

/// `st80` with no arguments and the default image in the image directory opens it in a
/// window (on an Xvfb of its own): the window's title names the image.
#[cfg(feature = "desktop")]
#[test]
fn no_arguments_opens_the_default_image() {
    let Some(image) = st80_tests::image(st80_tests::DBANAY_SNAPSHOT) else { return };
    let Some(sources) = st80_tests::image(SOURCES) else { return };
    for tool in ["Xvfb", "xdotool"] {
        let found = Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().unwrap();
        if !found.status.success() {
            assert!(!st80_tests::in_ci(), "{tool} is not installed; CI=true, so this is a failure");
            eprintln!("SKIPPED: {tool} is not installed (bash ci/desktop-deps.sh installs it)");
            return;
        }
    }
    let dir = scratch("default-image");
    std::fs::create_dir_all(dir.join("dbanay")).unwrap();
    std::fs::copy(&image, dir.join("dbanay/snapshot.im")).unwrap();
    std::fs::copy(&sources, dir.join(SOURCES)).unwrap();
    let before = std::fs::read(dir.join("dbanay/snapshot.im")).unwrap();

    // -displayfd: Xvfb picks a free display itself and prints its number once it is ready
    // (no race with other X servers on this machine).
    let mut xvfb = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"])
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb starts");
    let mut number = String::new();
    BufReader::new(xvfb.stdout.take().unwrap()).read_line(&mut number).unwrap();
    assert!(!number.trim().is_empty(), "Xvfb printed no display number");
    let display = format!(":{}", number.trim());
    let xdotool = |args: &[&str]| Command::new("xdotool").args(args).env("DISPLAY", &display).output().unwrap();

    let stderr_file = dir.join("stderr.txt");
    let mut st80 = Command::new(ST80)
        .env("ST80_IMAGES", &dir)
        .env("DISPLAY", &display)
        .env("SDL_VIDEODRIVER", "x11")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_file).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let title = loop {
        let out = xdotool(&["search", "--name", "^st80"]);
        if let Some(id) = text(&out.stdout).lines().next() {
            // (A window can be found by its name a moment before its name reads back: a busy
            // machine once gave "" here. Ask again at the next poll.)
            let name = text(&xdotool(&["getwindowname", id]).stdout).trim().to_string();
            if !name.is_empty() {
                break name;
            }
        }
        if let Ok(Some(status)) = st80.try_wait() {
            panic!("st80 exited ({status}): {}", std::fs::read_to_string(&stderr_file).unwrap_or_default());
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no st80 window after 30 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    // SIGTERM closes the window without saving.
    let _ = Command::new("kill").args(["-TERM", &st80.id().to_string()]).status();
    let status = st80.wait().unwrap();
    let _ = Command::new("kill").args(["-TERM", &xvfb.id().to_string()]).status();
    let _ = xvfb.wait();
    let err = std::fs::read_to_string(&stderr_file).unwrap();
    assert_eq!(title, "st80 - snapshot.im");
    assert!(status.success(), "st80: {status}: {err}");
    assert!(err.contains(&format!("st80: {}: ran ", dir.join("dbanay/snapshot.im").display())), "{err}");
    assert_eq!(std::fs::read(dir.join("dbanay/snapshot.im")).unwrap(), before, "the image was not saved");
}

/// Without the desktop, `st80` with no arguments still finds the default image, and says that
/// this build cannot open a window.
#[cfg(not(feature = "desktop"))]
#[test]
fn no_arguments_names_the_default_image() {
    let Some(image) = st80_tests::image(st80_tests::DBANAY_SNAPSHOT) else { return };
    let dir = scratch("default-image");
    std::fs::create_dir_all(dir.join("dbanay")).unwrap();
    std::fs::copy(&image, dir.join("dbanay/snapshot.im")).unwrap();
    let out = st80_in(&dir, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{}: this st80 was built without the desktop", dir.join("dbanay/snapshot.im").display()))
    );
}
