//! The source model: one file's text, and the one place byte offsets become lines and columns.
//!
//! Every span in kubectl-vllm is a UTF-8 byte range into [`SourceFile::text`] (miette's unit, and the
//! unit text patches need). Lines are 1-based; columns are 1-based and count Unicode scalar values,
//! with a leading byte-order mark and carriage returns not counted (product.md, "Locations").

use std::ops::Range;

/// A byte range into a source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    #[must_use]
    pub const fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// The span as a range, for slicing.
    #[must_use]
    pub const fn range(self) -> Range<usize> {
        self.start..self.end
    }

    /// Length in bytes.
    #[must_use]
    pub const fn len(self) -> usize {
        self.end - self.start
    }

    /// Whether the span covers nothing.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.start == self.end
    }
}

/// A 1-based line and column (in Unicode scalar values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counting Unicode scalar values.
    pub column: usize,
}

/// One input file (or stdin), with its line index.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name reports use: the path as given, or the `--stdin-filename` for stdin.
    pub name: String,
    /// The file's text (UTF-8).
    pub text: String,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Indexes `text` under `name`.
    #[must_use]
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => line_starts.push(i + 1),
                // A bare CR is a line break too (YAML 1.2 §5.4); CRLF counts once, at the LF.
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => line_starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        Self {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The line and column of a byte offset (clamped to the text and to a character boundary).
    #[must_use]
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let line_start = self.line_starts[line_index];
        let column = self.text[line_start..offset]
            .chars()
            .filter(|&c| c != '\r' && !(c == '\u{feff}' && line_start == 0))
            .count();
        Position {
            line: line_index + 1,
            column: column + 1,
        }
    }

    /// The byte offset of a 1-based line and column (the inverse of [`Self::position`]).
    #[must_use]
    pub fn offset(&self, position: Position) -> usize {
        let Some(&start) = self.line_starts.get(position.line.saturating_sub(1)) else {
            return self.text.len();
        };
        let mut remaining = position.column.saturating_sub(1);
        for (i, c) in self.text[start..].char_indices() {
            if c == '\u{feff}' && start == 0 && i == 0 {
                continue;
            }
            if remaining == 0 || c == '\n' {
                return start + i;
            }
            remaining -= 1;
        }
        self.text.len()
    }

    /// The byte range of the 1-based line `line`, without its line break.
    #[must_use]
    pub fn line_span(&self, line: usize) -> Span {
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        let text = &self.text[start..end];
        let trimmed = text.trim_end_matches(['\n', '\r']);
        Span::new(start, start + trimmed.len())
    }

    /// Number of lines.
    #[must_use]
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The file's line ending: `\r\n` when its first line break is CRLF, else `\n`.
    #[must_use]
    pub fn line_ending(&self) -> &'static str {
        match self.text.find('\n') {
            Some(i) if i > 0 && self.text.as_bytes()[i - 1] == b'\r' => "\r\n",
            _ => "\n",
        }
    }

    /// Converts a character offset counted from `from` into a byte offset.
    #[must_use]
    pub fn advance_chars(&self, from: usize, chars: usize) -> usize {
        self.text[from..]
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(i, _)| from + i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_characters() {
        let f = SourceFile::new("t", "a: é日本😀\nb: x\n");
        let b = f.text.find('b').unwrap();
        assert_eq!(f.position(b), Position { line: 2, column: 1 });
        let x = f.text.find('x').unwrap();
        assert_eq!(f.position(x), Position { line: 2, column: 4 });
        let emoji_end = f.text.find('\n').unwrap();
        assert_eq!(f.position(emoji_end), Position { line: 1, column: 8 });
    }

    #[test]
    fn crlf_and_bom_do_not_count() {
        let f = SourceFile::new("t", "\u{feff}a: 1\r\nb: 2\r\n");
        assert_eq!(f.position(3), Position { line: 1, column: 1 });
        let b = f.text.find('b').unwrap();
        assert_eq!(f.position(b), Position { line: 2, column: 1 });
        assert_eq!(f.line_ending(), "\r\n");
        assert_eq!(f.position(f.text.find("\r\nb").unwrap() + 1).line, 1);
        assert_eq!(f.offset(Position { line: 2, column: 1 }), b);
        assert_eq!(f.offset(Position { line: 1, column: 1 }), 3);
    }

    #[test]
    fn line_span_excludes_line_break() {
        let f = SourceFile::new("t", "ab\r\ncd");
        assert_eq!(&f.text[f.line_span(1).range()], "ab");
        assert_eq!(&f.text[f.line_span(2).range()], "cd");
    }
}
