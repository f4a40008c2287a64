//! Text patches: a policy's structured fix (JSON Patch `replace`, `add`, `remove` at JSON
//! Pointers) applied to the source text, so comments, key order, quoting, anchors, other documents
//! and untouched lines stay byte-identical. Each operation edits the text and the document is
//! parsed again before the next one, so spans are always fresh.

use serde_json::Value as Json;

use crate::locate::{locate, parse_pointer};
use crate::source::{SourceFile, Span};
use crate::yaml::{self, Node, NodeStyle, Value};

/// One operation, with a pointer into a document of the text.
#[derive(Debug, Clone, PartialEq)]
pub enum TextOp {
    /// Replace the value at the pointer.
    Replace(String, Json),
    /// Add a mapping key, or insert into / append to (`-`) a sequence.
    Add(String, Json),
    /// Remove a mapping key or sequence item.
    Remove(String),
    /// Remove the earliest of a key written twice, the occurrence a parser ignores (the pointer
    /// names the key; the occurrence that is kept stays).
    DropShadowed(String),
}

/// Why a patch could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PatchError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, PatchError> {
    Err(PatchError(message.into()))
}

/// Applies `ops` to document `document` of `text`; returns the new text. A result that
/// no longer parses is refused, so a faulty fix can never corrupt a file.
pub fn apply(text: &str, document: usize, ops: &[TextOp]) -> Result<String, PatchError> {
    let mut out = text.to_string();
    for op in ops {
        out = apply_one(&out, document, op)?;
        check_effect(&out, document, op)?;
    }
    if out == text {
        return Ok(out);
    }
    let after = yaml::parse(&out);
    if let Some(e) = after.errors.first() {
        return err(format!(
            "the fix would produce invalid YAML ({})",
            e.message
        ));
    }
    // The other documents stay byte for byte (an edit at a document's end that lands past its
    // `---` would move into the next one; found by the `patch` fuzz target).
    let before = yaml::parse(text);
    let others_kept = before.documents.len() == after.documents.len()
        && before.documents.iter().zip(&after.documents).all(|(b, a)| {
            b.index == document
                || text.get(b.span.start..b.span.end) == out.get(a.span.start..a.span.end)
        });
    if !others_kept {
        return err("the fix would change another document of the file");
    }
    Ok(out)
}

/// A replaced or added value must read back as the value meant, and a removed key must be
/// gone: a text edit that YAML reads otherwise (a tag or a line it ran into, a key that is an
/// empty tagged node; found by the `patch` fuzz target) is refused.
fn check_effect(text: &str, document: usize, op: &TextOp) -> Result<(), PatchError> {
    if let TextOp::Remove(pointer) = op {
        return check_removed(text, document, pointer);
    }
    let (TextOp::Replace(pointer, value) | TextOp::Add(pointer, value)) = op else {
        return Ok(());
    };
    if pointer.ends_with("/-") {
        return Ok(());
    }
    let stream = yaml::parse(text);
    let read = stream
        .documents
        .iter()
        .find(|d| d.index == document)
        .map(|d| d.root.to_json());
    if stream.errors.is_empty() && read.as_ref().and_then(|r| r.pointer(pointer)) == Some(value) {
        return Ok(());
    }
    err(format!(
        "`{pointer}`: the edited text would not read back as the value the fix means"
    ))
}

/// After removing the key at `pointer` from a mapping, the mapping must not have it (an item
/// removed from a sequence shifts the others, so it is not checked here).
fn check_removed(text: &str, document: usize, pointer: &str) -> Result<(), PatchError> {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return Ok(());
    };
    let stream = yaml::parse(text);
    let read = stream
        .documents
        .iter()
        .find(|d| d.index == document)
        .map(|d| d.root.to_json());
    let unescaped = key.replace("~1", "/").replace("~0", "~");
    let left = read
        .as_ref()
        .and_then(|r| r.pointer(parent))
        .and_then(Json::as_object)
        .is_some_and(|map| map.contains_key(&unescaped));
    if left {
        return err(format!(
            "`{pointer}`: the edited text would still have the key (it is written in a way the fix cannot remove)"
        ));
    }
    Ok(())
}

