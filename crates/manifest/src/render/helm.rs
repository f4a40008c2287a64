//! Helm: charts rendered with `helm template`, and rendered streams (piped from `helm template`,
//! or given to a post-renderer) whose documents name their templates.
//!
//! Helm 3 writes `---` and `# Source: CHART/templates/FILE` before every document (subcharts:
//! `CHART/charts/SUB/templates/FILE`, by chart name); Helm 4 gives post-renderers each document
//! with the annotation `postrenderer.helm.sh/postrender-filename` instead. Templates are Go text
//! templates, not YAML: a finding is placed on the template's line when its key is written there
//! literally, else on the deepest key that is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

use kubectl_vllm_core::Pointer;

use super::{Origin, OriginKind, Provenance, Rendered, Renderer, Trace};
use crate::load::{InputError, LoadOptions, Manifests};
use crate::source::Span;

/// The annotation Helm 4 puts on each document it gives a post-renderer.
pub const POSTRENDER_FILENAME: &str = "postrenderer.helm.sh/postrender-filename";

pub use crate::provenance::ChartOptions;

/// A chart's name, from its `Chart.yaml` (`None` when it has none).
fn chart_name(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("Chart.yaml")).ok()?;
    let stream = crate::yaml::parse(&text);
    let root = stream.documents.first()?.root.to_json();
    root.get("name").and_then(Json::as_str).map(str::to_string)
}

/// The template file on disk that `source` (`CHART/charts/SUB/templates/FILE`) names, given the
/// chart directory: subcharts are found under `charts/` by their chart name.
fn template_path(chart: &Path, source: &str) -> Option<PathBuf> {
    let mut parts = source.split('/');
    let _chart = parts.next()?;
    let mut dir = chart.to_path_buf();
    let rest: Vec<&str> = parts.collect();
    let mut i = 0;
    while i + 1 < rest.len() && rest[i] == "charts" {
        let wanted = rest[i + 1];
        let sub = std::fs::read_dir(dir.join("charts"))
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .find(|p| {
                chart_name(p).as_deref() == Some(wanted)
                    || p.file_name().is_some_and(|n| n == wanted)
            })?;
        dir = sub;
        i += 2;
    }
    let path = rest[i..].iter().fold(dir, |p, s| p.join(s));
    path.is_file().then_some(path)
}

