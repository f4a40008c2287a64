//! JSON Pointer → span: the one module that turns a policy's symbolic location into source text.

use crate::source::Span;
use crate::yaml::{Node, Value};

/// Where a pointer landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    /// The span to report: the field's key, an array element's first key, or a scalar.
    pub span: Span,
    /// The node the pointer names, when it exists: for sub-spans and patches.
    pub node_span: Option<Span>,
    /// Whether the whole pointer resolved (false: `span` is the nearest existing ancestor).
    pub exact: bool,
    /// Whether the node was reached through an alias or a `<<` merge (editing it edits the anchor).
    pub shared: bool,
}

/// Splits an RFC 6901 pointer into unescaped tokens.
///
/// # Errors
/// A non-empty pointer must start with `/`, and `~` must be followed by `0` or `1`.
pub fn parse_pointer(pointer: &str) -> Result<Vec<String>, String> {
    let pointer = kubectl_vllm_core::Pointer::parse(pointer).map_err(|e| e.to_string())?;
    Ok(pointer.tokens().map(std::borrow::Cow::into_owned).collect())
}

/// Resolves `tokens` from `root`, falling back to the deepest existing ancestor.
#[must_use]
pub fn locate(root: &Node, tokens: &[String]) -> Located {
    let mut node = root;
    let mut span = root.anchor_span();
    let mut shared = root.aliased;
    for token in tokens {
        let next = match &node.value {
            Value::Map(entries) => entries.iter().find(|e| &e.key == token).map(|e| {
                shared |= e.merged;
                (e.key_span, &e.value)
            }),
            Value::Seq(items) => token
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .map(|item| (item.anchor_span(), item)),
            _ => None,
        };
        let Some((next_span, next_node)) = next else {
            return Located {
                span,
                node_span: None,
                exact: false,
                shared,
            };
        };
        span = next_span;
        node = next_node;
        shared |= node.aliased;
    }
    Located {
        span,
        node_span: Some(node.span),
        exact: true,
        shared,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Position, SourceFile};
    use crate::yaml::parse;

    /// Locates `pointer` in document `doc` of `text` and returns (line, column, end column, exact).
    fn at(text: &str, doc: usize, pointer: &str) -> (usize, usize, usize, bool) {
        let file = SourceFile::new("t.yaml", text);
        let stream = parse(text);
        assert!(stream.errors.is_empty(), "{:?}", stream.errors);
        let document = stream.documents.iter().find(|d| d.index == doc).unwrap();
        let found = locate(&document.root, &parse_pointer(pointer).unwrap());
        let Position { line, column } = file.position(found.span.start);
        let end = file.position(found.span.end);
        (line, column, end.column, found.exact)
    }

    #[test]
    fn later_documents_of_a_multi_document_file() {
        let text = "kind: A\n---\nkind: B\nspec:\n  replicas: 2\n";
        assert_eq!(at(text, 1, "/spec/replicas"), (5, 3, 11, true));
    }

    #[test]
    fn non_ascii_text_before_the_field() {
        let text = "metadata:\n  annotations: {note: \"日本語😀\", x: 1}\n";
        assert_eq!(at(text, 0, "/metadata/annotations/x"), (2, 31, 32, true));
    }

    #[test]
    fn crlf_files() {
        let text = "a: 1\r\nspec:\r\n  b: 2\r\n";
        assert_eq!(at(text, 0, "/spec/b"), (3, 3, 4, true));
    }

    #[test]
    fn flow_style() {
        let text = "resources:\n  limits: {cpu: 1, memory: 2Gi}\n";
        assert_eq!(at(text, 0, "/resources/limits/memory"), (2, 20, 26, true));
    }

    #[test]
    fn keys_with_a_slash() {
        let text = "limits:\n  nvidia.com/gpu: 1\n";
        assert_eq!(at(text, 0, "/limits/nvidia.com~1gpu"), (2, 3, 17, true));
    }

    #[test]
    fn array_elements_point_at_their_first_key() {
        let text = "containers:\n- name: a\n  image: x\n-   name: b\n";
        assert_eq!(at(text, 0, "/containers/1"), (4, 5, 9, true));
        assert_eq!(at(text, 0, "/containers/0/image"), (3, 3, 8, true));
    }

    #[test]
    fn missing_fields_fall_back_to_the_nearest_ancestor() {
        let text = "spec:\n  template:\n    spec: {}\n";
        assert_eq!(
            at(text, 0, "/spec/template/spec/volumes/0/name"),
            (3, 5, 9, false)
        );
    }

    #[test]
    fn quoted_keys_and_values() {
        let text = "\"a\": 'b'\n";
        assert_eq!(at(text, 0, "/a"), (1, 1, 4, true));
    }

    #[test]
    fn escapes_in_pointers() {
        assert_eq!(
            parse_pointer("/a~1b/c~0d").unwrap(),
            vec!["a/b".to_string(), "c~d".to_string()]
        );
        assert!(parse_pointer("a").is_err());
        assert!(parse_pointer("/a~2").is_err());
    }

    #[test]
    fn aliases_point_at_the_anchor_and_are_shared() {
        let text = "a: &x {k: 1}\nb: *x\n";
        let stream = parse(text);
        let found = locate(&stream.documents[0].root, &parse_pointer("/b/k").unwrap());
        assert!(found.shared);
        assert_eq!(found.span.start, text.find('k').unwrap());
    }
}
