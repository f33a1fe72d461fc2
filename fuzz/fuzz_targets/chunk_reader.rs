//! The chunk-format reader of `st80 filein` on arbitrary text: it ends, every chunk is read
//! from where the last stopped, and line numbers only grow.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
mod chunk {
    include!(concat!(env!("OUT_DIR"), "/chunk_reader.rs"));
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut reader = chunk::ChunkReader::new(&text);
    let mut last_line = 0;
    let mut chunks = 0;
    while !reader.at_end() {
        let (chunk, line) = reader.next_chunk();
        assert!(line >= last_line);
        assert!(chunk.len() <= text.len());
        last_line = line;
        chunks += 1;
        assert!(chunks <= text.len() + 1, "the reader makes progress");
        reader.peek_for_bang();
    }
});
