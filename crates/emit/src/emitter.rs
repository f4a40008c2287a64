//! The emitter trait, what it is given, and what every format shares.

use std::ffi::OsStr;
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
    /// Colour and width of the text report.
    pub style: Style,
    /// Whether the full table goes to a GitHub job summary (`$GITHUB_STEP_SUMMARY` is set).
    pub job_summary: bool,
}

/// One report format.
pub trait Emitter {
    /// `report` in this format.
    fn emit(&self, report: &Report, cx: &Context) -> String;
}

/// How the text report looks where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Whether it may use colour.
    pub color: bool,
    /// The column to wrap at.
    pub width: usize,
}

impl Style {
    /// No colour, [`DEFAULT_WIDTH`]: files, pipes, snapshots.
    pub const PLAIN: Self = Self {
        color: false,
        width: DEFAULT_WIDTH,
    };
}

/// The wrap column when the output is not a terminal (logs stay the same on every runner).
pub const DEFAULT_WIDTH: usize = 100;

/// Narrower than this, snippets become unreadable; a narrower terminal gets lines this long.
pub const MIN_WIDTH: usize = 60;

/// Whether to use colour, as cargo and ruff decide: `forced` (`--color always|never`) wins;
/// otherwise `FORCE_COLOR` set to anything but empty or `0` turns it on, `NO_COLOR` set non-empty
/// turns it off, and else only a terminal gets colour.
#[must_use]
pub fn use_color(
    forced: Option<bool>,
    is_terminal: bool,
    force_color: Option<&OsStr>,
    no_color: Option<&OsStr>,
) -> bool {
    if let Some(forced) = forced {
        return forced;
    }
    if force_color.is_some_and(|v| !v.is_empty() && v != "0") {
        return true;
    }
    is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// The column to wrap at: `COLUMNS` when it is a number, else the terminal's width, else
/// [`DEFAULT_WIDTH`]; never below [`MIN_WIDTH`].
#[must_use]
pub fn text_width(columns: Option<&OsStr>, terminal_width: Option<usize>) -> usize {
    columns
        .and_then(OsStr::to_str)
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
        .or(terminal_width)
        .unwrap_or(DEFAULT_WIDTH)
        .max(MIN_WIDTH)
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

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::*;

    #[test]
    fn colour_follows_the_flag_then_force_color_then_no_color_then_the_terminal() {
        let on = Some(OsStr::new("1"));
        assert!(use_color(Some(true), false, None, on));
        assert!(!use_color(Some(false), true, on, None));
        assert!(use_color(None, false, on, on));
        assert!(!use_color(None, false, Some(OsStr::new("0")), None));
        assert!(!use_color(None, false, Some(OsStr::new("")), None));
        assert!(!use_color(None, true, None, on));
        assert!(use_color(None, true, None, Some(OsStr::new(""))));
        assert!(!use_color(None, false, None, None));
    }

    #[test]
    fn width_is_columns_then_the_terminal_then_the_default_never_too_narrow() {
        assert_eq!(text_width(Some(OsStr::new("132")), Some(80)), 132);
        assert_eq!(text_width(Some(OsStr::new("wide")), Some(80)), 80);
        assert_eq!(text_width(None, None), DEFAULT_WIDTH);
        assert_eq!(text_width(Some(OsStr::new("20")), None), MIN_WIDTH);
    }
}
