//! YAML as Kubernetes reads it, built from granit-parser events so that every node keeps its span.
//!
//! Tree loaders either reject duplicate keys or keep the last value at the first key's position;
//! Kubernetes silently keeps the last. Building the tree from events lets us do what Kubernetes does
//! *and* report both keys. Plain scalars resolve with YAML 1.1 rules (sigs.k8s.io/yaml): `yes`/`on`
//! are booleans, `0777` is octal, `<<` merges, and `.inf`/`.nan` cannot be loaded.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, Span as EventSpan, StructureStyle, Tag};
use serde_json::Number;

use crate::limits::{InputLimits, Limit, shown_bytes};
use crate::source::Span;

/// A YAML node with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The resolved value.
    pub value: Value,
    /// Where the node is: a scalar's text (with quotes), a collection from its first to last byte.
    pub span: Span,
    /// How the node is written.
    pub style: NodeStyle,
    /// The node was reached through an alias (`*name`); its spans are the anchor's.
    pub aliased: bool,
}

/// How a node is written in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeStyle {
    /// A plain (unquoted) scalar.
    Plain,
    /// A single- or double-quoted scalar.
    Quoted,
    /// A `|` or `>` block scalar.
    Block,
    /// A block mapping or sequence.
    BlockCollection,
    /// A `{...}` or `[...]` collection.
    FlowCollection,
}

/// A resolved YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// A YAML 1.1 boolean.
    Bool(bool),
    /// An integer or float.
    Number(Number),
    /// A string.
    String(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order; a duplicated key appears once, with the last value.
    Map(Vec<Entry>),
}

/// One key of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as Kubernetes sees it (`on:` is `"true"`).
    pub key: String,
    /// The key's span (the last occurrence when the key is duplicated).
    pub key_span: Span,
    /// The value.
    pub value: Node,
    /// The entry came from a `<<` merge key rather than being written in this mapping.
    pub merged: bool,
}

/// One `---` document of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// 0-based index among the stream's documents, empty ones counted.
    pub index: usize,
    /// The document's bytes: from its `---` (or first content) to its end (before the next
    /// document's `---`, or at its `...`). Text patches work inside it.
    pub span: Span,
    /// The root node (`Value::Null` for an empty document).
    pub root: Node,
}

/// A syntax error, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// What the parser said.
    pub message: String,
    /// Where (an empty span at the error position).
    pub span: Span,
    /// The document the error is in.
    pub document: usize,
    /// The input bound it hit, when it is not a syntax error but a limit.
    pub limit: Option<Limit>,
}

/// A key written twice in one mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The document it is in.
    pub document: usize,
    /// JSON Pointer of the key within the document.
    pub pointer: String,
    /// The key as written the first time.
    pub first: Span,
    /// The key that wins (the last one).
    pub second: Span,
    /// The value that was dropped (the first one's).
    pub first_value: Span,
    /// The dropped value as JSON (what a fix merges into the value that is kept).
    pub dropped: serde_json::Value,
}

/// A parsed stream: its documents, what could not be parsed, and duplicated keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stream {
    /// Documents that parsed, in order.
    pub documents: Vec<Document>,
    /// Syntax errors; parsing resumes at the next document after each.
    pub errors: Vec<SyntaxError>,
    /// Duplicated keys.
    pub duplicates: Vec<DuplicateKey>,
}

/// Parses a YAML (or JSON) stream within the default [`InputLimits`].
#[must_use]
pub fn parse(text: &str) -> Stream {
    parse_with(text, &InputLimits::default())
}

/// Parses a YAML (or JSON) stream. A document past [`InputLimits::documents`] stops the parse
/// (one error at its start); a scalar, nesting or alias expansion past its bound is an error at
/// that node, and parsing resumes at the next document.
#[must_use]
pub fn parse_with(text: &str, limits: &InputLimits) -> Stream {
    let mut builder = Builder {
        limits: *limits,
        ..Builder::default()
    };
    // granit's own nesting bounds (255 by default) follow ours.
    let mut options = granit_parser::Options::default();
    options.flow_nesting_limit = limits.depth.saturating_add(1);
    options.block_nesting_limit = limits.depth.saturating_add(1);
    let mut parser = Parser::new_from_str_with_options(text, options);
    loop {
        match parser.next_event() {
            None => break,
            Some(Ok((event, span))) => {
                if let Err(message) = builder.event(event, span, text) {
                    let at = byte(&span.start);
                    builder.fail(message, Span::new(at, at));
                    if builder.stopped || !matches!(parser.proceed_next_document(), Ok(true)) {
                        break;
                    }
                }
            }
            Some(Err(error)) => {
                let at = error.marker().byte_offset().unwrap_or(text.len());
                // The scanner, which reads ahead, may meet the nesting bound before we do.
                let message = if *error.kind() == granit_parser::ErrorKind::RecursionLimitExceeded {
                    builder
                        .check_depth(limits.depth.saturating_add(1))
                        .err()
                        .unwrap_or_else(|| error.info())
                } else {
                    error.info()
                };
                builder.fail(message, Span::new(at, at));
                if !matches!(parser.proceed_next_document(), Ok(true)) {
                    break;
                }
            }
        }
    }
    builder.stream
}

