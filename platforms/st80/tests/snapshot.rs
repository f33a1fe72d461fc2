//! Snapshots (primitive 97): saved images persist and resume, in both byte orders; writing is
//! crash-safe (a VM killed at any point of the write leaves the old or the new image, never a
//! mix); a failed write (read-only directory, full disk) fails the primitive, the image goes on
//! running and the old file is intact. Images are copied to scratch directories first.

use st80_core::{image::ByteOrder, EvalOutcome, StopReason};
use st80_headless::HeadlessHost;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod common;

use common::*;

fn eval_and_save(image: &Path, out: &Path, expr: &str, extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec!["eval".as_ref(), "--save".as_ref(), out.as_os_str()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    args.push(image.as_os_str());
    args.push(expr.as_ref());
    st80(&args)
}

#[test]
fn a_saved_image_persists_and_resumes_in_both_byte_orders() {
    for (name, other, other_flag) in [(XEROX_V2, ByteOrder::Little, "le"), (DBANAY_SNAPSHOT, ByteOrder::Big, "be")] {
        let dir = scratch(&format!("persist-{}", name.replace('/', "-")));
        let Some(img) = copy_image(name, &dir, "probe.im") else { return };
        let original = std::fs::read(&img).unwrap();
        let order = byte_order(&img);
        let height = eval_ok(&[img.as_os_str(), "Display height".as_ref()]);
        // Save over the image itself: the previous one is kept as .bak.
        let out = eval_and_save(&img, &img, "Smalltalk at: #Probe put: 42", &[]);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout).trim(), "42");
        assert_eq!(std::fs::read(dir.join("probe.im.bak")).unwrap(), original, "{name}: .bak is the old image");
        assert_eq!(byte_order(&img), order, "{name}: saved in the byte order it was loaded in");
        // Resumed: the probe is there, and the image's post-snapshot code ran (the snapshot
        // code shrinks the Display to 100 lines before primitive 97 and restores it after).
        assert_eq!(
            eval_ok(&[img.as_os_str(), "Smalltalk at: #Probe".as_ref(), "Display height".as_ref()]),
            vec!["42".to_string(), height[0].clone()]
        );
        // Converted to the other byte order, then saved again from there.
        let converted = dir.join("converted.im");
        let out = eval_and_save(&img, &converted, "Smalltalk at: #Probe2 put: 43", &["--save-byte-order", other_flag]);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        assert_eq!(byte_order(&converted), other, "{name}: --save-byte-order {other_flag}");
        assert_eq!(
            eval_ok(&[converted.as_os_str(), "Smalltalk at: #Probe".as_ref(), "Smalltalk at: #Probe2".as_ref()]),
            vec!["42", "43"]
        );
        let back = dir.join("back.im");
        let out = eval_and_save(&converted, &back, "Smalltalk at: #Probe3 put: 44", &[]);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        assert_eq!(byte_order(&back), other, "{name}: the converted image saves in its own order");
        assert_eq!(
            eval_ok(&[back.as_os_str(), "(Smalltalk at: #Probe) + (Smalltalk at: #Probe3)".as_ref()]),
            vec!["86"]
        );
    }
}

/// Temporary files the writer left in `dir` (`.NAME.tmp-...`).
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

