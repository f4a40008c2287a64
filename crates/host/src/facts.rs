//! Fact tables (models, accelerators, machine types, images) and the cluster profile: the data
//! policies reach through the `facts` and `cluster` interfaces. The built-in tables are the YAML
//! files next to this module, each row with its source; the user's config adds or overrides rows.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::images::{ImageFact, Vendor};
pub use crate::provider::{Provider, ProviderSetting, ProviderSource, Resolved};

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
    /// The model class its config names (`architectures[0]`, `Gemma3ForConditionalGeneration`;
    /// default: empty, unknown).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub architecture: String,
    /// Parameters, counted from the weights' tensor shapes (0: unknown).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub parameters: u64,
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

#[allow(clippy::trivially_copy_pass_by_ref)] // serde passes a reference
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// An accelerator row: one GPU (or other device) model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AcceleratorFact {
    /// Id: the `cloud.google.com/gke-accelerator` value where GKE offers the GPU, else an id in
    /// the same style (`nvidia-a10g`). `label` is accepted for it (the 0.1 name).
    #[serde(alias = "label")]
    pub id: String,
    /// GPU name.
    pub name: String,
    /// Who makes it (default `nvidia`).
    #[serde(default)]
    pub vendor: Vendor,
    /// Memory per device, MiB.
    pub memory_mib: u64,
    /// Compute capability × 10 (0 for non-NVIDIA devices).
    #[serde(default)]
    pub compute_capability: u32,
    /// Native bfloat16 (default: compute capability >= 8.0).
    #[serde(default)]
    pub bf16: Option<bool>,
    /// Native FP8 (default: compute capability >= 8.9).
    #[serde(default)]
    pub fp8: Option<bool>,
    /// GPU counts per node GKE machine shapes offer (empty: not on GKE).
    #[serde(default)]
    pub gpus_per_node: Vec<u32>,
    /// Whether GKE offers it under `id` (default: when `gpus-per-node` lists shapes).
    #[serde(default)]
    pub on_gke: Option<bool>,
    /// Quantities GKE Autopilot accepts (empty: not offered).
    #[serde(default)]
    pub autopilot_counts: Vec<u32>,
    /// Misspellings of the GKE label that mean this type.
    #[serde(default)]
    pub typos: Vec<String>,
    /// Values of NVIDIA GPU Feature Discovery's `nvidia.com/gpu.product` label for this GPU.
    #[serde(default)]
    pub gfd_products: Vec<String>,
    /// The value of Karpenter's `karpenter.k8s.aws/instance-gpu-name` for EC2 types with it.
    #[serde(default)]
    pub karpenter_gpu_name: Option<String>,
    /// Where the numbers come from.
    pub source: String,
    /// What of the row was not verified.
    #[serde(default)]
    pub note: Option<String>,
}

impl AcceleratorFact {
    /// Whether GKE offers it under its id.
    #[must_use]
    pub fn on_gke(&self) -> bool {
        self.on_gke.unwrap_or(!self.gpus_per_node.is_empty())
    }

    /// Native bfloat16: the row's value, else compute capability 8.0 or later.
    #[must_use]
    pub fn bf16(&self) -> bool {
        self.bf16.unwrap_or(self.compute_capability >= 80)
    }

    /// Native FP8: the row's value, else compute capability 8.9 or later.
    #[must_use]
    pub fn fp8(&self) -> bool {
        self.fp8.unwrap_or(self.compute_capability >= 89)
    }
}

/// A machine type that fixes the GPU model and count (EC2, Azure and GCE types).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct InstanceTypeFact {
    /// The `node.kubernetes.io/instance-type` value (`p4d.24xlarge`, `Standard_NC24ads_A100_v4`).
    pub instance_type: String,
    /// Whose machine type it is.
    pub provider: Provider,
    /// The accelerator id (a row of the accelerator table).
    pub accelerator: String,
    /// GPUs per machine.
    pub gpus: u32,
    /// Where the numbers come from.
    pub source: String,
    /// What of the row was not verified.
    #[serde(default)]
    pub note: Option<String>,
}

/// What a node label says about a node's accelerators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceleratorMatch<'a> {
    /// The model.
    pub accelerator: &'a AcceleratorFact,
    /// Devices per node, when the label fixes it.
    pub devices_per_node: Option<u32>,
}

fn default_dtype() -> String {
    "bfloat16".into()
}

fn default_min_cc() -> u32 {
    70
}

/// The fact tables: models, accelerators, machine types and images.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FactTables {
    /// Models.
    #[serde(default)]
    pub models: Vec<ModelFact>,
    /// Accelerators.
    #[serde(default)]
    pub accelerators: Vec<AcceleratorFact>,
    /// Machine types with GPUs.
    #[serde(default)]
    pub instance_types: Vec<InstanceTypeFact>,
    /// Container images.
    #[serde(default)]
    pub images: Vec<ImageFact>,
}

