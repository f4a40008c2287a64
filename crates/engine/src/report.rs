//! The finding model every front end and emitter works from: typed, located, tied to its object.
//! The JSON report's frozen wire format (version 1) is a separate type in `kubectl-vllm-emit`.

use kubectl_vllm_core::{Applicability, Pointer, RuleId, RuleMeta, Severity, rule_id};
use kubectl_vllm_manifest::{ObjectId, Span};

/// The object a finding is about: the loader's identity of it.
pub use kubectl_vllm_manifest::ObjectRef as Resource;

/// One edit of a fix, relative to the finding's object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Replace the value at the pointer.
    Replace(Pointer, serde_json::Value),
    /// Add a mapping key, or insert into / append to (`-`) a sequence.
    Add(Pointer, serde_json::Value),
    /// Remove a mapping key or sequence item.
    Remove(Pointer),
    /// Remove the earlier occurrence of a key written twice, which the parser (and so the
    /// object) never saw: a change to the text only. The engine's own duplicate-key fix uses it;
    /// the contract has no such operation.
    DropShadowed(Pointer),
}

/// A fix: what it does, how safe it is, and its edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// Title, such as `set sizeLimit to 16Gi`.
    pub title: String,
    /// How safe it is; decides whether `fix` applies it.
    pub applicability: Applicability,
    /// The edits, relative to the object.
    pub edits: Vec<Edit>,
}

/// Where in its file a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Index of the file in the run.
    pub file: usize,
    /// Byte span in the file.
    pub span: Span,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in Unicode scalar values.
    pub column: usize,
    /// End line.
    pub end_line: usize,
    /// End column, exclusive.
    pub end_column: usize,
    /// Whether the span is the nearest existing ancestor of a missing field.
    pub inexact: bool,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Rule.
    pub rule: RuleId,
    /// Effective severity (after the config's overrides).
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// How to repair it.
    pub help: Option<String>,
    /// File name as given (or the stdin name; empty for a finding about the whole run).
    pub file: String,
    /// Where in the file (`None`: no location, like an unreadable path).
    pub region: Option<Region>,
    /// The object (or, for a document that yielded no object, the document) it is about.
    pub object: Option<ObjectId>,
    /// Where in the object, relative to it.
    pub pointer: Option<Pointer>,
    /// Which object it is.
    pub resource: Option<Resource>,
    /// The policy that reported it (`None` for the host's own rules).
    pub policy: Option<String>,
    /// The fix, if any.
    pub fix: Option<Fix>,
    /// For an object a renderer made: how, and where the finding was carried to.
    pub rendered: Option<RenderedAt>,
}

/// How a finding's object was rendered (product.md, JSON: `rendered`). The finding's `file` and
/// `region` are in the source file a person edits when it could be traced there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedAt {
    /// The renderer.
    pub by: kubectl_vllm_manifest::Renderer,
    /// The kustomization directory or chart as named.
    pub from: String,
    /// The document in the rendered output.
    pub document: usize,
    /// The file the object came from (a kustomize resource or a chart template), as named.
    pub source: Option<String>,
    /// The document of the object in that file, when the finding was carried there.
    pub source_document: Option<usize>,
    /// The pointer in that document, when the finding was carried into YAML (list items matched
    /// by name, so `containers/0` rendered may be `containers/1` there).
    pub source_pointer: Option<Pointer>,
    /// Why the finding is not on the field itself (an overlay changed it, a template expression
    /// renders it, the source is not a local file).
    pub note: Option<String>,
}

impl Finding {
    /// A finding of rule `T` at its default severity, not located yet.
    #[must_use]
    pub fn of<T: RuleMeta>(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(rule_id::<T>(), T::SEVERITY, file, message)
    }

