//! Which provider a run targets (product.md, "Cluster profile and provider"), resolved once per
//! run in this order: `--provider`; the config's `cluster.provider`; the live cluster; hints in
//! the input set; else unknown. Hints are keys and values that only one provider uses; hints for
//! two providers give unknown.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use kubectl_vllm_core::Provider;

/// `--provider` and the config's `cluster.provider`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderSetting {
    /// Resolve it: the live cluster when one is consulted, else hints in the input set.
    #[default]
    Auto,
    /// Google Kubernetes Engine.
    Gke,
    /// Amazon EKS.
    Eks,
    /// Azure AKS.
    Aks,
    /// Red Hat OpenShift.
    Openshift,
    /// Any other Kubernetes: provider-specific rules do not run.
    Generic,
}

impl std::str::FromStr for ProviderSetting {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "auto" => Self::Auto,
            "gke" => Self::Gke,
            "eks" => Self::Eks,
            "aks" => Self::Aks,
            "openshift" => Self::Openshift,
            "generic" => Self::Generic,
            other => {
                return Err(format!(
                    "unknown provider `{other}`: expected {}",
                    Self::NAMES.join(", ")
                ));
            }
        })
    }
}

impl ProviderSetting {
    /// Every value, as written.
    pub const NAMES: &'static [&'static str] =
        &["auto", "gke", "eks", "aks", "openshift", "generic"];

    /// The provider it names; `None` for `auto`.
    #[must_use]
    pub fn provider(self) -> Option<Provider> {
        match self {
            Self::Auto => None,
            Self::Gke => Some(Provider::Gke),
            Self::Eks => Some(Provider::Eks),
            Self::Aks => Some(Provider::Aks),
            Self::Openshift => Some(Provider::Openshift),
            Self::Generic => Some(Provider::Generic),
        }
    }
}

/// How the provider was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderSource {
    /// `--provider`.
    Flag,
    /// The config's `cluster.provider`.
    Config,
    /// The live cluster.
    LiveCluster,
    /// Hints in the input set.
    Hints,
    /// Nothing: unknown.
    None,
}

/// A key or value in the input set that only one provider uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// The provider it names.
    pub provider: Provider,
    /// What it is, for messages: `nodeSelector cloud.google.com/gke-accelerator`.
    pub what: String,
    /// Index of the object in the run's object list.
    pub object: usize,
    /// Where in the object (RFC 6901).
    pub pointer: String,
}

/// The run's provider and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The provider.
    pub provider: Provider,
    /// How.
    pub source: ProviderSource,
    /// The first hint for it, when inferred from hints.
    pub hint: Option<Hint>,
    /// With conflicting hints: the first hint of each provider named (the provider is unknown).
    pub conflict: Vec<Hint>,
}

impl Resolved {
    /// Resolves in product.md's order. `live` is what a live cluster said (`None`: none consulted,
    /// or it could not tell); `hints` gives the input set's, in input order, and is called only
    /// when nothing before them names the provider.
    #[must_use]
    pub fn resolve(
        flag: Option<ProviderSetting>,
        config: ProviderSetting,
        live: Option<Provider>,
        hints: impl FnOnce() -> Vec<Hint>,
    ) -> Self {
        let set = |provider, source| Self {
            provider,
            source,
            hint: None,
            conflict: Vec::new(),
        };
        if let Some(provider) = flag.and_then(ProviderSetting::provider) {
            return set(provider, ProviderSource::Flag);
        }
        if let Some(provider) = config.provider() {
            return set(provider, ProviderSource::Config);
        }
        if let Some(provider) = live {
            return set(provider, ProviderSource::LiveCluster);
        }
        let hints = hints();
        let mut firsts: Vec<&Hint> = Vec::new();
        for hint in &hints {
            if firsts.iter().all(|h| h.provider != hint.provider) {
                firsts.push(hint);
            }
        }
        match firsts.as_slice() {
            [] => set(Provider::Unknown, ProviderSource::None),
            [only] => Self {
                provider: only.provider,
                source: ProviderSource::Hints,
                hint: Some((*only).clone()),
                conflict: Vec::new(),
            },
            many => Self {
                provider: Provider::Unknown,
                source: ProviderSource::None,
                hint: None,
                conflict: many.iter().map(|h| (*h).clone()).collect(),
            },
        }
    }

