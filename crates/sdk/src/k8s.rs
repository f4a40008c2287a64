//! Pod specs and containers inside any workload kind.

use serde_json::Value;

use crate::Pointer;
use crate::quantity;

/// The GKE node label that selects a GPU type.
pub const GKE_ACCELERATOR: &str = "cloud.google.com/gke-accelerator";
/// The extended resource name of NVIDIA GPUs.
pub const NVIDIA_GPU: &str = "nvidia.com/gpu";

/// Kinds whose objects carry pod templates, in the order rules look them up.
pub const WORKLOAD_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
    "LeaderWorkerSet",
    "RayCluster",
    "RayService",
    "RayJob",
    "InferenceService",
    "ServingRuntime",
    "ClusterServingRuntime",
    "LLMInferenceService",
];

pub use kubectl_vllm_core::stand_in::{SOURCE_ANNOTATION, metadata_only, stand_in};

/// A pod spec inside an object, with its pointer.
#[derive(Debug, Clone)]
pub struct PodSpec<'a> {
    /// The spec.
    pub spec: &'a Value,
    /// Where the spec is in the object (`/spec/template/spec` for a Deployment).
    pub pointer: Pointer,
    /// Where the pods' metadata is written (`/spec/template/metadata`; `/metadata` for a Pod
    /// or an InferenceService, whose metadata the pods inherit).
    pub metadata: Pointer,
    /// Which kind of template it is.
    pub role: PodRole,
}

/// What kind of pod template a [`PodSpec`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodRole {
    /// A workload's template, complete as written.
    Plain,
    /// A KServe InferenceService predictor: its `model` is a container merged into its
    /// ServingRuntime's, read as the first app container.
    KServePredictor,
    /// A KServe ServingRuntime's containers: defaults that each InferenceService naming the
    /// runtime completes with its model's arguments, environment and resources.
    ServingRuntime,
    /// A KServe LLMInferenceService template: its containers are merged with KServe's presets,
    /// which supply vLLM's command line; the model is `spec.model.uri` (`hf://` stripped).
    LlmInference {
        /// The model the object names, if any.
        model: Option<String>,
    },
    /// A KubeRay head or worker group: the operator runs `ray start` in it, and a RayService runs
    /// vLLM inside Ray Serve. `serve_vllm`: the object's Serve config mentions vLLM.
    Ray {
        /// Whether the object's `serveConfigV2` (or its entrypoint) mentions vLLM.
        serve_vllm: bool,
    },
}

/// A container (or initContainer) with its pointer.
#[derive(Debug, Clone)]
pub struct Container<'a> {
    /// The container.
    pub value: &'a Value,
    /// Where it is in the object.
    pub pointer: Pointer,
    /// Whether it is an initContainer.
    pub init: bool,
}

/// `(pod spec pointer, metadata pointer)` of a pod template under `at`.
fn template(at: &str) -> (String, String) {
    (format!("{at}/spec"), format!("{at}/metadata"))
}

/// Every pod spec of a workload: a LeaderWorkerSet has a leader and a worker template, a Ray
/// cluster a head group and worker groups, a KServe InferenceService a predictor (with its
/// `model`), a worker spec, a transformer and an explainer.
#[must_use]
pub fn pod_specs<'a>(kind: &str, object: &'a Value) -> Vec<PodSpec<'a>> {
    places(kind, object)
        .into_iter()
        .filter_map(|(pointer, metadata, role)| {
            let spec = object.pointer(&pointer).filter(|v| v.is_object())?;
            Some(PodSpec {
                spec,
                pointer: Pointer::from_path(&pointer),
                metadata: Pointer::from_path(&metadata),
                role,
            })
        })
        .collect()
}

/// Whether objects of `kind` can hold pod templates ([`pod_specs`] may find some).
#[must_use]
pub fn holds_pod_templates(kind: &str) -> bool {
    // Every kind with templates has at least one place whatever the object holds.
    !places(kind, &Value::Null).is_empty()
}

