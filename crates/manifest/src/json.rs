//! An object that arrives as JSON (an admission review's) written as indented JSON text together
//! with its tree: the same [`Document`] that [`yaml::parse`] of that text gives, spans and all,
//! without parsing it. Parsing an object's text twice (once to load it, once more for the tree a
//! finding is located in) cost the admission webhook a fifth of its time.

use std::fmt::Write as _;

use serde_json::Value as Json;

use crate::source::Span;
use crate::yaml::{self, Document, Entry, Node, NodeStyle, Value};

/// A character YAML does not take raw inside a double-quoted scalar (outside its printable set,
/// or a line break of its own).
fn needs_escape(c: char) -> bool {
    matches!(
        u32::from(c),
        0x7f..=0x9f | 0x2028 | 0x2029 | 0xfeff | 0xfffe | 0xffff
    )
}

/// Indentation of one level, as `serde_json::to_string_pretty` writes it.
const INDENT: &str = "  ";

/// The longest key, in characters as written (quotes included), written as JSON writes it. YAML
/// reads an implicit key only up to 1,024 characters; a longer one is written as an explicit
/// key (`? "…": value`), which YAML reads the same, whatever its length (found by the
/// `admission_review` fuzz target).
const IMPLICIT_KEY_CHARS: usize = 1000;

/// `value` as indented JSON text (what `serde_json::to_string_pretty` writes, but for the few
/// characters YAML takes only escaped and keys too long for YAML's implicit keys) and that text's
/// single document, as [`yaml::parse`] would resolve and locate it.
#[must_use]
pub fn document(value: &Json) -> (String, Document) {
    let mut writer = Writer::default();
    let root = writer.node(value, 0);
    let span = Span::new(0, writer.text.len());
    (
        writer.text,
        Document {
            index: 0,
            span,
            root,
        },
    )
}

#[derive(Default)]
struct Writer {
    text: String,
}

impl Writer {
    fn node(&mut self, value: &Json, depth: usize) -> Node {
        let start = self.text.len();
        let (value, style) = match value {
            Json::Null => (self.scalar("null", Value::Null), NodeStyle::Plain),
            Json::Bool(b) => (
                self.scalar(if *b { "true" } else { "false" }, Value::Bool(*b)),
                NodeStyle::Plain,
            ),
            Json::Number(n) => {
                let text = n.to_string();
                // Resolved as the parser resolves the plain scalar (`1.0` is the integer 1).
                let resolved = yaml::resolve_plain(&text).unwrap_or(Value::Number(n.clone()));
                (self.scalar(&text, resolved), NodeStyle::Plain)
            }
            Json::String(s) => {
                self.quoted(s);
                (Value::String(s.clone()), NodeStyle::Quoted)
            }
            Json::Array(items) => (self.seq(items, depth), NodeStyle::FlowCollection),
            Json::Object(members) => (self.map(members, depth), NodeStyle::FlowCollection),
        };
        Node {
            value,
            span: Span::new(start, self.text.len()),
            style,
            aliased: false,
        }
    }

    fn scalar(&mut self, text: &str, value: Value) -> Value {
        self.text.push_str(text);
        value
    }

    fn quoted(&mut self, s: &str) {
        let json = serde_json::to_string(s).expect("a string serializes");
        if !json.chars().any(needs_escape) {
            self.text.push_str(&json);
            return;
        }
        // JSON leaves DEL, C1 controls, line separators and non-characters raw; YAML refuses
        // them in a stream or folds them as line breaks (found by the `admission_review` fuzz
        // target): written as `\uXXXX`, which both read as the same character.
        for c in json.chars() {
            if needs_escape(c) {
                let _ = write!(self.text, "\\u{:04x}", u32::from(c));
            } else {
                self.text.push(c);
            }
        }
    }