    /// A provider chosen outright (tests, and callers that resolved it themselves).
    #[must_use]
    pub fn fixed(provider: Provider) -> Self {
        Self {
            provider,
            source: ProviderSource::Config,
            hint: None,
            conflict: Vec::new(),
        }
    }
}

impl Default for Resolved {
    fn default() -> Self {
        Self::resolve(None, ProviderSetting::Auto, None, Vec::new)
    }
}

/// Key prefixes (labels, annotations, node-selector and toleration keys) only one provider uses.
const KEY_PREFIXES: &[(&str, Provider)] = &[
    ("cloud.google.com/", Provider::Gke),
    ("iam.gke.io/", Provider::Gke),
    ("gke-gcsfuse/", Provider::Gke),
    ("ai.gke.io/", Provider::Gke),
    ("networking.gke.io/", Provider::Gke),
    ("eks.amazonaws.com/", Provider::Eks),
    ("karpenter.k8s.aws/", Provider::Eks),
    ("alb.ingress.kubernetes.io/", Provider::Eks),
    (
        "service.beta.kubernetes.io/aws-load-balancer-",
        Provider::Eks,
    ),
    ("kubernetes.azure.com/", Provider::Aks),
    ("azure.workload.identity/", Provider::Aks),
    ("service.beta.kubernetes.io/azure-", Provider::Aks),
    ("opendatahub.io/", Provider::Openshift),
    ("openshift.io/", Provider::Openshift),
];

/// Keys that are hints as a whole.
const KEYS: &[(&str, Provider)] = &[("agentpool", Provider::Aks)];

/// CSI drivers and provisioners.
const DRIVERS: &[(&str, Provider)] = &[
    ("pd.csi.storage.gke.io", Provider::Gke),
    ("gcsfuse.csi.storage.gke.io", Provider::Gke),
    ("filestore.csi.storage.gke.io", Provider::Gke),
    ("parallelstore.csi.storage.gke.io", Provider::Gke),
    ("kubernetes.io/gce-pd", Provider::Gke),
    ("ebs.csi.aws.com", Provider::Eks),
    ("efs.csi.aws.com", Provider::Eks),
    ("fsx.csi.aws.com", Provider::Eks),
    ("s3.csi.aws.com", Provider::Eks),
    ("kubernetes.io/aws-ebs", Provider::Eks),
    ("disk.csi.azure.com", Provider::Aks),
    ("file.csi.azure.com", Provider::Aks),
    ("blob.csi.azure.com", Provider::Aks),
    ("kubernetes.io/azure-disk", Provider::Aks),
    ("kubernetes.io/azure-file", Provider::Aks),
];

/// Storage class names only one provider creates.
const STORAGE_CLASSES: &[(&str, Provider)] = &[
    ("standard-rwo", Provider::Gke),
    ("premium-rwo", Provider::Gke),
    ("standard-rwx", Provider::Gke),
    ("premium-rwx", Provider::Gke),
    ("enterprise-rwx", Provider::Gke),
    ("gp2", Provider::Eks),
    ("gp3", Provider::Eks),
    ("managed-csi", Provider::Aks),
    ("managed-csi-premium", Provider::Aks),
    ("managed-premium", Provider::Aks),
    ("azurefile", Provider::Aks),
    ("azurefile-csi", Provider::Aks),
    ("azurefile-csi-premium", Provider::Aks),
    ("azurefile-premium", Provider::Aks),
];

/// Node labels whose values are machine types.
pub const INSTANCE_TYPE_LABELS: &[&str] = &[
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
];

/// The provider of a storage class name or provisioner that only one provider uses.
fn storage_provider(class: &str) -> Option<Provider> {
    if class.starts_with("ocs-storagecluster-") || class.starts_with("openshift-storage.") {
        return Some(Provider::Openshift);
    }
    STORAGE_CLASSES
        .iter()
        .chain(DRIVERS)
        .find(|(name, _)| *name == class)
        .map(|(_, p)| *p)
}

fn key_provider(key: &str) -> Option<Provider> {
    if let Some((_, p)) = KEYS.iter().find(|(k, _)| *k == key) {
        return Some(*p);
    }
    // `*.openshift.io/` annotation keys (`serving.openshift.io/...`, `openshift.io/display-name`).
    if key
        .split_once('/')
        .is_some_and(|(domain, _)| domain.ends_with(".openshift.io"))
    {
        return Some(Provider::Openshift);
    }
    KEY_PREFIXES
        .iter()
        .find(|(prefix, _)| key.starts_with(prefix))
        .map(|(_, p)| *p)
}

