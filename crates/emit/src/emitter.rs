//! The emitter trait, what it is given, and what every format shares.

use std::path::Path;

use kubectl_vllm_core::Severity;
use kubectl_vllm_engine::Registry;
use kubectl_vllm_engine::report::{Finding, Report};
use kubectl_vllm_manifest::Manifests;

/// What emitters need besides the report.
pub struct Context<'a> {
    /// The input set the report is about (for snippets and JUnit's test cases).
    pub manifests: &'a Manifests,
    /// The rules (for SARIF's descriptors).
    pub registry: &'a Registry,
    /// Where relative paths are anchored (GitHub annotations, SARIF's `%SRCROOT%`).
    pub cwd: &'a Path,
    /// The `--fail-on` threshold (JUnit failures); `None`: nothing fails.
    pub fail_on: Option<Severity>,
    /// Base URL of the rule pages (SARIF's `helpUri`).
    pub docs_url: &'a str,
    /// Whether the text may use colour.
    pub color: bool,
    /// Whether the full table goes to a GitHub job summary (`$GITHUB_STEP_SUMMARY` is set).
    pub job_summary: bool,
}

/// One report format.
pub trait Emitter {
    /// `report` in this format.
    fn emit(&self, report: &Report, cx: &Context) -> String;
}

/// Whether to use colour: only on a terminal, and never with `NO_COLOR` set (non-empty).
#[must_use]
pub fn use_color(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_color.is_none_or(std::ffi::OsStr::is_empty)
}

/// A finding's `(line, column, end line, end column)`, each `None` when it has no location.
pub(crate) fn position(f: &Finding) -> [Option<usize>; 4] {
    match f.region {
        Some(r) => [
            Some(r.line),
            Some(r.column),
            Some(r.end_line),
            Some(r.end_column),
        ],
        None => [None; 4],
    }
}

pub(crate) fn relative(file: &str, cwd: &std::path::Path) -> String {
    std::path::Path::new(file)
        .strip_prefix(cwd)
        .map_or_else(|_| file.to_string(), |p| p.display().to_string())
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
    let (safe, unsafe_) = report.fixable();
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