    /// A finding of `rule` at `severity`, not located yet.
    #[must_use]
    pub fn new(
        rule: RuleId,
        severity: Severity,
        file: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            rule,
            severity,
            message: message.into(),
            help: None,
            file: file.into(),
            region: None,
            object: None,
            pointer: None,
            resource: None,
            policy: None,
            fix: None,
            rendered: None,
        }
    }

    /// The same finding with `help`.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The pointer inside the finding's `---` document (inside a `kind: List`, starting with the
    /// item's `/items/N`), as reports and baselines show it.
    #[must_use]
    pub fn document_pointer(&self) -> Option<Pointer> {
        let pointer = self.pointer.as_ref()?;
        Some(match &self.object {
            Some(object) => object.document_pointer(pointer),
            None => pointer.clone(),
        })
    }

    /// The `---` document index in the file.
    #[must_use]
    pub fn document(&self) -> Option<usize> {
        self.object.as_ref().map(|o| o.document)
    }

    /// Whether `kubectl vllm fix` applies this finding's fix (`unsafe_fixes`: with
    /// `--unsafe-fixes`).
    #[must_use]
    pub fn fix_applies(&self, unsafe_fixes: bool) -> bool {
        self.fix
            .as_ref()
            .is_some_and(|f| f.applicability.applied(unsafe_fixes))
    }
}

/// Counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// Objects (documents, with `kind: List` items counted one by one).
    pub documents: usize,
    /// Findings with severity error.
    pub errors: usize,
    /// Findings with severity warning.
    pub warnings: usize,
    /// Findings with severity info.
    pub infos: usize,
    /// Findings hidden by suppressions.
    pub suppressed: usize,
}

/// A finding that a suppression hid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    /// The finding.
    pub finding: Finding,
    /// The annotation, config ignore or baseline that hid it, with its reason.
    pub suppressed_by: String,
}

/// What a run concludes, for exit codes and admission answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing at or above the threshold.
    Passed,
    /// A finding at or above the threshold.
    Findings,
    /// Something could not be processed: unreadable input, a failed policy.
    Failed,
}

/// The report of one run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Findings, ordered by file, line, column, rule.
    pub findings: Vec<Finding>,
    /// Counts.
    pub summary: Summary,
    /// Suppressed findings and what suppressed each.
    pub suppressed: Vec<Suppressed>,
    /// Whether something could not be processed.
    pub failed: bool,
}

impl Report {
    /// Sorts findings and computes the summary counts; `failed` when a finding of a rule that
    /// `unsuppressible` names (input and policy errors) is present.
    pub fn finish(&mut self, unsuppressible: impl Fn(&RuleId) -> bool) {
        self.findings.sort_by(|a, b| {
            let at = |f: &Finding| f.region.map(|r| (r.line, r.column));
            (&a.file, at(a), &a.rule, &a.message).cmp(&(&b.file, at(b), &b.rule, &b.message))
        });
        self.findings.dedup();
        self.summary.errors = self.count(Severity::Error);
        self.summary.warnings = self.count(Severity::Warning);
        self.summary.infos = self.count(Severity::Info);
        self.failed = self.findings.iter().any(|f| unsuppressible(&f.rule));
    }

    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// The verdict: failed when something could not be processed, else whether a finding is at
    /// or above `fail_on` (`None`: never).
    #[must_use]
    pub fn verdict(&self, fail_on: Option<Severity>) -> Verdict {
        if self.failed {
            Verdict::Failed
        } else if fail_on.is_some_and(|level| self.findings.iter().any(|f| f.severity >= level)) {
            Verdict::Findings
        } else {
            Verdict::Passed
        }
    }

    /// Findings whose fixes `kubectl vllm fix` applies: `(safe, unsafe)`.
    #[must_use]
    pub fn fixable(&self) -> (usize, usize) {
        let count = |a: Applicability| {
            self.findings
                .iter()
                .filter(|f| f.fix.as_ref().is_some_and(|x| x.applicability == a))
                .count()
        };
        (count(Applicability::Safe), count(Applicability::Unsafe))
    }
}
