//! `.kubectl-vllm.yaml`: rule severities, ignores, excluded paths, extra policies, fact overrides
//! and the cluster profile. Unknown keys are errors, located in the file. The JSON Schema in
//! `schema/config.schema.json` is generated from these types (and checked by a test).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use kubectl_vllm_core::{Pointer, RuleId, Severity};
use kubectl_vllm_host::{ClusterProfile, FactTables};
use kubectl_vllm_manifest::{SourceFile, locate, parse_pointer, yaml};

use crate::catalogue::CATALOGUE;
use crate::registry::Registry;

/// The file name searched upward from the working directory.
pub const FILE_NAME: &str = ".kubectl-vllm.yaml";

/// The configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[schemars(title = "kubectl-vllm configuration (.kubectl-vllm.yaml)")]
pub struct Config {
    /// Per-rule severity overrides, or `off` to disable a rule: `{shm-size: error, pvc-size-waste: off}`.
    #[serde(default)]
    pub rules: BTreeMap<RuleId, RuleLevel>,
    /// Findings to ignore (for vendored manifests), each with a reason.
    #[serde(default)]
    pub ignores: Vec<Ignore>,
    /// Glob patterns of paths never read (matched against paths as given and found).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Extra policy components to load.
    #[serde(default)]
    pub policies: Vec<ExtraPolicy>,
    /// Additions to, or overrides of, the model and accelerator fact tables (sizes in MiB).
    #[serde(default)]
    pub facts: FactTables,
    /// The cluster profile; default: GKE Standard with its built-in storage classes.
    #[serde(default)]
    pub cluster: ClusterProfile,
    /// The Kubernetes version whose schemas objects are validated against (`1.35`, `1.36`,
    /// `1.37`); `--kubernetes-version` overrides it. Default: the newest embedded.
    #[serde(default)]
    pub kubernetes_version: Option<String>,
    /// Base URL of the rule pages that SARIF reports link to (`<docs-url>/<rule>.md`), for a
    /// fork or a mirror; default: the project's `docs/rules` on GitHub.
    #[serde(default)]
    pub docs_url: Option<String>,
    /// `--select`/`--ignore` from the command line (not a config key).
    #[serde(skip)]
    #[schemars(skip)]
    pub selection: Selection,
    /// `--provider` from the command line (not a config key; it wins over `cluster.provider`).
    #[serde(skip)]
    #[schemars(skip)]
    pub provider: Option<kubectl_vllm_host::ProviderSetting>,
}

impl Config {
    /// Whether rule `id` runs: selected and not turned `off`.
    #[must_use]
    pub fn enabled(&self, id: &str) -> bool {
        self.selection.allows(id) && !matches!(self.rules.get(id), Some(RuleLevel::Off))
    }
}

/// Which rules a run reports, as ruff's `--select`/`--ignore`: each entry is a rule id or an id
/// prefix (`gke-`). Empty `select` means every rule; `ignore` wins over `select`. Input and policy
/// errors are always reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Rules or prefixes to report (empty: all).
    pub select: Vec<String>,
    /// Rules or prefixes never to report.
    pub ignore: Vec<String>,
}

impl Selection {
    /// Whether findings of `rule` are reported.
    #[must_use]
    pub fn allows(&self, rule: &str) -> bool {
        let matches = |list: &[String]| list.iter().any(|p| rule.starts_with(p.as_str()));
        (self.select.is_empty() || matches(&self.select)) && !matches(&self.ignore)
    }

    /// The first entry that names no rule in `known` (a typo would silently select nothing).
    #[must_use]
    pub fn unknown<'a>(&'a self, known: &[&str]) -> Option<&'a str> {
        self.select
            .iter()
            .chain(&self.ignore)
            .find(|p| !known.iter().any(|id| id.starts_with(p.as_str())))
            .map(String::as_str)
    }
}

/// A rule's configured level. YAML 1.1 reads a bare `off` as `false`, so `false` means `off` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase", try_from = "RuleLevelRepr")]
pub enum RuleLevel {
    /// Report as error.
    Error,
    /// Report as warning.
    Warning,
    /// Report as info.
    Info,
    /// Do not report.
    Off,
}