impl FactTables {
    /// The tables shipped with kubectl-vllm.
    #[must_use]
    pub fn builtin() -> Self {
        static BUILTIN: std::sync::OnceLock<FactTables> = std::sync::OnceLock::new();
        // Parsed once per process (~3 ms of YAML); `kubectl_vllm_engine::prewarm` does it on
        // another thread while policies load.
        BUILTIN
            .get_or_init(|| Self {
                models: parse_table(include_str!("facts/models.yaml")),
                accelerators: parse_table(include_str!("facts/accelerators.yaml")),
                instance_types: parse_table(include_str!("facts/instance-types.yaml")),
                images: parse_table(include_str!("facts/images.yaml")),
            })
            .clone()
    }

    /// Adds rows, replacing those with the same id (models, accelerators) or machine type;
    /// image rows are appended and win over the built-in ones for the tags they match.
    pub fn apply(&mut self, overrides: &FactTables) {
        fn merge<T: Clone>(rows: &mut Vec<T>, new: &[T], same: impl Fn(&T, &T) -> bool) {
            for row in new {
                match rows.iter_mut().find(|r| same(r, row)) {
                    Some(existing) => *existing = row.clone(),
                    None => rows.push(row.clone()),
                }
            }
        }
        merge(&mut self.models, &overrides.models, |a, b| a.id == b.id);
        merge(&mut self.accelerators, &overrides.accelerators, |a, b| {
            a.id == b.id
        });
        merge(
            &mut self.instance_types,
            &overrides.instance_types,
            |a, b| a.instance_type == b.instance_type,
        );
        self.images.extend(overrides.images.iter().cloned());
    }

    /// The model with this id or alias (case-insensitive).
    #[must_use]
    pub fn model(&self, name: &str) -> Option<&ModelFact> {
        self.models.iter().find(|m| {
            m.id.eq_ignore_ascii_case(name)
                || m.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
        })
    }

    /// The accelerator with this id.
    #[must_use]
    pub fn accelerator(&self, id: &str) -> Option<&AcceleratorFact> {
        self.accelerators.iter().find(|a| a.id == id)
    }

    /// The machine type's row (names compared as the providers do: EC2 and GCE in lower case,
    /// Azure case-insensitively).
    #[must_use]
    pub fn instance_type(&self, name: &str) -> Option<&InstanceTypeFact> {
        self.instance_types
            .iter()
            .find(|t| t.instance_type.eq_ignore_ascii_case(name))
    }

    /// The accelerator a node label identifies (see the WIT's `find-accelerator`).
    #[must_use]
    pub fn find_accelerator(&self, key: &str, value: &str) -> Option<AcceleratorMatch<'_>> {
        fn only(accelerator: &AcceleratorFact) -> AcceleratorMatch<'_> {
            AcceleratorMatch {
                accelerator,
                devices_per_node: None,
            }
        }
        match key {
            "cloud.google.com/gke-accelerator" => self
                .accelerators
                .iter()
                .find(|a| a.on_gke() && a.id == value)
                .map(only),
            "nvidia.com/gpu.product" => {
                // GFD appends `-SHARED` under time-slicing and `-MIG-<profile>` with the single
                // MIG strategy; the memory of a MIG slice is not the GPU's, so those stay unknown.
                let product = value.strip_suffix("-SHARED").unwrap_or(value);
                if product.contains("-MIG-") {
                    return None;
                }
                self.accelerators
                    .iter()
                    .find(|a| {
                        a.gfd_products
                            .iter()
                            .any(|p| p.eq_ignore_ascii_case(product))
                    })
                    .map(only)
            }
            // Several GPUs share a Karpenter name (a100 is 40 or 80 GB): the one with the most
            // memory, so that a fit check never fails a manifest that could fit.
            "karpenter.k8s.aws/instance-gpu-name" => self
                .accelerators
                .iter()
                .filter(|a| {
                    a.karpenter_gpu_name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(value))
                })
                .max_by_key(|a| a.memory_mib)
                .map(only),
            _ if crate::provider::INSTANCE_TYPE_LABELS.contains(&key) => {
                let machine = self.instance_type(value)?;
                Some(AcceleratorMatch {
                    accelerator: self.accelerator(&machine.accelerator)?,
                    devices_per_node: Some(machine.gpus),
                })
            }
            _ => None,
        }
    }
}

