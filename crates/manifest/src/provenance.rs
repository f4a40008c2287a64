//! Where a file of the set came from: read as given, rendered by kustomize or Helm, or read as a
//! renderer's source. A leaf module: loading records it, `render` fills it in and traces
//! findings through it.

use std::path::{Path, PathBuf};

/// The tool that rendered a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Renderer {
    /// `kubectl kustomize` (or `kustomize build`).
    Kustomize,
    /// `helm template`.
    Helm,
}

impl Renderer {
    /// The name reports use (`"kustomize"`, `"helm"`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Kustomize => "kustomize",
            Self::Helm => "helm",
        }
    }
}

/// How a file of the set came to be.
#[derive(Debug, Clone, Default)]
pub enum Provenance {
    /// Read as given: a file, a directory's file, stdin.
    #[default]
    Read,
    /// A renderer's output: not a file on disk.
    Rendered(Rendered),
    /// A file a renderer read, held to place findings and write fixes; it adds no objects.
    Source {
        /// Whether its text was parsed as YAML (kustomize's inputs; not Helm templates).
        yaml: bool,
    },
}

/// What a renderer produced.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The renderer.
    pub by: Renderer,
    /// The kustomization directory or chart, as the user named it.
    pub from: String,
    /// Where each document's object came from, by document index.
    pub origins: std::collections::BTreeMap<usize, Origin>,
}

/// Where one rendered object came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The path as the renderer named it, relative to the working directory when on disk
    /// (`base/deployment.yaml`, `chart/templates/deployment.yaml`).
    pub path: String,
    /// The file (index into [`Manifests::files`]) when it is on disk and in the set.
    pub file: Option<usize>,
    /// What the file holds for this object.
    pub kind: OriginKind,
    /// Kustomizations whose transformers ran over the object, as paths relative to the working
    /// directory, in order (kustomize's `transformerAnnotations`).
    pub transformed_by: Vec<String>,
}

/// How the origin file holds the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginKind {
    /// Written there as YAML, in this document (kustomize resources).
    Resource {
        /// The `---` document of the source file.
        document: Option<usize>,
    },
    /// Made by a generator configured there (a kustomization's `configMapGenerator` entry).
    Generated {
        /// The generator kind (`ConfigMapGenerator`).
        generator: String,
    },
    /// A Helm template: text, not YAML; keys are found where they are written literally.
    Template,
}

/// What to render a Helm chart with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChartOptions {
    /// `--values FILE`, in order.
    pub values: Vec<PathBuf>,
    /// `--set K=V`, in order.
    pub set: Vec<String>,
}

/// The file names that make a directory a kustomization, in kustomize's order of preference.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The kustomization file of `dir`, when it is a kustomization.
#[must_use]
pub fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// Whether `path` is named like a kustomization file.
#[must_use]
pub fn is_kustomization_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| KUSTOMIZATION_FILES.contains(&n))
}

/// The kustomization directory that uses `file` (a resource or a patch of it): the nearest
/// directory at or above the file's own that holds a kustomization file, when that
/// kustomization names the file under `resources`, `patches`, `patchesStrategicMerge`,
/// `patchesJson6902`, `components` or `replacements`. A patch is not an object; pre-commit,
/// which passes changed files one by one, gets the kustomization rendered instead.
#[must_use]
pub fn owning_kustomization(file: &Path) -> Option<PathBuf> {
    let file = file.canonicalize().ok()?;
    for dir in file.ancestors().skip(1).take(4) {
        let Some(kustomization) = kustomization_file(dir) else {
            continue;
        };
        let text = std::fs::read_to_string(kustomization).ok()?;
        let root = crate::yaml::parse(&text).documents.first()?.root.to_json();
        let mut named: Vec<&str> = Vec::new();
        for key in ["resources", "patchesStrategicMerge", "components", "crds"] {
            named.extend(
                root.get(key)
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str()),
            );
        }
        for key in ["patches", "patchesJson6902", "replacements"] {
            named.extend(
                root.get(key)
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.get("path").and_then(|p| p.as_str())),
            );
        }
        let uses = named
            .iter()
            .any(|n| dir.join(n).canonicalize().is_ok_and(|p| p == file));
        // Named as the user would name it: relative to the working directory when inside it.
        let here = std::env::current_dir().and_then(std::fs::canonicalize).ok();
        let shown = here
            .and_then(|h| dir.strip_prefix(h).ok().map(Path::to_path_buf))
            .map_or_else(
                || dir.to_path_buf(),
                |p| {
                    if p.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        p
                    }
                },
            );
        return uses.then_some(shown);
    }
    None
}