/// How a level may be written: `error`, `warning`, `info`, `off` (or `false`, which is how YAML
/// 1.1 reads a bare `off`).
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
enum RuleLevelRepr {
    /// `false`: off.
    Off(bool),
    /// `error`, `warning`, `info` or `off`.
    Name(String),
}

impl TryFrom<RuleLevelRepr> for RuleLevel {
    type Error = String;

    fn try_from(repr: RuleLevelRepr) -> Result<Self, String> {
        match repr {
            RuleLevelRepr::Off(false) => Ok(Self::Off),
            RuleLevelRepr::Name(name) => match name.as_str() {
                "error" => Ok(Self::Error),
                "warning" => Ok(Self::Warning),
                "info" => Ok(Self::Info),
                "off" => Ok(Self::Off),
                other => Err(format!(
                    "unknown level `{other}`, expected `error`, `warning`, `info` or `off`"
                )),
            },
            RuleLevelRepr::Off(true) => {
                Err("expected `error`, `warning`, `info` or `off`, found `true`".into())
            }
        }
    }
}

impl RuleLevel {
    /// The severity, or `None` for `off`.
    #[must_use]
    pub fn severity(self) -> Option<Severity> {
        match self {
            Self::Error => Some(Severity::Error),
            Self::Warning => Some(Severity::Warning),
            Self::Info => Some(Severity::Info),
            Self::Off => None,
        }
    }
}

/// Ignore findings that match every given field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Ignore {
    /// Rule ids (empty: all rules).
    #[serde(default)]
    pub rules: Vec<RuleId>,
    /// Object kind.
    #[serde(default)]
    pub kind: Option<String>,
    /// Object namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Object name.
    #[serde(default)]
    pub name: Option<String>,
    /// Glob of file paths.
    #[serde(default)]
    pub path: Option<String>,
    /// Why the findings are acceptable.
    pub reason: String,
}

/// A policy component to load besides (or instead of) the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ExtraPolicy {
    /// Path to the `.wasm` component, relative to the config file.
    pub path: PathBuf,
    /// The SHA-256 of the file (64 hex digits), required: a file with another hash is refused
    /// (exit 2), so a policy cannot change under a pinned config. `kubectl vllm policy build`
    /// prints it; `sha256sum FILE` too.
    #[schemars(with = "String", regex(pattern = r"^[0-9a-fA-F]{64}$"))]
    pub sha256: Sha256,
}

/// A SHA-256 digest as 64 hex digits, compared without regard to case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256(String);

impl Sha256 {
    /// Whether `bytes` hash to this digest.
    #[must_use]
    pub fn matches(&self, actual_hex: &str) -> bool {
        actual_hex.eq_ignore_ascii_case(&self.0)
    }
}

impl TryFrom<String> for Sha256 {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let hex = text.trim();
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(hex.to_ascii_lowercase()))
        } else {
            Err(format!(
                "`{text}` is not a SHA-256 digest (64 hex digits, as `sha256sum` prints)"
            ))
        }
    }
}

impl From<Sha256> for String {
    fn from(digest: Sha256) -> Self {
        digest.0
    }
}

impl std::fmt::Display for Sha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A config file that could not be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(code(config))]
pub struct ConfigError {
    /// What is wrong.
    pub message: String,
    /// The file.
    #[source_code]
    pub source_code: miette::NamedSource<String>,
    /// Where.
    #[label("here")]
    pub span: Option<miette::SourceSpan>,
}

/// A loaded config and where it came from.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The config.
    pub config: Config,
    /// Its path (`None`: defaults).
    pub path: Option<PathBuf>,
}