fn byte(marker: &granit_parser::Marker) -> usize {
    marker.byte_offset().unwrap_or(0)
}

fn span_of(span: &EventSpan) -> Span {
    Span::new(byte(&span.start), byte(&span.end))
}

enum Frame {
    Seq {
        start: usize,
        end: usize,
        flow: bool,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: usize,
        end: usize,
        flow: bool,
        anchor: usize,
        entries: Vec<Entry>,
        index: HashMap<String, usize>,
        pending_key: Option<PendingKey>,
        merges: Vec<Node>,
    },
}

struct PendingKey {
    key: String,
    span: Span,
    merge: bool,
}

#[derive(Default)]
struct Builder {
    stream: Stream,
    frames: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    document: Option<usize>,
    document_start: usize,
    next_document: usize,
    root: Option<Node>,
    alias_budget: usize,
    limits: InputLimits,
    /// A limit that ends the whole stream was hit.
    stopped: bool,
    /// The limit the error being returned hit.
    limit_hit: Option<Limit>,
}

impl Builder {
    fn check_depth(&mut self, depth: usize) -> Result<(), String> {
        if depth > self.limits.depth {
            self.limit_hit = Some(Limit::Depth);
            return Err(format!(
                "mappings and sequences nest more than {} levels deep {}",
                self.limits.depth,
                Limit::Depth.hint(self.limits.depth as u64)
            ));
        }
        Ok(())
    }

    fn fail(&mut self, message: String, span: Span) {
        let document = self.document.unwrap_or(self.next_document);
        self.stream.errors.push(SyntaxError {
            message,
            span,
            document,
            limit: self.limit_hit.take(),
        });
        self.frames.clear();
        self.root = None;
        self.anchors.clear();
        if self.document.take().is_some() {
            // The broken document keeps its index; the next `---` gets the following one.
        } else {
            self.next_document += 1;
        }
    }

