//! Kustomizations: built with `kubectl kustomize` (or `kustomize build` when
//! `KUBECTL_VLLM_KUSTOMIZE=kustomize`), each object traced to the file it came from.
//!
//! The user's files are never edited: a temporary wrapper kustomization whose only resource is
//! the user's directory turns on `buildMetadata: [originAnnotations, transformerAnnotations]`,
//! so kustomize writes on every object the file it came from (`config.kubernetes.io/origin`)
//! and the kustomizations whose transformers ran over it
//! (`alpha.config.kubernetes.io/transformations`). Both annotations are taken out of the
//! rendered text before the objects are read: the rules, `apply` and `fix` see what
//! `kubectl kustomize DIR` prints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

use super::{Origin, OriginKind, Provenance, Rendered, Renderer, display, normalize};
use crate::load::{InputError, LoadOptions, Manifests, source_file};
use crate::source::Span;
use crate::yaml::{self, Node, Value};

pub use crate::provenance::{
    KUSTOMIZATION_FILES as FILE_NAMES, is_kustomization_file as is_file_name,
    kustomization_file as file_of,
};

const ORIGIN: &str = "config.kubernetes.io/origin";
const TRANSFORMATIONS: &str = "alpha.config.kubernetes.io/transformations";

pub(crate) use crate::provenance::shown;

/// The command that builds a kustomization directory (`kubectl kustomize DIR` unless
/// `KUBECTL_VLLM_KUSTOMIZE=kustomize` asks for `kustomize build DIR`), and how it is shown.
fn command(dir: &Path) -> (Command, &'static str) {
    if std::env::var_os("KUBECTL_VLLM_KUSTOMIZE").is_some_and(|v| v == "kustomize") {
        let mut command = Command::new("kustomize");
        command.arg("build").arg(dir);
        (command, "kustomize build")
    } else {
        let mut command = Command::new("kubectl");
        command.arg("kustomize").arg(dir);
        (command, "kubectl kustomize")
    }
}

fn command_for(dir: &Path) -> Command {
    command(dir).0
}