impl Loaded {
    /// Checks that the rule ids the config names exist in `registry`. An id of the catalogue
    /// that no loaded policy implements yet is accepted with a warning (returned); any other is
    /// an error located in the file.
    pub fn check_rule_ids(&self, registry: &Registry) -> Result<Vec<String>, Box<ConfigError>> {
        let named = self
            .config
            .rules
            .keys()
            .map(|id| (id.clone(), Pointer::root().key("rules").key(id.as_str())))
            .chain(
                self.config
                    .ignores
                    .iter()
                    .enumerate()
                    .flat_map(|(i, ignore)| {
                        ignore.rules.iter().enumerate().map(move |(j, id)| {
                            let at = Pointer::root()
                                .key("ignores")
                                .index(i)
                                .key("rules")
                                .index(j);
                            (id.clone(), at)
                        })
                    }),
            );
        let mut warnings = Vec::new();
        for (id, pointer) in named {
            if registry.get(id.as_str()).is_some() {
                continue;
            }
            if CATALOGUE.contains(&id.as_str()) {
                warnings.push(format!(
                    "config names rule `{id}`, which no loaded policy implements yet"
                ));
                continue;
            }
            let path = self.path.clone().unwrap_or_default();
            let name = path.display().to_string();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let stream = yaml::parse(&text);
            let span = stream.documents.first().map(|d| {
                let tokens: Vec<String> =
                    pointer.tokens().map(std::borrow::Cow::into_owned).collect();
                locate::locate(&d.root, &tokens).span
            });
            let source = SourceFile::new(&name, text.clone());
            let at = span.map_or_else(String::new, |s| {
                let p = source.position(s.start);
                format!(":{}:{}", p.line, p.column)
            });
            return Err(Box::new(ConfigError {
                message: format!(
                    "invalid config {name}{at}: unknown rule `{id}` (`kubectl vllm rules` lists them)"
                ),
                source_code: miette::NamedSource::new(name, text),
                span: span.map(|s| (s.start, s.len().max(1)).into()),
            }));
        }
        Ok(warnings)
    }
}

/// Finds `.kubectl-vllm.yaml` in `start` or its ancestors.
#[must_use]
pub fn discover(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Loaded, Box<ConfigError>> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Box::new(ConfigError {
            message: format!("cannot read config `{name}`: {e}"),
            source_code: miette::NamedSource::new(&name, String::new()),
            span: None,
        })
    })?;
    let config = parse(&name, &text)?;
    Ok(Loaded {
        config,
        path: Some(path.to_path_buf()),
    })
}

/// Parses config text; errors are located in it.
pub fn parse(name: &str, text: &str) -> Result<Config, Box<ConfigError>> {
    let source = SourceFile::new(name, text);
    let error = |message: String, span: Option<kubectl_vllm_manifest::Span>| {
        let position = span.map(|s| source.position(s.start));
        let located = position.map_or_else(String::new, |p| format!(":{}:{}", p.line, p.column));
        Box::new(ConfigError {
            message: format!("invalid config {name}{located}: {message}"),
            source_code: miette::NamedSource::new(name, text.to_string()),
            span: span.map(|s| (s.start, s.len().max(1)).into()),
        })
    };
    let stream = yaml::parse(text);
    if let Some(e) = stream.errors.first() {
        return Err(error(e.message.clone(), Some(e.span)));
    }
    if let Some(d) = stream.duplicates.first() {
        return Err(error(
            format!("`{}` is set twice", d.pointer),
            Some(d.second),
        ));
    }
    let Some(document) = stream.documents.first() else {
        return Ok(Config::default());
    };
    if document.root.value == yaml::Value::Null {
        return Ok(Config::default());
    }
    let json = document.root.to_json();
    serde_path_to_error::deserialize::<_, Config>(json).map_err(|e| {
        let pointer = path_to_pointer(e.path());
        let located = parse_pointer(&pointer)
            .ok()
            .map(|tokens| locate::locate(&document.root, &tokens).span);
        let mut message = e.inner().to_string();
        if pointer.starts_with("/policies/") && message == "missing field `sha256`" {
            message.push_str(
                ": an extra policy is pinned by its SHA-256 (`kubectl vllm policy build` and `sha256sum` print it)",
            );
        }
        error(message, located)
    })
}