/// Where objects of `kind` keep pod templates: (template pointer, metadata pointer, role).
fn places(kind: &str, object: &Value) -> Vec<(String, String, PodRole)> {
    let mut places: Vec<(String, String, PodRole)> = Vec::new();
    let ray = |root: &str, places: &mut Vec<(String, String, PodRole)>| {
        let serve_vllm = ["/spec/serveConfigV2", "/spec/entrypoint"].iter().any(|p| {
            object
                .pointer(p)
                .and_then(Value::as_str)
                .is_some_and(|s| s.contains("vllm"))
        });
        let role = PodRole::Ray { serve_vllm };
        let (s, m) = template(&format!("{root}/headGroupSpec/template"));
        places.push((s, m, role.clone()));
        if let Some(Value::Array(groups)) = object.pointer(&format!("{root}/workerGroupSpecs")) {
            for i in 0..groups.len() {
                let (s, m) = template(&format!("{root}/workerGroupSpecs/{i}/template"));
                places.push((s, m, role.clone()));
            }
        }
    };
    match kind {
        "Pod" => places.push(("/spec".into(), "/metadata".into(), PodRole::Plain)),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => {
            let (s, m) = template("/spec/template");
            places.push((s, m, PodRole::Plain));
        }
        "CronJob" => {
            let (s, m) = template("/spec/jobTemplate/spec/template");
            places.push((s, m, PodRole::Plain));
        }
        "LeaderWorkerSet" => {
            for role in ["leaderTemplate", "workerTemplate"] {
                let (s, m) = template(&format!("/spec/leaderWorkerTemplate/{role}"));
                places.push((s, m, PodRole::Plain));
            }
        }
        "RayCluster" => ray("/spec", &mut places),
        "RayService" => ray("/spec/rayClusterConfig", &mut places),
        "RayJob" => ray("/spec/rayClusterSpec", &mut places),
        "InferenceService" => {
            places.push((
                "/spec/predictor".into(),
                "/metadata".into(),
                PodRole::KServePredictor,
            ));
            for part in [
                "/spec/predictor/workerSpec",
                "/spec/transformer",
                "/spec/explainer",
            ] {
                places.push((part.into(), "/metadata".into(), PodRole::Plain));
            }
        }
        "ServingRuntime" | "ClusterServingRuntime" => {
            for part in ["/spec", "/spec/workerSpec"] {
                places.push((part.into(), "/metadata".into(), PodRole::ServingRuntime));
            }
        }
        "LLMInferenceService" => {
            let model = object
                .pointer("/spec/model/uri")
                .and_then(Value::as_str)
                .map(|uri| uri.strip_prefix("hf://").unwrap_or(uri).to_string());
            for part in [
                "/spec/template",
                "/spec/worker",
                "/spec/prefill/template",
                "/spec/prefill/worker",
            ] {
                let role = PodRole::LlmInference {
                    model: model.clone(),
                };
                places.push((part.into(), "/metadata".into(), role));
            }
        }
        _ => {}
    }
    places
}

/// The pod spec of a plain workload of `kind` (not a LeaderWorkerSet leader, a Ray group or a
/// KServe object), if it has one.
#[must_use]
pub fn pod_spec<'a>(kind: &str, object: &'a Value) -> Option<PodSpec<'a>> {
    let plain = matches!(
        kind,
        "Pod"
            | "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "Job"
            | "ReplicationController"
            | "CronJob"
    );
    if !plain {
        return None;
    }
    pod_specs(kind, object).into_iter().next()
}

/// Accelerator devices, by extended resource (product.md, "Inputs").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    /// `nvidia.com/gpu`: a whole NVIDIA GPU (or a GKE MIG partition exposed under that name).
    NvidiaGpu,
    /// `nvidia.com/mig-<profile>` (`mig-3g.40gb`): a MIG slice, with its profile.
    NvidiaMig(String),
    /// `amd.com/gpu`.
    AmdGpu,
    /// `google.com/tpu`: a TPU chip.
    Tpu,
    /// `habana.ai/gaudi`: a Gaudi HPU.
    Gaudi,
    /// `aws.amazon.com/neuron` (a device of several cores) or `neurondevice`.
    NeuronDevice,
    /// `aws.amazon.com/neuroncore`.
    NeuronCore,
    /// `gpu.intel.com/i915` or `gpu.intel.com/xe`: an Intel GPU.
    IntelGpu,
}