fn apply_one(text: &str, document: usize, op: &TextOp) -> Result<String, PatchError> {
    // YAML breaks lines at a lone carriage return too; the edits here work on `\n` lines, so a
    // removal could take the wrong line (found by the `patch` fuzz target): refused.
    if text
        .as_bytes()
        .windows(2)
        .any(|w| w[0] == b'\r' && w[1] != b'\n')
        || text.ends_with('\r')
    {
        return err(
            "the text breaks lines with a lone carriage return (old Mac line endings): convert it to \\n or \\r\\n first",
        );
    }
    let stream = yaml::parse(text);
    if let Some(e) = stream.errors.first() {
        return err(format!("the text does not parse: {}", e.message));
    }
    let Some(doc) = stream.documents.iter().find(|d| d.index == document) else {
        return err(format!("document {document} not found"));
    };
    let source = SourceFile::new("", text);
    let eol = source.line_ending();
    let pointer = match op {
        TextOp::Replace(p, _) | TextOp::Add(p, _) | TextOp::Remove(p) | TextOp::DropShadowed(p) => {
            p
        }
    };
    let tokens = parse_pointer(pointer).map_err(PatchError)?;
    let Some((last, parent_tokens)) = tokens.split_last() else {
        return err("cannot patch the document root");
    };
    let parent = node_at(&doc.root, parent_tokens)
        .ok_or_else(|| PatchError(format!("`{pointer}`: the parent does not exist")))?;
    if locate(&doc.root, parent_tokens).shared
        || parent.aliased
        || anchored(&doc.root, parent.span.start)
    {
        return err(format!(
            "`{pointer}` is reached through an anchor, alias or merge key: editing it would change other objects"
        ));
    }
    let edit = match op {
        TextOp::Replace(_, value) => replace(&source, parent, last, value, pointer)?,
        TextOp::Add(_, value) => add(&source, parent, last, value, pointer, eol)?,
        // Removing the key that wins would bring back the one it shadows (found by the
        // `patch` fuzz target): the duplicate must go first (`DropShadowed`).
        TextOp::Remove(_)
            if stream
                .duplicates
                .iter()
                .any(|d| d.document == document && d.pointer == *pointer) =>
        {
            return err(format!(
                "`{pointer}` is written twice: removing the last would bring back the first (drop the duplicate first)"
            ));
        }
        TextOp::Remove(_) => remove(&source, parent, last, pointer)?,
        TextOp::DropShadowed(_) => {
            let shadowed = stream
                .duplicates
                .iter()
                .filter(|d| d.document == document && d.pointer == *pointer)
                .min_by_key(|d| d.first.start)
                .ok_or_else(|| PatchError(format!("`{pointer}` is not written twice")))?;
            let end = shadowed.first_value.end.max(shadowed.first.end);
            remove_entry(&source, parent, shadowed.first.start, end)
        }
    };
    let (span, replacement) = edit;
    let mut out = String::with_capacity(text.len() + replacement.len());
    out.push_str(&text[..span.start]);
    out.push_str(&replacement);
    out.push_str(&text[span.end..]);
    Ok(out)
}

/// Whether `at` lies inside an anchored node that an alias repeats elsewhere: editing there
/// would change every copy. (An alias's node carries the anchor's span.)
fn anchored(root: &Node, at: usize) -> bool {
    if root.aliased {
        return root.span.start <= at && at <= root.span.end;
    }
    match &root.value {
        Value::Map(entries) => entries.iter().any(|e| anchored(&e.value, at)),
        Value::Seq(items) => items.iter().any(|i| anchored(i, at)),
        _ => false,
    }
}

