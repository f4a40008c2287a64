//! Fact tables (models, accelerators) and the cluster profile: the data policies reach through the
//! `facts` and `cluster` interfaces. The built-in tables are the YAML files next to this module,
//! each row with its source; the user's config adds or overrides rows by id / label.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A model row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ModelFact {
    /// Canonical Hugging Face id (`google/gemma-3-27b-it`).
    pub id: String,
    /// Other names that identify it in paths and bucket names.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Size of the weights vLLM loads, in MiB.
    pub weights_mib: u64,
    /// Size of the whole repository copied blindly, in MiB.
    pub repository_mib: u64,
    /// Repository folders vLLM does not need.
    #[serde(default)]
    pub extra_folders: Vec<String>,
    /// Attention heads.
    pub attention_heads: u32,
    /// Vision-tower heads that tensor parallelism must also divide (0: none).
    #[serde(default)]
    pub vision_heads: u32,
    /// Key/value heads.
    pub kv_heads: u32,
    /// Transformer layers (0: unknown; checks that need it are skipped).
    #[serde(default)]
    pub layers: u32,
    /// Layers attending over the whole context (default: all).
    #[serde(default)]
    pub full_attention_layers: Option<u32>,
    /// Sliding window of the other layers, tokens (0: none).
    #[serde(default)]
    pub sliding_window: u32,
    /// Head dimension (0: unknown).
    #[serde(default)]
    pub head_dim: u32,
    /// Maximum context length.
    pub max_context: u32,
    /// Published weights dtype (`bfloat16`, `mxfp4`...; default `bfloat16`).
    #[serde(default = "default_dtype")]
    pub dtype: String,
    /// Hugging Face `model_type` (default: empty, unknown).
    #[serde(default)]
    pub model_type: String,
    /// Oldest vLLM release that serves it (default: empty, unknown).
    #[serde(default)]
    pub min_vllm: String,
    /// Lowest compute capability × 10 that runs its weights (default 70, vLLM's floor).
    #[serde(default = "default_min_cc")]
    pub min_compute_capability: u32,
    /// Whether the Hugging Face repository is gated.
    #[serde(default)]
    pub gated: bool,
    /// Where the numbers come from.
    pub source: String,
}

/// An accelerator row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AcceleratorFact {
    /// `cloud.google.com/gke-accelerator` value.
    pub label: String,
    /// GPU name.
    pub name: String,
    /// Memory per GPU, MiB.
    pub memory_mib: u64,
    /// Compute capability × 10.
    pub compute_capability: u32,
    /// Native bfloat16 (default: compute capability >= 8.0).
    #[serde(default)]
    pub bf16: Option<bool>,
    /// Native FP8 (default: compute capability >= 8.9).
    #[serde(default)]
    pub fp8: Option<bool>,
    /// GPU counts per node offered by machine shapes.
    pub gpus_per_node: Vec<u32>,
    /// Quantities Autopilot accepts (empty: not offered).
    #[serde(default)]
    pub autopilot_counts: Vec<u32>,
    /// Misspellings that mean this type.
    #[serde(default)]
    pub typos: Vec<String>,
    /// Where the numbers come from.
    pub source: String,
}

fn default_dtype() -> String {
    "bfloat16".into()
}

fn default_min_cc() -> u32 {
    70
}

/// Both fact tables.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FactTables {
    /// Models.
    #[serde(default)]
    pub models: Vec<ModelFact>,
    /// Accelerators.
    #[serde(default)]
    pub accelerators: Vec<AcceleratorFact>,
}

impl FactTables {
    /// The tables shipped with kubectl-vllm.
    #[must_use]
    pub fn builtin() -> Self {
        Self {
            models: parse_table(include_str!("facts/models.yaml")),
            accelerators: parse_table(include_str!("facts/accelerators.yaml")),
        }
    }

    /// Adds rows, replacing those with the same id (models) or label (accelerators).
    pub fn apply(&mut self, overrides: &FactTables) {
        for model in &overrides.models {
            match self.models.iter_mut().find(|m| m.id == model.id) {
                Some(existing) => *existing = model.clone(),
                None => self.models.push(model.clone()),
            }
        }
        for accelerator in &overrides.accelerators {
            match self
                .accelerators
                .iter_mut()
                .find(|a| a.label == accelerator.label)
            {
                Some(existing) => *existing = accelerator.clone(),
                None => self.accelerators.push(accelerator.clone()),
            }
        }
    }

    /// The model with this id or alias (case-insensitive).
    #[must_use]
    pub fn model(&self, name: &str) -> Option<&ModelFact> {
        self.models.iter().find(|m| {
            m.id.eq_ignore_ascii_case(name)
                || m.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
        })
    }

    /// The accelerator with this label.
    #[must_use]
    pub fn accelerator(&self, label: &str) -> Option<&AcceleratorFact> {
        self.accelerators.iter().find(|a| a.label == label)
    }
}

fn parse_table<T: serde::de::DeserializeOwned>(text: &str) -> Vec<T> {
    let stream = kubectl_vllm_manifest::yaml::parse(text);
    let root = &stream.documents[0].root;
    serde_json::from_value(root.to_json()).expect("built-in fact tables are valid (tested)")
}

/// The kind of cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    /// Google Kubernetes Engine.
    #[default]
    Gke,
    /// Any other Kubernetes.
    Generic,
}