impl Device {
    /// The device an extended resource name requests, if it is one.
    #[must_use]
    pub fn of(resource: &str) -> Option<Self> {
        Some(match resource {
            NVIDIA_GPU => Self::NvidiaGpu,
            "amd.com/gpu" => Self::AmdGpu,
            "google.com/tpu" => Self::Tpu,
            "habana.ai/gaudi" => Self::Gaudi,
            "aws.amazon.com/neuron" | "aws.amazon.com/neurondevice" => Self::NeuronDevice,
            "aws.amazon.com/neuroncore" => Self::NeuronCore,
            "gpu.intel.com/i915" | "gpu.intel.com/xe" => Self::IntelGpu,
            _ => Self::NvidiaMig(resource.strip_prefix("nvidia.com/mig-")?.to_string()),
        })
    }

    /// Whether it is NVIDIA's (driver paths, compute capability and MIG rules apply).
    #[must_use]
    pub fn is_nvidia(&self) -> bool {
        matches!(self, Self::NvidiaGpu | Self::NvidiaMig(_))
    }

    /// Whether one device runs one tensor- or pipeline-parallel rank (a Neuron device holds
    /// several cores, so its rank count is not known from the request).
    #[must_use]
    pub fn one_rank_each(&self) -> bool {
        !matches!(self, Self::NeuronDevice)
    }
}

impl<'a> PodSpec<'a> {
    /// The spec's own pointer.
    #[must_use]
    pub fn at(&self) -> Pointer {
        self.pointer.clone()
    }

    /// The pods' labels (from the template metadata).
    #[must_use]
    pub fn labels(&self, object: &'a Value) -> Option<&'a serde_json::Map<String, Value>> {
        object
            .pointer(&format!("{}/labels", self.metadata))
            .and_then(Value::as_object)
    }

    /// App containers then initContainers.
    #[must_use]
    pub fn containers(&self) -> Vec<Container<'a>> {
        let mut out = Vec::new();
        if self.role == PodRole::KServePredictor
            && let Some(value) = self.spec.get("model").filter(|v| v.is_object())
        {
            out.push(Container {
                value,
                pointer: self.at().key("model"),
                init: false,
            });
        }
        for (field, init) in [("containers", false), ("initContainers", true)] {
            if let Some(Value::Array(items)) = self.spec.get(field) {
                for (i, value) in items.iter().enumerate() {
                    out.push(Container {
                        value,
                        pointer: self.at().key(field).index(i),
                        init,
                    });
                }
            }
        }
        out
    }

