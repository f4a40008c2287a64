//! Human-readable text: a miette snippet per finding, Secret values redacted, then a summary.

use std::fmt;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};

use kubectl_vllm_core::Severity;
use kubectl_vllm_engine::report::{Finding, Report};
use kubectl_vllm_manifest::load::{REDACTED, secret_value_spans};
use kubectl_vllm_manifest::{Manifests, Span};

use crate::emitter::{Context, Emitter, Style, summary};

/// Human-readable text: a miette snippet per finding, then the summary line.
pub struct Text;

impl Emitter for Text {
    fn emit(&self, report: &Report, cx: &Context) -> String {
        text(report, cx.manifests, cx.style)
    }
}

/// The text report of `report` on `manifests`.
#[must_use]
pub fn text(report: &Report, manifests: &Manifests, style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    // Lines break at spaces only: paths, rule ids and quantities stay whole (a long one
    // overflows rather than being split where a reader cannot copy it).
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_break_words(false)
        .with_word_separator(textwrap::WordSeparator::AsciiSpace)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
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
        if let Some(r) = &finding.rendered {
            let line = match &r.note {
                Some(note) => format!("rendered by {} from {}: {note}", r.by.name(), r.from),
                None => format!("rendered by {} from {}", r.by.name(), r.from),
            };
            help = Some(help.map_or(line.clone(), |h| format!("{line}\n{h}")));
        }
        if let Some(fix) = &finding.fix {
            let line = format!("fix ({}): {}", fix.applicability, fix.title);
            help = Some(help.map_or(line.clone(), |h| format!("{h}\n{line}")));
        }
        let (source, label) = match finding.region {
            Some(region) => {
                let (text, replaced) = &sources[region.file];
                let start = map_offset(region.span.start, replaced);
                let end = map_offset(region.span.end, replaced).max(start);
                // A rendered field an overlay changed is located at its object; the note says why.
                let carried = finding.rendered.as_ref().is_some_and(|r| r.note.is_some());
                let text_label = (region.inexact && !carried)
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
            code: finding.rule.to_string(),
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
    fn offsets_shift_past_redacted_values() {
        let replaced = [Span::new(10, 17)]; // 7 bytes become 10
        assert_eq!(map_offset(5, &replaced), 5);
        assert_eq!(map_offset(20, &replaced), 23);
        assert_eq!(map_offset(12, &replaced), 10);
    }
}
