//! Chunk-format source (the format of Smalltalk-80.sources and file-outs): `!`-delimited
//! chunks, read the way the image does (`PositionableStream>>nextChunk`,
//! `ReadWriteStream>>fileIn`).

/// Reads chunks, keeping track of line numbers for error messages.
pub struct ChunkReader {
    chars: Vec<char>,
    pos: usize,
    line: usize,
}

impl ChunkReader {
    pub fn new(source: &str) -> ChunkReader {
        ChunkReader { chars: source.chars().collect(), pos: 0, line: 1 }
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn bump(&mut self) -> char {
        let c = self.chars[self.pos];
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
        }
        c
    }

    pub fn skip_separators(&mut self) {
        while !self.at_end() && matches!(self.chars[self.pos], ' ' | '\t' | '\r' | '\n' | '\x0c') {
            self.bump();
        }
    }

    /// `peekFor: $!`: consumes a `!` if it is next.
    pub fn peek_for_bang(&mut self) -> bool {
        if !self.at_end() && self.chars[self.pos] == '!' {
            self.bump();
            true
        } else {
            false
        }
    }

    /// `nextChunk`: the text up to the next lone `!` (`!!` stands for `!`), and its first line.
    pub fn next_chunk(&mut self) -> (String, usize) {
        self.skip_separators();
        let line = self.line;
        let mut text = String::new();
        while !self.at_end() {
            let c = self.bump();
            if c == '!' {
                if self.peek_for_bang() {
                    text.push('!');
                    continue;
                }
                break;
            }
            text.push(c);
        }
        (text, line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_follow_next_chunk() {
        let mut r = ChunkReader::new("Object subclass: #Foo!\n\n!Foo methodsFor: 'x'!\nbar\n\t^'a!!b'! !\n3 + 4!");
        assert!(!r.peek_for_bang());
        assert_eq!(r.next_chunk(), ("Object subclass: #Foo".into(), 1));
        r.skip_separators();
        assert!(r.peek_for_bang());
        assert_eq!(r.next_chunk(), ("Foo methodsFor: 'x'".into(), 3));
        assert_eq!(r.next_chunk(), ("bar\n\t^'a!b'".into(), 4));
        assert_eq!(r.next_chunk(), ("".into(), 5), "the empty chunk ends the methods");
        r.skip_separators();
        assert!(!r.peek_for_bang());
        assert_eq!(r.next_chunk(), ("3 + 4".into(), 6));
        assert!(r.at_end());
    }
}
