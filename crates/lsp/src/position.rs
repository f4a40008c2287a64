//! Byte offsets and LSP positions: lines end at `\n` (a CRLF's `\r` belongs to the line's end,
//! never to a column), columns count UTF-16 code units, as the protocol's default encoding says.

use lsp_types::{Position, Range};

/// The LSP position of byte `offset` of `text` (clamped to the text, and to a character start).
#[must_use]
pub fn position(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count();
    let column: usize = text[line_start..offset]
        .chars()
        .filter(|c| *c != '\r')
        .map(char::len_utf16)
        .sum();
    Position::new(
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// The LSP range of bytes `start..end`.
#[must_use]
pub fn range(text: &str, start: usize, end: usize) -> Range {
    Range::new(position(text, start), position(text, end))
}

/// The byte offset of an LSP position (past the line's end: the line's end; past the text: its
/// end).
#[must_use]
pub fn offset(text: &str, at: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..at.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let line = text[line_start..line_end].trim_end_matches('\r');
    let mut units = 0;
    for (i, c) in line.char_indices() {
        if units >= at.character as usize {
            return line_start + i;
        }
        units += c.len_utf16();
    }
    line_start + line.len()
}

/// The smallest edit turning `old` into `new`: the range of `old` to replace and the text.
#[must_use]
pub fn minimal_edit(old: &str, new: &str) -> (Range, String) {
    let mut start = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(start) || !new.is_char_boundary(start) {
        start -= 1;
    }
    let mut suffix = old[start..]
        .bytes()
        .rev()
        .zip(new[start..].bytes().rev())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    (
        range(old, start, old.len() - suffix),
        new[start..new.len() - suffix].to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units_and_crlf_ends_lines() {
        let text = "a: 1\r\nb: \"𝄞é\" # x\r\nc: 2\n";
        let x = text.find('x').unwrap();
        // `b: "` is 4 units, 𝄞 two, é one, `" # ` four.
        assert_eq!(position(text, x), Position::new(1, 11));
        assert_eq!(offset(text, Position::new(1, 11)), x);
        // The \r of a CRLF is not a column: the end of line 0 is column 4.
        assert_eq!(position(text, 5), Position::new(0, 4));
        assert_eq!(offset(text, Position::new(0, 99)), 4);
        assert_eq!(offset(text, Position::new(9, 0)), text.len());
        // Inside a character: its start.
        let clef = text.find('𝄞').unwrap();
        assert_eq!(position(text, clef + 2), position(text, clef));
    }

    #[test]
    fn the_minimal_edit_is_the_changed_middle() {
        let (range, text) = minimal_edit("a: 1\nb: 2\n", "a: 1\nb: 3\nc: 4\n");
        assert_eq!(range, Range::new(Position::new(1, 3), Position::new(1, 4)));
        assert_eq!(text, "3\nc: 4");
        let (range, text) = minimal_edit("x: é\n", "x: è\n");
        assert_eq!(
            (range.start.character, range.end.character, text.as_str()),
            (3, 4, "è")
        );
    }
}
