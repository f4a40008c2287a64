//! Report formats over one finding model: human text (miette snippets), JSON, SARIF, JUnit and
//! GitHub workflow commands (with a Markdown table for the job summary).

mod sarif;

pub use sarif::{DEFAULT_DOCS_URL, sarif};

use std::fmt;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};

use kubectl_vllm_manifest::load::{REDACTED, secret_value_spans};
use kubectl_vllm_manifest::{Manifests, Span};

use crate::report::{Finding, Report, Resource, Severity};

/// Whether to use colour: only on a terminal, and never with `NO_COLOR` set (non-empty).
#[must_use]
pub fn use_color(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_color.is_none_or(std::ffi::OsStr::is_empty)
}

/// The JSON report.
#[must_use]
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("the report serializes") + "\n"
}

/// Human-readable text: a miette snippet per finding, then a summary line.
#[must_use]
pub fn text(report: &Report, manifests: &Manifests, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false)
        .with_context_lines(1);
    let sources: Vec<(String, Vec<Span>)> = (0..manifests.files.len())
        .map(|i| redacted(manifests, i))
        .collect();
    let mut out = String::new();
    for finding in &report.findings {
        let rendered = Rendered::new(finding, &sources);
        handler
            .render_report(&mut out, &rendered)
            .expect("rendering to a String cannot fail");
        out.push('\n');
    }
    out.push_str(&summary(report));
    out
}

/// GitHub shows at most this many annotations of each level per step.
const GITHUB_ANNOTATIONS_PER_LEVEL: usize = 10;

/// GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per finding,
/// at most ten of each level (GitHub drops the rest), then the summary line. Paths are made
/// relative to `cwd` when they lie under it.
#[must_use]
pub fn github(report: &Report, cwd: &std::path::Path) -> String {
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
        let location = [
            ("line", finding.line),
            ("col", finding.column),
            ("endLine", finding.end_line),
            ("endColumn", finding.end_column),
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
        let _ = writeln!(
            out,
            "{hidden} more not annotated (GitHub shows {GITHUB_ANNOTATIONS_PER_LEVEL} per level and step); the job summary lists every finding."
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
        let location = match f.line {
            Some(line) => format!("{}:{line}", relative(&f.file, cwd)),
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

/// JUnit XML (as GitLab and Jenkins read it): one `<testsuite>` per file, one `<testcase>` per
/// object. A test case fails (`<failure>`, one per case, listing every finding) when a finding is
/// at or above `fail_on`; lower findings go to its `<system-out>`. Problems that belong to no
/// object (an unreadable file, invalid YAML, a policy that failed to load) are `<error>` cases.
#[must_use]
pub fn junit(report: &Report, manifests: &Manifests, fail_on: Option<Severity>) -> String {
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
            name: Resource::from(&object.reference).path(),
            findings: Vec::new(),
        });
    }
    for (index, finding) in report.findings.iter().enumerate() {
        let object = finding
            .file_index
            .zip(finding.document)
            .and_then(|(file, document)| {
                manifests.object_at(file, document, finding.pointer.as_deref().unwrap_or(""))
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
                    xml(&first.rule),
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
    let at = match (f.line, f.column) {
        (Some(line), Some(column)) => format!("{}:{line}:{column}", f.file),
        _ => f.file.clone(),
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

fn relative(file: &str, cwd: &std::path::Path) -> String {
    std::path::Path::new(file)
        .strip_prefix(cwd)
        .map_or_else(|_| file.to_string(), |p| p.display().to_string())
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

/// The one-line summary that ends the text report.
#[must_use]
pub fn summary(report: &Report) -> String {
    let s = &report.summary;
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let scope = format!(
        "{} ({})",
        plural(s.files, "file"),
        plural(s.documents, "object")
    );
    let suppressed = if s.suppressed > 0 {
        format!(", {} suppressed", s.suppressed)
    } else {
        String::new()
    };
    if report.findings.is_empty() {
        return format!("All checks passed: {scope}{suppressed}.\n");
    }
    let mut line = format!(
        "Found {}, {} and {} in {scope}{suppressed}.\n",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.infos, "info")
    );
    let count = |applicability: &str| {
        report
            .findings
            .iter()
            .filter(|f| {
                f.fix
                    .as_ref()
                    .is_some_and(|x| x.applicability == applicability)
            })
            .count()
    };
    let (safe, unsafe_) = (count("safe"), count("unsafe"));
    if safe + unsafe_ > 0 {
        use std::fmt::Write as _;
        let _ = write!(line, "{safe} fixable with `kubectl vllm fix`");
        if unsafe_ > 0 {
            let _ = write!(line, " ({unsafe_} more with `--unsafe-fixes`)");
        }
        line.push_str(".\n");
    }
    line
}

/// A file's text with Secret values replaced by `<redacted>`, and the replaced spans (original
/// offsets), to map finding spans into the redacted text.
fn redacted(manifests: &Manifests, file: usize) -> (String, Vec<Span>) {
    let text = &manifests.files[file].source.text;
    let mut spans = secret_value_spans(manifests, file);
    if spans.is_empty() {
        return (text.clone(), spans);
    }
    spans.sort();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in &spans {
        out.push_str(&text[at..span.start]);
        out.push_str(REDACTED);
        at = span.end;
    }
    out.push_str(&text[at..]);
    (out, spans)
}

/// Maps an original offset into the redacted text.
fn map_offset(offset: usize, replaced: &[Span]) -> usize {
    // Everything before `offset` stays, except that each replaced span before it becomes
    // `<redacted>`; an offset inside a replaced span moves to that span's start.
    let mut mapped = offset;
    for span in replaced {
        if span.end <= offset {
            mapped = mapped + REDACTED.len() - span.len();
        } else if span.start < offset {
            return mapped - (offset - span.start);
        }
    }
    mapped
}

#[derive(Debug)]
struct Rendered {
    message: String,
    code: String,
    severity: Severity,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    label: Option<LabeledSpan>,
}

impl Rendered {
    fn new(finding: &Finding, sources: &[(String, Vec<Span>)]) -> Self {
        let mut help = finding.help.clone();
        if let Some(fix) = &finding.fix {
            let line = format!("fix ({}): {}", fix.applicability, fix.title);
            help = Some(help.map_or(line.clone(), |h| format!("{h}\n{line}")));
        }
        let (source, label) = match (finding.file_index, finding.span) {
            (Some(file), Some(span)) => {
                let (text, replaced) = &sources[file];
                let start = map_offset(span.start, replaced);
                let end = map_offset(span.end, replaced).max(start);
                let text_label = finding
                    .inexact
                    .then(|| "the missing field belongs here".to_string());
                (
                    Some(NamedSource::new(&finding.file, text.clone())),
                    Some(LabeledSpan::new(text_label, start, end - start)),
                )
            }
            _ => (None, None),
        };
        let message = if source.is_none() && !finding.message.contains(&finding.file) {
            format!("{}: {}", finding.file, finding.message)
        } else {
            finding.message.clone()
        };
        Self {
            message,
            code: finding.rule.clone(),
            severity: finding.severity,
            help,
            source,
            label,
        }
    }
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!(
            "{}[{}]",
            self.severity.as_str(),
            self.code
        )))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.label
            .clone()
            .map(|l| Box::new(std::iter::once(l)) as Box<dyn Iterator<Item = LabeledSpan>>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(use_color(true, None));
        assert!(use_color(true, Some(OsStr::new(""))));
        assert!(!use_color(true, Some(OsStr::new("1"))));
        assert!(!use_color(false, None));
    }

    fn finding(rule: &str, severity: Severity, file: &str, message: &str) -> Finding {
        Finding {
            severity,
            help: Some("fix: it, 100%".into()),
            line: Some(3),
            column: Some(5),
            end_line: Some(3),
            end_column: Some(9),
            document: Some(0),
            pointer: Some("/spec".into()),
            ..Finding::new(rule, file.into(), message.into())
        }
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
        report.finish();
        let out = github(&report, cwd);
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
        report.finish();
        let out = github(&report, cwd);
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

    #[test]
    fn xml_escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(
            xml("a&b<c>\"d'\u{1}e\n"),
            "a&amp;b&lt;c&gt;&quot;d&apos;e\n"
        );
    }

    #[test]
    fn offsets_shift_past_redacted_values() {
        let replaced = [Span::new(10, 17)]; // 7 bytes become 10
        assert_eq!(map_offset(5, &replaced), 5);
        assert_eq!(map_offset(20, &replaced), 23);
        assert_eq!(map_offset(12, &replaced), 10);
    }
}