    fn seq(&mut self, items: &[Json], depth: usize) -> Value {
        if items.is_empty() {
            self.text.push_str("[]");
            return Value::Seq(Vec::new());
        }
        self.text.push('[');
        let mut nodes = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            self.separator(i, depth + 1);
            nodes.push(self.node(item, depth + 1));
        }
        self.close(']', depth);
        Value::Seq(nodes)
    }

    fn map(&mut self, members: &serde_json::Map<String, Json>, depth: usize) -> Value {
        if members.is_empty() {
            self.text.push_str("{}");
            return Value::Map(Vec::new());
        }
        self.text.push('{');
        let mut entries = Vec::with_capacity(members.len());
        for (i, (key, value)) in members.iter().enumerate() {
            self.separator(i, depth + 1);
            let mut key_start = self.text.len();
            self.quoted(key);
            if self.text.len() - key_start > IMPLICIT_KEY_CHARS
                && self.text[key_start..].chars().count() > IMPLICIT_KEY_CHARS
            {
                self.text.insert_str(key_start, "? ");
                key_start += 2;
            }
            let key_span = Span::new(key_start, self.text.len());
            self.text.push_str(": ");
            entries.push(Entry {
                key: key.clone(),
                key_span,
                value: self.node(value, depth + 1),
                merged: false,
            });
        }
        self.close('}', depth);
        Value::Map(entries)
    }

    /// `,` before every element but the first, then a new line indented to `depth`.
    fn separator(&mut self, index: usize, depth: usize) {
        if index > 0 {
            self.text.push(',');
        }
        self.newline(depth);
    }

    fn close(&mut self, bracket: char, depth: usize) {
        self.newline(depth);
        self.text.push(bracket);
    }

    fn newline(&mut self, depth: usize) {
        self.text.push('\n');
        for _ in 0..depth {
            self.text.push_str(INDENT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The text is what serde_json writes, and its tree what the parser gives for it.
    fn same_as_parsed(value: &Json) {
        let (text, document) = document(value);
        let long_key = value
            .as_object()
            .is_some_and(|m| m.keys().any(|k| k.len() > IMPLICIT_KEY_CHARS / 4));
        if !long_key && !value.to_string().chars().any(needs_escape) {
            assert_eq!(text, serde_json::to_string_pretty(value).unwrap());
        }
        let stream = yaml::parse(&text);
        assert!(stream.errors.is_empty(), "{:?}", stream.errors);
        assert_eq!(stream.documents, vec![document], "{text}");
    }

    #[test]
    fn trees_equal_the_parsers_for_every_kind_of_value() {
        for value in [
            // Characters YAML takes only escaped (the admission_review fuzz target's find).
            json!({"a": "del \u{7f} nel \u{85} ls \u{2028} bom \u{feff} \u{9f}"}),
            json!({}),
            json!([]),
            json!({"a": [1, "x", null, true, false, 1.5, -3, 1e300, 1.0], "b": {}, "c": [],
                   "d": {"e": [[], [{}], {"f": "g"}]}}),
            json!({"quotes \" and \\ and \n": "tab\there", "ü": "ß ☃ 𝄞", "": "", "on": "yes",
                   "0777": "010", "~": "null", "- x": "# y", "a: b": "{c}"}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x",
                   "labels": {"app": "vllm"}}, "spec": {"replicas": 2, "template": {"spec": {
                   "containers": [{"name": "vllm", "args": ["--tensor-parallel-size=2"],
                   "resources": {"limits": {"nvidia.com/gpu": "2"}}}]}}}}),
            // Keys past YAML's 1,024-character implicit keys (the fuzz target's second find),
            // and one just under.
            json!({"k".repeat(1236): {"a": 1}, "b": 2}),
            json!({"ü".repeat(1100): [1], "x".repeat(IMPLICIT_KEY_CHARS - 2): "y"}),
            json!(u64::MAX),
            json!(i64::MIN),
            json!("a string at the root"),
        ] {
            same_as_parsed(&value);
        }
    }

    #[test]
    fn trees_equal_the_parsers_for_the_webhook_fixtures() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/webhook");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let review: Json =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                for side in ["object", "oldObject"] {
                    if let Some(object) = review["request"].get(side).filter(|o| !o.is_null()) {
                        same_as_parsed(object);
                        seen += 1;
                    }
                }
            }
        }
        assert!(seen >= 5, "{seen}");
    }
}
