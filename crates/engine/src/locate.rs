//! Placing findings: from an object and a pointer inside it to a file, a region and the object's
//! identity. The engine alone turns policies' JSON Pointers into source locations.

use kubectl_vllm_core::{Pointer, RuleMeta};
use kubectl_vllm_manifest::{Manifests, Object, SourceFile, Span};

use crate::report::{Finding, Region, RenderedAt};

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
        if self.manifests.rendering(object).is_some() {
            self.carry(&mut finding, object, &pointer);
        }
        finding.pointer = Some(pointer);
        finding
    }

    /// Carries a finding about a rendered object to the source file it came from, when it can
    /// be traced there, and says how the object was rendered.
    fn carry(self, finding: &mut Finding, object: &Object, pointer: &Pointer) {
        let Some(rendered) = self.manifests.rendering(object) else {
            return;
        };
        let origin = self.manifests.origin(object).map(|(_, o)| o);
        let trace = self.manifests.trace(object, pointer);
        let mut at = RenderedAt {
            by: rendered.by,
            from: rendered.from.clone(),
            document: object.document,
            source: origin.map(|o| o.path.clone()),
            source_document: None,
            source_pointer: None,
            note: match origin {
                Some(o) if o.file.is_none() => Some(format!(
                    "its source `{}` is not a local file; shown where it was rendered",
                    o.path
                )),
                None => Some("the renderer did not say which file the object came from".into()),
                Some(_) => None,
            },
        };
        if let Some(trace) = trace {
            let source = &self.manifests.files[trace.file].source;
            finding.file.clone_from(&source.name);
            finding.region = trace
                .span
                .map(|span| region(source, trace.file, span, !trace.exact));
            at.note = trace.note;
            at.source_pointer = trace.pointer;
            // The document of the source file the finding now points into.
            let documents = &self.manifests.files[trace.file].documents;
            at.source_document = trace.span.and_then(|span| {
                documents
                    .iter()
                    .find(|d| {
                        d.span.start <= span.start && span.start < d.span.end.max(d.span.start + 1)
                    })
                    .map(|d| d.index)
            });
        }
        finding.rendered = Some(at);
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
        let (file, node) = if self.manifests.rendering(object).is_some() {
            match self.manifests.trace(object, pointer) {
                Some(trace) if trace.exact => match trace.node {
                    Some(node) => (trace.file, node),
                    None => return,
                },
                _ => return,
            }
        } else {
            let Some(located) = self.manifests.locate(object, pointer) else {
                return;
            };
            match located.node_span.filter(|_| located.exact) {
                Some(node) => (object.file, node),
                None => return,
            }
        };
        let wanted: String = value
            .chars()
            .skip(start as usize)
            .take(end.saturating_sub(start) as usize)
            .collect();
        if wanted.is_empty() {
            return;
        }
        let source = &self.manifests.files[file].source;
        let raw = &source.text[node.range()];
        if let Some(at) = raw.find(&wanted) {
            let span = Span::new(node.start + at, node.start + at + wanted.len());
            finding.region = Some(region(source, file, span, false));
        }
    }

    /// Where `pointer` of `object` is, as `deploy.yaml:31` (or just the file name).
    pub fn describe(self, object: &Object, pointer: &Pointer) -> String {
        if let Some(trace) = self.manifests.trace(object, pointer) {
            let file = &self.manifests.files[trace.file].source;
            return match trace.span {
                Some(span) => format!("at {}:{}", file.name, file.position(span.start).line),
                None => format!("in {}", file.name),
            };
        }
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
