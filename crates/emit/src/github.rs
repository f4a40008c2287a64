//! GitHub Actions workflow commands, and the Markdown table for `$GITHUB_STEP_SUMMARY`.

use kubectl_vllm_core::Severity;
use kubectl_vllm_engine::report::Report;

use crate::emitter::{Context, Emitter, position, relative, summary};

/// GitHub shows at most this many annotations of each level per step.
const GITHUB_ANNOTATIONS_PER_LEVEL: usize = 10;

/// GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per finding,
/// at most ten of each level (GitHub drops the rest), then the summary line. Paths are made
/// relative to the working directory when they lie under it.
pub struct Github;

impl Emitter for Github {
    fn emit(&self, report: &Report, cx: &Context) -> String {
        github(report, cx.cwd, cx.job_summary)
    }
}

fn github(report: &Report, cwd: &std::path::Path, job_summary: bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut shown = [0usize; 3];
    let mut hidden = 0;
    for finding in &report.findings {
        let (level, slot) = match finding.severity {
            Severity::Error => ("error", 0),
            Severity::Warning => ("warning", 1),
            Severity::Info => ("notice", 2),
        };
        if shown[slot] == GITHUB_ANNOTATIONS_PER_LEVEL {
            hidden += 1;
            continue;
        }
        shown[slot] += 1;
        let mut properties = format!("file={}", escape_property(&relative(&finding.file, cwd)));
        let [line, column, end_line, end_column] = position(finding);
        let location = [
            ("line", line),
            ("col", column),
            ("endLine", end_line),
            ("endColumn", end_column),
        ];
        for (key, value) in location {
            if let Some(value) = value {
                let _ = write!(properties, ",{key}={value}");
            }
        }
        let _ = write!(
            properties,
            ",title={}",
            escape_property(&format!("kubectl-vllm {}", finding.rule))
        );
        let mut message = finding.message.clone();
        if let Some(help) = &finding.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let _ = writeln!(out, "::{level} {properties}::{}", escape_data(&message));
    }
    out.push_str(&summary(report));
    if hidden > 0 {
        let rest = if job_summary {
            "the job summary lists every finding"
        } else {
            "`-o json` or `-o sarif` lists every finding (with GITHUB_STEP_SUMMARY set, the job summary does)"
        };
        let _ = writeln!(
            out,
            "{hidden} more not annotated (GitHub shows {GITHUB_ANNOTATIONS_PER_LEVEL} per level and step); {rest}."
        );
    }
    out
}

/// Every finding as a Markdown table, for `$GITHUB_STEP_SUMMARY`.
#[must_use]
pub fn markdown(report: &Report, cwd: &std::path::Path) -> String {
    use std::fmt::Write as _;
    let cell = |s: &str| {
        s.replace('|', "\\|")
            .replace("\r\n", "<br>")
            .replace('\n', "<br>")
    };
    let mut out = format!("### kubectl vllm lint\n\n{}", summary(report));
    if report.findings.is_empty() {
        return out;
    }
    out.push_str("\n| Severity | Rule | Location | Message |\n|---|---|---|---|\n");
    for f in &report.findings {
        let location = match f.region {
            Some(region) => format!("{}:{}", relative(&f.file, cwd), region.line),
            None => relative(&f.file, cwd),
        };
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            f.severity.as_str(),
            f.rule,
            cell(&location),
            cell(&f.message)
        );
    }
    out
}

/// Escapes a workflow command's message (`%`, CR, LF), as @actions/core does.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command property value: the message escapes plus `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use kubectl_vllm_core::RuleId;
    use kubectl_vllm_engine::report::{Finding, Region};

    use super::*;

    fn finding(rule: &str, severity: Severity, file: &str, message: &str) -> Finding {
        let mut finding =
            Finding::new(RuleId::new(rule), severity, file, message).with_help("fix: it, 100%");
        finding.region = Some(Region {
            file: 0,
            span: kubectl_vllm_manifest::Span::new(0, 4),
            line: 3,
            column: 5,
            end_line: 3,
            end_column: 9,
            inexact: false,
        });
        finding.pointer = Some(kubectl_vllm_core::Pointer::from_path("/spec"));
        finding
    }

    #[test]
    fn github_commands_escape_messages_and_properties() {
        let cwd = std::path::Path::new("/repo");
        let mut report = Report::default();
        report.findings.push(finding(
            "shm-size",
            Severity::Error,
            "/repo/deploy/a,b:c%d.yaml",
            "50% used,\nsee: docs\r\nend",
        ));
        report
            .findings
            .push(finding("x", Severity::Info, "/zz/x.yaml", "m"));
        report.finish(|_| false);
        let out = github(&report, cwd, true);
        let mut lines = out.lines();
        assert_eq!(
            lines.next().unwrap(),
            "::error file=deploy/a%2Cb%3Ac%25d.yaml,line=3,col=5,endLine=3,endColumn=9,\
             title=kubectl-vllm shm-size::50%25 used,%0Asee: docs%0D%0Aend%0Ahelp: fix: it, 100%25"
        );
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("::notice file=/zz/x.yaml,line=3,")
        );
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("Found 1 error, 0 warnings and 1 info")
        );
    }

    #[test]
    fn github_annotates_ten_per_level_and_the_summary_lists_all() {
        let cwd = std::path::Path::new("/repo");
        let mut report = Report::default();
        for i in 0..12 {
            report.findings.push(finding(
                "w",
                Severity::Warning,
                "/repo/a.yaml",
                &format!("w{i}"),
            ));
        }
        for i in 0..3 {
            report.findings.push(finding(
                "e",
                Severity::Error,
                "/repo/a.yaml",
                &format!("e|{i}"),
            ));
        }
        report.finish(|_| false);
        let out = github(&report, cwd, true);
        assert_eq!(
            out.lines().filter(|l| l.starts_with("::warning ")).count(),
            10
        );
        assert_eq!(out.lines().filter(|l| l.starts_with("::error ")).count(), 3);
        assert!(out.contains("2 more not annotated"), "{out}");
        let table = markdown(&report, cwd);
        assert_eq!(
            table
                .lines()
                .filter(|l| l.starts_with("| warning |"))
                .count(),
            12
        );
        assert!(
            table.contains("| error | `e` | a.yaml:3 | e\\|0 |"),
            "{table}"
        );
    }
}
