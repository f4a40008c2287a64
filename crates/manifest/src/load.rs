//! Reading inputs the way kubectl does: files, directories (`-R` for subdirectories), stdin;
//! multi-document YAML, JSON and `kind: List`.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use kubectl_vllm_core::Pointer;

use crate::documents::LoadedDocument;
use crate::limits::{InputLimits, Limit, shown_bytes};
use crate::locate::{Located, locate};
use crate::provenance::{
    ChartOptions, KustomizationFile, Owner, Provenance, is_kustomization_file, kustomization_file,
    owning_kustomization, shown,
};
use crate::source::{SourceFile, Span};
use crate::yaml::{self, DuplicateKey, Node, Value};

/// One input as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file or directory.
    Path(PathBuf),
    /// `-`: standard input.
    Stdin,
    /// `-k DIR`: a kustomization, rendered with `kubectl kustomize`.
    Kustomize(PathBuf),
    /// `--helm-chart DIR`: a chart, rendered with `helm template`.
    HelmChart(PathBuf, ChartOptions),
}

impl From<&str> for Input {
    fn from(s: &str) -> Self {
        if s == "-" {
            Self::Stdin
        } else {
            Self::Path(PathBuf::from(s))
        }
    }
}

/// How to read inputs.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Descend into subdirectories of directory inputs.
    pub recursive: bool,
    /// The name stdin has in reports.
    pub stdin_name: String,
    /// Namespace for namespaced objects that set none.
    pub default_namespace: String,
    /// Paths never read (matched against paths as given and as found in directories).
    pub exclude: Option<globset::GlobSet>,
    /// Files already in the set (canonical paths), so that `extend` does not read them twice.
    pub already_read: std::collections::HashSet<PathBuf>,
    /// Threads that read and parse files (a directory's, or files named one after another;
    /// `None`: one per core). The set is the same, in the same order, whatever the number.
    pub jobs: Option<std::num::NonZeroUsize>,
    /// Bounds on what is read ([`InputLimits`]).
    pub limits: InputLimits,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            recursive: false,
            stdin_name: "<stdin>".into(),
            default_namespace: "default".into(),
            exclude: None,
            already_read: std::collections::HashSet::new(),
            jobs: None,
            limits: InputLimits::default(),
        }
    }
}

/// Identifies an object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Namespace (`None` for cluster-scoped kinds).
    pub namespace: Option<String>,
    /// `metadata.name` (empty when unset).
    pub name: String,
}

/// Where an object is: its file, its `---` document and, inside a `kind: List`, its place in the
/// List. Findings carry it with a pointer relative to the object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    /// Index into [`Manifests::files`].
    pub file: usize,
    /// The `---` document.
    pub document: usize,
    /// The object inside its document: the root, or `/items/N` inside a List.
    pub item: Pointer,
}

impl ObjectId {
    /// `relative` (a pointer inside the object) as a pointer inside the document.
    #[must_use]
    pub fn document_pointer(&self, relative: &Pointer) -> Pointer {
        self.item.join(relative)
    }

    /// A pointer inside the document as one inside this object, when it points into it.
    #[must_use]
    pub fn relative_pointer(&self, in_document: &Pointer) -> Option<Pointer> {
        in_document.strip_prefix(&self.item)
    }
}

impl ObjectRef {
    /// `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects.
    #[must_use]
    pub fn path(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

/// One Kubernetes object of the input set.
#[derive(Debug, Clone)]
pub struct Object {
    /// Index into [`Manifests::files`].
    pub file: usize,
    /// The `---` document it came from (a `kind: List`'s items share the List's).
    pub document: usize,
    /// Pointer of the object inside its document: the root, or `/items/N` inside a List.
    pub prefix: Pointer,
    /// The object as Kubernetes sees it; Secret values are `<redacted>`, namespace filled in.
    pub json: Json,
    /// Which object it is.
    pub reference: ObjectRef,
}

impl Object {
    /// Where the object is.
    #[must_use]
    pub fn id(&self) -> ObjectId {
        ObjectId {
            file: self.file,
            document: self.document,
            item: self.prefix.clone(),
        }
    }
}

/// A file that parsed (perhaps partly).
#[derive(Debug, Clone)]
pub struct ManifestFile {
    /// Its text.
    pub source: SourceFile,
    /// Its non-empty documents that parsed, in order; their trees are parsed again on demand.
    pub documents: Vec<LoadedDocument>,
    /// Keys written twice.
    pub duplicates: Vec<DuplicateKey>,
    /// Read as given, rendered, or read as a renderer's source.
    pub provenance: Provenance,
}

impl ManifestFile {
    /// Document `index` (counted as [`yaml::Document::index`]), if it parsed and is not empty.
    #[must_use]
    pub fn document(&self, index: usize) -> Option<&LoadedDocument> {
        self.documents
            .binary_search_by_key(&index, |d| d.index)
            .ok()
            .map(|i| &self.documents[i])
    }

    /// The tree of document `index`, spans in [`Self::source`].
    #[must_use]
    pub fn tree(&self, index: usize) -> Option<&Node> {
        self.document(index).map(|d| d.tree(&self.source.text))
    }
}

/// Something that could not be read or loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file's display name (or the path that could not be read).
    pub name: String,
    /// Index into [`Manifests::files`] when the file was read.
    pub file: Option<usize>,
    /// Where, when known.
    pub span: Option<Span>,
    /// The document, when known.
    pub document: Option<usize>,
    /// What went wrong.
    pub message: String,
}

impl InputError {
    /// An error about `name` as a whole (a path, a kustomization, a chart): no file of the set,
    /// no location.
    #[must_use]
    pub fn unlocated(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            file: None,
            span: None,
            document: None,
            message: message.into(),
        }
    }
}