/// The `resources`, `bases` and `components` entries of the kustomization in `dir` and of every
/// local kustomization it uses (at most 64) that are remote URLs, as `(kustomization dir, entry)`.
/// An entry is remote when it is no local path and reads as a URL: a scheme (`https://`,
/// `ssh://`, `git::`), `git@host:`, or a first segment with a dot (`github.com/org/repo//dir`).
fn remote_bases(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut remote = Vec::new();
    let mut queue = vec![dir.to_path_buf()];
    let mut seen: Vec<PathBuf> = Vec::new();
    while let Some(dir) = queue.pop() {
        if seen.contains(&dir) || seen.len() >= 64 {
            continue;
        }
        seen.push(dir.clone());
        let Some(text) = file_of(&dir).and_then(|f| std::fs::read_to_string(f).ok()) else {
            continue;
        };
        let Some(root) = yaml::parse(&text)
            .documents
            .first()
            .map(|d| d.root.to_json())
        else {
            continue;
        };
        for key in ["resources", "bases", "components"] {
            for entry in root[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
            {
                let local = dir.join(entry);
                if local.exists() {
                    if local.is_dir() {
                        queue.push(local.canonicalize().unwrap_or(local));
                    }
                } else if is_url(entry) {
                    remote.push((dir.clone(), entry.to_string()));
                }
            }
        }
    }
    remote
}

fn is_url(entry: &str) -> bool {
    let first = entry.split('/').next().unwrap_or("");
    entry.contains("://")
        || entry.starts_with("git::")
        || entry.starts_with("git@")
        || (first.contains('.') && !first.starts_with('.') && entry.contains('/'))
}

/// `at` (a kustomization inside `target`'s graph) as the user would name it.
fn shown_path(at: &Path, target: &Path, shown: &str) -> String {
    match at.strip_prefix(target) {
        Ok(rest) if rest.as_os_str().is_empty() => shown.to_string(),
        Ok(rest) => Path::new(shown).join(rest).display().to_string(),
        Err(_) => at.display().to_string(),
    }
}

/// A temporary directory holding the wrapper kustomization, removed when dropped.
struct Wrapper(PathBuf);

impl Wrapper {
    /// A wrapper whose only resource is `target` (canonical), written as a relative path:
    /// kustomize refuses absolute resource paths.
    fn new(target: &Path, traced: bool) -> std::io::Result<Self> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().canonicalize()?.join(format!(
            "kubectl-vllm-kustomize-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        let wrapper = Self(dir);
        let resource = relative(target, &wrapper.0);
        std::fs::write(
            wrapper.0.join("kustomization.yaml"),
            format!(
                "# written by kubectl-vllm to trace objects to their files; removed after the build\n\
                 apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
                 resources:\n- {}\n{}",
                serde_json::Value::String(resource.display().to_string()),
                if traced {
                    "buildMetadata: [originAnnotations, transformerAnnotations]\n"
                } else {
                    ""
                }
            ),
        )?;
        Ok(wrapper)
    }
}

impl Drop for Wrapper {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `path` relative to `base` (both absolute), always relative.
fn relative(path: &Path, base: &Path) -> PathBuf {
    let (a, b): (Vec<_>, Vec<_>) = (path.components().collect(), base.components().collect());
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &a[common..] {
        out.push(c);
    }
    out
}

impl Manifests {
    /// Builds the kustomization in `dir` and adds its objects as one rendered file, traced to
    /// their source files; a build that fails is an input error with kustomize's message.
    pub fn add_kustomization(&mut self, dir: &Path, options: &LoadOptions) {
        let shown = shown(dir);
        let error = |message: String| InputError::unlocated(shown.clone(), message);
        let target = match dir.canonicalize() {
            Ok(target) if file_of(&target).is_some() => target,
            Ok(_) => {
                self.errors.push(error(format!(
                    "`{shown}` is not a kustomization: it holds no {}",
                    FILE_NAMES.join(", ")
                )));
                return;
            }
            Err(e) => {
                self.errors
                    .push(error(format!("cannot read `{shown}`: {e}")));
                return;
            }
        };
        // kustomize fetches a remote base (a git URL) over the network: never here. The whole
        // local graph is checked before kustomize runs.
        if let Some((at, entry)) = remote_bases(&target).into_iter().next() {
            self.errors.push(error(format!(
                "`{}` uses the remote base `{entry}`: kubectl-vllm runs kustomize only on local files and never fetches over the network; vendor the base into the repository, or render it yourself and lint the output (`kubectl kustomize {shown} | kubectl vllm lint -`)",
                shown_path(&at, &target, &shown)
            )));
            return;
        }
        let mut wrapper = match Wrapper::new(&target, true) {
            Ok(wrapper) => wrapper,
            Err(e) => {
                self.errors.push(error(format!(
                    "cannot write a temporary kustomization to build `{shown}`: {e}"
                )));
                return;
            }
        };
        let (mut command, tool) = command(&wrapper.0);
        let mut output = command.output();
        // kustomize before v4 (kubectl before 1.21) knows no `buildMetadata`: build untraced,
        // and say that findings stay on the rendered output.
        if let Ok(failed) = &output
            && !failed.status.success()
            && String::from_utf8_lossy(&failed.stderr).contains("buildMetadata")
            && let Ok(plain) = Wrapper::new(&target, false)
        {
            wrapper = plain;
            output = command_for(&wrapper.0).output();
            self.skipped.push(format!(
                "`{tool}` is too old to say which file each object of `{shown}` came from (kustomize's buildMetadata needs kustomize v4, kubectl 1.21): its findings point into the rendered output"
            ));
        }
        let output = match output {
            Ok(output) => output,
            Err(e) => {
                let binary = tool.split(' ').next().unwrap_or(tool);
                self.errors.push(error(format!(
                    "cannot run `{tool}` to render `{shown}`: {e}{}",
                    if e.kind() == std::io::ErrorKind::NotFound {
                        format!(" (`{binary}` is not on PATH)")
                    } else {
                        String::new()
                    }
                )));
                return;
            }
        };
        // kustomize names paths relative to the wrapper; say them as the user named them.
        let resource = relative(&target, &wrapper.0).display().to_string();
        let wrapper_dir = wrapper.0.display().to_string();
        let unwrap = |text: &str| {
            text.replace(&resource, &shown)
                .replace(&wrapper_dir, &shown)
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            self.errors.push(error(format!(
                "`{tool} {shown}` failed: {}",
                unwrap(stderr.trim())
            )));
            return;
        }
        let Ok(text) = String::from_utf8(output.stdout) else {
            self.errors.push(error(format!(
                "`{tool} {shown}` printed text that is not UTF-8"
            )));
            return;
        };
        let (text, annotations) = strip_annotations(&text);
        if annotations.is_empty() {
            self.skipped
                .push(format!("kustomization `{shown}` rendered no objects"));
            return;
        }
        let file = self.files.len();
        let before = self.objects.len();
        self.add_text(&format!("<kustomize {shown}>"), text, options);
        let mut origins = BTreeMap::new();
        let objects: Vec<(usize, String, String)> = self.objects[before..]
            .iter()
            .map(|o| {
                (
                    o.document,
                    o.reference.kind.clone(),
                    o.reference.name.clone(),
                )
            })
            .collect();
        for (document, kind, name) in objects {
            let Some(found) = annotations.get(&document) else {
                continue;
            };
            if let Some(origin) = self.origin_of(found, &wrapper.0, &kind, &name) {
                origins.insert(document, origin);
            }
        }
        self.files[file].provenance = Provenance::Rendered(Rendered {
            by: Renderer::Kustomize,
            from: shown,
            origins,
        });
    }

    /// The origin an object's annotations name, its source file read into the set.
    fn origin_of(
        &mut self,
        found: &Annotations,
        wrapper: &Path,
        kind: &str,
        name: &str,
    ) -> Option<Origin> {
        let resolve = |p: &str| normalize(&wrapper.join(p));
        let mut transformed_by: Vec<String> = Vec::new();
        let mut patches: Vec<usize> = Vec::new();
        for path in found
            .transformations
            .iter()
            .filter_map(|t| t.get("configuredIn").and_then(Json::as_str))
            .map(resolve)
        {
            // Read, so that a value a kustomization set (an `images` entry) can be shown there.
            if let Some(file) = self.add_source(&path, true) {
                let name = self.files[file].source.name.clone();
                if !transformed_by.contains(&name) {
                    transformed_by.push(name);
                    for patch in patch_files(&self.files[file].source.text, &path) {
                        if let Some(patch) = self.add_source(&patch, true)
                            && !patches.contains(&patch)
                        {
                            patches.push(patch);
                        }
                    }
                }
            }
        }
        let origin = found.origin.as_ref()?;
        let field = |key: &str| origin.get(key).and_then(Json::as_str);
        if let Some(repo) = field("repo") {
            return Some(Origin {
                path: format!("{repo} {}", field("path").unwrap_or_default()),
                file: None,
                kind: OriginKind::Resource { document: None },
                transformed_by,
                patches,
            });
        }
        let (path, generator) = if let Some(path) = field("path") {
            (resolve(path), None)
        } else {
            let generator = origin
                .pointer("/configuredBy/kind")
                .and_then(Json::as_str)?
                .to_string();
            (resolve(field("configuredIn")?), Some(generator))
        };
        let file = self.add_source(&path, true);
        let kind = match generator {
            Some(generator) => OriginKind::Generated { generator },
            None => OriginKind::Resource {
                document: file.and_then(|f| self.source_document(f, kind, name)),
            },
        };
        Some(Origin {
            path: display(&path),
            file,
            kind,
            transformed_by,
            patches,
        })
    }

    /// Reads `path` as a source file (once per run): parsed as YAML when `yaml`, holding no
    /// objects of the set. `None` when it cannot be read.
    pub(crate) fn add_source(&mut self, path: &Path, yaml: bool) -> Option<usize> {
        let name = display(path);
        if let Some(i) = self.files.iter().position(|f| {
            f.source.name == name && matches!(f.provenance, Provenance::Source { .. })
        }) {
            return Some(i);
        }
        let text = std::fs::read_to_string(path).ok()?;
        self.files.push(source_file(&name, text, yaml));
        Some(self.files.len() - 1)
    }

    /// The document of source file `file` that holds the object of `kind` rendered as `name`:
    /// the one with that name, else the longest name inside it (kustomize's `namePrefix` and
    /// `nameSuffix`), else the only one of that kind.
    fn source_document(&self, file: usize, kind: &str, name: &str) -> Option<usize> {
        let f = &self.files[file];
        let candidates: Vec<(usize, String)> = f
            .documents
            .iter()
            .filter_map(|d| {
                let json = d.tree(&f.source.text).to_json();
                (json.get("kind").and_then(Json::as_str) == Some(kind)).then(|| {
                    let n = json.pointer("/metadata/name").and_then(Json::as_str);
                    (d.index, n.unwrap_or_default().to_string())
                })
            })
            .collect();
        candidates
            .iter()
            .filter(|(_, n)| !n.is_empty() && name.contains(n.as_str()))
            .max_by_key(|(_, n)| (n == name, n.len()))
            .or_else(|| (candidates.len() == 1).then(|| &candidates[0]))
            .map(|(d, _)| *d)
    }
}

/// The strategic-merge patch files a kustomization (its text, at `path`) lists: `patches` entries
/// with a `path`, and `patchesStrategicMerge`. JSON 6902 patch files are lists, not objects; they
/// are read and then match no object.
fn patch_files(text: &str, path: &Path) -> Vec<PathBuf> {
    let Some(dir) = path.parent() else {
        return Vec::new();
    };
    let Some(root) = yaml::parse(text)
        .documents
        .first()
        .map(|d| d.root.to_json())
    else {
        return Vec::new();
    };
    let listed = |key: &str| {
        root.get(key)
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default()
    };
    listed("patches")
        .iter()
        .filter_map(|p| p.get("path").and_then(Json::as_str).map(str::to_string))
        .chain(
            listed("patchesStrategicMerge")
                .iter()
                .filter_map(|p| p.as_str().map(str::to_string)),
        )
        .map(|p| normalize(&dir.join(p)))
        .filter(|p| p.is_file())
        .collect()
}

/// The tracing annotations kustomize wrote on one object.
#[derive(Debug, Default)]
struct Annotations {
    origin: Option<Json>,
    transformations: Vec<Json>,
}

/// `text` without the annotations the wrapper asked for, and what they said, by document
/// (every object's document is a key, with or without annotations). When taking them out
/// would not leave valid YAML, the text is kept as printed.
fn strip_annotations(text: &str) -> (String, BTreeMap<usize, Annotations>) {
    let stream = yaml::parse(text);
    let mut found = BTreeMap::new();
    let mut cuts: Vec<Span> = Vec::new();
    for document in &stream.documents {
        if document.root.value == Value::Null {
            continue;
        }
        let mut annotations = Annotations::default();
        let entry = document
            .root
            .get("metadata")
            .and_then(|m| m.value.get("annotations"));
        if let Some(entry) = entry
            && let Value::Map(entries) = &entry.value.value
        {
            let ours = |key: &str| key == ORIGIN || key == TRANSFORMATIONS;
            for e in entries.iter().filter(|e| ours(&e.key)) {
                let parsed = match &e.value.value {
                    Value::String(s) => yaml::parse(s)
                        .documents
                        .into_iter()
                        .next()
                        .map(|d| d.root.to_json()),
                    _ => None,
                };
                if e.key == ORIGIN {
                    annotations.origin = parsed;
                } else if let Some(Json::Array(items)) = parsed {
                    annotations.transformations = items;
                }
            }
            if entries.iter().all(|e| ours(&e.key)) {
                cuts.push(lines(text, entry.key_span, &entry.value));
            } else {
                cuts.extend(
                    entries
                        .iter()
                        .filter(|e| ours(&e.key))
                        .map(|e| lines(text, e.key_span, &e.value)),
                );
            }
        }
        found.insert(document.index, annotations);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for cut in &cuts {
        out.push_str(&text[at..cut.start]);
        at = cut.end;
    }
    out.push_str(&text[at..]);
    if yaml::parse(&out).errors.is_empty() {
        (out, found)
    } else {
        (text.to_string(), found)
    }
}

/// The whole lines from the line of `key` to the end of `value`'s last line.
fn lines(text: &str, key: Span, value: &Node) -> Span {
    let start = text[..key.start].rfind('\n').map_or(0, |i| i + 1);
    let last = value.span.end.max(key.end).saturating_sub(1).max(start);
    let end = text[last..].find('\n').map_or(text.len(), |i| last + i + 1);
    // A block scalar's span ends past its final newline, on the next line's first byte.
    let end = if value.span.end > 0 && text.as_bytes().get(value.span.end - 1) == Some(&b'\n') {
        value.span.end.max(start)
    } else {
        end
    };
    Span::new(start, end)
}

/// The `images` entry of a kustomization that set a rendered image.
pub(crate) struct ImagesEntry {
    /// The kustomization file (index into the files).
    pub file: usize,
    /// Its `newTag`, `digest` or `newName` key.
    pub span: Span,
    /// The kustomization's name.
    pub by: String,
    /// Whether the entry sets the tag or digest (else only the name).
    pub sets_tag: bool,
    /// The pointer of that key in the kustomization (`/images/0/newTag`).
    pub pointer: kubectl_vllm_core::Pointer,
}

/// The `images` entry of a kustomization that replaced the image of a container whose source
/// says `image` (matched by the image's name, without tag or digest). The last kustomization to
/// transform the object wins, as in kustomize.
pub(crate) fn images_entry(
    manifests: &Manifests,
    transformed_by: &[String],
    image: &str,
) -> Option<ImagesEntry> {
    let name = image.split('@').next().unwrap_or(image);
    let name = match name.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => name,
    };
    transformed_by.iter().rev().find_map(|path| {
        let file = manifests.files.iter().position(|f| {
            f.source.name == *path && matches!(f.provenance, Provenance::Source { yaml: true })
        })?;
        let f = &manifests.files[file];
        let root = f.tree(f.documents.first()?.index)?;
        let Value::Seq(items) = &root.get("images")?.value.value else {
            return None;
        };
        let (index, entry) = items.iter().enumerate().find(|(_, item)| {
            matches!(item.get("name").map(|e| &e.value.value), Some(Value::String(n)) if n == name)
        })?;
        let tag = ["newTag", "digest"].iter().find_map(|k| entry.get(k));
        let key = tag.or_else(|| entry.get("newName"));
        let mut pointer = kubectl_vllm_core::Pointer::root()
            .key("images")
            .index(index);
        if let Some(key) = key {
            pointer.push_key(&key.key);
        }
        Some(ImagesEntry {
            file,
            span: key.map_or(entry.anchor_span(), |e| e.key_span),
            by: path.clone(),
            sets_tag: tag.is_some(),
            pointer,
        })
    })
}

/// The entry of `generator` (`ConfigMapGenerator`) in kustomization file `file` that made the
/// object rendered as `name` (`prod-cfg-b9t2424hkf`): the entry's `name` key.
pub(crate) fn generator_entry(
    manifests: &Manifests,
    file: usize,
    generator: &str,
    name: &str,
) -> Option<Span> {
    let f = &manifests.files[file];
    let root = f.tree(f.documents.first()?.index)?;
    let mut key = generator.trim_end_matches("Generator").to_string();
    key.get_mut(..1)?.make_ascii_lowercase();
    let list = root.get(&format!("{key}Generator"))?;
    let Value::Seq(items) = &list.value.value else {
        return Some(list.key_span);
    };
    items
        .iter()
        .filter_map(|item| {
            let entry = item.get("name")?;
            let Value::String(n) = &entry.value.value else {
                return None;
            };
            name.contains(n.as_str())
                .then_some((n.len(), entry.key_span))
        })
        .max_by_key(|(len, _)| *len)
        .map_or(Some(list.key_span), |(_, span)| Some(span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracing_annotations_are_taken_out_and_read() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    alpha.config.kubernetes.io/transformations: |\n      - configuredIn: ../o/kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: PrefixTransformer\n    config.kubernetes.io/origin: |\n      path: ../b/cm.yaml\n  name: p-cm\n---\napiVersion: v1\nkind: Service\nmetadata:\n  annotations:\n    keep: \"yes\"\n    config.kubernetes.io/origin: |\n      path: ../b/svc.yaml\n  name: s\n";
        let (out, found) = strip_annotations(text);
        assert_eq!(
            out,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: p-cm\n---\napiVersion: v1\nkind: Service\nmetadata:\n  annotations:\n    keep: \"yes\"\n  name: s\n"
        );
        assert_eq!(found[&0].origin.as_ref().unwrap()["path"], "../b/cm.yaml");
        assert_eq!(
            found[&0].transformations[0]["configuredBy"]["kind"],
            "PrefixTransformer"
        );
        assert_eq!(found[&1].origin.as_ref().unwrap()["path"], "../b/svc.yaml");
    }
}