/// `rules.foo[2].bar` (serde_path_to_error's path) as a JSON Pointer.
fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => {
                pointer.push('/');
                pointer.push_str(&index.to_string());
            }
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push('/');
                pointer.push_str(&Pointer::escape(key));
            }
            Segment::Unknown => {}
        }
    }
    pointer
}

/// The config's JSON Schema, as committed in the repository.
#[must_use]
pub fn schema() -> String {
    let schema = schemars::schema_for!(Config);
    serde_json::to_string_pretty(&schema).expect("schema serializes") + "\n"
}

/// What `kubectl vllm config init` writes: every section, commented out, with an example.
pub const STARTER: &str = r#"## kubectl-vllm configuration. Schema: schema/config.schema.json in the kubectl-vllm
## repository. Every section is optional. Lines starting with `##` explain; to use a section,
## remove the `# ` in front of each of its lines (the key line and the lines under it).

## Severity overrides, or off:
# rules:
#   gke-gpu-toleration: off
#   pvc-size-waste: warning

## Findings to ignore, each with a reason (by rules, kind, namespace, name and/or path glob):
# ignores:
# - rules: [image-tag-floating]
#   path: "vendor/**"
#   reason: vendored upstream examples

## Paths never read:
# exclude:
# - "charts/**"

## Extra policy components, each pinned by its SHA-256 (required; `kubectl vllm policy build`
## and `sha256sum` print it; a file with another hash is refused):
# policies:
# - path: policies/acme.wasm
#   sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

## Additions to the fact tables (sizes in MiB); `kubectl vllm facts` prints them. A model the
## table lacks, and a GPU that no node label names (on EKS, AKS or your own nodes):
# facts:
#   models:
#   - {id: acme/llama-8b, aliases: [llama-8b], weights-mib: 15320, repository-mib: 15320,
#      attention-heads: 32, kv-heads: 8, max-context: 8192, source: "model card"}
#   accelerators:
#   - {id: nvidia-l40s, name: NVIDIA L40S, memory-mib: 46068, compute-capability: 89,
#      gfd-products: [NVIDIA-L40S], source: "vendor data sheet"}
#   instance-types:
#   - {instance-type: g6e.xlarge, provider: eks, accelerator: nvidia-l40s, gpus: 1,
#      source: "EC2 instance types"}

## The cluster the manifests deploy to. Without a provider here or `--provider`, it comes from
## the live cluster or the manifests' provider-specific keys; unknown, provider-specific rules
## are skipped with one `provider-unknown` info. `generic` runs none of them. GKE:
# cluster:
#   provider: gke
#   autopilot: false
#   node-pools:
#   - {name: l4-pool, accelerator: nvidia-l4, gpus-per-node: 1}
#   existing:       # objects made outside the manifests (kubectl create secret, sealed secrets)
#   - {kind: Secret, namespace: ml, name: hf-secret}

## The same for EKS, AKS, OpenShift or your own cluster: the provider, the storage classes the
## cluster has (which one is the default decides a PVC without a class), and the node pools'
## labels and taints (what node selectors and tolerations must match):
# cluster:
#   provider: eks   # eks, aks, openshift, generic
#   storage-classes:
#   - {name: gp3, provisioner: ebs.csi.aws.com, volume-binding-mode: WaitForFirstConsumer,
#      is-default: true}
#   node-pools:
#   - name: gpu
#     accelerator: nvidia-l40s
#     gpus-per-node: 1
#     labels: {node.kubernetes.io/instance-type: g6e.xlarge}
#     taints: [{key: nvidia.com/gpu, effect: NoSchedule}]