/// Everything one invocation read.
#[derive(Debug, Clone, Default)]
pub struct Manifests {
    /// Files read, in input order.
    pub files: Vec<ManifestFile>,
    /// Objects, in file and document order.
    pub objects: Vec<Object>,
    /// What could not be read or loaded.
    pub errors: Vec<InputError>,
    /// Directories skipped on purpose, with why (Helm charts).
    pub skipped: Vec<String>,
    /// Files from this index on were read only for lookups (`--related`): not reported on.
    pub reported_files: Option<usize>,
}

/// Reads `reader` to its end, refusing more than [`InputLimits::file_bytes`] (what has no size to
/// check first: stdin, a pipe, a device) as soon as one byte more arrives.
fn read_bounded(reader: impl Read, options: &LoadOptions) -> Result<Vec<u8>, String> {
    let limit = options.limits.file_bytes;
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "it holds more than {}, the most one file may hold {}",
            shown_bytes(limit),
            Limit::FileBytes.hint(limit)
        ));
    }
    Ok(bytes)
}

fn over_file_limit(size: u64, limit: u64) -> String {
    format!(
        "it is {}, over the {} one file may hold {}",
        shown_bytes(size),
        shown_bytes(limit),
        Limit::FileBytes.hint(size)
    )
}

/// The set of `exclude` glob patterns (the config's and `--exclude`'s); `None` when there are
/// none.
///
/// # Errors
///
/// A pattern that is not a glob.
pub fn exclude_set(patterns: &[String]) -> Result<Option<globset::GlobSet>, globset::Error> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = globset::GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(globset::Glob::new(pattern)?);
    }
    builder.build().map(Some)
}

/// Whether `exclude` matches `path` (as given, or without a leading `./`).
#[must_use]
pub fn is_excluded(exclude: Option<&globset::GlobSet>, path: &Path) -> bool {
    exclude.is_some_and(|set| {
        set.is_match(path) || set.is_match(path.strip_prefix("./").unwrap_or(path))
    })
}

/// Why directory `dir` yielded no manifest: it is a Helm chart, its manifests are in
/// subdirectories (without `-R`), every file matched `exclude`, or it holds none. `None` when
/// it did hold manifests, all of them read already (a `--related` directory that holds the
/// inputs): nothing is missing.
fn empty_directory(dir: &Path, options: &LoadOptions) -> Option<String> {
    if dir.join("Chart.yaml").is_file() {
        let name = dir.display();
        return Some(format!(
            "it is a Helm chart, whose templates are not YAML; lint it with `kubectl vllm lint --helm-chart {name}` (or `helm template {name} | kubectl vllm lint -`)"
        ));
    }
    let manifests: Vec<PathBuf> = ignore::WalkBuilder::new(dir)
        .hidden(true)
        .ignore(false)
        .require_git(false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.depth() > 0 && e.file_type().is_some_and(|t| t.is_file()))
        .map(ignore::DirEntry::into_path)
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        })
        .collect();
    let excluded = manifests
        .iter()
        .filter(|p| is_excluded(options.exclude.as_ref(), p))
        .count();
    let read = manifests
        .iter()
        .filter(|p| {
            p.canonicalize()
                .is_ok_and(|p| options.already_read.contains(&p))
        })
        .count();
    if read > 0 && read + excluded == manifests.len() {
        return None;
    }
    let deeper = manifests.iter().filter(|p| p.parent() != Some(dir)).count();
    Some(if !options.recursive && deeper > 0 {
        format!(
            "its subdirectories hold {deeper} manifest file{}; read them with `-R`",
            if deeper == 1 { "" } else { "s" }
        )
    } else if excluded == 1 {
        "its only manifest file matched an `exclude` pattern".to_string()
    } else if excluded > 0 {
        format!("all {excluded} manifest files matched an `exclude` pattern")
    } else {
        "it holds no `.yaml`, `.yml` or `.json` file".to_string()
    })
}

/// The note for a Helm chart directory (one holding `Chart.yaml`), whose templates are not YAML.
fn helm_chart(dir: &Path) -> Option<String> {
    let name = dir.display();
    dir.join("Chart.yaml").is_file().then(|| {
        format!(
            "skipped Helm chart `{name}`: its templates are not YAML; lint it with `kubectl vllm lint --helm-chart {name}` (or `helm template {name} | kubectl vllm lint -`)"
        )
    })
}

/// Kinds that live outside namespaces (the common ones; anything else is treated as namespaced).
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "RuntimeClass",
    "IngressClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "APIService",
    "ComputeClass",
];

/// Whether objects of `kind` are cluster-scoped.
#[must_use]
pub fn is_cluster_scoped(kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&kind)
}