/// The provider of an API group only one provider serves.
fn group_provider(api_version: &str) -> Option<Provider> {
    let (group, _) = api_version.split_once('/')?;
    if group == "openshift.io" || group.ends_with(".openshift.io") {
        return Some(Provider::Openshift);
    }
    match group {
        "networking.gke.io" | "cloud.google.com" | "nodemanagement.gke.io" => Some(Provider::Gke),
        "karpenter.k8s.aws" | "elbv2.k8s.aws" | "vpcresources.k8s.aws" => Some(Provider::Eks),
        _ => None,
    }
}

/// Every hint in `object` (the run's object number `index`). `instance_type` names the provider
/// of a machine type the fact tables know (`p4d.24xlarge` → EKS).
pub fn hints(
    index: usize,
    object: &Value,
    instance_type: &dyn Fn(&str) -> Option<Provider>,
    out: &mut Vec<Hint>,
) {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    if let Some(api_version) = object.get("apiVersion").and_then(Value::as_str)
        && let Some(provider) = group_provider(api_version)
    {
        out.push(Hint {
            provider,
            what: format!("apiVersion {api_version}"),
            object: index,
            pointer: "/apiVersion".into(),
        });
    }
    let mut walker = Walker {
        index,
        instance_type,
        out,
    };
    walker.walk(object, "", "", kind);
}

struct Walker<'a> {
    index: usize,
    instance_type: &'a dyn Fn(&str) -> Option<Provider>,
    out: &'a mut Vec<Hint>,
}

impl Walker<'_> {
    fn push(&mut self, provider: Provider, what: String, pointer: String) {
        self.out.push(Hint {
            provider,
            what,
            object: self.index,
            pointer,
        });
    }

    /// `field` is the key under which `value` sits (`""` at the root or in a list).
    fn walk(&mut self, value: &Value, pointer: &str, field: &str, kind: &str) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let at = format!("{pointer}/{}", kubectl_vllm_core::Pointer::escape(key));
                    // Free text: scripts, env values, ConfigMap and Secret payloads.
                    let free_text = matches!(
                        key.as_str(),
                        "command" | "args" | "env" | "data" | "stringData" | "binaryData"
                    ) && matches!(child, Value::Array(_) | Value::Object(_))
                        && (key != "data" || matches!(kind, "ConfigMap" | "Secret"))
                        && (key != "stringData" || kind == "Secret");
                    if free_text {
                        continue;
                    }
                    if field_is_map_of_keys(field)
                        && let Some(provider) = key_provider(key)
                    {
                        self.push(provider, format!("{} {key}", describe(field)), at.clone());
                    }
                    if field_is_map_of_keys(field)
                        && INSTANCE_TYPE_LABELS.contains(&key.as_str())
                        && let Some(value) = child.as_str()
                        && let Some(provider) = (self.instance_type)(value)
                    {
                        self.push(provider, format!("{key} {value}"), at.clone());
                    }
                    self.walk(child, &at, key, kind);
                }
                // A node-selector requirement or a toleration: `{key: ..., values: [...]}`.
                if let Some(key) = map.get("key").and_then(Value::as_str) {
                    let at = format!("{pointer}/key");
                    if let Some(provider) = key_provider(key) {
                        let what = if field == "tolerations" || map.contains_key("effect") {
                            "toleration"
                        } else {
                            "node affinity"
                        };
                        self.push(provider, format!("{what} {key}"), at);
                    }
                    if INSTANCE_TYPE_LABELS.contains(&key)
                        && let Some(Value::Array(values)) = map.get("values")
                    {
                        for (i, v) in values.iter().enumerate() {
                            if let Some(v) = v.as_str()
                                && let Some(provider) = (self.instance_type)(v)
                            {
                                self.push(
                                    provider,
                                    format!("node affinity {key} {v}"),
                                    format!("{pointer}/values/{i}"),
                                );
                            }
                        }
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk(item, &format!("{pointer}/{i}"), field, kind);
                }
            }
            Value::String(s) => {
                let storage = matches!(field, "storageClassName" | "provisioner" | "driver");
                if storage && let Some(provider) = storage_provider(s) {
                    self.push(provider, format!("{field} {s}"), pointer.to_string());
                }
            }
            _ => {}
        }
    }
}

