//! The protocol loop: documents the client opened, the lint of one document with the other
//! manifests of its workspace folder as lookups, diagnostics, code actions and hovers.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use kubectl_vllm_core::Applicability;
use kubectl_vllm_engine::config::{self, Loaded};
use kubectl_vllm_engine::{Finding, Linter, Severity};
use kubectl_vllm_host::{ArtifactCache, Limits};
use kubectl_vllm_manifest::load::{Input, LoadOptions, Manifests};
use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    LogMessage, Notification as _, PublishDiagnostics, ShowMessage,
};
use lsp_types::request::{CodeActionRequest, HoverRequest, Request as _};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams,
    CodeActionProviderCapability, CodeDescription, Diagnostic, DiagnosticSeverity,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, Hover, HoverContents, HoverParams, HoverProviderCapability,
    InitializeParams, LogMessageParams, MarkupContent, MarkupKind, MessageType, NumberOrString,
    PublishDiagnosticsParams, ServerCapabilities, ShowMessageParams, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions, TextEdit, Uri,
    WorkspaceEdit,
};

use crate::position;

/// An open document.
struct Document {
    path: PathBuf,
    text: String,
    version: i32,
    /// The findings of the last lint, and the version they are of.
    findings: Vec<Finding>,
    linted: Option<i32>,
}

/// One linter per config file (the nearest `.kubectl-vllm.yaml` of a document; `None`: none).
struct Linters {
    by_config: HashMap<Option<PathBuf>, (Linter, Loaded)>,
}

/// The server's state.
struct Server<'a> {
    connection: &'a Connection,
    folders: Vec<PathBuf>,
    documents: HashMap<String, Document>,
    linters: Linters,
    /// Documents changed and not linted yet, with when to lint them.
    due: HashMap<String, Instant>,
    debounce: Duration,
    log: &'a mut dyn std::io::Write,
}

/// `file:///a%20b/c.yaml` → `/a b/c.yaml`.
fn uri_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(rest.get(i + 1..i + 3)?, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(PathBuf::from(String::from_utf8(out).ok()?))
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

/// Serves `connection` until `exit`.
pub fn serve(
    connection: &Connection,
    debounce: Duration,
    log: &mut dyn std::io::Write,
) -> Result<(), String> {
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..TextDocumentSyncOptions::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    };
    let params = connection
        .initialize(serde_json::to_value(capabilities).expect("capabilities serialize"))
        .map_err(|e| format!("initialize: {e}"))?;
    let params: InitializeParams =
        serde_json::from_value(params).map_err(|e| format!("initialize params: {e}"))?;
    #[allow(deprecated)] // root_uri: clients without workspace folders still send it
    let mut folders: Vec<PathBuf> = params
        .workspace_folders
        .unwrap_or_default()
        .iter()
        .filter_map(|f| uri_path(f.uri.as_str()))
        .collect();
    #[allow(deprecated)]
    if folders.is_empty()
        && let Some(root) = params.root_uri.as_ref().and_then(|u| uri_path(u.as_str()))
    {
        folders.push(root);
    }
    let mut server = Server {
        connection,
        folders,
        documents: HashMap::new(),
        linters: Linters {
            by_config: HashMap::new(),
        },
        due: HashMap::new(),
        debounce,
        log,
    };
    server.run()
}