impl Manifests {
    /// Reads every input. Unreadable paths become [`InputError`]s; nothing here fails as a whole.
    #[must_use]
    pub fn load(inputs: &[Input], options: &LoadOptions) -> Self {
        let mut manifests = Self::default();
        manifests.extend(inputs, options);
        manifests
    }

    /// The object (index into `objects`) of document `document` in file `file` that holds
    /// `pointer`, a document-relative pointer: inside a `kind: List`, the item it points into.
    #[must_use]
    pub fn object_at(&self, file: usize, document: usize, pointer: &Pointer) -> Option<usize> {
        self.objects
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o.file == file && o.document == document && pointer.starts_with(&o.prefix)
            })
            .max_by_key(|(_, o)| o.prefix.as_str().len())
            .map(|(i, _)| i)
    }

    /// The object (index into `objects`) with identity `id`.
    #[must_use]
    pub fn object(&self, id: &ObjectId) -> Option<usize> {
        self.objects.iter().position(|o| o.id() == *id)
    }

    /// The object as written, for sending to a cluster: no namespace filled in and Secret
    /// values as they are (never print it). Falls back to the loaded copy.
    #[must_use]
    pub fn as_written(&self, object: &Object) -> Json {
        self.written(object).unwrap_or_else(|| object.json.clone())
    }

    /// The text of the object's `---` document when the object is the whole document (not an
    /// item of a `kind: List`), without a leading `---` line: comments and formatting as written.
    #[must_use]
    pub fn document_text(&self, object: &Object) -> Option<&str> {
        if !object.prefix.is_root() {
            return None;
        }
        let file = &self.files[object.file];
        let document = file.document(object.document)?;
        let text = &file.source.text[document.span.start..document.span.end];
        let text = match text.strip_prefix("---") {
            Some(rest) if rest.starts_with(['\n', '\r']) => rest.trim_start_matches(['\r', '\n']),
            Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
            _ => text,
        };
        Some(text)
    }

    /// The object as its file holds it (Secret values included: never print it), if its
    /// document is still there.
    #[must_use]
    pub fn written(&self, object: &Object) -> Option<Json> {
        let mut node = self.files[object.file].tree(object.document)?;
        for segment in object.prefix.tokens() {
            node = match (&node.value, segment.parse::<usize>()) {
                (Value::Seq(items), Ok(i)) => items.get(i),
                _ => node.get(&segment).map(|entry| &entry.value),
            }?;
        }
        Some(node.to_json())
    }

    /// Reads more inputs into the set.
    ///
    /// Files named one after another (pre-commit passes every changed file) are read like a
    /// directory's, on [`LoadOptions::jobs`] threads, in the order given.
    pub fn extend(&mut self, inputs: &[Input], options: &LoadOptions) {
        let manifests = self;
        let first_new = manifests.files.len();
        let mut files: Vec<PathBuf> = Vec::new();
        let mut rendered: Vec<PathBuf> = Vec::new();
        for input in inputs {
            if let Input::Path(path) = input
                && !path.is_dir()
                && !is_excluded(options.exclude.as_ref(), path)
            {
                // A kustomization file, or a file a kustomization uses (a patch is not an
                // object), named on its own: the kustomization is rendered, once.
                let owner = if is_kustomization_file(path) {
                    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
                    Some(Owner::Kustomization(
                        dir.unwrap_or(Path::new(".")).to_path_buf(),
                    ))
                } else {
                    owning_kustomization(path)
                };
                match owner {
                    Some(Owner::ComponentPatch(component)) => manifests.skipped.push(format!(
                        "`{}` is a patch of the kustomize Component `{}`, not an object: lint the kustomizations that use the component (`-k DIR`)",
                        path.display(),
                        shown(&component)
                    )),
                    Some(Owner::Kustomization(dir)) => {
                        let key = dir.canonicalize().unwrap_or_else(|_| dir.clone());
                        if !rendered.contains(&key) {
                            rendered.push(key);
                            manifests.add_files(&std::mem::take(&mut files), options);
                            manifests.add_kustomization(&dir, options);
                        }
                    }
                    None => files.push(path.clone()),
                }
                continue;
            }
            manifests.add_files(&std::mem::take(&mut files), options);
            match input {
                Input::Stdin => match read_bounded(std::io::stdin().lock(), options) {
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Ok(text) => manifests.add_stdin(text, options),
                        Err(e) => manifests
                            .unreadable(&options.stdin_name, &format!("not UTF-8 text: {e}")),
                    },
                    Err(message) => manifests.unreadable(&options.stdin_name, &message),
                },
                Input::Path(path) => manifests.add_path(path, options),
                Input::Kustomize(dir) => manifests.add_kustomization(dir, options),
                Input::HelmChart(chart, chart_options) => {
                    manifests.add_helm_chart(chart, chart_options, options);
                }
            }
        }
        manifests.add_files(&files, options);
        // A stream piped from `helm template` (or given to a post-renderer) names its templates.
        // A saved rendering is a file of its own (committed rendered manifests): findings and
        // fixes stay in it.
        for file in first_new..manifests.files.len() {
            if matches!(manifests.files[file].provenance, Provenance::Read)
                && manifests.files[file].source.name == options.stdin_name
            {
                let name = manifests.files[file].source.name.clone();
                manifests.trace_helm(file, None, name);
            }
        }
        manifests.hold_object_limit(options);
    }

    /// Stdin's text; stdin without a single document is an input error (what a failed
    /// `helm template ... |` gives), never a clean run.
    pub fn add_stdin(&mut self, text: String, options: &LoadOptions) {
        let name = options.stdin_name.clone();
        let (files, errors) = (self.files.len(), self.errors.len());
        self.add_text(&name, text, options);
        let documents: usize = self.files[files..].iter().map(|f| f.documents.len()).sum();
        if documents == 0 && self.errors.len() == errors {
            self.errors.push(InputError::unlocated(
                name.clone(),
                format!(
                    "no manifests found on stdin (`{name}`): it is empty; when it is piped from `helm template` or `kustomize build`, that command failed"
                ),
            ));
        }
    }

    fn add_path(&mut self, path: &Path, options: &LoadOptions) {
        if is_excluded(options.exclude.as_ref(), path) {
            // Named explicitly (pre-commit passes every changed file) and excluded on purpose.
            self.skipped.push(format!(
                "`{}` matches an `exclude` pattern; not read",
                path.display()
            ));
            return;
        }
        if path.is_dir() && kustomization_file(path).is_some() {
            self.add_kustomization(path, options);
        } else if path.is_dir() {
            let (files, errors) = (self.files.len(), self.errors.len());
            self.add_dir(path, options);
            if self.files.len() == files
                && self.errors.len() == errors
                && let Some(why) = empty_directory(path, options)
            {
                self.errors.push(InputError::unlocated(
                    path.display().to_string(),
                    format!("no manifests found in `{}`: {why}", path.display()),
                ));
            }
        } else {
            self.add_file(path, options);
        }
    }

    /// Reads a directory's manifests (`.yaml`, `.yml`, `.json`) in name order: its own files, or
    /// with `-R` the whole tree, as kubectl does. Like ruff and ripgrep, the walk honours
    /// `.gitignore` (and `.git/info/exclude`, the global git excludes), in or out of a git
    /// repository, and skips hidden entries (`.git`, `.github` workflows, the config) and config
    /// files (`*.kubectl-vllm.yaml`); named explicitly, such files are still read. A directory
    /// holding a `Chart.yaml` is a Helm chart: skipped with a note.
    fn add_dir(&mut self, root: &Path, options: &LoadOptions) {
        if helm_chart(root).is_some() {
            return; // an error naming the chart (the directory yields nothing)
        }
        let charts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kustomizations = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let exclude = options.exclude.clone();
        let found = std::sync::Arc::clone(&charts);
        let found_kustomizations = std::sync::Arc::clone(&kustomizations);
        let recursive = options.recursive;
        let walk = ignore::WalkBuilder::new(root)
            .max_depth((!options.recursive).then_some(1))
            .hidden(true)
            .ignore(false)
            .require_git(false)
            .sort_by_file_name(std::ffi::OsStr::cmp)
            .filter_entry(move |entry| {
                let path = entry.path();
                if entry.depth() == 0 {
                    return true;
                }
                if is_excluded(exclude.as_ref(), path) {
                    return false;
                }
                if recursive
                    && entry.file_type().is_some_and(|t| t.is_dir())
                    && let Some(note) = helm_chart(path)
                {
                    found.lock().expect("not poisoned").push(note);
                    return false;
                }
                // A kustomization is one unit, rendered; its files are not manifests.
                if recursive
                    && entry.file_type().is_some_and(|t| t.is_dir())
                    && kustomization_file(path).is_some()
                {
                    found_kustomizations
                        .lock()
                        .expect("not poisoned")
                        .push(path.to_path_buf());
                    return false;
                }
                true
            })
            .build();
        let is_manifest = |p: &Path| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        };
        let is_config = |p: &Path| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".kubectl-vllm.yaml"))
        };
        let mut files = Vec::new();
        for entry in walk {
            match entry {
                // Symlinked files are read; symlinked directories are not entered (kubectl's -R).
                Ok(entry) if entry.depth() > 0 => {
                    let path = entry.path();
                    if is_manifest(path) && !is_config(path) && path.is_file() {
                        files.push(entry.into_path());
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    self.add_files(&std::mem::take(&mut files), options);
                    self.unreadable(&root.display().to_string(), &e.to_string());
                }
            }
        }
        self.add_files(&files, options);
        let charts = std::mem::take(&mut *charts.lock().expect("not poisoned"));
        self.skipped.extend(charts);
        let kustomizations = std::mem::take(&mut *kustomizations.lock().expect("not poisoned"));
        self.add_walked_kustomizations(&kustomizations, options);
    }

    /// Renders the kustomizations a walk found, each once, except those that are not deployed on
    /// their own (said in a note): Components, which cannot be built alone, and bases, which
    /// another kustomization of the walk lists as a resource and which are linted through it.
    fn add_walked_kustomizations(&mut self, dirs: &[PathBuf], options: &LoadOptions) {
        let read: Vec<(PathBuf, Option<KustomizationFile>)> = dirs
            .iter()
            .map(|d| (d.clone(), KustomizationFile::of(d)))
            .collect();
        for (dir, file) in &read {
            let canonical = dir.canonicalize().unwrap_or_else(|_| dir.clone());
            let users: Vec<String> = read
                .iter()
                .filter(|(_, other)| {
                    other
                        .as_ref()
                        .is_some_and(|o| o.resources.contains(&canonical))
                })
                .map(|(d, _)| format!("`{}`", shown(d)))
                .collect();
            if file.as_ref().is_some_and(|f| f.component) {
                self.skipped.push(format!(
                    "kustomize Component `{}` is not built on its own: it is linted through the kustomizations that list it{}",
                    shown(dir),
                    if users.is_empty() { String::new() } else { format!(" ({})", users.join(", ")) }
                ));
            } else if !users.is_empty() {
                self.skipped.push(format!(
                    "kustomization `{}` is a base of {}: linted through it, not on its own (`-k {}` lints it alone)",
                    shown(dir),
                    users.join(", "),
                    shown(dir)
                ));
            } else {
                self.add_kustomization(dir, options);
            }
        }
    }

    /// Reads and parses `paths` on [`LoadOptions::jobs`] threads, each file on its own, and
    /// appends them in the order given: the result does not depend on the scheduling.
    fn add_files(&mut self, paths: &[PathBuf], options: &LoadOptions) {
        let jobs = options
            .jobs
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, std::num::NonZeroUsize::get)
            .min(paths.len());
        if jobs <= 1 {
            for path in paths {
                self.add_file(path, options);
            }
            return;
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let mut parts: Vec<(usize, Self)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..jobs)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(path) = paths.get(i) else {
                                return done;
                            };
                            let mut part = Self::default();
                            part.add_file(path, options);
                            done.push((i, part));
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| worker.join().expect("a loader thread panicked"))
                .collect()
        });
        parts.sort_unstable_by_key(|(i, _)| *i);
        for (_, part) in parts {
            self.append(part);
        }
    }

    /// Appends a set read on its own (its file indices shifted past ours).
    fn append(&mut self, part: Self) {
        let offset = self.files.len();
        self.files.extend(part.files);
        self.objects
            .extend(part.objects.into_iter().map(|o| Object {
                file: o.file + offset,
                ..o
            }));
        self.errors
            .extend(part.errors.into_iter().map(|e| InputError {
                file: e.file.map(|f| f + offset),
                ..e
            }));
        self.skipped.extend(part.skipped);
    }

    fn add_file(&mut self, path: &Path, options: &LoadOptions) {
        let name = path.display().to_string();
        if !options.already_read.is_empty()
            && path
                .canonicalize()
                .is_ok_and(|p| options.already_read.contains(&p))
        {
            return;
        }
        let limit = options.limits.file_bytes;
        // The size first: a file over the limit is refused without reading a byte of it.
        if let Ok(metadata) = std::fs::metadata(path)
            && metadata.is_file()
            && metadata.len() > limit
        {
            self.unreadable(&name, &over_file_limit(metadata.len(), limit));
            return;
        }
        let read = std::fs::File::open(path)
            .map_err(|e| e.to_string())
            .and_then(|file| read_bounded(file, options));
        match read {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => self.add_text(&name, text, options),
                Err(e) => self.unreadable(&name, &format!("not UTF-8 text: {e}")),
            },
            Err(message) => self.unreadable(&name, &message),
        }
    }

    /// Keeps at most [`InputLimits::objects`] objects: the first one past the bound gets an
    /// input error at its document, and no later object is linted.
    fn hold_object_limit(&mut self, options: &LoadOptions) {
        let limit = options.limits.objects;
        let Some(first_over) = self.objects.get(limit) else {
            return;
        };
        let (file, document) = (first_over.file, first_over.document);
        self.errors.push(InputError {
            name: self.files[file].source.name.clone(),
            file: Some(file),
            span: self.files[file].document(document).map(|d| {
                Span::new(d.anchor.start, d.anchor.start)
            }),
            document: Some(document),
            message: format!(
                "the run holds {} objects, more than {limit}: this one and every later one ({} in all) are not linted {}",
                self.objects.len(),
                self.objects.len() - limit,
                Limit::Objects.hint(limit as u64)
            ),
        });
        self.objects.truncate(limit);
    }

    fn unreadable(&mut self, name: &str, message: &str) {
        self.errors.push(InputError::unlocated(
            name,
            format!("cannot read `{name}`: {message}"),
        ));
    }

    /// Adds one file's text (used for files, stdin and tests).
    pub fn add_text(&mut self, name: &str, text: String, options: &LoadOptions) {
        let source = SourceFile::new(name, text);
        let stream = yaml::parse_with(&source.text, &options.limits);
        self.add_stream(name, source, stream, false, options);
    }

    /// Adds one object that arrived as JSON (an admission review's) as a file `name` holding it
    /// as indented JSON: the same objects, findings and spans as [`Manifests::add_text`] of that
    /// text, without parsing it (its tree is kept, not parsed again when a finding needs it).
    pub fn add_json(&mut self, name: &str, value: &Json, options: &LoadOptions) {
        let (text, document) = crate::json::document(value);
        let stream = yaml::Stream {
            documents: vec![document],
            ..yaml::Stream::default()
        };
        self.add_stream(name, SourceFile::new(name, text), stream, true, options);
    }

    /// Adds the objects of `stream`, parsed from `source`; `keep_trees`: the documents keep
    /// the stream's trees instead of parsing them again when asked.
    fn add_stream(
        &mut self,
        name: &str,
        source: SourceFile,
        stream: yaml::Stream,
        keep_trees: bool,
        options: &LoadOptions,
    ) {
        let file = self.files.len();
        for error in &stream.errors {
            let position = source.position(error.span.start);
            self.errors.push(InputError {
                name: name.to_string(),
                file: Some(file),
                span: Some(error.span),
                document: Some(error.document),
                message: format!(
                    "{}{} (line {}, column {})",
                    if error.limit.is_some() {
                        ""
                    } else {
                        "invalid YAML: "
                    },
                    error.message,
                    position.line,
                    position.column
                ),
            });
        }
        let mut documents = Vec::with_capacity(stream.documents.len());
        for document in stream.documents {
            if document.root.value == Value::Null {
                continue;
            }
            self.add_object(
                file,
                name,
                document.index,
                Pointer::root(),
                &document.root,
                options,
            );
            documents.push(if keep_trees {
                LoadedDocument::with_tree(document)
            } else {
                LoadedDocument::new(&document)
            });
        }
        // The trees go here (see `documents`): only what a finding points into is parsed again.
        self.files.push(ManifestFile {
            source,
            documents,
            duplicates: stream.duplicates,
            provenance: Provenance::Read,
        });
    }

    fn add_object(
        &mut self,
        file: usize,
        name: &str,
        document: usize,
        prefix: Pointer,
        node: &Node,
        options: &LoadOptions,
    ) {
        let error = |message: String, span: Span| InputError {
            name: name.to_string(),
            file: Some(file),
            span: Some(span),
            document: Some(document),
            message,
        };
        if !matches!(node.value, Value::Map(_)) {
            self.errors.push(error(
                "a Kubernetes object must be a mapping".into(),
                node.anchor_span(),
            ));
            return;
        }
        let string_field = |key: &str| match node.get(key).map(|e| &e.value.value) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        let (Some(api_version), Some(kind)) = (string_field("apiVersion"), string_field("kind"))
        else {
            let missing: Vec<&str> = ["apiVersion", "kind"]
                .into_iter()
                .filter(|k| string_field(k).is_none())
                .collect();
            self.errors.push(error(
                format!("object without {}", missing.join(" and ")),
                node.anchor_span(),
            ));
            return;
        };
        if kind.ends_with("List")
            && let Some(items) = node.get("items")
            && let Value::Seq(items) = &items.value.value
        {
            {
                for (i, item) in items.iter().enumerate() {
                    self.add_object(
                        file,
                        name,
                        document,
                        prefix.key("items").index(i),
                        item,
                        options,
                    );
                }
                return;
            }
        }
        let mut json = node.to_json();
        let metadata_name = json
            .pointer("/metadata/name")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string();
        let namespace = if is_cluster_scoped(&kind) {
            None
        } else {
            let ns = json
                .pointer("/metadata/namespace")
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
                .map_or_else(|| options.default_namespace.clone(), str::to_string);
            if let Some(metadata) = json.get_mut("metadata").and_then(Json::as_object_mut) {
                metadata.insert("namespace".into(), Json::String(ns.clone()));
            }
            Some(ns)
        };
        if kind == "Secret" {
            redact_secret(&mut json);
        }
        self.objects.push(Object {
            file,
            document,
            prefix,
            json,
            reference: ObjectRef {
                api_version,
                kind,
                namespace,
                name: metadata_name,
            },
        });
    }

    /// The same set read again from new texts (one per file, in order; fixes change texts, not
    /// how many documents they hold): each file keeps its provenance, so rendered objects keep
    /// their sources.
    #[must_use]
    pub fn with_texts(&self, texts: &[String], options: &LoadOptions) -> Self {
        let mut manifests = Self::default();
        for (file, text) in self.files.iter().zip(texts) {
            match &file.provenance {
                Provenance::Source { yaml } => {
                    manifests
                        .files
                        .push(source_file(&file.source.name, text.clone(), *yaml));
                }
                provenance => {
                    let index = manifests.files.len();
                    manifests.add_text(&file.source.name, text.clone(), options);
                    manifests.files[index].provenance = provenance.clone();
                }
            }
        }
        manifests.skipped.clone_from(&self.skipped);
        manifests.reported_files = self.reported_files;
        manifests
    }

    /// Where `pointer` (relative to the object) is in the object's file.
    #[must_use]
    pub fn locate(&self, object: &Object, pointer: &Pointer) -> Option<Located> {
        let tokens: Vec<String> = object
            .prefix
            .join(pointer)
            .tokens()
            .map(std::borrow::Cow::into_owned)
            .collect();
        let root = self.files[object.file].tree(object.document)?;
        Some(locate(root, &tokens))
    }

    /// The root span of a document, for findings about a whole document.
    #[must_use]
    pub fn document_span(&self, file: usize, document: usize) -> Option<Span> {
        self.files[file].document(document).map(|d| d.anchor)
    }
}