    fn event(&mut self, event: Event<'_>, span: EventSpan, source: &str) -> Result<(), String> {
        match event {
            Event::DocumentStart(..) => {
                if self.next_document >= self.limits.documents {
                    self.stopped = true;
                    self.limit_hit = Some(Limit::Documents);
                    return Err(format!(
                        "more than {} documents in one file: the rest is not read {}",
                        self.limits.documents,
                        Limit::Documents.hint(self.limits.documents as u64)
                    ));
                }
                self.document = Some(self.next_document);
                self.document_start = byte(&span.start);
                self.next_document += 1;
                self.anchors.clear();
                self.alias_budget = self.limits.alias_nodes;
            }
            Event::DocumentEnd => {
                if let (Some(index), Some(root)) = (self.document.take(), self.root.take()) {
                    let end = byte(&span.end).max(root.span.end).max(self.document_start);
                    self.stream.documents.push(Document {
                        index,
                        span: Span::new(self.document_start, end),
                        root,
                    });
                }
            }
            Event::Alias(id) => {
                let mut node = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| "alias to an unknown anchor".to_string())?;
                let size = node_count(&node);
                if size > self.alias_budget {
                    self.limit_hit = Some(Limit::AliasNodes);
                    return Err(format!(
                        "aliases expand to more than {} nodes in this document {}",
                        self.limits.alias_nodes,
                        Limit::AliasNodes.hint(self.limits.alias_nodes as u64)
                    ));
                }
                self.check_depth(self.frames.len() + node_depth(&node))?;
                self.alias_budget -= size;
                mark_aliased(&mut node);
                self.complete(node)?;
            }
            Event::UnresolvedAlias(name) => return Err(format!("unknown anchor `{name}`")),
            Event::Scalar(text, style, anchor, tag) => {
                if text.len() > self.limits.scalar_bytes {
                    self.limit_hit = Some(Limit::ScalarBytes);
                    return Err(format!(
                        "a scalar of {} exceeds the {} a scalar may hold {}",
                        shown_bytes(text.len() as u64),
                        shown_bytes(self.limits.scalar_bytes as u64),
                        Limit::ScalarBytes.hint(self.limits.scalar_bytes as u64)
                    ));
                }
                let mut node_span = span_of(&span);
                let value = resolve_scalar(&text, style, tag.as_deref())?;
                let style = match style {
                    ScalarStyle::Plain => NodeStyle::Plain,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => NodeStyle::Quoted,
                    _ => NodeStyle::Block,
                };
                if style == NodeStyle::Block
                    && let Some(body) = source.get(node_span.range())
                {
                    // A block scalar's event runs to the next token; its content ends sooner.
                    node_span.end = node_span.start + body.trim_end().len();
                }
                let node = Node {
                    value,
                    span: node_span,
                    style,
                    aliased: false,
                };
                if anchor != 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                // A plain `<<` key is a merge key; remember that before the scalar loses its style.
                if let Some(Frame::Map {
                    pending_key: None, ..
                }) = self.frames.last()
                    && style == NodeStyle::Plain
                    && text == "<<"
                {
                    self.set_key("<<".into(), node_span, true);
                    return Ok(());
                }
                self.complete(node)?;
            }
            Event::SequenceStart(style, anchor, _) => {
                self.check_depth(self.frames.len() + 1)?;
                let s = span_of(&span);
                self.frames.push(Frame::Seq {
                    start: s.start,
                    end: s.end,
                    flow: style == StructureStyle::Flow,
                    anchor,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(style, anchor, _) => {
                self.check_depth(self.frames.len() + 1)?;
                let s = span_of(&span);
                self.frames.push(Frame::Map {
                    start: s.start,
                    end: s.end,
                    flow: style == StructureStyle::Flow,
                    anchor,
                    entries: Vec::new(),
                    index: HashMap::new(),
                    pending_key: None,
                    merges: Vec::new(),
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let end_span = span_of(&span);
                let frame = self.frames.pop().ok_or("unbalanced collection end")?;
                let (node, anchor) = finish(frame, end_span)?;
                if anchor != 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.complete(node)?;
            }
            // Stream markers, anchor names and comments carry no data.
            _ => {}
        }
        Ok(())
    }

    fn set_key(&mut self, key: String, span: Span, merge: bool) {
        if let Some(Frame::Map { pending_key, .. }) = self.frames.last_mut() {
            *pending_key = Some(PendingKey { key, span, merge });
        }
    }

    /// Files a finished node into its parent (or as the document root).
    fn complete(&mut self, node: Node) -> Result<(), String> {
        // The pointer is built only for a duplicated key: building it for every node is
        // quadratic in nesting depth and dominated loading time.
        let duplicate_pointer = match self.frames.last() {
            Some(Frame::Map {
                pending_key:
                    Some(PendingKey {
                        key, merge: false, ..
                    }),
                index,
                ..
            }) if index.contains_key(key) => Some(format!(
                "{}/{}",
                self.pointer_of_top(),
                kubectl_vllm_core::Pointer::escape(key)
            )),
            _ => None,
        };
        let Some(frame) = self.frames.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        match frame {
            Frame::Seq { items, end, .. } => {
                *end = (*end).max(node.span.end);
                items.push(node);
            }
            Frame::Map {
                entries,
                index,
                pending_key,
                merges,
                end,
                ..
            } => match pending_key.take() {
                None => {
                    let key = key_string(&node)?;
                    *pending_key = Some(PendingKey {
                        key,
                        span: node.span,
                        merge: false,
                    });
                }
                Some(PendingKey { key, span, merge }) => {
                    *end = (*end).max(node.span.end);
                    if merge {
                        merges.push(node);
                    } else if let Some(&i) = index.get(&key) {
                        let pointer = duplicate_pointer.unwrap_or_default();
                        self.stream.duplicates.push(DuplicateKey {
                            document: self.document.unwrap_or(0),
                            pointer,
                            first: entries[i].key_span,
                            second: span,
                            first_value: entries[i].value.span,
                            dropped: entries[i].value.to_json(),
                        });
                        entries[i].key_span = span;
                        entries[i].value = node;
                    } else {
                        index.insert(key.clone(), entries.len());
                        entries.push(Entry {
                            key,
                            key_span: span,
                            value: node,
                            merged: false,
                        });
                    }
                }
            },
        }
        Ok(())
    }

    /// The JSON Pointer of the innermost open collection.
    fn pointer_of_top(&self) -> String {
        let mut pointer = String::new();
        let n = self.frames.len();
        for frame in self.frames.iter().take(n.saturating_sub(1)) {
            pointer.push('/');
            match frame {
                Frame::Seq { items, .. } => pointer.push_str(&items.len().to_string()),
                Frame::Map { pending_key, .. } => {
                    if let Some(k) = pending_key {
                        pointer.push_str(&kubectl_vllm_core::Pointer::escape(&k.key));
                    }
                }
            }
        }
        pointer
    }
}

fn finish(frame: Frame, end_span: Span) -> Result<(Node, usize), String> {
    Ok(match frame {
        Frame::Seq {
            start,
            end,
            flow,
            anchor,
            items,
        } => (
            collection(Value::Seq(items), start, end, flow, end_span),
            anchor,
        ),
        Frame::Map {
            start,
            end,
            flow,
            anchor,
            mut entries,
            mut index,
            merges,
            ..
        } => {
            for source in merges {
                let sources = match source.value {
                    Value::Map(_) => vec![source],
                    Value::Seq(items) => items,
                    _ => return Err("the value of a `<<` merge key must be a mapping".into()),
                };
                for source in sources {
                    let Value::Map(merged) = source.value else {
                        return Err("the value of a `<<` merge key must be a mapping".into());
                    };
                    for mut entry in merged {
                        if !index.contains_key(&entry.key) {
                            entry.merged = true;
                            index.insert(entry.key.clone(), entries.len());
                            entries.push(entry);
                        }
                    }
                }
            }
            (
                collection(Value::Map(entries), start, end, flow, end_span),
                anchor,
            )
        }
    })
}

/// A finished collection: a flow one ends at its closing bracket, a block one at its last child.
fn collection(
    value: Value,
    start: usize,
    last_child_end: usize,
    flow: bool,
    end_event: Span,
) -> Node {
    let end = if flow { end_event.end } else { last_child_end };
    Node {
        value,
        span: Span::new(start, end.max(start)),
        style: if flow {
            NodeStyle::FlowCollection
        } else {
            NodeStyle::BlockCollection
        },
        aliased: false,
    }
}

fn node_count(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(node_count).sum(),
        Value::Map(entries) => entries.iter().map(|e| node_count(&e.value)).sum(),
        _ => 0,
    }
}

/// Levels of collections in `node` (a scalar is 0).
fn node_depth(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(node_depth).max().unwrap_or(0),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|e| node_depth(&e.value))
                .max()
                .unwrap_or(0)
        }
        _ => 0,
    }
}