/// Fields whose mapping keys are label-like keys.
fn field_is_map_of_keys(field: &str) -> bool {
    matches!(
        field,
        "labels" | "annotations" | "nodeSelector" | "matchLabels" | "selector"
    )
}

fn describe(field: &str) -> &str {
    match field {
        "labels" => "label",
        "annotations" => "annotation",
        "matchLabels" | "selector" => "selector",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn none(_: &str) -> Option<Provider> {
        None
    }

    fn found(object: &Value) -> Vec<(Provider, String)> {
        let mut out = Vec::new();
        hints(0, object, &none, &mut out);
        out.into_iter().map(|h| (h.provider, h.what)).collect()
    }

    #[test]
    fn hints_come_from_keys_drivers_classes_and_groups_but_not_free_text() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {
        "metadata": {"annotations": {"gke-gcsfuse/volumes": "true"}},
        "spec": {
            "nodeSelector": {"cloud.google.com/gke-accelerator": "nvidia-l4"},
            "tolerations": [{"key": "kubernetes.azure.com/scalesetpriority", "operator": "Exists", "effect": "NoSchedule"}],
            "containers": [{"name": "c", "args": ["eks.amazonaws.com/role-arn"],
                            "env": [{"name": "X", "value": "cloud.google.com/x"}]}],
            "volumes": [{"name": "v", "csi": {"driver": "ebs.csi.aws.com"}}]
        }}}});
        let hints = found(&d);
        assert_eq!(
            hints,
            vec![
                (Provider::Gke, "annotation gke-gcsfuse/volumes".to_string()),
                (
                    Provider::Gke,
                    "nodeSelector cloud.google.com/gke-accelerator".to_string()
                ),
                (
                    Provider::Aks,
                    "toleration kubernetes.azure.com/scalesetpriority".to_string()
                ),
                (Provider::Eks, "driver ebs.csi.aws.com".to_string()),
            ]
        );
        let route = json!({"apiVersion": "route.openshift.io/v1", "kind": "Route"});
        assert_eq!(found(&route)[0].0, Provider::Openshift);
        let pvc = json!({"kind": "PersistentVolumeClaim", "spec": {"storageClassName": "ocs-storagecluster-ceph-rbd"}});
        assert_eq!(found(&pvc)[0].0, Provider::Openshift);
        let plain =
            json!({"kind": "PersistentVolumeClaim", "spec": {"storageClassName": "standard"}});
        assert!(found(&plain).is_empty());
        let cm = json!({"kind": "ConfigMap", "data": {"cloud.google.com/x": "y"}});
        assert!(found(&cm).is_empty());
    }

    #[test]
    fn resolution_order_and_conflicts() {
        let hint = |provider| Hint {
            provider,
            what: "x".into(),
            object: 0,
            pointer: String::new(),
        };
        let gke = [hint(Provider::Gke), hint(Provider::Gke)];
        let r = Resolved::resolve(None, ProviderSetting::Auto, None, || gke.to_vec());
        assert_eq!(
            (r.provider, r.source),
            (Provider::Gke, ProviderSource::Hints)
        );
        let r = Resolved::resolve(None, ProviderSetting::Eks, Some(Provider::Gke), || {
            gke.to_vec()
        });
        assert_eq!(
            (r.provider, r.source),
            (Provider::Eks, ProviderSource::Config)
        );
        let r = Resolved::resolve(
            Some(ProviderSetting::Generic),
            ProviderSetting::Eks,
            None,
            || gke.to_vec(),
        );
        assert_eq!(r.provider, Provider::Generic);
        let r = Resolved::resolve(None, ProviderSetting::Auto, Some(Provider::Aks), || {
            gke.to_vec()
        });
        assert_eq!(r.source, ProviderSource::LiveCluster);
        let both = [
            hint(Provider::Gke),
            hint(Provider::Eks),
            hint(Provider::Gke),
        ];
        let r = Resolved::resolve(None, ProviderSetting::Auto, None, || both.to_vec());
        assert_eq!(r.provider, Provider::Unknown);
        assert_eq!(r.conflict.len(), 2);
        assert_eq!(Resolved::default().provider, Provider::Unknown);
    }
}