impl Manifests {
    /// Renders `chart` with `helm template` and adds its objects as one rendered file, each
    /// traced to its template; a render that fails (or no `helm` on PATH) is an input error.
    pub fn add_helm_chart(
        &mut self,
        chart: &Path,
        chart_options: &ChartOptions,
        options: &LoadOptions,
    ) {
        let shown = super::kustomize::shown(chart);
        let error = |message: String| InputError::unlocated(shown.clone(), message);
        if !chart.join("Chart.yaml").is_file() {
            self.errors.push(error(format!(
                "`{shown}` is not a Helm chart: it holds no Chart.yaml"
            )));
            return;
        }
        let mut command =
            Command::new(std::env::var_os("KUBECTL_VLLM_HELM").unwrap_or_else(|| "helm".into()));
        command.arg("template").arg(chart);
        for values in &chart_options.values {
            command.arg("--values").arg(values);
        }
        for set in &chart_options.set {
            command.arg("--set").arg(set);
        }
        let output = match command.output() {
            Ok(output) => output,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.errors.push(error(format!(
                    "cannot render the chart `{shown}`: `helm` is not on PATH; install Helm (https://helm.sh/docs/intro/install/) or lint its output: `helm template {shown} | kubectl vllm lint -`"
                )));
                return;
            }
            Err(e) => {
                self.errors
                    .push(error(format!("cannot run `helm template {shown}`: {e}")));
                return;
            }
        };
        if !output.status.success() {
            self.errors.push(error(format!(
                "`helm template {shown}` failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
            return;
        }
        let Ok(text) = String::from_utf8(output.stdout) else {
            self.errors.push(error(format!(
                "`helm template {shown}` printed text that is not UTF-8"
            )));
            return;
        };
        let file = self.files.len();
        let errors = self.errors.len();
        self.add_text(&format!("<helm template {shown}>"), text, options);
        if self.files[file].documents.is_empty() && self.errors.len() == errors {
            self.skipped
                .push(format!("Helm chart `{shown}` rendered no objects"));
        }
        self.trace_helm(file, Some(chart), shown);
    }

    /// When the documents of `file` name Helm templates (`# Source:` comments, or Helm 4's
    /// post-renderer annotation), marks it rendered by Helm and traces each document to its
    /// template (on disk under `chart`, or relative to the working directory).
    pub(crate) fn trace_helm(&mut self, file: usize, chart: Option<&Path>, from: String) {
        let sources = template_sources(self, file);
        if sources.is_empty() {
            return;
        }
        let here = std::env::current_dir().unwrap_or_default();
        let chart_here = chart_name(&here);
        let mut origins = BTreeMap::new();
        let chart_named = sources
            .first()
            .and_then(|(_, s)| s.split('/').next())
            .map(str::to_string);
        for (document, source) in sources {
            let first = source.split('/').next().unwrap_or_default();
            let on_disk = match chart {
                Some(chart) => template_path(chart, &source),
                // Piped in: the chart is the working directory, or a directory in it.
                None if chart_here.as_deref() == Some(first) => template_path(&here, &source),
                None if Path::new(first).join("Chart.yaml").is_file() => {
                    template_path(Path::new(first), &source)
                }
                None => None,
            };
            let file = on_disk.and_then(|p| {
                let p = p.canonicalize().ok()?;
                self.add_source(&p, false)
            });
            let path = file.map_or(source, |f| self.files[f].source.name.clone());
            origins.insert(
                document,
                Origin {
                    path,
                    file,
                    kind: OriginKind::Template,
                    transformed_by: Vec::new(),
                    patches: Vec::new(),
                },
            );
        }
        let from = match chart {
            Some(_) => from,
            None => chart_named.unwrap_or(from),
        };
        self.files[file].provenance = Provenance::Rendered(Rendered {
            by: Renderer::Helm,
            from,
            origins,
        });
    }
}

/// The template each document of `file` names, by document index: the last `# Source:` comment
/// between the previous document and this one, or the post-renderer annotation.
fn template_sources(manifests: &Manifests, file: usize) -> Vec<(usize, String)> {
    let f = &manifests.files[file];
    let text = &f.source.text;
    let mut out = Vec::new();
    let mut from = 0;
    for document in &f.documents {
        let before = &text[from.min(document.anchor.start)..document.anchor.start];
        from = document.span.end;
        let comment = before
            .lines()
            .filter_map(|l| l.trim().strip_prefix("# Source: "))
            .next_back();
        let annotation = || {
            let object = manifests
                .objects
                .iter()
                .find(|o| o.file == file && o.document == document.index)?;
            object
                .json
                .pointer("/metadata/annotations")?
                .get(POSTRENDER_FILENAME)?
                .as_str()
                .map(str::to_string)
        };
        if let Some(source) = comment.map(str::to_string).or_else(annotation) {
            let source = source.trim().to_string();
            if source.split('/').any(|s| s == "templates" || s == "crds") {
                out.push((document.index, source));
            }
        }
    }
    out
}

/// One line of a template: where it starts, its text, its indentation, and the column of its
/// first key.
struct Line<'a> {
    start: usize,
    text: &'a str,
    /// Leading spaces.
    indent: usize,
    /// Column of the key: past the indentation and any `- ` list markers.
    column: usize,
}

impl Line<'_> {
    /// Whether the line is a list item (`- ...`).
    fn is_item(&self) -> bool {
        let rest = &self.text[self.indent..];
        rest.starts_with("- ") || rest == "-"
    }
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for text_line in text.split_inclusive('\n') {
        let line = text_line.trim_end_matches(['\n', '\r']);
        let indent = line.len() - line.trim_start().len();
        let mut column = indent;
        while line[column..].starts_with("- ") {
            column += 2;
            column += line[column..].len() - line[column..].trim_start().len();
        }
        out.push(Line {
            start,
            text: line,
            indent,
            column,
        });
        start += text_line.len();
    }
    out
}

/// The key of `line` when it is `key:` (plain or quoted).
fn key_of<'a>(line: &Line<'a>) -> Option<&'a str> {
    let rest = &line.text[line.column..];
    let colon = rest.find(':')?;
    let key = rest[..colon].trim().trim_matches(['"', '\'']);
    (!key.is_empty() && !key.starts_with(['#', '{'])).then_some(key)
}

/// What the last step of a template search found.
#[derive(Clone, Copy)]
enum Parent {
    /// The object itself: its keys are at this column.
    Root(usize),
    /// A key at this column: its children are deeper.
    Key(usize),
    /// A list item whose dash is at this column.
    Item(usize),
}

impl Parent {
    /// Whether `line` is past the end of this block.
    fn left(self, line: &Line<'_>) -> bool {
        match self {
            Self::Root(_) => false,
            Self::Key(c) => line.column <= c && !(line.is_item() && line.indent == c),
            Self::Item(d) => line.indent <= d,
        }
    }