fn mark_aliased(node: &mut Node) {
    node.aliased = true;
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(mark_aliased),
        Value::Map(entries) => entries.iter_mut().for_each(|e| mark_aliased(&mut e.value)),
        _ => {}
    }
}

/// A mapping key as Kubernetes sees it: scalars resolve, then print as JSON object keys do.
fn key_string(node: &Node) -> Result<String, String> {
    Ok(match &node.value {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Seq(_) | Value::Map(_) => {
            return Err("a mapping or sequence cannot be a mapping key here".into());
        }
    })
}

fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(tag) = tag
        && let Some(suffix) = tag.core_suffix()
    {
        return match suffix {
            "str" => Ok(Value::String(text.to_string())),
            "null" => Ok(Value::Null),
            "bool" => resolve_bool(text)
                .map(Value::Bool)
                .ok_or_else(|| format!("`{text}` is not a boolean")),
            "int" => resolve_int(text)
                .map(Value::Number)
                .ok_or_else(|| format!("`{text}` is not an integer")),
            "float" => resolve_number(text),
            _ => resolve_plain(text),
        };
    }
    match style {
        ScalarStyle::Plain => resolve_plain(text),
        _ => Ok(Value::String(text.to_string())),
    }
}

/// Resolves a plain scalar the way sigs.k8s.io/yaml (YAML 1.1) does.
///
/// # Errors
/// `.inf` and `.nan` cannot be represented in JSON; Kubernetes fails to load them too.
pub fn resolve_plain(text: &str) -> Result<Value, String> {
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Ok(Value::Null);
    }
    if let Some(b) = resolve_bool(text) {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = resolve_int(text) {
        return Ok(Value::Number(n));
    }
    let first = text.as_bytes()[0];
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.') {
        return resolve_number(text).or_else(|e| {
            if e.is_empty() {
                Ok(Value::String(text.to_string()))
            } else {
                Err(e)
            }
        });
    }
    Ok(Value::String(text.to_string()))
}