fn parse_table<T: serde::de::DeserializeOwned>(text: &str) -> Vec<T> {
    let stream = kubectl_vllm_manifest::yaml::parse(text);
    let root = &stream.documents[0].root;
    serde_json::from_value(root.to_json()).expect("built-in fact tables are valid (tested)")
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

/// The cluster profile of the config file (product.md, "Cluster profile and provider").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ClusterProfile {
    /// `auto` (default: the live cluster, else hints in the manifests, else unknown), `gke`,
    /// `eks`, `aks`, `openshift` or `generic`. `--provider` overrides it.
    #[serde(default)]
    pub provider: ProviderSetting,
    /// GKE Autopilot.
    #[serde(default)]
    pub autopilot: bool,
    /// Whether the ExtendedResourceToleration admission plugin runs (default: on GKE only).
    #[serde(default)]
    pub extended_resource_toleration: Option<bool>,
    /// Node pools.
    #[serde(default)]
    pub node_pools: Vec<NodePoolFact>,
    /// Storage classes (default on GKE: the built-in `standard-rwo`, `premium-rwo`, `standard`;
    /// elsewhere unknown).
    #[serde(default)]
    pub storage_classes: Option<Vec<StorageClassFact>>,
    /// Objects that exist outside the input set (a Secret created with `kubectl create secret`,
    /// a sealed or external secret, a PVC made by another team): they count as present.
    #[serde(default)]
    pub existing: Vec<ExistingObject>,
}

impl ClusterProfile {
    /// The provider the profile names: its `provider`, and GKE for an Autopilot profile that
    /// names none (Autopilot is GKE's).
    #[must_use]
    pub fn provider_setting(&self) -> ProviderSetting {
        match self.provider {
            ProviderSetting::Auto if self.autopilot => ProviderSetting::Gke,
            setting => setting,
        }
    }
}

/// An object that exists outside the input set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ExistingObject {
    /// Its kind (`Secret`).
    pub kind: String,
    /// Its namespace (unset: any, or cluster-scoped).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
}

/// The cluster facts one run uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Provider, and how it was found.
    pub provider: Resolved,
    /// Autopilot.
    pub autopilot: bool,
    /// ExtendedResourceToleration.
    pub extended_resource_toleration: bool,
    /// Whether the facts came from a live cluster.
    pub live: bool,
    /// Node pools.
    pub node_pools: Vec<NodePoolFact>,
    /// Storage classes (empty: unknown).
    pub storage_classes: Vec<StorageClassFact>,
}

impl Default for Cluster {
    fn default() -> Self {
        Self::from_profile(&ClusterProfile::default(), Resolved::default())
    }
}

impl Cluster {
    /// Facts from a profile for the resolved provider, with product.md's defaults for what the
    /// profile leaves out: on GKE its built-in storage classes and ExtendedResourceToleration;
    /// elsewhere neither.
    #[must_use]
    pub fn from_profile(profile: &ClusterProfile, provider: Resolved) -> Self {
        let gke = provider.provider == Provider::Gke;
        let storage_classes = profile.storage_classes.clone().unwrap_or_else(|| {
            if gke {
                gke_builtin_storage_classes()
            } else {
                Vec::new()
            }
        });
        Self {
            provider,
            autopilot: profile.autopilot,
            extended_resource_toleration: profile.extended_resource_toleration.unwrap_or(gke),
            live: false,
            node_pools: profile.node_pools.clone(),
            storage_classes,
        }
    }
}

/// What a live cluster says: read once per run (`--cluster`, `apply`, `diff`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveFacts {
    /// From the nodes' `spec.providerID` (`gce://`, `aws://`, `azure://`) or, for OpenShift, the
    /// served `config.openshift.io` group; `None` when they do not tell (no node, another cloud).
    pub provider: Option<Provider>,
    /// Node pools (nodes grouped by pool label); `None` when listing nodes was forbidden.
    pub node_pools: Option<Vec<NodePoolFact>>,
    /// Storage classes; `None` when listing them was forbidden.
    pub storage_classes: Option<Vec<StorageClassFact>>,
    /// Facts that could not be read, and what was used instead.
    pub warnings: Vec<String>,
}

impl Cluster {
    /// The cluster facts of a run with a live cluster: the profile's, with live node pools and
    /// storage classes in place of the profile's. Profile pools with no live node (scaled to
    /// zero, so invisible in the node list) are kept.
    #[must_use]
    pub fn live(profile: &ClusterProfile, provider: Resolved, facts: &LiveFacts) -> Self {
        let mut cluster = Self::from_profile(profile, provider);
        cluster.live = true;
        if let Some(live) = &facts.node_pools {
            let mut pools = live.clone();
            pools.extend(
                profile
                    .node_pools
                    .iter()
                    .filter(|p| live.iter().all(|l| l.name != p.name))
                    .cloned(),
            );
            cluster.node_pools = pools;
        }
        if let Some(classes) = &facts.storage_classes {
            cluster.storage_classes.clone_from(classes);
        }
        cluster
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
            ..FactTables::default()
        };
        facts.apply(&overrides);
        assert_eq!(facts.model("gemma-1b").unwrap().weights_mib, 1);
        assert!(facts.models.len() >= 13);
    }
}