fn node_at<'a>(root: &'a Node, tokens: &[String]) -> Option<&'a Node> {
    let mut node = root;
    for token in tokens {
        node = match &node.value {
            Value::Map(entries) => &entries.iter().find(|e| &e.key == token)?.value,
            Value::Seq(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

type Edit = (Span, String);

fn replace(
    source: &SourceFile,
    parent: &Node,
    last: &str,
    value: &Json,
    pointer: &str,
) -> Result<Edit, PatchError> {
    let target = match &parent.value {
        Value::Map(entries) => entries.iter().find(|e| e.key == last).map(|e| &e.value),
        Value::Seq(items) => last.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    };
    let Some(target) = target else {
        return err(format!("replace: `{pointer}` does not exist"));
    };
    if target.aliased {
        return err(format!(
            "`{pointer}` is an alias: editing it would change the anchor"
        ));
    }
    if target.style == NodeStyle::Block {
        return Ok(replace_block_scalar(&source.text, target.span, value));
    }
    if target.span.is_empty() {
        // An empty value (`key:` or `-` alone) has no text: write after the indicator.
        let text = &source.text;
        let indicator = match &parent.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == last).and_then(|e| {
                text[e.key_span.end..]
                    .find(':')
                    .map(|at| e.key_span.end + at)
            }),
            _ => text[..(target.span.start + 1).min(text.len())].rfind('-'),
        };
        let Some(indicator) = indicator.map(|at| at + 1) else {
            return err(format!("replace: cannot find the value of `{pointer}`"));
        };
        return Ok((Span::new(indicator, indicator), format!(" {}", flow(value))));
    }
    let text = match (target.style, value) {
        (NodeStyle::Quoted, Json::String(s))
            if source.text[target.span.range()].starts_with('\'') =>
        {
            format!("'{}'", s.replace('\'', "''"))
        }
        (NodeStyle::Quoted, Json::String(_)) => value.to_string(),
        (NodeStyle::BlockCollection, Json::Object(_) | Json::Array(_)) => {
            let column = source.position(target.span.start).column - 1;
            let rendered = block(value, column, source.line_ending());
            rendered.trim_start().to_string()
        }
        _ => flow(value),
    };
    let mut span = target.span;
    if target.style == NodeStyle::BlockCollection && matches!(target.value, Value::Seq(_)) {
        // A block sequence whose first item is a flow collection starts, for the parser, at that
        // item: its `-` must go too (found by the `patch` fuzz target).
        let before = source.text[..span.start].trim_end_matches([' ', '\t']);
        if before.ends_with('-') {
            span.start = before.len() - 1;
        }
    }
    Ok((span, text))
}

/// Replaces a `|` or `>` block scalar, header included, with a flow scalar; a comment on
/// the header line is kept. Block scalars have no JSON equivalent for every value, so the
/// new value is written in flow style.
fn replace_block_scalar(text: &str, content: Span, value: &Json) -> Edit {
    let rendered = match value {
        Json::String(s) => scalar(value, s),
        _ => flow(value),
    };
    let header_end = text[..content.start].trim_end().len();
    let line = line_start(text, header_end);
    let header = &text[line..header_end];
    let code = header[..header.find(" #").unwrap_or(header.len())].trim_end();
    let comment = &header[code.len()..];
    // After the last blank, whatever its width (U+0085 is a blank of two bytes; found by the
    // `patch` fuzz target).
    let indicator = code
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(at, c)| at + c.len_utf8());
    if !code[indicator..].starts_with(['|', '>']) {
        return (content, rendered);
    }
    (
        Span::new(line + indicator, content.end),
        format!("{rendered}{comment}"),
    )
}

fn add(
    source: &SourceFile,
    parent: &Node,
    last: &str,
    value: &Json,
    pointer: &str,
    eol: &str,
) -> Result<Edit, PatchError> {
    match (&parent.value, parent.style) {
        (Value::Map(entries), NodeStyle::FlowCollection) => {
            if entries.iter().any(|e| e.key == last) {
                return err(format!("add: `{pointer}` already exists"));
            }
            let close = parent.span.end - 1;
            let entry = format!("{}: {}", key_text(last), flow(value));
            let text = if entries.is_empty() {
                entry
            } else {
                format!(", {entry}")
            };
            let at = trim_back(&source.text, close);
            Ok((Span::new(at, at), text))
        }
        (Value::Map(entries), _) => {
            if entries.iter().any(|e| e.key == last) {
                return err(format!("add: `{pointer}` already exists"));
            }
            let Some(first) = entries
                .iter()
                .filter(|e| !e.merged)
                .min_by_key(|e| e.key_span.start)
            else {
                return err(format!(
                    "add: cannot add to the empty mapping at `{pointer}`"
                ));
            };
            let indent = source.position(first.key_span.start).column - 1;
            let end = entries
                .iter()
                .filter(|e| !e.merged)
                .map(|e| e.value.span.end.max(e.key_span.end))
                .max()
                .unwrap_or(first.key_span.end);
            let at = line_end(&source.text, end);
            let entry = entry_text(source, last, value, indent, eol);
            Ok((Span::new(at, at), format!("{eol}{entry}")))
        }
        (Value::Seq(items), NodeStyle::FlowCollection) => {
            let index = if last == "-" {
                items.len()
            } else {
                last.parse()
                    .map_err(|_| PatchError(format!("add: bad index in `{pointer}`")))?
            };
            if index > items.len() {
                return err(format!("add: index out of range in `{pointer}`"));
            }
            let item = flow(value);
            if index < items.len() {
                let at = items[index].span.start;
                return Ok((Span::new(at, at), format!("{item}, ")));
            }
            let close = parent.span.end - 1;
            let at = trim_back(&source.text, close);
            let text = if items.is_empty() {
                item
            } else {
                format!(", {item}")
            };
            Ok((Span::new(at, at), text))
        }
        (Value::Seq(items), _) => {
            let index = if last == "-" {
                items.len()
            } else {
                last.parse()
                    .map_err(|_| PatchError(format!("add: bad index in `{pointer}`")))?
            };
            let Some(first) = items.first() else {
                return err(format!(
                    "add: cannot add to the empty sequence at `{pointer}`"
                ));
            };
            let dash = dash_column(source, first.span.start);
            let rendered = seq_item(value, dash, eol);
            if index < items.len() {
                let at = line_start(&source.text, items[index].span.start);
                return Ok((Span::new(at, at), format!("{rendered}{eol}")));
            }
            if index > items.len() {
                return err(format!("add: index out of range in `{pointer}`"));
            }
            let end = items
                .iter()
                .map(|i| i.span.end)
                .max()
                .unwrap_or(first.span.end);
            let at = line_end(&source.text, end);
            Ok((Span::new(at, at), format!("{eol}{rendered}")))
        }
        _ => err(format!(
            "add: the parent of `{pointer}` is not a mapping or sequence"
        )),
    }
}