fn resolve_bool(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            Some(false)
        }
        _ => None,
    }
}

fn resolve_int(text: &str) -> Option<Number> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() || body.starts_with('_') {
        return None;
    }
    let digits: String = body.chars().filter(|&c| c != '_').collect();
    let (radix, digits) = if let Some(d) = digits.strip_prefix("0x") {
        (16, d.to_string())
    } else if let Some(d) = digits.strip_prefix("0o") {
        (8, d.to_string())
    } else if let Some(d) = digits.strip_prefix("0b") {
        (2, d.to_string())
    } else if digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b <= b'7') {
        (8, digits[1..].to_string())
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(&digits, radix).ok()?;
    if negative {
        let value = i64::try_from(magnitude).ok()?;
        Some(Number::from(-value))
    } else {
        Some(Number::from(magnitude))
    }
}

/// Floats; an empty error means "not a number, keep the string".
fn resolve_number(text: &str) -> Result<Value, String> {
    let lower = text.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['-', '+']);
    if matches!(unsigned, ".inf" | ".nan" | "nan" | "inf") {
        return Err(format!(
            "`{text}` is not representable in JSON (Kubernetes cannot load it); quote it if it is a string"
        ));
    }
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let looks_numeric = cleaned
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        && cleaned.chars().any(|c| c.is_ascii_digit());
    if !looks_numeric {
        return Err(String::new());
    }
    let Ok(f) = cleaned.parse::<f64>() else {
        return Err(String::new());
    };
    Ok(Value::Number(float_number(f)))
}

/// A float as JSON prints it in Kubernetes: whole numbers without a fraction.
fn float_number(f: f64) -> Number {
    #[allow(clippy::cast_precision_loss)]
    const EXACT: f64 = (1u64 << 53) as f64;
    if f.fract() == 0.0 && f.abs() < EXACT {
        #[allow(clippy::cast_possible_truncation)]
        return Number::from(f as i64);
    }
    Number::from_f64(f).unwrap_or_else(|| Number::from(0))
}