## Where SARIF reports (`-o sarif`) link rule pages; default: the project's docs/rules on GitHub.
# docs-url: https://docs.example.com/kubectl-vllm/rules
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// The starter's sections: each run of `# ` lines, uncommented.
    fn starter_sections() -> Vec<String> {
        let mut sections = Vec::new();
        let mut current = String::new();
        for line in STARTER.lines() {
            match line.strip_prefix("# ") {
                Some(code) if !line.starts_with("##") => {
                    current.push_str(code);
                    current.push('\n');
                }
                _ if !current.is_empty() => sections.push(std::mem::take(&mut current)),
                _ => {}
            }
        }
        if !current.is_empty() {
            sections.push(current);
        }
        sections
    }

    #[test]
    fn the_starter_parses_as_written_and_with_any_one_section_uncommented() {
        assert_eq!(
            parse(".kubectl-vllm.yaml", STARTER).unwrap(),
            Config::default()
        );
        let sections = starter_sections();
        assert_eq!(sections.len(), 8, "{sections:#?}");
        for section in &sections {
            let config =
                parse(".kubectl-vllm.yaml", section).unwrap_or_else(|e| panic!("{e:?}\n{section}"));
            assert_ne!(config, Config::default(), "{section}");
        }
        // The provider sections say what a non-GKE user needs.
        let eks = parse(".kubectl-vllm.yaml", &sections[6]).unwrap();
        let classes = eks.cluster.storage_classes.as_deref().unwrap_or_default();
        assert_eq!(classes.len(), 1);
        assert!(classes[0].is_default);
        assert!(!eks.cluster.node_pools[0].labels.is_empty());
        let facts = parse(".kubectl-vllm.yaml", &sections[4]).unwrap().facts;
        assert_eq!(
            (
                facts.models.len(),
                facts.accelerators.len(),
                facts.instance_types.len()
            ),
            (1, 1, 1)
        );
    }

    #[test]
    fn unknown_keys_are_located_errors() {
        let e = parse(
            "c.yaml",
            "rules:\n  shm-size: error\ncluster:\n  autopilott: true\n",
        )
        .unwrap_err();
        assert!(e.message.contains("c.yaml:4:3"), "{}", e.message);
        assert!(
            e.message.contains("unknown field `autopilott`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn full_config_parses() {
        let c = parse(
            "c.yaml",
            "rules: {shm-size: off}\nignores:\n- {rules: [shm-missing], kind: Deployment, reason: vendored}\n\
             facts:\n  accelerators:\n  - {label: nvidia-x, name: X, memory-mib: 1, compute-capability: 90, gpus-per-node: [1], source: me}\n\
             cluster:\n  provider: generic\n  node-pools:\n  - name: gpu\n    accelerator: nvidia-l4\n    gpus-per-node: 1\n    taints: [{key: k, effect: NoSchedule}]\n",
        )
        .unwrap();
        assert_eq!(c.rules["shm-size"], RuleLevel::Off);
        assert_eq!(c.cluster.node_pools[0].taints[0].key, "k");
        assert_eq!(c.facts.accelerators[0].id, "nvidia-x");
    }

    #[test]
    fn empty_file_is_defaults() {
        assert_eq!(parse("c.yaml", "# nothing\n").unwrap(), Config::default());
    }

    #[test]
    fn an_extra_policy_needs_its_sha256() {
        let missing = parse(".kubectl-vllm.yaml", "policies:\n- path: acme.wasm\n").unwrap_err();
        assert!(
            missing.message.contains(
                ".kubectl-vllm.yaml:2:3: missing field `sha256`: an extra policy is pinned"
            ),
            "{}",
            missing.message
        );
        let short = parse(
            ".kubectl-vllm.yaml",
            "policies:\n- {path: a.wasm, sha256: abc}\n",
        )
        .unwrap_err();
        assert!(
            short.message.contains("is not a SHA-256 digest"),
            "{}",
            short.message
        );
        let upper = "A".repeat(64);
        let config = parse(
            ".kubectl-vllm.yaml",
            &format!("policies:\n- {{path: a.wasm, sha256: {upper}}}\n"),
        )
        .unwrap();
        assert!(config.policies[0].sha256.matches(&"a".repeat(64)));
    }

    #[test]
    fn committed_schema_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/config.schema.json");
        let generated = schema();
        if std::env::var_os("KUBECTL_VLLM_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is stale: run `KUBECTL_VLLM_BLESS=1 cargo test -p kubectl-vllm-engine committed_schema`",
            path.display()
        );
    }
}
