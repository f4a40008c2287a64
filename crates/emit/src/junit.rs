//! JUnit XML, as GitLab and Jenkins read it.

use kubectl_vllm_core::Severity;
use kubectl_vllm_engine::report::{Finding, Report};
use kubectl_vllm_manifest::Manifests;

use crate::emitter::{Context, Emitter};

/// JUnit XML: one `<testsuite>` per file, one `<testcase>` per
/// object. A test case fails (`<failure>`, one per case, listing every finding) when a finding is
/// at or above `fail_on`; lower findings go to its `<system-out>`. Problems that belong to no
/// object (an unreadable file, invalid YAML, a policy that failed to load) are `<error>` cases.
pub struct Junit;

impl Emitter for Junit {
    fn emit(&self, report: &Report, cx: &Context) -> String {
        junit(report, cx.manifests, cx.fail_on)
    }
}

fn junit(report: &Report, manifests: &Manifests, fail_on: Option<Severity>) -> String {
    use std::fmt::Write as _;
    struct Case {
        name: String,
        findings: Vec<usize>,
    }
    // Files in report order: the inputs, then names only findings know (unreadable paths).
    let mut files: Vec<(String, Vec<Case>)> = manifests
        .files
        .iter()
        .map(|f| (f.source.name.clone(), Vec::new()))
        .collect();
    // Each object's case: its index in its file's suite.
    let mut case_of = Vec::with_capacity(manifests.objects.len());
    for object in &manifests.objects {
        let cases = &mut files[object.file].1;
        case_of.push(cases.len());
        cases.push(Case {
            name: object.reference.path(),
            findings: Vec::new(),
        });
    }
    for (index, finding) in report.findings.iter().enumerate() {
        let object = finding
            .region
            .zip(finding.document())
            .and_then(|(region, document)| {
                let at = finding.document_pointer().unwrap_or_default();
                manifests.object_at(region.file, document, &at)
            });
        if let Some(object) = object {
            files[manifests.objects[object].file].1[case_of[object]]
                .findings
                .push(index);
            continue;
        }
        let slot = files
            .iter()
            .position(|(name, _)| *name == finding.file)
            .unwrap_or_else(|| {
                files.push((finding.file.clone(), Vec::new()));
                files.len() - 1
            });
        files[slot].1.push(Case {
            name: format!("{} ({})", finding.file, finding.rule),
            findings: vec![index],
        });
    }
    let fails = |f: &Finding| fail_on.is_some_and(|t| f.severity >= t);
    let is_error = |f: &Finding| f.resource.is_none() && f.severity == Severity::Error;
    let mut body = String::new();
    let (mut all_tests, mut all_failures, mut all_errors) = (0, 0, 0);
    for (file, cases) in &files {
        let (mut failures, mut errors) = (0, 0);
        let mut suite = String::new();
        for case in cases {
            let findings: Vec<&Finding> =
                case.findings.iter().map(|&i| &report.findings[i]).collect();
            let _ = write!(
                suite,
                "    <testcase name=\"{}\" classname=\"{}\">",
                xml(&case.name),
                xml(file)
            );
            let failing: Vec<&&Finding> = findings.iter().filter(|f| fails(f)).collect();
            let other: Vec<&&Finding> = findings.iter().filter(|f| !fails(f)).collect();
            if let Some(first) = failing.first() {
                let element = if failing.iter().any(|f| is_error(f)) {
                    errors += 1;
                    "error"
                } else {
                    failures += 1;
                    "failure"
                };
                let text: String = failing.iter().map(|f| finding_line(f)).collect();
                let _ = write!(
                    suite,
                    "\n      <{element} type=\"{}\" message=\"{}\">{}</{element}>",
                    xml(first.rule.as_str()),
                    xml(&first.message),
                    xml(&text)
                );
            }
            if !other.is_empty() {
                let text: String = other.iter().map(|f| finding_line(f)).collect();
                let _ = write!(suite, "\n      <system-out>{}</system-out>", xml(&text));
            }
            if findings.is_empty() {
                suite.push_str("</testcase>\n");
            } else {
                suite.push_str("\n    </testcase>\n");
            }
        }
        let _ = write!(
            body,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">\n{suite}  </testsuite>\n",
            xml(file),
            cases.len()
        );
        all_tests += cases.len();
        all_failures += failures;
        all_errors += errors;
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kubectl-vllm\" tests=\"{all_tests}\" failures=\"{all_failures}\" errors=\"{all_errors}\">\n{body}</testsuites>\n"
    )
}

/// `file:line:col: severity[rule] message (help: …)` and a newline.
fn finding_line(f: &Finding) -> String {
    let at = match f.region {
        Some(r) => format!("{}:{}:{}", f.file, r.line, r.column),
        None => f.file.clone(),
    };
    let help = f
        .help
        .as_ref()
        .map_or_else(String::new, |h| format!(" (help: {h})"));
    format!(
        "{at}: {}[{}] {}{help}\n",
        f.severity.as_str(),
        f.rule,
        f.message
    )
}

/// Escapes text for XML content and attribute values; drops characters XML 1.0 forbids.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if c < ' ' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(
            xml("a&b<c>\"d'\u{1}e\n"),
            "a&amp;b&lt;c&gt;&quot;d&apos;e\n"
        );
    }
}