fn remove(
    source: &SourceFile,
    parent: &Node,
    last: &str,
    pointer: &str,
) -> Result<Edit, PatchError> {
    let text = &source.text;
    match (&parent.value, parent.style) {
        (Value::Map(entries), style) => {
            let Some(entry) = entries.iter().find(|e| e.key == last) else {
                return err(format!("remove: `{pointer}` does not exist"));
            };
            if entry.merged {
                return err(format!(
                    "`{pointer}` comes from a merge key: editing it would change the anchor"
                ));
            }
            if entries.len() == 1 && style != NodeStyle::FlowCollection {
                // The mapping becomes empty: `{}` keeps its key meaningful and the YAML valid.
                return Ok((parent.span, "{}".into()));
            }
            let end = entry.value.span.end.max(entry.key_span.end);
            Ok(remove_entry(source, parent, entry.key_span.start, end))
        }
        (Value::Seq(items), style) => {
            let Some(item) = last.parse::<usize>().ok().and_then(|i| items.get(i)) else {
                return err(format!("remove: `{pointer}` does not exist"));
            };
            if style == NodeStyle::FlowCollection {
                return Ok(flow_remove(text, item.span.start, item.span.end));
            }
            if items.len() == 1 {
                return Ok(empty_block_sequence(text, item.span.start, parent.span.end));
            }
            Ok((
                Span::new(
                    line_start(text, item.span.start),
                    line_after(text, item.span.end),
                ),
                String::new(),
            ))
        }
        _ => err(format!(
            "remove: the parent of `{pointer}` is not a mapping or sequence"
        )),
    }
}

/// Removes the entry written at `start..end` (its key to the end of its value) from the mapping
/// `parent`, which keeps at least one other entry.
fn remove_entry(source: &SourceFile, parent: &Node, start: usize, end: usize) -> Edit {
    let text = &source.text;
    if parent.style == NodeStyle::FlowCollection {
        return flow_remove(text, start, end);
    }
    if !text[line_start(text, start)..start].trim().is_empty()
        && let Value::Map(entries) = &parent.value
        && let Some(next) = entries
            .iter()
            .map(|e| e.key_span.start)
            .filter(|&s| s > end)
            .min()
    {
        // The entry shares its line with a sequence dash (`- key: v`): the next entry moves up
        // onto the dash line, so the item stays a mapping.
        return (Span::new(start, next), String::new());
    }
    (
        Span::new(line_start(text, start), line_after(text, end)),
        String::new(),
    )
}

/// Replaces a block sequence that loses its only item with `[]`. The flow sequence is
/// indented two columns past the dash so that it stays the value of its key even when
/// the block sequence was written at the key's own column (`key:\n- item`).
fn empty_block_sequence(text: &str, item: usize, end: usize) -> Edit {
    let start = line_start(text, item);
    // The item's dash is the last non-blank character before it.
    let prefix = text[start..item].trim_end_matches(' ');
    let Some(indent) = prefix.strip_suffix('-') else {
        return (Span::new(item, end), "[]".into());
    };
    if !indent.chars().all(|c| c == ' ') {
        // The sequence shares its line with something else (`- - item`): replace in place.
        return (Span::new(start + indent.len(), end), "[]".into());
    }
    (
        Span::new(start, end),
        format!("{}[]", " ".repeat(indent.len() + 2)),
    )
}