impl Node {
    /// The node as JSON, as Kubernetes would see it.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => items.iter().map(Node::to_json).collect(),
            Value::Map(entries) => entries
                .iter()
                .map(|e| (e.key.clone(), e.value.to_json()))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        }
    }

    /// The entry with this key, when the node is a mapping.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The span a finding on this node should point at: a mapping's first key (what a user sees
    /// after `- `), else the node itself.
    #[must_use]
    pub fn anchor_span(&self) -> Span {
        match &self.value {
            Value::Map(entries) if !entries.is_empty() => entries
                .iter()
                .filter(|e| !e.merged)
                .map(|e| e.key_span)
                .min()
                .unwrap_or(entries[0].key_span),
            _ => self.span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> serde_json::Value {
        let stream = parse(text);
        assert!(stream.errors.is_empty(), "{:?}", stream.errors);
        stream.documents[0].root.to_json()
    }

    #[test]
    fn yaml_1_1_scalars_resolve_like_kubernetes() {
        let v = json(
            "a: yes\nb: off\nc: 0777\nd: 010\ne: 08\nf: 0x1F\ng: 1_000\nh: 0b101\ni: 12:30\n\
             j: 1e3\nk: 1.0\nl: '0777'\nm: ~\nt: 2024-01-02\no: !!str yes\np: -0777\nq: 0o8\nr: 1.5\n",
        );
        let expected = serde_json::json!({
            "a": true, "b": false, "c": 511, "d": 8, "e": 8, "f": 31, "g": 1000, "h": 5,
            "i": "12:30", "j": 1000, "k": 1, "l": "0777", "m": null, "t": "2024-01-02",
            "o": "yes", "p": -511, "q": "0o8", "r": 1.5
        });
        assert_eq!(v, expected);
    }

    #[test]
    fn keys_resolve_too() {
        assert_eq!(
            json("on: 1\nn: 2\n"),
            serde_json::json!({"true": 1, "false": 2})
        );
    }

    #[test]
    fn infinity_is_an_error() {
        let stream = parse("a: .inf\n");
        assert_eq!(stream.errors.len(), 1);
        assert!(stream.errors[0].message.contains("not representable"));
    }

    #[test]
    fn duplicate_keys_last_wins_and_both_are_reported() {
        let text = "a: 1\nb: {x: 1, \"x\": 2}\na: 3\nc:\n  - k: 1\n    k: 2\n";
        let stream = parse(text);
        assert_eq!(
            stream.documents[0].root.to_json(),
            serde_json::json!({"a": 3, "b": {"x": 2}, "c": [{"k": 2}]})
        );
        let found: Vec<_> = stream
            .duplicates
            .iter()
            .map(|d| (d.pointer.as_str(), &text[d.second.range()]))
            .collect();
        assert_eq!(found, vec![("/b/x", "\"x\""), ("/a", "a"), ("/c/0/k", "k")]);
        let a = &stream.duplicates[1];
        assert_eq!(a.first.start, 0);
        assert_eq!(a.second.start, text.find("a: 3").unwrap());
    }

    #[test]
    fn merge_keys_merge_and_explicit_keys_win() {
        let v = json("base: &b {x: 1, z: 2}\nother:\n  z: 3\n  <<: *b\n");
        assert_eq!(v["other"], serde_json::json!({"z": 3, "x": 1}));
        let v = json("a: &a {p: 1}\nb: &b {p: 2, q: 2}\nc:\n  <<: [*a, *b]\n");
        assert_eq!(v["c"], serde_json::json!({"p": 1, "q": 2}));
    }

    #[test]
    fn recovers_at_the_next_document() {
        let text = "a: 1\n---\nbroken: [1, 2\n---\nc: 3\n";
        let stream = parse(text);
        assert_eq!(stream.errors.len(), 1);
        assert_eq!(stream.errors[0].document, 1);
        let docs: Vec<_> = stream.documents.iter().map(|d| d.index).collect();
        assert_eq!(docs, vec![0, 2]);
        assert_eq!(
            stream.documents[1].root.to_json(),
            serde_json::json!({"c": 3})
        );
    }

    #[test]
    fn documents_know_their_byte_ranges() {
        let text = "a: 1\n---\nb: 2\n...\n---\nc: 3\n";
        let stream = parse(text);
        let ranges: Vec<&str> = stream
            .documents
            .iter()
            .map(|d| &text[d.span.range()])
            .collect();
        assert!(ranges[0].starts_with("a: 1"), "{ranges:?}");
        assert!(ranges[1].starts_with("---\nb: 2"), "{ranges:?}");
        assert!(ranges[1].contains("..."), "{ranges:?}");
        assert!(ranges[2].starts_with("---\nc: 3"), "{ranges:?}");
        assert!(!ranges[0].contains("b:"), "{ranges:?}");
    }

    #[test]
    fn empty_documents_are_counted() {
        let stream = parse("a: 1\n---\n# only a comment\n---\nb: 2\n");
        let docs: Vec<_> = stream
            .documents
            .iter()
            .map(|d| (d.index, d.root.value == Value::Null))
            .collect();
        assert_eq!(docs, vec![(0, false), (1, true), (2, false)]);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000) + &"]".repeat(100_000);
        let stream = parse(&text);
        assert_eq!(stream.errors.len(), 1);
        // The depth bound stops it, so the recursive walks over our tree (to_json, locate) never
        // see a stack-deep document.
        assert!(
            stream.errors[0]
                .message
                .starts_with("mappings and sequences nest more than 512 levels deep"),
            "{}",
            stream.errors[0].message
        );
        assert_eq!(stream.errors[0].limit, Some(Limit::Depth));
        // Within the bound (past granit's default of 255), block and flow: parsed.
        let mut block = String::new();
        for i in 0..400 {
            block.push_str(&" ".repeat(i));
            block.push_str("a:\n");
        }
        block.push_str(&" ".repeat(400));
        block.push_str("b: 1\n");
        assert!(
            parse(&block).errors.is_empty(),
            "{:?}",
            parse(&block).errors
        );
        let flow = "[".repeat(500) + &"]".repeat(500);
        assert!(parse(&flow).errors.is_empty());
        // Aliases count: a 300-deep anchor used 300 levels down is 600 deep.
        let deep = "[".repeat(300) + "1" + &"]".repeat(300);
        let aliased = format!(
            "a: &x {deep}\nb: {}*x{}\n",
            "[".repeat(299),
            "]".repeat(299)
        );
        let errors = parse(&aliased).errors;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].limit, Some(Limit::Depth));
    }

    #[test]
    fn tab_after_colon_is_accepted_like_kubectl() {
        assert_eq!(json("a:\t1\n"), serde_json::json!({"a": 1}));
    }
}
