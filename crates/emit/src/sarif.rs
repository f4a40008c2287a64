//! SARIF 2.1.0, as GitHub code scanning reads it.
//!
//! One run; the driver lists the rules the results use (id, PascalCase name, short and full
//! description, help text and Markdown, `helpUri` to `docs/rules/<id>.md`). Results carry the
//! finding's exact region — the same line and column as the text output, columns counted in
//! Unicode code points (`columnKind`), end column exclusive as in SARIF — with the artifact URI
//! relative to the working directory (`%SRCROOT%`), the object as a logical location, and a
//! `partialFingerprints` entry that survives edits elsewhere in the file. Suppressed findings
//! (listed with `--show-suppressed`) appear with a `suppressions` entry, so code scanning closes
//! them instead of losing them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use kubectl_vllm_core::Severity;
use kubectl_vllm_engine::Registry;
use kubectl_vllm_engine::registry::RuleInfo;
use kubectl_vllm_engine::report::{Finding, Report, Resource};

use crate::emitter::{Context, Emitter, position};

/// Where the rule pages live unless the config's `docs-url` says otherwise.
pub const DEFAULT_DOCS_URL: &str =
    "https://github.com/kubectl-vllm/kubectl-vllm/blob/main/docs/rules";

/// The SARIF log: only rules with a page under the docs URL (the engine's and the embedded
/// policies') get a `helpUri`; the working directory anchors artifact URIs.
pub struct Sarif;

impl Emitter for Sarif {
    fn emit(&self, report: &Report, cx: &Context) -> String {
        sarif(report, cx.registry, cx.docs_url, cx.cwd)
    }
}