impl Server<'_> {
    fn run(&mut self) -> Result<(), String> {
        loop {
            let next = self.due.values().min().copied();
            let message = match next {
                Some(at) => {
                    let wait = at.saturating_duration_since(Instant::now());
                    match self.connection.receiver.recv_timeout(wait) {
                        Ok(m) => Some(m),
                        Err(crossbeam_timeout) if crossbeam_timeout.is_timeout() => None,
                        Err(_) => return Err("the client's connection closed".into()),
                    }
                }
                None => Some(
                    self.connection
                        .receiver
                        .recv()
                        .map_err(|_| "the client's connection closed".to_string())?,
                ),
            };
            match message {
                None => self.lint_due(),
                Some(Message::Request(request)) => {
                    if self
                        .connection
                        .handle_shutdown(&request)
                        .map_err(|e| e.to_string())?
                    {
                        return Ok(());
                    }
                    self.request(request);
                }
                Some(Message::Notification(n)) => {
                    if n.method == "exit" {
                        return Ok(());
                    }
                    self.notification(n);
                }
                Some(Message::Response(_)) => {}
            }
        }
    }

    fn lint_due(&mut self) {
        let now = Instant::now();
        let due: Vec<String> = self
            .due
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(uri, _)| uri.clone())
            .collect();
        for uri in due {
            self.due.remove(&uri);
            self.lint(&uri);
        }
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) else {
                    return;
                };
                let uri = p.text_document.uri.as_str().to_string();
                let Some(path) = uri_path(&uri) else {
                    self.say(
                        MessageType::WARNING,
                        format!("kubectl-vllm lints files only, not `{uri}`"),
                    );
                    return;
                };
                self.documents.insert(
                    uri.clone(),
                    Document {
                        path,
                        text: p.text_document.text,
                        version: p.text_document.version,
                        findings: Vec::new(),
                        linted: None,
                    },
                );
                self.lint(&uri);
            }
            DidChangeTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) else {
                    return;
                };
                let uri = p.text_document.uri.as_str().to_string();
                if let Some(doc) = self.documents.get_mut(&uri)
                    && let Some(change) = p.content_changes.into_iter().last()
                {
                    // Full sync: the last change is the whole text.
                    doc.text = change.text;
                    doc.version = p.text_document.version;
                    self.due.insert(uri, Instant::now() + self.debounce);
                }
            }
            DidSaveTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidSaveTextDocumentParams>(n.params) {
                    let uri = p.text_document.uri.as_str().to_string();
                    if let (Some(doc), Some(text)) = (self.documents.get_mut(&uri), p.text) {
                        doc.text = text;
                    }
                    self.due.remove(&uri);
                    let config_saved = uri_path(&uri)
                        .is_some_and(|p| p.file_name() == Some(config::FILE_NAME.as_ref()));
                    if config_saved {
                        // Severities, provider, facts and excludes may have changed: every
                        // open document is linted again with the config as saved.
                        self.linters.by_config.clear();
                        let open: Vec<String> = self.documents.keys().cloned().collect();
                        for uri in open {
                            self.due.remove(&uri);
                            self.lint(&uri);
                        }
                    } else {
                        self.lint(&uri);
                    }
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) {
                    let uri = p.text_document.uri;
                    self.documents.remove(uri.as_str());
                    self.due.remove(uri.as_str());
                    self.publish(&uri, Vec::new(), None);
                }
            }
            _ => {}
        }
    }

    fn request(&mut self, request: Request) {
        let id = request.id.clone();
        let result = match request.method.as_str() {
            CodeActionRequest::METHOD => serde_json::from_value::<CodeActionParams>(request.params)
                .map(|p| serde_json::to_value(self.code_actions(&p)).unwrap_or_default()),
            HoverRequest::METHOD => serde_json::from_value::<HoverParams>(request.params)
                .map(|p| serde_json::to_value(self.hover(&p)).unwrap_or_default()),
            other => {
                let response = Response::new_err(
                    id,
                    lsp_server::ErrorCode::MethodNotFound as i32,
                    format!("kubectl-vllm does not answer `{other}`"),
                );
                let _ = self.connection.sender.send(Message::Response(response));
                return;
            }
        };
        let response = match result {
            Ok(value) => Response::new_ok(id, value),
            Err(e) => Response::new_err(
                id,
                lsp_server::ErrorCode::InvalidParams as i32,
                e.to_string(),
            ),
        };
        let _ = self.connection.sender.send(Message::Response(response));
    }

    fn say(&mut self, typ: MessageType, message: String) {
        let _ = writeln!(self.log, "{message}");
        self.notify::<ShowMessage>(ShowMessageParams { typ, message });
    }

    /// Sends notification `N` to the client.
    fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) {
        let _ = self
            .connection
            .sender
            .send(Message::Notification(Notification::new(
                N::METHOD.to_string(),
                params,
            )));
    }

    /// A line in the client's log (`window/logMessage`): what the server chose not to do.
    fn log(&self, message: String) {
        self.notify::<LogMessage>(LogMessageParams {
            typ: MessageType::INFO,
            message,
        });
    }

    /// The workspace folder holding `path` (the longest), else its own directory.
    fn folder_of(&self, path: &Path) -> PathBuf {
        self.folders
            .iter()
            .filter(|f| path.starts_with(f))
            .max_by_key(|f| f.as_os_str().len())
            .cloned()
            .unwrap_or_else(|| path.parent().map(Path::to_path_buf).unwrap_or_default())
    }

    /// The config's `exclude` patterns as a set; an invalid pattern is said, and the folder is
    /// then read without them.
    fn exclude(&mut self, config_path: Option<&Path>) -> Option<globset::GlobSet> {
        let key = config_path.map(Path::to_path_buf);
        let (_, loaded) = self.linters.by_config.get(&key)?;
        match kubectl_vllm_manifest::exclude_set(&loaded.config.exclude) {
            Ok(set) => set,
            Err(e) => {
                let config =
                    config_path.map_or_else(String::new, |p| format!(" of `{}`", p.display()));
                self.say(
                    MessageType::ERROR,
                    format!("kubectl-vllm: invalid `exclude` pattern{config}: {e}; the folder's other files are read without the excludes"),
                );
                None
            }
        }
    }

    /// Lints one open document and publishes its diagnostics.
    fn lint(&mut self, uri: &str) {
        let Some(doc) = self.documents.get(uri) else {
            return;
        };
        let path = doc.path.clone();
        let text = doc.text.clone();
        let version = doc.version;
        if let Some(why) = not_a_manifest(&path, &self.folder_of(&path), &text) {
            self.log(format!(
                "kubectl-vllm does not lint `{}`: {why}",
                path.display()
            ));
            if let Some(doc) = self.documents.get_mut(uri) {
                doc.findings = Vec::new();
                doc.linted = Some(version);
            }
            if let Ok(uri) = Uri::from_str(uri) {
                self.publish(&uri, Vec::new(), Some(version));
            }
            return;
        }
        let start = path.parent().unwrap_or(Path::new("/"));
        let config_path = config::discover(start);
        if !self.linters.by_config.contains_key(&config_path) {
            match load_linter(config_path.as_deref()) {
                Ok(linter) => {
                    self.linters.by_config.insert(config_path.clone(), linter);
                }
                Err(e) => {
                    self.say(
                        MessageType::ERROR,
                        format!("kubectl-vllm cannot lint `{}`: {e}", path.display()),
                    );
                    return;
                }
            }
        }
        // The document first (reported), then the other open documents and the folder's other
        // manifests, for lookups only.
        let name = path.display().to_string();
        let options = LoadOptions::default();
        let mut manifests = Manifests::default();
        manifests.add_text(&name, text.clone(), &options);
        let mut already_read = std::collections::HashSet::new();
        already_read.insert(path.canonicalize().unwrap_or_else(|_| path.clone()));
        let folder = self.folder_of(&path);
        let exclude = self.exclude(config_path.as_deref());
        let lookup = |p: &Path| !excluded(exclude.as_ref(), p, &folder, config_path.as_deref());
        // Open documents of the same folder as the editor has them (unsaved text included),
        // unless they are no manifests or excluded; they are not read again from disk.
        for other in self.documents.values().filter(|d| d.path != path) {
            already_read.insert(
                other
                    .path
                    .canonicalize()
                    .unwrap_or_else(|_| other.path.clone()),
            );
            if other.path.starts_with(&folder)
                && lookup(&other.path)
                && not_a_manifest(&other.path, &folder, &other.text).is_none()
            {
                manifests.add_text(
                    &other.path.display().to_string(),
                    other.text.clone(),
                    &options,
                );
            }
        }
        let others: Vec<Input> = manifest_files(&folder)
            .into_iter()
            .filter(|p| !already_read.contains(&p.canonicalize().unwrap_or_else(|_| p.clone())))
            .filter(|p| lookup(p) && may_be_manifest(p))
            .map(Input::Path)
            .collect();
        let related = LoadOptions {
            already_read,
            ..options
        };
        manifests.extend(&others, &related);
        manifests.reported_files = Some(1);
        // Never silent: another file that could not be read turns off the rules that need the
        // whole set; say so on this document.
        let unread: Vec<String> = manifests
            .errors
            .iter()
            .filter(|e| e.file != Some(0) && e.name != name)
            .map(|e| format!("{}: {}", e.name, e.message))
            .collect();
        let (linter, loaded) = self
            .linters
            .by_config
            .get_mut(&config_path)
            .expect("inserted above");
        let report = linter.lint(&manifests, &loaded.config);
        let docs_url = loaded
            .config
            .docs_url
            .clone()
            .unwrap_or_else(|| kubectl_vllm_emit::DEFAULT_DOCS_URL.to_string());
        let findings: Vec<Finding> = report
            .findings
            .into_iter()
            .filter(|f| {
                f.region.is_none_or(|r| r.file == 0) && (f.region.is_some() || f.file == name)
            })
            .collect();
        let mut diagnostics: Vec<Diagnostic> = findings
            .iter()
            .map(|f| diagnostic(&text, f, &docs_url))
            .collect();
        if !unread.is_empty() {
            diagnostics.push(Diagnostic {
                severity: Some(DiagnosticSeverity::INFORMATION),
                source: Some("kubectl-vllm".into()),
                message: format!(
                    "other manifests of the workspace could not be read, so rules that need the whole set did not run: {}",
                    unread.join("; ")
                ),
                ..Diagnostic::default()
            });
        }
        if let Some(doc) = self.documents.get_mut(uri) {
            doc.findings = findings;
            doc.linted = Some(version);
        }
        if let Ok(uri) = Uri::from_str(uri) {
            self.publish(&uri, diagnostics, Some(version));
        }
    }

    fn publish(&self, uri: &Uri, diagnostics: Vec<Diagnostic>, version: Option<i32>) {
        self.notify::<PublishDiagnostics>(PublishDiagnosticsParams {
            uri: uri.clone(),
            diagnostics,
            version,
        });
    }

    /// The document, its findings of its current text (linted again if it changed since).
    fn current(&mut self, uri: &str) -> Option<&Document> {
        self.refresh(uri);
        self.documents.get(uri)
    }

    /// Lints the document again if it changed since its last lint.
    fn refresh(&mut self, uri: &str) {
        let stale = self
            .documents
            .get(uri)
            .is_some_and(|d| d.linted != Some(d.version));
        if stale {
            self.due.remove(uri);
            self.lint(uri);
        }
    }

    fn code_actions(&mut self, params: &CodeActionParams) -> Vec<CodeActionOrCommand> {
        let uri = params.text_document.uri.clone();
        let Some(doc) = self.current(uri.as_str()) else {
            return Vec::new();
        };
        let wanted = (
            position::offset(&doc.text, params.range.start),
            position::offset(&doc.text, params.range.end),
        );
        let mut actions: Vec<(bool, CodeAction)> = Vec::new();
        for finding in &doc.findings {
            let (Some(fix), Some(region)) = (&finding.fix, finding.region) else {
                continue;
            };
            // Touching the request's range (a cursor inside the finding counts).
            if region.span.end < wanted.0 || region.span.start > wanted.1 {
                continue;
            }
            let safe = match fix.applicability {
                Applicability::Safe => true,
                Applicability::Unsafe => false,
                Applicability::DisplayOnly => continue,
            };
            let Ok(fixed) = kubectl_vllm_engine::fix::apply_fix(&doc.text, finding) else {
                continue;
            };
            let (range, new_text) = position::minimal_edit(&doc.text, &fixed);
            let title = if safe {
                format!("{} ({})", fix.title, finding.rule)
            } else {
                format!(
                    "{} ({}, unsafe: changes behaviour)",
                    fix.title, finding.rule
                )
            };
            let diagnostic = diagnostic(&doc.text, finding, kubectl_vllm_emit::DEFAULT_DOCS_URL);
            actions.push((
                safe,
                CodeAction {
                    title,
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diagnostic]),
                    edit: Some(WorkspaceEdit {
                        changes: Some(HashMap::from([(
                            uri.clone(),
                            vec![TextEdit { range, new_text }],
                        )])),
                        ..WorkspaceEdit::default()
                    }),
                    is_preferred: Some(safe),
                    ..CodeAction::default()
                },
            ));
        }
        // Safe fixes first; otherwise in the order of the report.
        actions.sort_by_key(|(safe, _)| !safe);
        actions
            .into_iter()
            .map(|(_, a)| CodeActionOrCommand::CodeAction(a))
            .collect()
    }

    fn hover(&mut self, params: &HoverParams) -> Option<Hover> {
        let uri = params
            .text_document_position_params
            .text_document
            .uri
            .as_str()
            .to_string();
        let at = params.text_document_position_params.position;
        self.refresh(&uri);
        let doc = self.documents.get(&uri)?;
        let offset = position::offset(&doc.text, at);
        let hits: Vec<&Finding> = doc
            .findings
            .iter()
            .filter(|f| {
                f.region
                    .is_some_and(|r| r.span.start <= offset && offset <= r.span.end)
            })
            .collect();
        let first = hits.first()?;
        let range = first
            .region
            .map(|r| position::range(&doc.text, r.span.start, r.span.end));
        let path = doc.path.clone();
        let config_path = config::discover(path.parent().unwrap_or(Path::new("/")));
        let (linter, _) = self.linters.by_config.get(&config_path)?;
        let mut value = String::new();
        for finding in &hits {
            let _ = write!(
                value,
                "**{}** ({}): {}\n\n",
                finding.rule, finding.severity, finding.message
            );
            if let Some(help) = &finding.help {
                let _ = write!(value, "help: {help}\n\n");
            }
        }
        for finding in hits {
            if let Some(rule) = linter.registry().get(finding.rule.as_str()) {
                value.push_str("---\n\n");
                value.push_str(&rule.page());
            }
        }
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value,
            }),
            range,
        })
    }
}