/// A source file's entry: its documents located (trees parsed again on demand), no objects.
pub(crate) fn source_file(name: &str, text: String, yaml: bool) -> ManifestFile {
    let source = SourceFile::new(name, text);
    let documents = if yaml {
        yaml::parse(&source.text)
            .documents
            .iter()
            .filter(|d| d.root.value != Value::Null)
            .map(LoadedDocument::new)
            .collect()
    } else {
        Vec::new()
    };
    ManifestFile {
        source,
        documents,
        duplicates: Vec::new(),
        provenance: Provenance::Source { yaml },
    }
}

/// The placeholder that replaces every Secret value.
pub const REDACTED: &str = "<redacted>";

/// Replaces every value under a Secret's `data` and `stringData` with [`REDACTED`].
pub fn redact_secret(json: &mut Json) {
    for field in ["data", "stringData"] {
        if let Some(map) = json.get_mut(field).and_then(Json::as_object_mut) {
            for value in map.values_mut() {
                *value = Json::String(REDACTED.into());
            }
        }
    }
}

/// Byte spans of the values under a Secret's `data` and `stringData`, to hide them in snippets.
#[must_use]
pub fn secret_value_spans(manifests: &Manifests, file: usize) -> Vec<Span> {
    let mut spans = Vec::new();
    // A renderer's source file holds no objects; its Secrets are found in its documents.
    if let Provenance::Source { yaml: true } = manifests.files[file].provenance {
        let f = &manifests.files[file];
        for document in &f.documents {
            let tree = document.tree(&f.source.text);
            if tree.get("kind").map(|e| &e.value.value) != Some(&Value::String("Secret".into())) {
                continue;
            }
            for field in ["data", "stringData"] {
                if let Some(Value::Map(entries)) = tree.get(field).map(|e| &e.value.value) {
                    spans.extend(entries.iter().map(|e| e.value.span));
                }
            }
        }
        return spans;
    }
    for object in manifests.objects.iter().filter(|o| o.file == file) {
        if object.reference.kind != "Secret" {
            continue;
        }
        for field in ["data", "stringData"] {
            if let Some(located) = manifests.locate(object, &Pointer::root().key(field))
                && located.exact
            {
                let Some(mut node) = manifests.files[file].tree(object.document) else {
                    continue;
                };
                for token in object.prefix.key(field).tokens() {
                    match node.get(&token) {
                        Some(entry) => node = &entry.value,
                        None => break,
                    }
                }
                if let Value::Map(entries) = &node.value {
                    spans.extend(entries.iter().map(|e| e.value.span));
                }
                // A duplicated key's dropped value is still in the text.
                let under = object.prefix.key(field);
                spans.extend(
                    manifests.files[file]
                        .duplicates
                        .iter()
                        .filter(|d| {
                            d.document == object.document
                                && Pointer::parse(&d.pointer).is_ok_and(|p| {
                                    p.strip_prefix(&under).is_some_and(|rest| !rest.is_root())
                                })
                        })
                        .map(|d| d.first_value),
                );
            }
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Manifests {
        let mut m = Manifests::default();
        m.add_text("t.yaml", text.to_string(), &LoadOptions::default());
        m
    }

    #[test]
    fn multi_document_list_and_json() {
        let m = load(
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n\
             - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n---\n---\n\
             {\"apiVersion\": \"v1\", \"kind\": \"PersistentVolume\", \"metadata\": {\"name\": \"pv\"}}\n",
        );
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        let got: Vec<_> = m
            .objects
            .iter()
            .map(|o| {
                (
                    o.reference.name.as_str(),
                    o.document,
                    o.prefix.as_str(),
                    o.reference.namespace.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", 0, "/items/0", Some("default".into())),
                ("b", 0, "/items/1", Some("default".into())),
                ("pv", 2, "", None),
            ]
        );
        let b = &m.objects[1];
        let located = m.locate(b, &Pointer::from_path("/metadata/name")).unwrap();
        assert_eq!(m.files[0].source.position(located.span.start).line, 5);
    }

    #[test]
    fn objects_without_kind_are_input_errors_and_the_rest_loads() {
        let m = load("apiVersion: v1\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Service\n");
        assert_eq!(m.objects.len(), 1);
        assert_eq!(m.errors.len(), 1);
        assert!(m.errors[0].message.contains("without kind"));
        assert_eq!(m.errors[0].document, Some(0));
    }

    #[test]
    fn invalid_yaml_keeps_earlier_and_later_documents() {
        let m = load("apiVersion: v1\nkind: A\n---\nbroken: [\n---\napiVersion: v1\nkind: B\n");
        let kinds: Vec<_> = m
            .objects
            .iter()
            .map(|o| o.reference.kind.as_str())
            .collect();
        assert_eq!(kinds, vec!["A", "B"]);
        assert_eq!(m.errors.len(), 1);
        assert!(m.errors[0].message.starts_with("invalid YAML"));
    }

    #[test]
    fn secrets_are_redacted() {
        let m = load(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  token: hunter2\n",
        );
        assert_eq!(m.objects[0].json["stringData"]["token"], REDACTED);
        let spans = secret_value_spans(&m, 0);
        assert_eq!(&m.files[0].source.text[spans[0].range()], "hunter2");
    }

    #[test]
    fn directory_walks_honour_gitignore_hidden_entries_charts_and_excludes() {
        let root = std::env::temp_dir().join(format!("kubectl-vllm-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let config_map =
            |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n");
        let files = [
            (
                ".gitignore",
                "generated/\n*.local.yaml\n!keep.local.yaml\n".to_string(),
            ),
            ("a.yaml", config_map("a")),
            ("scratch.local.yaml", config_map("scratch")),
            ("keep.local.yaml", config_map("keep")),
            ("generated/g.yaml", config_map("g")),
            ("sub/.gitignore", "old.yaml\n".to_string()),
            ("sub/b.yml", config_map("b")),
            ("sub/old.yaml", config_map("old")),
            ("sub/notes.txt", "not a manifest".to_string()),
            (".github/workflows/ci.yaml", "on: push\n".to_string()),
            ("team.kubectl-vllm.yaml", "rules: {}\n".to_string()),
            ("chart/Chart.yaml", "name: c\n".to_string()),
            ("chart/templates/d.yaml", "{{ .Values }}".to_string()),
            (
                "vendor/v.json",
                r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "v"}}"#
                    .to_string(),
            ),
        ];
        for (path, text) in &files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let names = |inputs: &[Input], options: &LoadOptions| {
            let m = Manifests::load(inputs, options);
            assert!(m.errors.is_empty(), "{:?}", m.errors);
            let names: Vec<String> = m.objects.iter().map(|o| o.reference.name.clone()).collect();
            (names, m.skipped.len())
        };
        let dir = [Input::Path(root.clone())];
        let flat = LoadOptions::default();
        assert_eq!(names(&dir, &flat), (vec!["a".into(), "keep".into()], 0));
        let recursive = LoadOptions {
            recursive: true,
            ..LoadOptions::default()
        };
        assert_eq!(
            names(&dir, &recursive),
            (vec!["a".into(), "keep".into(), "b".into(), "v".into()], 1)
        );
        let mut exclude = globset::GlobSetBuilder::new();
        exclude.add(globset::Glob::new("**/vendor").unwrap());
        let excluding = LoadOptions {
            exclude: Some(exclude.build().unwrap()),
            ..recursive.clone()
        };
        assert_eq!(
            names(&dir, &excluding),
            (vec!["a".into(), "keep".into(), "b".into()], 1)
        );
        // Named explicitly, an ignored file is read.
        let explicit = [
            Input::Path(root.join("sub/old.yaml")),
            Input::Path(root.join("generated")),
        ];
        assert_eq!(
            names(&explicit, &recursive),
            (vec!["old".into(), "g".into()], 0)
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    /// Files are read on several threads; the set (files, objects, errors and their indices) is
    /// the one a single thread reads, whatever the scheduling.
    #[test]
    fn any_number_of_loader_threads_reads_the_same_set() {
        let root =
            std::env::temp_dir().join(format!("kubectl-vllm-parallel-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("d")).unwrap();
        for i in 0..40 {
            // Varied sizes so that threads finish out of order; some files are broken.
            let text = match i % 7 {
                3 => "key: [unclosed\n".to_string(),
                5 => "kind: ConfigMap\n".to_string(),
                _ => (0..=i % 5)
                    .map(|j| {
                        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}-{j}}}\n")
                    })
                    .collect::<Vec<_>>()
                    .join("---\n"),
            };
            std::fs::write(root.join("d").join(format!("{i:02}.yaml")), text).unwrap();
        }
        std::fs::write(root.join("d/bad.yaml"), [0xff, 0xfe]).unwrap();
        let directory = [Input::Path(root.join("d"))];
        // The same files named one by one, as pre-commit passes them, in the walk's order.
        let named: Vec<Input> = (0..40)
            .map(|i| format!("{i:02}.yaml"))
            .chain(["bad.yaml".to_string()])
            .map(|name| Input::Path(root.join("d").join(name)))
            .collect();
        let read = |inputs: &[Input], jobs: usize| {
            let m = Manifests::load(
                inputs,
                &LoadOptions {
                    jobs: std::num::NonZeroUsize::new(jobs),
                    ..LoadOptions::default()
                },
            );
            let files: Vec<String> = m.files.iter().map(|f| f.source.name.clone()).collect();
            let objects: Vec<(usize, usize, String)> = m
                .objects
                .iter()
                .map(|o| (o.file, o.document, o.reference.name.clone()))
                .collect();
            (files, objects, m.errors)
        };
        let serial = read(&directory, 1);
        assert_eq!(serial.0.len(), 40);
        assert!(
            serial.1.len() > 40 && serial.2.len() >= 12,
            "{:?}",
            serial.2
        );
        // Each object points at the file it came from: `c{i}-{j}` is in `{i:02}.yaml`.
        for (file, _, name) in &serial.1 {
            let i: usize = name[1..name.find('-').unwrap()].parse().unwrap();
            assert!(serial.0[*file].ends_with(&format!("{i:02}.yaml")), "{name}");
        }
        for jobs in [1, 2, 3, 8] {
            assert_eq!(read(&directory, jobs), serial, "{jobs} threads");
            assert_eq!(read(&named, jobs), serial, "named files, {jobs} threads");
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn as_written_keeps_secret_values_and_leaves_the_namespace_unset() {
        let m = load(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: hf}\n  stringData: {token: hf_abc}\n",
        );
        let secret = &m.objects[0];
        assert_eq!(secret.json["stringData"]["token"], REDACTED);
        assert_eq!(secret.json["metadata"]["namespace"], "default");
        let written = m.as_written(secret);
        assert_eq!(written["stringData"]["token"], "hf_abc");
        assert!(written["metadata"].get("namespace").is_none());
    }
}