fn sarif(report: &Report, rules: &Registry, docs_url: &str, cwd: &Path) -> String {
    let suppressed = report
        .suppressed
        .iter()
        .map(|s| (&s.finding, Some(s.suppressed_by.as_str())));
    let findings: Vec<(&Finding, Option<&str>)> = report
        .findings
        .iter()
        .map(|f| (f, None))
        .chain(suppressed)
        .collect();
    // The rules the results use, in id order; `ruleIndex` points into this list.
    let used: BTreeMap<&str, usize> = {
        let mut ids: Vec<&str> = findings.iter().map(|(f, _)| f.rule.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().enumerate().map(|(i, id)| (id, i)).collect()
    };
    let descriptors: Vec<Value> = used
        .keys()
        .map(|id| match rules.get(id) {
            Some(row) => descriptor(row, row.documented.then_some(docs_url)),
            None => json!({ "id": id, "name": pascal_case(id) }),
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|(finding, suppressed_by)| {
            result(finding, used[finding.rule.as_str()], *suppressed_by, cwd)
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "kubectl-vllm",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/kubectl-vllm/kubectl-vllm",
                    "rules": descriptors,
                }
            },
            "invocations": [{ "executionSuccessful": !report.failed }],
            "originalUriBaseIds": {
                "%SRCROOT%": { "uri": directory_uri(cwd) }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).expect("the SARIF log serializes") + "\n"
}

/// A `reportingDescriptor` for one rule.
fn descriptor(row: &RuleInfo, docs_url: Option<&str>) -> Value {
    let mut rule = json!({
        "id": row.id,
        "name": pascal_case(row.id.as_str()),
        "shortDescription": { "text": row.summary },
        "fullDescription": { "text": what_it_does(&row.documentation).unwrap_or(&row.summary).split_whitespace().collect::<Vec<_>>().join(" ") },
        "help": { "text": row.documentation, "markdown": row.page() },
        "defaultConfiguration": { "level": level(row.severity) },
        "properties": {
            "tags": [row.policy().unwrap_or("host")],
        },
    });
    if let Some(base) = docs_url {
        rule["helpUri"] = json!(format!("{}/{}.md", base.trim_end_matches('/'), row.id));
    }
    rule
}

/// One `result`.
fn result(finding: &Finding, rule_index: usize, suppressed_by: Option<&str>, cwd: &Path) -> Value {
    let mut message = finding.message.clone();
    if let Some(help) = &finding.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let mut physical = json!({ "artifactLocation": artifact(&finding.file, cwd) });
    if let [Some(line), Some(column), end_line, end_column] = position(finding) {
        let mut region = json!({ "startLine": line, "startColumn": column });
        if let (Some(end_line), Some(end_column)) = (end_line, end_column) {
            region["endLine"] = json!(end_line);
            region["endColumn"] = json!(end_column);
        }
        physical["region"] = region;
    }
    let mut location = json!({ "physicalLocation": physical });
    if let Some(resource) = &finding.resource {
        location["logicalLocations"] = json!([{
            "fullyQualifiedName": resource.path(),
            "kind": "object",
        }]);
    }
    let mut result = json!({
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": { "text": message },
        "locations": [location],
        "partialFingerprints": { "kubectlVllm/v1": fingerprint(finding) },
    });
    if let Some(fix) = &finding.fix {
        result["properties"] =
            json!({ "fix": fix.title, "fixApplicability": fix.applicability.as_str() });
    }
    if let Some(by) = suppressed_by {
        let kind = if by.starts_with("annotation") {
            "inSource"
        } else {
            "external"
        };
        result["suppressions"] = json!([{ "kind": kind, "justification": by }]);
    }
    result
}

/// SARIF levels: `note` is SARIF's info.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// What identifies a finding across edits elsewhere in the file: rule, file, object and field
/// (not the line, which moves). Hex SHA-256, truncated to 128 bits.
fn fingerprint(finding: &Finding) -> String {
    let object = finding.resource.as_ref().map(Resource::path);
    let pointer = finding.document_pointer().unwrap_or_default();
    let key = [
        finding.rule.as_str(),
        finding.file.as_str(),
        object.as_deref().unwrap_or(""),
        pointer.as_str(),
        if finding.resource.is_none() {
            finding.message.as_str()
        } else {
            ""
        },
    ]
    .join("\0");
    let mut hex = kubectl_vllm_host::cache::sha256_hex(key.as_bytes());
    hex.truncate(32);
    hex
}

/// The `artifactLocation` of a file: relative to `%SRCROOT%` when it lies under `cwd` (or was
/// given relative), an absolute `file:` URI otherwise.
fn artifact(file: &str, cwd: &Path) -> Value {
    let path = Path::new(file);
    let relative = if path.is_absolute() {
        path.strip_prefix(cwd).ok()
    } else {
        Some(path)
    };
    match relative {
        Some(relative) => {
            let relative = relative.strip_prefix(".").unwrap_or(relative);
            json!({ "uri": encode_path(relative), "uriBaseId": "%SRCROOT%" })
        }
        None => json!({ "uri": format!("file://{}", encode_path(path)) }),
    }
}

/// `cwd` as a `file:` URI ending in `/`.
fn directory_uri(cwd: &Path) -> String {
    let mut uri = format!("file://{}", encode_path(cwd));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// A path as a URI path: components joined by `/` (on every platform), each percent-encoded
/// except RFC 3986's unreserved characters and the sub-delimiters safe in a path segment.
fn encode_path(path: &Path) -> String {
    let mut out = String::new();
    for (i, component) in path.components().enumerate() {
        use std::path::Component;
        let segment = match component {
            Component::RootDir => {
                out.push('/');
                continue;
            }
            Component::Prefix(prefix) => prefix.as_os_str().to_string_lossy(),
            other => other.as_os_str().to_string_lossy(),
        };
        if i > 0 && !out.ends_with('/') {
            out.push('/');
        }
        for byte in segment.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&byte) {
                out.push(char::from(byte));
            } else {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

/// `gke-accel-selector-missing` → `GkeAccelSelectorMissing` (SARIF's `name` is an identifier).
fn pascal_case(id: &str) -> String {
    id.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

/// The text under a page's `## What it does` heading.
fn what_it_does(documentation: &str) -> Option<&str> {
    let start = documentation.find("## What it does")? + "## What it does".len();
    let rest = &documentation[start..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    Some(rest[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        let cwd = Path::new("/work/repo");
        assert_eq!(
            artifact("deploy/a b%.yaml", cwd),
            json!({ "uri": "deploy/a%20b%25.yaml", "uriBaseId": "%SRCROOT%" })
        );
        assert_eq!(
            artifact("./x.yaml", cwd),
            json!({ "uri": "x.yaml", "uriBaseId": "%SRCROOT%" })
        );
        assert_eq!(
            artifact("/work/repo/k8s/x.yaml", cwd),
            json!({ "uri": "k8s/x.yaml", "uriBaseId": "%SRCROOT%" })
        );
        assert_eq!(
            artifact("/elsewhere/x.yaml", cwd),
            json!({ "uri": "file:///elsewhere/x.yaml" })
        );
        assert_eq!(
            artifact("<stdin>", cwd),
            json!({ "uri": "%3Cstdin%3E", "uriBaseId": "%SRCROOT%" })
        );
        assert_eq!(directory_uri(cwd), "file:///work/repo/");
    }

    #[test]
    fn names_and_descriptions() {
        assert_eq!(
            pascal_case("gke-accel-selector-missing"),
            "GkeAccelSelectorMissing"
        );
        assert_eq!(
            what_it_does("## What it does\nChecks a\nthing.\n\n## Why is this bad?\nx"),
            Some("Checks a\nthing.")
        );
    }
}
