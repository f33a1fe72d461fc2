//! The chunk-format reader lives in the st80 binary crate (no library to link), so the
//! chunk_reader target compiles its source: this finds `pub struct ChunkReader` and its `impl`
//! in platforms/st80/src, wherever the CLI keeps it, and copies those two items to OUT_DIR.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The item starting at `start`, through the brace that closes its first `{`.
fn item(text: &str, start: usize) -> &str {
    let mut depth = 0;
    for (i, c) in text[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[start..start + i + 1];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced braces in ChunkReader's source");
}

fn main() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../platforms/st80/src");
    println!("cargo:rerun-if-changed={}", src.display());
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let (Some(s), Some(i)) = (text.find("pub struct ChunkReader"), text.find("impl ChunkReader")) else {
            continue;
        };
        let code = format!("// From {}\n{}\n\n{}\n", file.display(), item(&text, s), item(&text, i));
        let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("chunk_reader.rs");
        std::fs::write(out, code).unwrap();
        return;
    }
    panic!("no `pub struct ChunkReader` in {}", src.display());
}
