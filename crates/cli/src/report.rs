//! The finding model every output format renders, and the JSON report (product.md, version 1).

use serde::Serialize;

use kubectl_vllm_manifest::Span;

/// Severity, ordered error > warning > info.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    schemars::JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Info,
    /// Likely failure.
    Warning,
    /// Will not work.
    Error,
}

impl Severity {
    /// The lower-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

impl From<kubectl_vllm_sdk::Severity> for Severity {
    fn from(s: kubectl_vllm_sdk::Severity) -> Self {
        match s {
            kubectl_vllm_sdk::Severity::Error => Self::Error,
            kubectl_vllm_sdk::Severity::Warning => Self::Warning,
            kubectl_vllm_sdk::Severity::Info => Self::Info,
        }
    }
}

impl From<kubectl_vllm_host::Severity> for Severity {
    fn from(s: kubectl_vllm_host::Severity) -> Self {
        match s {
            kubectl_vllm_host::Severity::Error => Self::Error,
            kubectl_vllm_host::Severity::Warning => Self::Warning,
            kubectl_vllm_host::Severity::Info => Self::Info,
        }
    }
}

/// The object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// apiVersion.
    pub api_version: String,
    /// kind.
    pub kind: String,
    /// Namespace (`null` for cluster-scoped objects).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl From<&kubectl_vllm_manifest::load::ObjectRef> for Resource {
    fn from(r: &kubectl_vllm_manifest::load::ObjectRef) -> Self {
        Self {
            api_version: r.api_version.clone(),
            kind: r.kind.clone(),
            namespace: r.namespace.clone(),
            name: r.name.clone(),
        }
    }
}

impl Resource {
    /// `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects.
    #[must_use]
    pub fn path(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

/// A fix as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FixSummary {
    /// Title.
    pub title: String,
    /// `safe`, `unsafe` or `display-only`.
    pub applicability: &'static str,
}

/// One finding, located.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    /// Rule id.
    pub rule: String,
    /// Effective severity (after the config's overrides).
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// How to repair it.
    pub help: Option<String>,
    /// File name as given (or the stdin name).
    pub file: String,
    /// 1-based line (`null` when the problem has no location, like an unreadable path).
    pub line: Option<usize>,
    /// 1-based column in Unicode scalar values.
    pub column: Option<usize>,
    /// End line.
    pub end_line: Option<usize>,
    /// End column, exclusive.
    pub end_column: Option<usize>,
    /// 0-based `---` document index in the file.
    pub document: Option<usize>,
    /// JSON Pointer within the object.
    pub pointer: Option<String>,
    /// The object.
    pub resource: Option<Resource>,
    /// The policy that reported it (`null` for the host's own rules).
    pub policy: Option<String>,
    /// The fix, if any.
    pub fix: Option<FixSummary>,
    /// Index of the file in the run, for rendering (not serialized).
    #[serde(skip)]
    #[schemars(skip)]
    pub file_index: Option<usize>,
    /// Byte span in the file, for rendering (not serialized).
    #[serde(skip)]
    #[schemars(skip)]
    pub span: Option<Span>,
    /// Whether the location is the nearest existing ancestor of a missing field.
    #[serde(skip)]
    #[schemars(skip)]
    pub inexact: bool,
    /// The fix's operations, relative to the object (not serialized).
    #[serde(skip)]
    #[schemars(skip)]
    pub patch: Option<Vec<kubectl_vllm_host::PatchOp>>,
}

impl Finding {
    /// An error-level finding with no location, object or fix yet.
    #[must_use]
    pub fn new(rule: &str, file: String, message: String) -> Self {
        Self {
            rule: rule.to_string(),
            severity: Severity::Error,
            message,
            help: None,
            file,
            line: None,
            column: None,
            end_line: None,
            end_column: None,
            document: None,
            pointer: None,
            resource: None,
            policy: None,
            fix: None,
            file_index: None,
            span: None,
            inexact: false,
            patch: None,
        }
    }
}

/// Counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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

/// The report of one run.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
#[schemars(title = "kubectl-vllm JSON report (-o json), version 1")]
pub struct Report {
    /// Format version.
    pub version: u32,
    /// Findings, ordered by file, line, column, rule.
    pub findings: Vec<Finding>,
    /// Counts.
    pub summary: Summary,
    /// Suppressed findings and what suppressed each (only in JSON with `--show-suppressed`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<Suppressed>,
    /// Whether something could not be processed (exit 2).
    #[serde(skip)]
    #[schemars(skip)]
    pub failed: bool,
}

/// A finding that a suppression hid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Suppressed {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// The annotation, config ignore or baseline that hid it, with its reason.
    pub suppressed_by: String,
}

/// The JSON Schema of the `-o json` report (`crates/cli/schema/report.schema.json`).
#[must_use]
pub fn schema() -> String {
    let schema = schemars::schema_for!(Report);
    serde_json::to_string_pretty(&schema).expect("schema serializes") + "\n"
}

impl Report {
    /// Sorts findings and computes the summary counts.
    pub fn finish(&mut self) {
        self.version = 1;
        self.findings.sort_by(|a, b| {
            (&a.file, a.line, a.column, &a.rule, &a.message)
                .cmp(&(&b.file, b.line, b.column, &b.rule, &b.message))
        });
        self.findings.dedup();
        self.summary.errors = self.count(Severity::Error);
        self.summary.warnings = self.count(Severity::Warning);
        self.summary.infos = self.count(Severity::Info);
        self.failed = self
            .findings
            .iter()
            .any(|f| crate::host_rules::UNSUPPRESSIBLE.contains(&f.rule.as_str()));
    }

    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// The exit code: 2 when something could not be processed, else 1 when a finding is at or
    /// above `fail_on` (`None`: never), else 0.
    #[must_use]
    pub fn exit_code(&self, fail_on: Option<Severity>) -> u8 {
        if self.failed {
            return 2;
        }
        u8::from(fail_on.is_some_and(|level| self.findings.iter().any(|f| f.severity >= level)))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn committed_report_schema_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json");
        let generated = super::schema();
        if std::env::var_os("KUBECTL_VLLM_BLESS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is stale: run `KUBECTL_VLLM_BLESS=1 cargo test -p kubectl-vllm committed_report_schema`",
            path.display()
        );
    }
}
