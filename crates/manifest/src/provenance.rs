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
    /// The strategic-merge patch files those kustomizations list (files of the set), in order:
    /// where a value an overlay set may be written.
    pub patches: Vec<usize>,
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

/// How a directory is named in reports: as given, without a leading `./`.
pub(crate) fn shown(dir: &Path) -> String {
    let text = dir.display().to_string();
    match text.strip_prefix("./") {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => text,
    }
}

/// What a kustomization file says about the files and directories it uses.
#[derive(Debug, Default)]
pub struct KustomizationFile {
    /// `kind: Component`: it cannot be built on its own; overlays list it under `components`.
    pub component: bool,
    /// `resources`, `components` and `crds` entries (files and directories), canonical.
    pub resources: Vec<PathBuf>,
    /// `patches`, `patchesStrategicMerge`, `patchesJson6902` and `replacements` files, canonical.
    pub patches: Vec<PathBuf>,
}

impl KustomizationFile {
    /// The kustomization of directory `dir`, when it has one that parses.
    #[must_use]
    pub fn of(dir: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(kustomization_file(dir)?).ok()?;
        let root = crate::yaml::parse(&text).documents.first()?.root.to_json();
        let list = |key: &str| -> Vec<serde_json::Value> {
            root.get(key)
                .and_then(|v| v.as_array())
                .cloned()
                .unwrap_or_default()
        };
        let paths = |keys: &[&str], field: Option<&str>| -> Vec<PathBuf> {
            keys.iter()
                .flat_map(|key| list(key))
                .filter_map(|v| match field {
                    Some(f) => v.get(f).and_then(|p| p.as_str()).map(str::to_string),
                    None => v.as_str().map(str::to_string),
                })
                .filter_map(|p| dir.join(p).canonicalize().ok())
                .collect()
        };
        let mut patches = paths(&["patchesStrategicMerge"], None);
        patches.extend(paths(
            &["patches", "patchesJson6902", "replacements"],
            Some("path"),
        ));
        Some(Self {
            component: root.get("kind").and_then(|k| k.as_str()) == Some("Component"),
            resources: paths(&["resources", "components", "crds"], None),
            patches,
        })
    }
}

/// How a file named on its own belongs to a kustomization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A kustomization uses it: render that (the directory, as the user would name it).
    Kustomization(PathBuf),
    /// A kustomize Component uses it as a patch: not an object, and the component cannot be
    /// built alone.
    ComponentPatch(PathBuf),
}

/// The kustomization that uses `file` (a resource or a patch of it): the nearest directory at
/// or above the file's own (up to three above) that holds a kustomization file, when that
/// kustomization names the file. A patch is not an object; pre-commit, which passes changed
/// files one by one, gets the kustomization rendered instead. A Component's resources are
/// objects, read as they are.
#[must_use]
pub fn owning_kustomization(file: &Path) -> Option<Owner> {
    let file = file.canonicalize().ok()?;
    let dir = file
        .ancestors()
        .skip(1)
        .take(4)
        .find(|dir| kustomization_file(dir).is_some())?;
    let kustomization = KustomizationFile::of(dir)?;
    // Named as the user would name it: relative to the working directory when inside it.
    let here = std::env::current_dir().and_then(std::fs::canonicalize).ok();
    let shown = match here.and_then(|h| dir.strip_prefix(h).ok().map(Path::to_path_buf)) {
        Some(p) if p.as_os_str().is_empty() => PathBuf::from("."),
        Some(p) => p,
        None => dir.to_path_buf(),
    };
    let patch = kustomization.patches.contains(&file);
    let resource = kustomization.resources.contains(&file);
    match (kustomization.component, patch, resource) {
        (true, true, _) => Some(Owner::ComponentPatch(shown)),
        (true, false, _) | (false, false, false) => None,
        (false, _, _) => Some(Owner::Kustomization(shown)),
    }
}
