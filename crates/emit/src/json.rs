//! The JSON report (product.md, version 1): a frozen wire type, separate from the engine's model,
//! so that the model can change while `-o json` stays what CI scripts parse. Its JSON Schema is
//! `schema/report.schema.json`. A change here is a new version, never an edit of this one.

use serde::Serialize;

use kubectl_vllm_engine::report::{self, Report};

use crate::emitter::{Context, Emitter, position};

/// `-o json`.
pub struct Json;

impl Emitter for Json {
    fn emit(&self, report: &Report, _: &Context) -> String {
        serde_json::to_string_pretty(&ReportV1::from(report)).expect("the report serializes") + "\n"
    }
}

/// The report of one run.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(title = "kubectl-vllm JSON report (-o json), version 1")]
#[schemars(rename = "Report")]
pub struct ReportV1 {
    /// Format version.
    pub version: u32,
    /// Findings, ordered by file, line, column, rule.
    pub findings: Vec<FindingV1>,
    /// Counts.
    pub summary: SummaryV1,
    /// Suppressed findings and what suppressed each (only in JSON with `--show-suppressed`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<SuppressedV1>,
}

/// One finding, located.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Finding")]
pub struct FindingV1 {
    /// Rule id.
    pub rule: String,
    /// Effective severity (after the config's overrides).
    pub severity: SeverityV1,
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
    pub resource: Option<ResourceV1>,
    /// The policy that reported it (`null` for the host's own rules).
    pub policy: Option<String>,
    /// The fix, if any.
    pub fix: Option<FixV1>,
    /// For rendered input (kustomize, Helm): how the object was produced. `file`, `line` and
    /// `column` then point at the source file a person edits when the field can be traced there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendered: Option<RenderedV1>,
}

/// How a rendered object was produced.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Rendered")]
pub struct RenderedV1 {
    /// `kustomize` or `helm`.
    pub by: String,
    /// The kustomization directory or chart, as named.
    pub from: String,
    /// 0-based document index in the rendered output.
    pub document: usize,
    /// JSON Pointer within the rendered object (the finding's `pointer` is within the object
    /// in `file`: list items are matched by name, so the two may differ).
    pub pointer: Option<String>,
    /// The file the object came from (a kustomize resource, a chart template), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Why the location is not the field itself (an overlay changed it, a template expression
    /// renders it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Severity, ordered error > warning > info.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Severity")]
pub enum SeverityV1 {
    /// Informational.
    Info,
    /// Likely failure.
    Warning,
    /// Will not work.
    Error,
}

/// The object a finding is about.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Resource")]
pub struct ResourceV1 {
    /// apiVersion.
    pub api_version: String,
    /// kind.
    pub kind: String,
    /// Namespace (`null` for cluster-scoped objects).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

/// A fix as reports show it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "FixSummary")]
pub struct FixV1 {
    /// Title.
    pub title: String,
    /// `safe`, `unsafe` or `display-only`.
    pub applicability: String,
}

/// Counts.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Summary")]
pub struct SummaryV1 {
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
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Suppressed")]
pub struct SuppressedV1 {
    /// The finding.
    #[serde(flatten)]
    pub finding: FindingV1,
    /// The annotation, config ignore or baseline that hid it, with its reason.
    pub suppressed_by: String,
}

impl From<&Report> for ReportV1 {
    fn from(report: &Report) -> Self {
        let s = &report.summary;
        Self {
            version: 1,
            findings: report.findings.iter().map(FindingV1::from).collect(),
            summary: SummaryV1 {
                files: s.files,
                documents: s.documents,
                errors: s.errors,
                warnings: s.warnings,
                infos: s.infos,
                suppressed: s.suppressed,
            },
            suppressed: report
                .suppressed
                .iter()
                .map(|s| SuppressedV1 {
                    finding: FindingV1::from(&s.finding),
                    suppressed_by: s.suppressed_by.clone(),
                })
                .collect(),
        }
    }
}

impl From<&report::Finding> for FindingV1 {
    fn from(f: &report::Finding) -> Self {
        let [line, column, end_line, end_column] = position(f);
        Self {
            rule: f.rule.to_string(),
            severity: match f.severity {
                kubectl_vllm_core::Severity::Info => SeverityV1::Info,
                kubectl_vllm_core::Severity::Warning => SeverityV1::Warning,
                kubectl_vllm_core::Severity::Error => SeverityV1::Error,
            },
            message: f.message.clone(),
            help: f.help.clone(),
            file: f.file.clone(),
            line,
            column,
            end_line,
            end_column,
            document: match &f.rendered {
                Some(r) if carried(f) => r.source_document,
                _ => f.document(),
            },
            pointer: match &f.rendered {
                Some(r) if carried(f) => r.source_pointer.as_ref().map(ToString::to_string),
                _ => f.document_pointer().map(|p| p.to_string()),
            },
            resource: f.resource.as_ref().map(|r| ResourceV1 {
                api_version: r.api_version.clone(),
                kind: r.kind.clone(),
                namespace: r.namespace.clone(),
                name: r.name.clone(),
            }),
            policy: f.policy.clone(),
            fix: f.fix.as_ref().map(|x| FixV1 {
                title: x.title.clone(),
                applicability: x.applicability.to_string(),
            }),
            rendered: f.rendered.as_ref().map(|r| RenderedV1 {
                by: r.by.name().to_string(),
                from: r.from.clone(),
                document: r.document,
                pointer: f.document_pointer().map(|p| p.to_string()),
                source: r.source.clone(),
                note: r.note.clone(),
            }),
        }
    }
}

/// Whether a rendered finding was carried into a source file (its region is not in the
/// rendered output).
fn carried(f: &report::Finding) -> bool {
    f.region
        .is_some_and(|g| Some(g.file) != f.object.as_ref().map(|o| o.file))
}

/// The JSON Schema of the version-1 report (`schema/report.schema.json`).
#[must_use]
pub fn schema() -> String {
    let schema = schemars::schema_for!(ReportV1);
    serde_json::to_string_pretty(&schema).expect("schema serializes") + "\n"
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn committed_report_schema_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/report.schema.json");
        let generated = super::schema();
        if std::env::var_os("KUBECTL_VLLM_BLESS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is stale: run `KUBECTL_VLLM_BLESS=1 cargo test -p kubectl-vllm-emit committed_report_schema`",
            path.display()
        );
    }
}
