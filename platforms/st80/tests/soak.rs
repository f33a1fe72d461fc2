//! `st80 soak`: the seeded random user drives each image for half a minute, sampled every two
//! seconds (the two run side by side; the hour-long campaigns are in docs/reliability.md). The
//! VM must not stop, memory must stay bounded, and the input must have had visible effects on
//! the screen.

use st80_tests::{image, run_st80, text, DBANAY_SNAPSHOT, XEROX_V2};
use std::collections::HashSet;

fn soak(image_name: &str) {
    let Some(img) = image(image_name) else { return };
    // Under the build's own temporary directory: two checkouts testing at once (a CI clone
    // beside a working copy) each get theirs, where a shared /tmp name had one run delete the
    // other's samples.
    let dir = st80_tests::fresh_dir(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("soak-{}", image_name.replace('/', "-"))),
    );
    let csv = dir.join("samples.csv");
    let out = run_st80(
        env!("CARGO_BIN_EXE_st80"),
        &[
            "soak".as_ref(),
            img.as_os_str(),
            "--seed".as_ref(),
            "1".as_ref(),
            "--seconds".as_ref(),
            "30".as_ref(),
            "--sample-every".as_ref(),
            "2".as_ref(),
            "--csv".as_ref(),
            csv.as_os_str(),
            "--max-rss-mb".as_ref(),
            "128".as_ref(),
        ],
        &[],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{image_name}: {:?}\n{stdout}\n{stderr}", out.status);
    assert!(stdout.starts_with("soak: ") && stdout.trim_end().ends_with(": ok"), "{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let samples = std::fs::read_to_string(&csv).expect("the samples file");
    let mut lines = samples.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no {name} column"));
    let (hash, rss, cycles) = (column("display_hash"), column("rss_kb"), column("cycles"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.len() >= 10, "{image_name}: {} samples in half a minute", rows.len());
    let screens: HashSet<&str> = rows.iter().map(|r| r[hash]).collect();
    assert!(screens.len() >= 2, "{image_name}: the random input never changed the screen");
    let last_cycles: u64 = rows.last().unwrap()[cycles].parse().unwrap();
    assert!(last_cycles > 10_000_000, "{image_name}: only {last_cycles} bytecodes");
    if cfg!(target_os = "linux") {
        for r in &rows {
            let kb: u64 = r[rss].parse().expect("resident memory on Linux");
            assert!(kb < 128 * 1024, "{image_name}: {kb} kB resident");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn half_a_minute_of_random_input_on_the_xerox_image() {
    soak(XEROX_V2);
}

#[test]
fn half_a_minute_of_random_input_on_dbanays_snapshot() {
    soak(DBANAY_SNAPSHOT);
}