    /// App containers only.
    #[must_use]
    pub fn app_containers(&self) -> Vec<Container<'a>> {
        self.containers().into_iter().filter(|c| !c.init).collect()
    }

    /// Whether this is a KServe predictor, whose `model` container is merged into its
    /// ServingRuntime's.
    #[must_use]
    pub fn is_kserve_predictor(&self) -> bool {
        self.role == PodRole::KServePredictor
    }

    /// What the pod needs of something each container asks for: the sum over app containers,
    /// or an initContainer's if larger (initContainers run one at a time, before the app
    /// containers). `None` when a container's amount cannot be known.
    fn pod_total(&self, per: impl Fn(&Container<'a>) -> Option<u64>) -> Option<u64> {
        let containers = self.containers();
        let mut app = 0;
        let mut init = 0;
        for c in &containers {
            let n = per(c)?;
            if c.init {
                init = init.max(n);
            } else {
                app += n;
            }
        }
        Some(app.max(init))
    }

    /// Accelerator devices the pod needs that run one parallel rank each (every kind of
    /// product.md's list); `None` when a request's rank count cannot be known (Neuron devices).
    #[must_use]
    pub fn rank_devices(&self) -> Option<u64> {
        self.pod_total(Container::rank_devices)
    }

    /// Accelerator devices of every kind the pod needs: what a second pod must find free on the
    /// nodes.
    #[must_use]
    pub fn device_count(&self) -> u64 {
        self.pod_total(|c| Some(c.devices().iter().map(|(_, n)| n).sum()))
            .unwrap_or(0)
    }

    /// Whole `nvidia.com/gpu` the pod needs.
    #[must_use]
    pub fn gpu_count(&self) -> u64 {
        self.pod_total(|c| Some(c.gpus())).unwrap_or(0)
    }

    /// `nodeSelector[key]`.
    #[must_use]
    pub fn node_selector(&self, key: &str) -> Option<&'a str> {
        self.spec.get("nodeSelector")?.get(key)?.as_str()
    }

    /// Values a required node affinity allows for `key` (`In` expressions), with their pointers.
    #[must_use]
    pub fn required_affinity_values(&self, key: &str) -> Vec<(String, Pointer)> {
        let mut out = Vec::new();
        let terms_at = self
            .at()
            .key("affinity")
            .key("nodeAffinity")
            .key("requiredDuringSchedulingIgnoredDuringExecution")
            .key("nodeSelectorTerms");
        let Some(Value::Array(terms)) = self
            .spec
            .pointer("/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")
        else {
            return out;
        };
        for (t, term) in terms.iter().enumerate() {
            let Some(Value::Array(exprs)) = term.get("matchExpressions") else {
                continue;
            };
            for (e, expr) in exprs.iter().enumerate() {
                if expr.get("key").and_then(Value::as_str) != Some(key)
                    || expr.get("operator").and_then(Value::as_str) != Some("In")
                {
                    continue;
                }
                if let Some(Value::Array(values)) = expr.get("values") {
                    for (v, value) in values.iter().enumerate() {
                        if let Some(s) = value.as_str() {
                            let at = terms_at
                                .index(t)
                                .key("matchExpressions")
                                .index(e)
                                .key("values")
                                .index(v);
                            out.push((s.to_string(), at));
                        }
                    }
                }
            }
        }
        out
    }

    /// Whether the pod requires `key` to exist in node affinity (any operator).
    #[must_use]
    pub fn requires_node_label(&self, key: &str) -> bool {
        let Some(Value::Array(terms)) = self
            .spec
            .pointer("/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")
        else {
            return false;
        };
        terms.iter().any(|term| {
            term.get("matchExpressions")
                .and_then(Value::as_array)
                .is_some_and(|exprs| {
                    exprs
                        .iter()
                        .any(|e| e.get("key").and_then(Value::as_str) == Some(key))
                })
        })
    }

    /// The GKE accelerator the pod selects (see [`Self::label_value`]).
    #[must_use]
    pub fn gke_accelerator(&self) -> Option<(String, Pointer)> {
        self.label_value(GKE_ACCELERATOR)
    }

    /// The one value the pod requires for node label `key`: its node selector's, else a single
    /// required node-affinity `In` value, with the pointer to the value.
    #[must_use]
    pub fn label_value(&self, key: &str) -> Option<(String, Pointer)> {
        if let Some(value) = self.node_selector(key) {
            return Some((value.to_string(), self.at().key("nodeSelector").key(key)));
        }
        let mut values = self.required_affinity_values(key);
        if values.len() == 1 {
            values.pop()
        } else {
            None
        }
    }

    /// Tolerations.
    #[must_use]
    pub fn tolerations(&self) -> &'a [Value] {
        self.spec
            .get("tolerations")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    /// Whether some toleration tolerates a `key` taint with `effect` (any value).
    #[must_use]
    pub fn tolerates(&self, key: &str, effect: &str) -> bool {
        self.tolerations().iter().any(|t| {
            let t_key = t.get("key").and_then(Value::as_str).unwrap_or("");
            let operator = t.get("operator").and_then(Value::as_str).unwrap_or("Equal");
            let t_effect = t.get("effect").and_then(Value::as_str).unwrap_or("");
            let key_ok = (t_key.is_empty() && operator == "Exists") || t_key == key;
            let effect_ok = t_effect.is_empty() || t_effect == effect;
            key_ok && effect_ok && (operator == "Exists" || t.get("value").is_some())
        })
    }

    /// Whether some toleration tolerates `taint`, with Kubernetes' matching: an empty effect
    /// matches every effect; an empty key with `Exists` matches every taint; `Exists` matches any
    /// value; `Equal` (the default) needs the same value.
    #[must_use]
    pub fn tolerates_taint(&self, taint: &crate::Taint) -> bool {
        self.tolerations().iter().any(|t| {
            let key = t.get("key").and_then(Value::as_str).unwrap_or("");
            let operator = t.get("operator").and_then(Value::as_str).unwrap_or("Equal");
            let value = t.get("value").and_then(Value::as_str).unwrap_or("");
            let effect = t.get("effect").and_then(Value::as_str).unwrap_or("");
            let effect_ok = effect.is_empty() || effect == taint.effect;
            let key_ok = (key.is_empty() && operator == "Exists") || key == taint.key;
            let value_ok = operator == "Exists" || value == taint.value;
            effect_ok && key_ok && value_ok
        })
    }

    /// Whether the pod's node selector and required node affinity accept a node with `labels`.
    #[must_use]
    pub fn accepts_node(&self, labels: &[(String, String)]) -> bool {
        let label = |k: &str| {
            labels
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        if let Some(Value::Object(selector)) = self.spec.get("nodeSelector")
            && !selector.iter().all(|(k, v)| label(k) == v.as_str())
        {
            return false;
        }
        let Some(Value::Array(terms)) = self
            .spec
            .pointer("/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")
        else {
            return true;
        };
        terms.iter().any(|term| {
            term.get("matchExpressions")
                .and_then(Value::as_array)
                .is_none_or(|exprs| {
                    exprs.iter().all(|e| {
                        let key = e.get("key").and_then(Value::as_str).unwrap_or("");
                        let values: Vec<&str> = e
                            .get("values")
                            .and_then(Value::as_array)
                            .map(|v| v.iter().filter_map(Value::as_str).collect())
                            .unwrap_or_default();
                        let have = label(key);
                        let number = |s: &str| s.parse::<i64>().ok();
                        match e.get("operator").and_then(Value::as_str).unwrap_or("") {
                            "In" => have.is_some_and(|h| values.contains(&h)),
                            "NotIn" => have.is_none_or(|h| !values.contains(&h)),
                            "Exists" => have.is_some(),
                            "DoesNotExist" => have.is_none(),
                            "Gt" => have
                                .and_then(number)
                                .zip(values.first().and_then(|v| number(v)))
                                .is_some_and(|(h, v)| h > v),
                            "Lt" => have
                                .and_then(number)
                                .zip(values.first().and_then(|v| number(v)))
                                .is_some_and(|(h, v)| h < v),
                            _ => false,
                        }
                    })
                })
        })
    }

    /// Volumes.
    #[must_use]
    pub fn volumes(&self) -> &'a [Value] {
        self.spec
            .get("volumes")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    /// Names of PVCs the pod mounts through `persistentVolumeClaim` volumes.
    #[must_use]
    pub fn claim_names(&self) -> Vec<&'a str> {
        self.volumes()
            .iter()
            .filter_map(|v| v.pointer("/persistentVolumeClaim/claimName")?.as_str())
            .collect()
    }
}