/// The manifest files under `folder` (`*.yaml`, `*.yml`, `*.json`), skipping hidden entries
/// (the config, `.git`) and build and dependency folders.
fn manifest_files(folder: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "target" || name == "node_modules" {
                continue;
            }
            let path = entry.path();
            match entry.file_type() {
                // A Helm chart's templates are not YAML (the CLI's directory walk skips charts).
                Ok(t) if t.is_dir() && path.join("Chart.yaml").is_file() => {}
                Ok(t) if t.is_dir() && depth < 16 => walk(&path, out, depth + 1),
                Ok(t)
                    if t.is_file()
                        && path
                            .extension()
                            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json") =>
                {
                    out.push(path);
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(folder, &mut out, 0);
    out.sort();
    out
}

/// Why the document at `path` (in workspace folder `folder`) is not linted, when it is not a
/// Kubernetes manifest the editor happened to open as YAML: a hidden path (`.github/`,
/// `.pre-commit-config.yaml`, the config itself, as the pre-commit hooks skip them), a file of a
/// Helm chart (its templates are not YAML; `Chart.yaml` and `values.yaml` are no objects), or a
/// text that names neither `apiVersion` nor `kind` anywhere (a compose file, a CI workflow).
/// Anything that may hold an object is linted.
fn not_a_manifest(path: &Path, folder: &Path, text: &str) -> Option<String> {
    let relative = path.strip_prefix(folder).unwrap_or(path);
    let hidden = relative.components().any(|c| {
        matches!(c, std::path::Component::Normal(name) if name.to_string_lossy().starts_with('.'))
    });
    if hidden {
        return Some("a hidden path (the pre-commit hooks skip these too)".into());
    }
    let in_folder = |dir: &&Path| dir.starts_with(folder) || !path.starts_with(folder);
    if let Some(chart) = path
        .ancestors()
        .skip(1)
        .take_while(in_folder)
        .find(|dir| dir.join("Chart.yaml").is_file())
    {
        let chart = chart.display();
        return Some(format!(
            "a file of the Helm chart `{chart}`, whose templates are not YAML; lint the chart with `kubectl vllm lint --helm-chart {chart}`"
        ));
    }
    (!names_an_object(text))
        .then(|| "it names no `apiVersion` or `kind`: not a Kubernetes manifest".into())
}

/// Whether a text may hold a Kubernetes object: it names `apiVersion` or `kind` somewhere.
fn names_an_object(text: &str) -> bool {
    text.contains("apiVersion") || text.contains("kind")
}

/// Whether a neighbour file is read as manifests: all but a file of at most 1 MiB that names no
/// `apiVersion` or `kind` (a compose file, a workflow), which would otherwise be an unreadable
/// neighbour and turn the whole-set rules off. Bigger files are read, under the input limits.
fn may_be_manifest(path: &Path) -> bool {
    const CHECKED: u64 = 1 << 20;
    match std::fs::metadata(path) {
        Ok(m) if m.len() <= CHECKED => std::fs::read(path).map_or(true, |bytes| {
            names_an_object(&String::from_utf8_lossy(&bytes))
        }),
        _ => true,
    }
}

/// Whether the config's `exclude` matches a neighbour `path`: as the CLI matches the paths it
/// finds under `.`, relative to the workspace folder, or to the config file's directory.
fn excluded(
    exclude: Option<&globset::GlobSet>,
    path: &Path,
    folder: &Path,
    config_path: Option<&Path>,
) -> bool {
    exclude.is_some() && {
        let base = config_path.and_then(Path::parent);
        [Some(folder), base]
            .into_iter()
            .flatten()
            .filter_map(|base| path.strip_prefix(base).ok())
            .chain(std::iter::once(path))
            .any(|p| kubectl_vllm_manifest::is_excluded(exclude, p))
    }
}

/// A finding as a diagnostic of `text`.
fn diagnostic(text: &str, finding: &Finding, docs_url: &str) -> Diagnostic {
    let range = finding.region.map_or_else(lsp_types::Range::default, |r| {
        position::range(text, r.span.start, r.span.end)
    });
    let mut message = finding.message.clone();
    if let Some(help) = &finding.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    Diagnostic {
        range,
        severity: Some(severity(finding.severity)),
        code: Some(NumberOrString::String(finding.rule.to_string())),
        code_description: lsp_types::Uri::from_str(&format!(
            "{}/{}.md",
            docs_url.trim_end_matches('/'),
            finding.rule
        ))
        .ok()
        .map(|href| CodeDescription { href }),
        source: Some("kubectl-vllm".into()),
        message,
        ..Diagnostic::default()
    }
}

/// The linter for a config (the defaults without one), with the schemas.
fn load_linter(path: Option<&Path>) -> Result<(Linter, Loaded), String> {
    let loaded = match path {
        Some(path) => config::load(path).map_err(|e| e.message.clone())?,
        None => Loaded::default(),
    };
    let mut linter = Linter::new(
        ArtifactCache::from_env(),
        Limits::default(),
        &loaded,
        &[],
        true,
    )
    .map_err(|e| e.to_string())?;
    let version = loaded
        .config
        .kubernetes_version
        .as_deref()
        .unwrap_or(kubectl_vllm_engine::schemas::DEFAULT_VERSION);
    linter.set_schemas(Some(kubectl_vllm_engine::schemas::load(version, &[])?));
    Ok((linter, loaded))
}