    /// Whether a key on `line` is a direct child.
    fn holds_key(self, line: &Line<'_>) -> bool {
        match self {
            Self::Root(c) => line.column == c,
            Self::Key(c) | Self::Item(c) => line.column > c,
        }
    }
}

/// Where a finding at `pointer` of an object of `kind` goes in a template: the line of the
/// deepest key (or list item) of the pointer that is written literally, under `kind: KIND`.
/// A template action inside a list (a `range`) stops the search there: items are not counted
/// through it.
pub(crate) fn trace_template(text: &str, file: usize, kind: &str, pointer: &Pointer) -> Trace {
    let lines = lines(text);
    let kind_line = lines.iter().position(|l| {
        key_of(l) == Some("kind")
            && l.text[l.column + 4..]
                .trim_start_matches(':')
                .trim()
                .trim_matches(['"', '\''])
                == kind
    });
    let key_span = |line: &Line<'_>| {
        let start = line.start + line.column;
        Span::new(
            start,
            start + line.text[line.column..].find(':').unwrap_or(0),
        )
    };
    let item_span = |line: &Line<'_>| {
        let start = line.start + line.indent + 2;
        Span::new(
            start.min(line.start + line.text.len()),
            line.start + line.text.len(),
        )
    };
    let mut span = kind_line.map(|i| key_span(&lines[i]));
    let mut parent = Parent::Root(kind_line.map_or(0, |i| lines[i].column));
    let mut next = kind_line.map_or(0, |i| i + 1);
    let tokens: Vec<String> = pointer
        .tokens()
        .filter(|t| t != "-")
        .map(std::borrow::Cow::into_owned)
        .collect();
    let mut found = 0;
    // The line of the list item just found: its own first key is on it.
    let mut item_line = None;
    'tokens: for token in &tokens {
        let index = token.parse::<usize>().ok();
        let mut items = 0;
        for (i, line) in lines.iter().enumerate().skip(next) {
            let trimmed = line.text.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if trimmed.starts_with("{{") {
                if index.is_some() {
                    break 'tokens;
                }
                continue;
            }
            if trimmed == "---" || (item_line != Some(i) && parent.left(line)) {
                break 'tokens;
            }
            match index {
                Some(wanted) if matches!(parent, Parent::Key(_)) && line.is_item() => {
                    if items == wanted {
                        span = Some(item_span(line));
                        parent = Parent::Item(line.indent);
                        next = i;
                        item_line = Some(i);
                        found += 1;
                        continue 'tokens;
                    }
                    items += 1;
                }
                None if parent.holds_key(line) && key_of(line) == Some(token.as_str()) => {
                    span = Some(key_span(line));
                    parent = Parent::Key(line.column);
                    next = i + 1;
                    found += 1;
                    continue 'tokens;
                }
                _ => {}
            }
        }
        break;
    }
    let exact = found == tokens.len() && kind_line.is_some();
    Trace {
        file,
        span,
        node: None,
        pointer: None,
        exact,
        note: (!exact).then(|| match tokens.get(found) {
            Some(token) if kind_line.is_some() => format!(
                "`{token}` is not written literally in the template (a template expression renders it)"
            ),
            _ => format!("the template does not say `kind: {kind}` literally"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"vllm.fullname\" . }}\nspec:\n  replicas: {{ .Values.replicas }}\n  template:\n    spec:\n      containers:\n        - name: vllm\n          image: \"{{ .Values.image }}\"\n          resources:\n            {{- toYaml .Values.resources | nindent 12 }}\n";

    fn at(pointer: &str) -> (Option<usize>, bool) {
        let t = trace_template(TEMPLATE, 0, "Deployment", &Pointer::from_path(pointer));
        let line = t
            .span
            .map(|s| TEMPLATE[..s.start].matches('\n').count() + 1);
        (line, t.exact)
    }

    #[test]
    fn keys_written_literally_are_found_and_the_rest_lands_on_the_deepest() {
        assert_eq!(at("/spec/replicas"), (Some(6), true));
        assert_eq!(
            at("/spec/template/spec/containers/0/image"),
            (Some(11), true)
        );
        assert_eq!(
            at("/spec/template/spec/containers/0/resources/limits"),
            (Some(12), false)
        );
        assert_eq!(at("/metadata/name"), (Some(4), true));
        assert_eq!(at(""), (Some(2), true));
        // `replicas` is under `spec`, not under `metadata`.
        assert_eq!(at("/metadata/replicas"), (Some(3), false));
    }
}
