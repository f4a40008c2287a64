//! A loaded file's documents without their trees: where each `---` document is, and its span tree
//! parsed again from the file's text when something first asks for it.
//!
//! A document's tree (every node with its span) takes about eight times the document's text; the
//! objects are taken from it while the file loads, and afterwards only the documents a finding,
//! a fix or `apply` points into need it again. Keeping trees for every document made memory grow
//! at 18× the input (issue 15); parsing one document again costs what loading it did (~35 µs for
//! a Deployment) and happens once per document.

use std::sync::OnceLock;

use crate::limits::InputLimits;
use crate::source::Span;
use crate::yaml::{self, Node, Value};

/// One non-empty `---` document of a file.
#[derive(Debug, Clone)]
pub struct LoadedDocument {
    /// 0-based index among the file's documents, empty ones counted.
    pub index: usize,
    /// The document's bytes (see [`yaml::Document::span`]).
    pub span: Span,
    /// The root node's span, to check a tree parsed again.
    root_span: Span,
    /// The root's anchor span ([`Node::anchor_span`]): findings about the whole document.
    pub anchor: Span,
    /// The tree, once parsed again.
    tree: OnceLock<Node>,
}

impl LoadedDocument {
    /// Keeps where `document` is; its tree is dropped with it.
    #[must_use]
    pub fn new(document: &yaml::Document) -> Self {
        Self {
            index: document.index,
            span: document.span,
            root_span: document.root.span,
            anchor: document.root.anchor_span(),
            tree: OnceLock::new(),
        }
    }

    /// Keeps where `document` is, and its tree (a document the loader did not parse, see
    /// [`crate::json`]).
    #[must_use]
    pub fn with_tree(document: yaml::Document) -> Self {
        let loaded = Self::new(&document);
        loaded
            .tree
            .set(document.root)
            .expect("a new document has no tree yet");
        loaded
    }

    /// The document's tree, spans in `text` (the file's text): parsed again from the document's
    /// bytes the first time, or from the whole file when the document does not parse the same on
    /// its own (a `%TAG` directive before it).
    pub fn tree(&self, text: &str) -> &Node {
        self.tree.get_or_init(|| {
            self.parse_alone(text).unwrap_or_else(|| {
                yaml::parse_with(text, &InputLimits::unbounded())
                    .documents
                    .into_iter()
                    .find(|d| d.index == self.index)
                    .map_or_else(|| null(self.root_span), |d| d.root)
            })
        })
    }

    /// The tree from the document's own bytes (from the start of its first line, so that an
    /// indented first document keeps its indentation), if that gives the same root.
    fn parse_alone(&self, text: &str) -> Option<Node> {
        let line = text[..self.span.start].rfind('\n').map_or(0, |i| i + 1);
        let start = if text[line..self.span.start].trim().is_empty() {
            line
        } else {
            self.span.start
        };
        let stream = yaml::parse_with(&text[start..self.span.end], &InputLimits::unbounded());
        if !stream.errors.is_empty() {
            return None;
        }
        let mut roots = stream
            .documents
            .into_iter()
            .filter(|d| d.root.value != Value::Null);
        let (Some(document), None) = (roots.next(), roots.next()) else {
            return None;
        };
        let mut root = document.root;
        shift(&mut root, start);
        (root.span == self.root_span && root.anchor_span() == self.anchor).then_some(root)
    }
}

fn null(span: Span) -> Node {
    Node {
        value: Value::Null,
        span,
        style: yaml::NodeStyle::Plain,
        aliased: false,
    }
}

/// Moves every span of `node` by `offset` bytes.
fn shift(node: &mut Node, offset: usize) {
    let by = |span: &mut Span| *span = Span::new(span.start + offset, span.end + offset);
    by(&mut node.span);
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|item| shift(item, offset)),
        Value::Map(entries) => {
            for entry in entries {
                by(&mut entry.key_span);
                shift(&mut entry.value, offset);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every document of `text`, parsed again on its own, equals the tree the whole stream gave.
    fn same_trees(text: &str) {
        let stream = yaml::parse(text);
        for document in stream
            .documents
            .iter()
            .filter(|d| d.root.value != Value::Null)
        {
            let loaded = LoadedDocument::new(document);
            assert_eq!(
                loaded.tree(text),
                &document.root,
                "document {}",
                document.index
            );
            assert!(
                loaded.parse_alone(text).is_some() || text.contains("%TAG"),
                "document {} needed the whole file",
                document.index
            );
        }
    }

    #[test]
    fn documents_parse_again_to_the_same_tree() {
        same_trees("a: 1\n---\nb: [1, 2]\n---\n# c\nc:\n  d: &x {e: 1}\n  f: *x\n");
        same_trees("  indented: 1\n  second: 2\n---\nx: 1\n");
        same_trees("# only a comment first\n\nkind: A\n...\n---\nkind: B\n");
        same_trees("a: 1\r\n---\r\nb: 2\r\n");
        same_trees("--- |\n  text\n--- {a: 1}\n");
        same_trees(
            "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{\"a\": \"日本😀\"}]}",
        );
        same_trees("%YAML 1.1\n---\na: 1\n---\nb: 2\n");
        same_trees("base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n");
    }

    #[test]
    fn a_tag_directive_falls_back_to_the_whole_file() {
        let text = "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n";
        same_trees(text);
    }

    #[test]
    fn every_fixture_of_the_repository_parses_again_to_the_same_trees() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        let mut files = 0;
        for entry in ignore::WalkBuilder::new(&root).hidden(false).build() {
            let path = entry.expect("walkable").into_path();
            if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue; // the binary and invalid-UTF-8 fixtures
                };
                same_trees(&text);
                files += 1;
            }
        }
        assert!(
            files > 100,
            "only {files} fixture files found under {}",
            root.display()
        );
    }
}