/// A node taint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TaintFact {
    /// Key.
    pub key: String,
    /// Value.
    #[serde(default)]
    pub value: String,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

/// A node pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NodePoolFact {
    /// Pool name.
    pub name: String,
    /// `cloud.google.com/gke-accelerator` of its nodes.
    #[serde(default)]
    pub accelerator: Option<String>,
    /// GPUs per node.
    #[serde(default)]
    pub gpus_per_node: u32,
    /// Node labels.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// Node taints.
    #[serde(default)]
    pub taints: Vec<TaintFact>,
}

/// A StorageClass known to exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StorageClassFact {
    /// Name.
    pub name: String,
    /// Provisioner.
    pub provisioner: String,
    /// Parameters.
    #[serde(default)]
    pub parameters: std::collections::BTreeMap<String, String>,
    /// `Immediate` or `WaitForFirstConsumer`.
    #[serde(default = "default_binding_mode")]
    pub volume_binding_mode: String,
    /// Whether it is the default class.
    #[serde(default)]
    pub is_default: bool,
}

fn default_binding_mode() -> String {
    "WaitForFirstConsumer".into()
}

/// The cluster profile of the config file (product.md, "Cluster profile").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ClusterProfile {
    /// `gke` (default) or `generic`.
    #[serde(default)]
    pub provider: Provider,
    /// GKE Autopilot.
    #[serde(default)]
    pub autopilot: bool,
    /// Whether the ExtendedResourceToleration admission plugin runs (default: on GKE only).
    #[serde(default)]
    pub extended_resource_toleration: Option<bool>,
    /// Node pools.
    #[serde(default)]
    pub node_pools: Vec<NodePoolFact>,
    /// Storage classes (default on GKE: the built-in `standard-rwo`, `premium-rwo`, `standard`).
    #[serde(default)]
    pub storage_classes: Option<Vec<StorageClassFact>>,
}

/// The cluster facts one run uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Provider.
    pub provider: Provider,
    /// Autopilot.
    pub autopilot: bool,
    /// ExtendedResourceToleration.
    pub extended_resource_toleration: bool,
    /// Whether the facts came from a live cluster.
    pub live: bool,
    /// Node pools.
    pub node_pools: Vec<NodePoolFact>,
    /// Storage classes.
    pub storage_classes: Vec<StorageClassFact>,
}

impl Default for Cluster {
    fn default() -> Self {
        Self::from_profile(&ClusterProfile::default())
    }
}

impl Cluster {
    /// Facts from a profile, with product.md's defaults for what it leaves out.
    #[must_use]
    pub fn from_profile(profile: &ClusterProfile) -> Self {
        let gke = profile.provider == Provider::Gke;
        let storage_classes = profile.storage_classes.clone().unwrap_or_else(|| {
            if gke {
                gke_builtin_storage_classes()
            } else {
                Vec::new()
            }
        });
        Self {
            provider: profile.provider,
            autopilot: profile.autopilot,
            extended_resource_toleration: profile.extended_resource_toleration.unwrap_or(gke),
            live: false,
            node_pools: profile.node_pools.clone(),
            storage_classes,
        }
    }
}

/// The classes GKE creates: `standard-rwo` (default, pd-balanced), `premium-rwo` (pd-ssd) and the
/// legacy `standard` (pd-standard).
#[must_use]
pub fn gke_builtin_storage_classes() -> Vec<StorageClassFact> {
    let class =
        |name: &str, provisioner: &str, kind: &str, default: bool, mode: &str| StorageClassFact {
            name: name.into(),
            provisioner: provisioner.into(),
            parameters: [("type".to_string(), kind.to_string())].into(),
            volume_binding_mode: mode.into(),
            is_default: default,
        };
    vec![
        class(
            "standard-rwo",
            "pd.csi.storage.gke.io",
            "pd-balanced",
            true,
            "WaitForFirstConsumer",
        ),
        class(
            "premium-rwo",
            "pd.csi.storage.gke.io",
            "pd-ssd",
            false,
            "WaitForFirstConsumer",
        ),
        class(
            "standard",
            "kubernetes.io/gce-pd",
            "pd-standard",
            false,
            "Immediate",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tables_load_and_cite_sources() {
        let facts = FactTables::builtin();
        assert!(facts.models.len() >= 13);
        assert!(facts.accelerators.len() >= 13);
        assert!(facts.models.iter().all(|m| !m.source.is_empty()));
        assert!(facts.accelerators.iter().all(|a| !a.source.is_empty()));
        assert_eq!(
            facts.model("GEMMA-3-1B-IT").unwrap().id,
            "google/gemma-3-1b-it"
        );
        assert_eq!(facts.accelerator("nvidia-l4").unwrap().memory_mib, 23034);
    }

    #[test]
    fn overrides_replace_and_add() {
        let mut facts = FactTables::builtin();
        let mut gemma = facts.model("gemma-3-1b-it").unwrap().clone();
        gemma.weights_mib = 1;
        let overrides = FactTables {
            models: vec![gemma],
            accelerators: vec![],
        };
        facts.apply(&overrides);
        assert_eq!(facts.model("gemma-1b").unwrap().weights_mib, 1);
        assert!(facts.models.len() >= 13);
    }
}
