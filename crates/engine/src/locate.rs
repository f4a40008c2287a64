//! Placing findings: from an object and a pointer inside it to a file, a region and the object's
//! identity. The engine alone turns policies' JSON Pointers into source locations.

use kubectl_vllm_core::{Pointer, RuleMeta};
use kubectl_vllm_manifest::{Manifests, Object, SourceFile, Span};

use crate::report::{Finding, Region};

/// Locates findings in one input set.
#[derive(Clone, Copy)]
pub(crate) struct Locator<'a> {
    pub manifests: &'a Manifests,
}

impl<'a> Locator<'a> {
    pub fn new(manifests: &'a Manifests) -> Self {
        Self { manifests }
    }

    /// A finding of rule `T` about `object` at `pointer`.
    pub fn finding<T: RuleMeta>(
        self,
        object: &Object,
        pointer: Pointer,
        message: impl Into<String>,
    ) -> Finding {
        self.place(Finding::of::<T>(String::new(), message), object, pointer)
    }

    /// `finding` about `object` at `pointer` (relative to the object), located with the
    /// nearest-ancestor fallback.
    pub fn place(self, mut finding: Finding, object: &Object, pointer: Pointer) -> Finding {
        let file = &self.manifests.files[object.file];
        finding.file.clone_from(&file.source.name);
        finding.object = Some(object.id());
        finding.resource = Some(object.reference.clone());
        if let Some(located) = self.manifests.locate(object, &pointer) {
            finding.region = Some(region(
                &file.source,
                object.file,
                located.span,
                !located.exact,
            ));
        }
        finding.pointer = Some(pointer);
        finding
    }

    /// Moves `finding`'s region onto characters `start..end` of the scalar at `pointer` in
    /// `object`, found in the scalar's source text (so quoting and block scalars are handled);
    /// unchanged if not found.
    pub fn narrow(
        self,
        finding: &mut Finding,
        object: &Object,
        pointer: &Pointer,
        sub: (u32, u32),
    ) {
        let (start, end) = sub;
        let Some(value) = object
            .json
            .pointer(pointer.as_str())
            .and_then(|v| v.as_str())
        else {
            return;
        };
        let Some(located) = self.manifests.locate(object, pointer) else {
            return;
        };
        let Some(node) = located.node_span.filter(|_| located.exact) else {
            return;
        };
        let wanted: String = value
            .chars()
            .skip(start as usize)
            .take(end.saturating_sub(start) as usize)
            .collect();
        if wanted.is_empty() {
            return;
        }
        let source = &self.manifests.files[object.file].source;
        let raw = &source.text[node.range()];
        if let Some(at) = raw.find(&wanted) {
            let span = Span::new(node.start + at, node.start + at + wanted.len());
            finding.region = Some(region(source, object.file, span, false));
        }
    }

    /// Where `pointer` of `object` is, as `deploy.yaml:31` (or just the file name).
    pub fn describe(self, object: &Object, pointer: &Pointer) -> String {
        let file = &self.manifests.files[object.file].source;
        match self.manifests.locate(object, pointer) {
            Some(located) => {
                let at = file.position(located.span.start);
                format!("at {}:{}", file.name, at.line)
            }
            None => format!("in {}", file.name),
        }
    }
}

/// The region of `span` in file number `file`.
pub(crate) fn region(source: &SourceFile, file: usize, span: Span, inexact: bool) -> Region {
    let start = source.position(span.start);
    let end = source.position(span.end);
    Region {
        file,
        span,
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
        inexact,
    }
}