impl Container<'_> {
    /// The container's name (`model` for a KServe predictor's unnamed `model`).
    #[must_use]
    pub fn name(&self) -> &str {
        match self.value.get("name").and_then(Value::as_str) {
            Some(name) => name,
            None if self.pointer.as_str().ends_with("/model") => "model",
            None => "",
        }
    }

    /// The image.
    #[must_use]
    pub fn image(&self) -> &str {
        self.value
            .get("image")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// `resources.<section>[resource]` (section is `limits` or `requests`).
    #[must_use]
    pub fn resource(&self, section: &str, resource: &str) -> Option<&Value> {
        self.value.get("resources")?.get(section)?.get(resource)
    }

    /// `resources.<section>` (the whole mapping).
    #[must_use]
    pub fn resource_parent(&self, section: &str) -> Option<&Value> {
        self.value.get("resources")?.get(section)
    }

    /// The port name declared for `port` in `ports`, if any.
    #[must_use]
    pub fn port_name(&self, port: u16) -> Option<&str> {
        self.value.get("ports")?.as_array()?.iter().find_map(|p| {
            (p.get("containerPort").and_then(Value::as_u64) == Some(u64::from(port)))
                .then(|| p.get("name").and_then(Value::as_str))
                .flatten()
        })
    }

    /// Pointer to `resources.<section>[resource]`.
    #[must_use]
    pub fn resource_at(&self, section: &str, resource: &str) -> Pointer {
        self.pointer.key("resources").key(section).key(resource)
    }

    /// The devices this container requests that run one parallel rank each; `None` when one
    /// holds an unknown number of ranks (a Neuron device holds several cores).
    #[must_use]
    pub fn rank_devices(&self) -> Option<u64> {
        self.devices()
            .into_iter()
            .map(|(d, n)| d.one_rank_each().then_some(n))
            .sum()
    }

    /// Accelerator devices this container asks for (limits, else requests), with counts.
    #[must_use]
    pub fn devices(&self) -> Vec<(Device, u64)> {
        let mut out: Vec<(Device, u64)> = Vec::new();
        for section in ["limits", "requests"] {
            let Some(Value::Object(resources)) = self.resource_parent(section) else {
                continue;
            };
            for (name, quantity) in resources {
                let Some(device) = Device::of(name) else {
                    continue;
                };
                if out.iter().any(|(d, _)| *d == device) {
                    continue; // limits win over requests
                }
                if let Some(n) = quantity::count(quantity).filter(|&n| n > 0) {
                    out.push((device, n));
                }
            }
        }
        out
    }

    /// NVIDIA devices (whole GPUs and MIG slices) this container asks for.
    #[must_use]
    pub fn nvidia_devices(&self) -> u64 {
        self.devices()
            .iter()
            .filter(|(d, _)| d.is_nvidia())
            .map(|(_, n)| n)
            .sum()
    }

    /// Whole `nvidia.com/gpu` this container asks for (limits, else requests).
    #[must_use]
    pub fn gpus(&self) -> u64 {
        self.resource("limits", NVIDIA_GPU)
            .or_else(|| self.resource("requests", NVIDIA_GPU))
            .and_then(quantity::count)
            .unwrap_or(0)
    }

    /// The env entry named `name`, with its index.
    #[must_use]
    pub fn env(&self, name: &str) -> Option<(usize, &Value)> {
        self.value
            .get("env")?
            .as_array()?
            .iter()
            .enumerate()
            .rev()
            .find(|(_, e)| e.get("name").and_then(Value::as_str) == Some(name))
    }

    /// `command` followed by `args`, as strings.
    #[must_use]
    pub fn argv(&self) -> Vec<(&str, Pointer)> {
        let mut out = Vec::new();
        for field in ["command", "args"] {
            if let Some(Value::Array(items)) = self.value.get(field) {
                for (i, item) in items.iter().enumerate() {
                    if let Some(s) = item.as_str() {
                        out.push((s, self.pointer.key(field).index(i)));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_pod_specs_and_gpus() {
        let d = json!({"spec": {"template": {"spec": {
            "containers": [{"name": "a", "resources": {"limits": {"nvidia.com/gpu": "2"}}},
                           {"name": "b", "resources": {"limits": {"nvidia.com/gpu": 1}}}],
            "initContainers": [{"name": "i"}],
            "nodeSelector": {"cloud.google.com/gke-accelerator": "nvidia-l4"}
        }}}});
        let spec = pod_spec("Deployment", &d).unwrap();
        assert_eq!(spec.gpu_count(), 3);
        assert_eq!(spec.containers().len(), 3);
        assert_eq!(
            spec.containers()[2].pointer.as_str(),
            "/spec/template/spec/initContainers/0"
        );
        let (label, at) = spec.gke_accelerator().unwrap();
        assert_eq!(label, "nvidia-l4");
        assert_eq!(
            at.as_str(),
            "/spec/template/spec/nodeSelector/cloud.google.com~1gke-accelerator"
        );
    }

    #[test]
    fn toleration_semantics() {
        let p = json!({"spec": {"tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}]}});
        let spec = pod_spec("Pod", &p).unwrap();
        assert!(spec.tolerates("nvidia.com/gpu", "NoSchedule"));
        assert!(!spec.tolerates("other", "NoSchedule"));
        let p = json!({"spec": {"tolerations": [{"operator": "Exists"}]}});
        assert!(pod_spec("Pod", &p).unwrap().tolerates("x", "NoExecute"));
    }
}