#[cfg(unix)]
#[test]
fn killing_the_vm_while_it_writes_leaves_the_old_or_the_new_image() {
    let dir = scratch("crash");
    let Some(img) = copy_image(XEROX_V2, &dir, "crash.im") else { return };
    let old = std::fs::read(&img).unwrap();
    // The new image, from an uninterrupted run (runs are deterministic).
    let reference = dir.join("reference.im");
    std::fs::write(&reference, &old).unwrap();
    let out = eval_and_save(&reference, &reference, "Smalltalk at: #Probe put: 42", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let new = std::fs::read(&reference).unwrap();
    assert_ne!(old, new);
    let chunk = 2048usize;
    let env = [("ST80_SNAPSHOT_WRITE_CHUNK_DELAY_US", "400"), ("ST80_SNAPSHOT_WRITE_CHUNK_BYTES", "2048")];
    let points = 60;
    let (mut saw_old, mut saw_new, mut mid_write) = (0, 0, 0);
    for i in 0..points {
        std::fs::write(&img, &old).unwrap();
        let _ = std::fs::remove_file(dir.join("crash.im.bak"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_st80"))
            .args([
                "eval".as_ref(),
                "--save".as_ref(),
                img.as_os_str(),
                img.as_os_str(),
                "Smalltalk at: #Probe put: 42".as_ref(),
            ])
            .envs(env)
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let temp = dir.join(format!(".crash.im.tmp-{}-0", child.id()));
        // Points 0..50 spread over the temporary file's growth; the rest land after it is
        // complete (fsync, .bak, rename) or at once.
        let target = if i < 50 { (i * new.len() / 50).max(1) } else { new.len() };
        let started = Instant::now();
        loop {
            let size = std::fs::metadata(&temp).map(|m| m.len() as usize).ok();
            if size.is_some_and(|s| s >= target) || i == 58 {
                break;
            }
            if child.try_wait().unwrap().is_some() || started.elapsed() > Duration::from_secs(60) {
                break;
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        if i == 59 {
            // No kill: the write completes.
            let _ = child.wait();
        }
        if i == 55 {
            // After the temporary file is complete: during the last sleep, fsync or renames.
            std::thread::sleep(Duration::from_micros(300));
        }
        let was_writing = std::fs::metadata(&temp).is_ok();
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let now = std::fs::read(&img).unwrap();
        st80_core::image::load(&now).unwrap_or_else(|e| panic!("kill point {i}: the image does not load: {e}"));
        if now == old {
            saw_old += 1;
        } else if now == new {
            saw_new += 1;
        } else {
            panic!(
                "kill point {i} (temp {target} of {} bytes): the image is neither the old nor the new one",
                new.len()
            );
        }
        if was_writing {
            mid_write += 1;
        }
        if let Ok(bak) = std::fs::read(dir.join("crash.im.bak")) {
            assert_eq!(bak, old, "kill point {i}: .bak is the old image");
        }
        for t in leftovers(&dir) {
            let _ = std::fs::remove_file(dir.join(t));
        }
    }
    eprintln!("{points} kills: {saw_old} left the old image, {saw_new} the new one, {mid_write} landed mid-write");
    assert!(mid_write >= 50, "only {mid_write} kills landed while the snapshot was being written (chunk {chunk})");
    assert!(saw_old >= 40, "{saw_old} kills left the old image");
}

/// A tmpfs of `kib` KiB mounted on `dir` (unmounted on drop), when this process may mount.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, kib: usize) -> Option<Tmpfs> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
    fn remount_read_only(&self) -> bool {
        Command::new("mount").args(["-o", "remount,ro"]).arg(&self.0).status().is_ok_and(|s| s.success())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn assert_not_saved(out: &Output, what: &str) {
    assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out.stderr));
    assert!(text(&out.stderr).contains("not saved"), "{what}: {}", text(&out.stderr));
}

#[test]
fn a_full_disk_fails_the_save_and_keeps_the_old_image() {
    let dir = scratch("full");
    let Some(src) = image(XEROX_V2) else { return };
    let old = std::fs::read(&src).unwrap();
    // A real full disk when we may mount a tmpfs: room for the image and half of another.
    let tmpfs = Tmpfs::mount(&dir, old.len() * 3 / 2 / 1024);
    let img = dir.join("full.im");
    std::fs::write(&img, &old).unwrap();
    let env: &[(&str, &str)] = if tmpfs.is_some() { &[] } else { &[("ST80_SNAPSHOT_FAULT", "enospc")] };
    let out = st80_env(&["eval".as_ref(), "--save".as_ref(), img.as_os_str(), img.as_os_str(), "3 + 4".as_ref()], env);
    assert_not_saved(&out, "full disk");
    assert!(text(&out.stderr).to_lowercase().contains("space"), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "7");
    assert_eq!(std::fs::read(&img).unwrap(), old, "the old image is intact");
    assert!(!dir.join("full.im.bak").exists());
    assert_eq!(leftovers(&dir), Vec::<String>::new(), "the temporary file is removed");
    drop(tmpfs);
}

#[cfg(unix)]
#[test]
fn a_read_only_directory_fails_the_save_and_keeps_the_old_image() {
    let dir = scratch("readonly");
    let Some(img) = copy_image(XEROX_V2, &dir, "ro.im") else { return };
    let old = std::fs::read(&img).unwrap();
    // A read-only mount when we may mount (a superuser ignores permission bits), else mode 555.
    let tmpfs = Tmpfs::mount(&dir, old.len() * 3 / 1024);
    if let Some(t) = &tmpfs {
        std::fs::write(&img, &old).unwrap();
        assert!(t.remount_read_only());
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let out = eval_and_save(&img, &img, "Smalltalk at: #Probe put: 42", &[]);
    assert_not_saved(&out, "read-only directory");
    assert_eq!(std::fs::read(&img).unwrap(), old);
    assert!(!dir.join("ro.im.bak").exists());
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    // In-process: the primitive fails, the evaluation reports it, the image goes on running.
    let mut vm = interpreter_from("ro.im", &old);
    let mut host = HeadlessHost::new();
    host.save_snapshots_to(img.clone());
    assert_eq!(st80_headless::run(&mut vm, &mut host, 1_000_000), StopReason::CyclesDone);
    match evaluate_outcome(&mut vm, &mut host, "Smalltalk snapshotAs: 'snapshot' thenQuit: false", 200_000_000) {
        EvalOutcome::RuntimeError { message, .. } => assert!(message.contains("primitive"), "{message}"),
        other => panic!("the snapshot should fail: {other:?}"),
    }
    assert_eq!(evaluate_outcome(&mut vm, &mut host, "3 + 4", 200_000_000), EvalOutcome::Value("7".into()));
    assert_eq!(std::fs::read(&img).unwrap(), old);
    drop(tmpfs);
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755));
}
