//! Build-time configuration of the kernels (there is no file system or command line to read
//! at boot):
//! - `ST80_IMAGE`: the image embedded in the kernel (images are not in the repository; without
//!   it the kernel says so on the console and stops);
//! - `ST80_CYCLES`: run that many bytecodes on the deterministic clock, print the display hash
//!   and stop (the tests); without it the kernel runs the image interactively;
//! - `ST80_EVAL`: after that run, evaluate this expression and stop;
//! - `ST80_RECORD=1`: after that run, take input and log it with its cycles, until ^D on the
//!   console;
//! - the wall-clock time of the build, for boards without a real-time clock.
//!
//! The linker script is shared; each board's kernel gets its load address here.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-changed=src/boot.S");
    println!("cargo:rerun-if-env-changed=ST80_IMAGE");
    println!("cargo:rerun-if-env-changed=ST80_CYCLES");
    println!("cargo:rerun-if-env-changed=ST80_EVAL");
    println!("cargo:rerun-if-env-changed=ST80_RECORD");
    let record = match std::env::var("ST80_RECORD").unwrap_or_default().as_str() {
        "" | "0" => "",
        "1" => "1",
        other => panic!("ST80_RECORD={other}: 1 or nothing"),
    };
    println!("cargo:rustc-env=ST80_RECORD={record}");
    let eval = std::env::var("ST80_EVAL").unwrap_or_default();
    if eval.contains('\n') {
        panic!("ST80_EVAL: one line only");
    }
    println!("cargo:rustc-env=ST80_EVAL={eval}");

    let image = match std::env::var_os("ST80_IMAGE") {
        Some(path) if !path.is_empty() => {
            let path = std::fs::canonicalize(&path).unwrap_or_else(|e| {
                panic!("ST80_IMAGE={}: {e}", PathBuf::from(&path).display());
            });
            println!("cargo:rerun-if-changed={}", path.display());
            path
        }
        _ => {
            let empty = out.join("no-image");
            std::fs::write(&empty, b"").unwrap();
            empty
        }
    };
    println!("cargo:rustc-env=ST80_IMAGE_PATH={}", image.display());

    let cycles = std::env::var("ST80_CYCLES").unwrap_or_default();
    if !cycles.is_empty() && cycles.parse::<u64>().is_err() {
        panic!("ST80_CYCLES={cycles}: not a number of bytecodes");
    }
    println!("cargo:rustc-env=ST80_CYCLES={cycles}");

    let unix = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    println!("cargo:rustc-env=ST80_BUILD_UNIX_TIME={unix}");

    let script = dir.join("link.ld");
    for (bin, base) in [("st80-virt", "0x40200000"), ("st80-raspi3", "0x80000")] {
        println!("cargo:rustc-link-arg-bin={bin}=-T{}", script.display());
        println!("cargo:rustc-link-arg-bin={bin}=--defsym=KERNEL_BASE={base}");
    }
}