/// Removes a flow entry and one adjacent comma.
fn flow_remove(text: &str, start: usize, end: usize) -> Edit {
    let after = &text[end..];
    let trimmed = after.trim_start();
    if let Some(rest) = trimmed.strip_prefix(',') {
        let skip = after.len() - rest.len();
        let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        return (Span::new(start, end + skip + spaces), String::new());
    }
    let before = &text[..start];
    let trimmed = before.trim_end();
    if trimmed.ends_with(',') {
        return (Span::new(trimmed.len() - 1, end), String::new());
    }
    (Span::new(start, end), String::new())
}

/// `at`, moved back to the start of the character it falls in (and into the text).
fn floor_char(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn line_start(text: &str, at: usize) -> usize {
    text[..floor_char(text, at)]
        .rfind('\n')
        .map_or(0, |i| i + 1)
}

/// The end of the line holding `at` (before its line break, after any trailing comment).
fn line_end(text: &str, at: usize) -> usize {
    let mut at = at
        .saturating_sub(1)
        .max(line_start(text, at.min(text.len())));
    // One byte back may be inside a character (U+0085, a line break to YAML; found by the
    // `patch` fuzz target).
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    if end > 0 && text.as_bytes()[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

/// The start of the line after the one holding the last byte before `at`.
fn line_after(text: &str, at: usize) -> usize {
    // One byte back may be inside a character (a span ending after `é`; found by the `patch`
    // fuzz target).
    let from = floor_char(text, at.saturating_sub(1));
    text[from..].find('\n').map_or(text.len(), |i| from + i + 1)
}

fn trim_back(text: &str, at: usize) -> usize {
    text[..floor_char(text, at)].trim_end().len()
}

fn dash_column(source: &SourceFile, item_start: usize) -> usize {
    let start = line_start(&source.text, item_start);
    source.text[start..item_start].rfind('-').map_or_else(
        || source.position(item_start).column.saturating_sub(3),
        |i| source.text[start..start + i].chars().count(),
    )
}

/// A mapping key as YAML: plain when that reads back as the same string.
fn key_text(key: &str) -> String {
    scalar(&Json::String(key.to_string()), key)
}

fn entry_text(source: &SourceFile, key: &str, value: &Json, indent: usize, eol: &str) -> String {
    let pad = " ".repeat(indent);
    match value {
        Json::Object(map) if !map.is_empty() => format!(
            "{pad}{}:{eol}{}",
            key_text(key),
            block(value, indent + 2, eol)
        ),
        Json::Array(items) if !items.is_empty() => {
            let _ = source;
            format!("{pad}{}:{eol}{}", key_text(key), block(value, indent, eol))
        }
        _ => format!("{pad}{}: {}", key_text(key), flow(value)),
    }
}

fn seq_item(value: &Json, dash: usize, eol: &str) -> String {
    let pad = " ".repeat(dash);
    match value {
        Json::Object(map) if !map.is_empty() => {
            let body = block(value, dash + 2, eol);
            format!("{pad}- {}", body.trim_start())
        }
        _ => format!("{pad}- {}", flow(value)),
    }
}

/// A value in block style at `indent` (no trailing line break), as fixes write it.
#[must_use]
pub fn block(value: &Json, indent: usize, eol: &str) -> String {
    let pad = " ".repeat(indent);
    match value {
        Json::Object(map) if !map.is_empty() => map
            .iter()
            .map(|(k, v)| match v {
                Json::Object(m) if !m.is_empty() => {
                    format!("{pad}{}:{eol}{}", key_text(k), block(v, indent + 2, eol))
                }
                Json::Array(a) if !a.is_empty() => {
                    format!("{pad}{}:{eol}{}", key_text(k), block(v, indent, eol))
                }
                _ => format!("{pad}{}: {}", key_text(k), flow(v)),
            })
            .collect::<Vec<_>>()
            .join(eol),
        Json::Array(items) if !items.is_empty() => items
            .iter()
            .map(|v| seq_item(v, indent, eol))
            .collect::<Vec<_>>()
            .join(eol),
        _ => format!("{pad}{}", flow(value)),
    }
}

/// A value in flow style: `{a: 1, b: [x]}`.
#[must_use]
pub fn flow(value: &Json) -> String {
    match value {
        Json::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", key_text(k), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Json::Array(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        Json::String(s) => scalar(value, s),
        other => other.to_string(),
    }
}

/// A string scalar: plain when YAML 1.1 reads it back as the same string, else double-quoted.
fn scalar(value: &Json, s: &str) -> String {
    let plain_ok = !s.is_empty()
        && yaml::resolve_plain(s).is_ok_and(|v| v == Value::String(s.to_string()))
        && !s.starts_with([
            ' ', '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"',
            '%', '@', '`',
        ])
        && !s.ends_with(' ')
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.contains(['\n', '\t', ',', '[', ']', '{', '}'])
        && s != "<<";
    if plain_ok {
        s.to_string()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patched(text: &str, ops: &[TextOp]) -> String {
        let out = apply(text, 0, ops).unwrap();
        let stream = yaml::parse(&out);
        assert!(stream.errors.is_empty(), "{out}\n{:?}", stream.errors);
        out
    }

    #[test]
    fn replace_keeps_comments_and_quoting() {
        let text = "a: 1  # one\nb: 'x'  # quoted\nc: \"y\"\n";
        let out = patched(
            text,
            &[
                TextOp::Replace("/a".into(), json!(2)),
                TextOp::Replace("/b".into(), json!("z")),
                TextOp::Replace("/c".into(), json!("yes")),
            ],
        );
        assert_eq!(out, "a: 2  # one\nb: 'z'  # quoted\nc: \"yes\"\n");
        let out = patched(
            "d: \"plain-safe\"\n",
            &[TextOp::Replace("/d".into(), json!("still-quoted"))],
        );
        assert_eq!(out, "d: \"still-quoted\"\n");
    }

    #[test]
    fn add_to_block_mapping_follows_indentation_and_line_endings() {
        let text = "spec:\r\n    a: 1   # keep\r\n    b: 2\r\nnext: 3\r\n";
        let out = patched(
            text,
            &[TextOp::Add(
                "/spec/c".into(),
                json!({"d": [1, 2], "e": "on"}),
            )],
        );
        assert_eq!(
            out,
            "spec:\r\n    a: 1   # keep\r\n    b: 2\r\n    c:\r\n      d:\r\n      - 1\r\n      - 2\r\n      e: \"on\"\r\nnext: 3\r\n"
        );
    }

    #[test]
    fn the_ignored_occurrence_of_a_duplicated_key_is_dropped() {
        // Block: the first `env` block goes, with its items; the kept one and comments stay.
        let text =
            "c:\n  env:\n  - name: A\n    value: \"1\"\n  image: x  # keep\n  env:\n  - name: B\n";
        let out = patched(text, &[TextOp::DropShadowed("/c/env".into())]);
        assert_eq!(out, "c:\n  image: x  # keep\n  env:\n  - name: B\n");
        // On a dash line the next entry moves up; in flow style the comma goes too.
        let out = patched(
            "- a: 1\n  b: 2\n  a: 3\n",
            &[TextOp::DropShadowed("/0/a".into())],
        );
        assert_eq!(out, "- b: 2\n  a: 3\n");
        let out = patched(
            "m: {a: 1, b: 2, a: 3}\n",
            &[TextOp::DropShadowed("/m/a".into())],
        );
        assert_eq!(out, "m: {b: 2, a: 3}\n");
        // Three times: the earliest goes first.
        let out = patched("a: 1\na: 2\na: 3\n", &[TextOp::DropShadowed("/a".into())]);
        assert_eq!(out, "a: 2\na: 3\n");
        assert!(apply("a: 1\n", 0, &[TextOp::DropShadowed("/a".into())]).is_err());
    }

    #[test]
    fn add_to_flow_mapping_and_sequence() {
        let text = "m: {a: 1}\ne: {}\nl: [x]\nk: []\n";
        let out = patched(
            text,
            &[
                TextOp::Add("/m/b".into(), json!("two words")),
                TextOp::Add("/e/c".into(), json!(true)),
                TextOp::Add("/l/-".into(), json!("z")),
                TextOp::Add("/k/-".into(), json!({"q": 1, "n": 2})),
                TextOp::Add("/l/0".into(), json!("w")),
            ],
        );
        // `n` alone is a YAML 1.1 boolean, so that key is quoted; key order is kept.
        assert_eq!(
            out,
            "m: {a: 1, b: two words}\ne: {c: true}\nl: [w, x, z]\nk: [{q: 1, \"n\": 2}]\n"
        );
    }

    #[test]
    fn append_to_block_sequences_of_both_indentation_styles() {
        let text = "a:\n- name: x\n  v: 1\nb:\n  - 1\n";
        let out = patched(
            text,
            &[
                TextOp::Add("/a/-".into(), json!({"name": "w", "v": 2})),
                TextOp::Add("/b/-".into(), json!(2)),
            ],
        );
        assert_eq!(
            out,
            "a:\n- name: x\n  v: 1\n- name: w\n  v: 2\nb:\n  - 1\n  - 2\n"
        );
    }

    #[test]
    fn remove_lines_and_flow_entries() {
        let text = "a: 1\nb:\n  c: 2\n  d: 3\nl: [1, 2, 3]\nm: {x: 1, z: 2}\ns:\n- 1\n- 2\n";
        let out = patched(
            text,
            &[
                TextOp::Remove("/b/c".into()),
                TextOp::Remove("/l/1".into()),
                TextOp::Remove("/m/z".into()),
                TextOp::Remove("/s/0".into()),
            ],
        );
        assert_eq!(out, "a: 1\nb:\n  d: 3\nl: [1, 3]\nm: {x: 1}\ns:\n- 2\n");
    }

    #[test]
    fn removing_the_last_entry_leaves_an_empty_collection() {
        let text = "a:\n  limits:\n    gpu: 1  # c\n  keep: 2\nl:\n- only\nm: 1\n";
        let out = patched(
            text,
            &[
                TextOp::Remove("/a/limits/gpu".into()),
                TextOp::Remove("/l/0".into()),
            ],
        );
        assert_eq!(
            out,
            "a:\n  limits:\n    {}  # c\n  keep: 2\nl:\n  []\nm: 1\n"
        );
        assert_eq!(
            yaml::parse(&out).documents[0].root.to_json(),
            json!({"a": {"limits": {}, "keep": 2}, "l": [], "m": 1})
        );
        let nested = patched("x:\n- - only\n", &[TextOp::Remove("/x/0/0".into())]);
        assert_eq!(nested, "x:\n- []\n");
    }

    #[test]
    fn other_documents_are_untouched_and_aliases_refused() {
        let text = "# first\na: 1\n---\n# second\nb: 2  # c\n---\nx: &a {k: 1}\ny: *a\n";
        let out = apply(text, 1, &[TextOp::Replace("/b".into(), json!(3))]).unwrap();
        assert_eq!(
            out,
            "# first\na: 1\n---\n# second\nb: 3  # c\n---\nx: &a {k: 1}\ny: *a\n"
        );
        assert!(apply(text, 2, &[TextOp::Replace("/y/k".into(), json!(2))]).is_err());
        // The anchor's own text is shared too: adding to it would add to `y`.
        assert!(apply(text, 2, &[TextOp::Add("/x/z".into(), json!(2))]).is_err());
        assert!(apply(text, 2, &[TextOp::Replace("/x/k".into(), json!(2))]).is_err());
    }

    #[test]
    fn plain_scalars_stay_strings() {
        assert_eq!(flow(&json!("yes")), "\"yes\"");
        assert_eq!(flow(&json!("0777")), "\"0777\"");
        assert_eq!(flow(&json!("2Gi")), "2Gi");
        assert_eq!(
            flow(&json!("/usr/local/nvidia/lib64:/usr/local/cuda/lib64")),
            "/usr/local/nvidia/lib64:/usr/local/cuda/lib64"
        );
        assert_eq!(flow(&json!("a: b")), "\"a: b\"");
        assert_eq!(flow(&json!({"k": "v"})), "{k: v}");
    }

    #[test]
    fn block_scalars_are_replaced_whole_and_neighbours_kept() {
        let cases = [
            (
                "a:\n  s: >-\n    x\n    y\nb: 1\n",
                TextOp::Replace("/a/s".into(), json!("z")),
                "a:\n  s: z\nb: 1\n",
            ),
            (
                "a:\n  s: |  # note\n    x\n\n  t: 1\n",
                TextOp::Replace("/a/s".into(), json!("q")),
                "a:\n  s: q  # note\n\n  t: 1\n",
            ),
            (
                "a:\n- |\n  x\n- y\n",
                TextOp::Replace("/a/0".into(), json!("yes")),
                "a:\n- \"yes\"\n- y\n",
            ),
            (
                "a:\n  s: |\n    x\nb: 1\n",
                TextOp::Remove("/a/s".into()),
                "a:\n  {}\nb: 1\n",
            ),
            (
                "a:\n  s: |\n    x\n\n  t: 1\n",
                TextOp::Add("/a/u".into(), json!(2)),
                "a:\n  s: |\n    x\n\n  t: 1\n  u: 2\n",
            ),
            (
                "a:\n  s: |\n    x\n\n",
                TextOp::Add("/a/u".into(), json!(2)),
                "a:\n  s: |\n    x\n  u: 2\n\n",
            ),
        ];
        for (text, op, want) in cases {
            assert_eq!(
                patched(text, std::slice::from_ref(&op)),
                want,
                "{op:?} on {text:?}"
            );
        }
    }

    #[test]
    fn entries_on_a_dash_line_and_empty_values() {
        let cases = [
            (
                "x:\n- a: 1  # c\n  b: 2\n  c: 3\n",
                TextOp::Remove("/x/0/a".into()),
                "x:\n- b: 2\n  c: 3\n",
            ),
            (
                "x:\n- a:\n    n: 1\n  b: 2\n",
                TextOp::Remove("/x/0/a".into()),
                "x:\n- b: 2\n",
            ),
            (
                "a:\nb: 1\n",
                TextOp::Replace("/a".into(), json!({"c": 1})),
                "a: {c: 1}\nb: 1\n",
            ),
            (
                "a:\nb: 1\n",
                TextOp::Replace("/a".into(), json!("s")),
                "a: s\nb: 1\n",
            ),
            (
                "a:  # c\nb: 1\n",
                TextOp::Replace("/a".into(), json!(2)),
                "a: 2  # c\nb: 1\n",
            ),
            (
                "\"a:x\":\nb: 1\n",
                TextOp::Replace("/a:x".into(), json!(2)),
                "\"a:x\": 2\nb: 1\n",
            ),
            (
                "x:\n-\n- b\n",
                TextOp::Replace("/x/0".into(), json!("v")),
                "x:\n- v\n- b\n",
            ),
        ];
        for (text, op, want) in cases {
            assert_eq!(
                patched(text, std::slice::from_ref(&op)),
                want,
                "{op:?} on {text:?}"
            );
        }
    }

    #[test]
    fn removing_a_key_written_twice_is_refused_not_a_revival() {
        let text = "a: 1\nb: 2\na: 3\n";
        let refused = apply(text, 0, &[TextOp::Remove("/a".into())]).unwrap_err();
        assert!(refused.0.contains("written twice"), "{refused}");
        // Dropping the shadowed one first, then removing, works.
        let ops = [
            TextOp::DropShadowed("/a".into()),
            TextOp::Remove("/a".into()),
        ];
        assert_eq!(apply(text, 0, &ops).unwrap(), "b: 2\n");
    }

    #[test]
    fn a_lone_carriage_return_is_refused_not_misread() {
        let refused = apply("l: 1\r: 2\n", 0, &[TextOp::Remove("/null".into())]).unwrap_err();
        assert!(refused.0.contains("lone carriage return"), "{refused}");
        // CRLF is fine.
        assert_eq!(
            apply("a: 1\r\nb: 2\r\n", 0, &[TextOp::Remove("/a".into())]).unwrap(),
            "b: 2\r\n"
        );
    }

    #[test]
    fn line_helpers_never_land_inside_a_character() {
        let text = "a: é\nb: 1\n";
        let after_e = text.find('é').unwrap() + 'é'.len_utf8();
        // One byte back from the end of `é` is inside it.
        assert_eq!(line_after(text, after_e), text.find('b').unwrap());
        assert_eq!(line_start(text, after_e - 1), 0);
        assert_eq!(trim_back(text, after_e - 1), "a:".len());
        let removed = patched(text, &[TextOp::Remove("/a".into())]);
        assert_eq!(removed, "b: 1\n");
    }

    #[test]
    fn a_removal_that_would_leave_the_key_is_refused() {
        // The key is an empty node with a tag (read as null): its span is empty, so the edit
        // cannot take it (the `patch` fuzz target's find).
        let text = "!outer: {!III proke}\n";
        let key = yaml::parse(text).documents[0].root.to_json();
        let pointer = match key.as_object().and_then(|m| m.keys().next()) {
            Some(k) => format!("/{k}"),
            None => panic!("{key}"),
        };
        let result = apply(text, 0, &[TextOp::Remove(pointer.clone())]);
        match result {
            Err(e) => assert!(e.0.contains("would still have the key"), "{e}"),
            Ok(out) => assert!(
                yaml::parse(&out).documents[0]
                    .root
                    .to_json()
                    .pointer(&pointer)
                    .is_none(),
                "{out}"
            ),
        }
    }

    #[test]
    fn replacing_a_block_sequence_takes_its_first_dash() {
        // An indentless sequence would leave the value at column 0: refused, never misread.
        let indentless = apply(
            "a:\n- [1]\n",
            0,
            &[TextOp::Replace("/a".into(), json!("s"))],
        );
        assert!(indentless.is_err(), "{indentless:?}");
        for text in ["a:\n  - {k: v}\n  - x\n", "a:\n  - x\n", "a:\n  - [1]\n"] {
            let out = apply(text, 0, &[TextOp::Replace("/a".into(), json!("s"))])
                .unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(
                yaml::parse(&out).documents[0].root.to_json(),
                json!({"a": "s"}),
                "{text:?} → {out:?}"
            );
        }
    }
}
