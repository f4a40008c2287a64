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
];

/// The annotation the host puts on objects it read from the live cluster (see `inventory`).
pub const SOURCE_ANNOTATION: &str = "kubectl-vllm/source";

/// Whether `object` came from the live cluster as metadata only (a Secret or ConfigMap whose
/// keys the host did not read): checks on its data must not conclude a key is missing.
#[must_use]
pub fn metadata_only(object: &Value) -> bool {
    object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(SOURCE_ANNOTATION))
        .and_then(Value::as_str)
        .is_some_and(|s| s.contains("metadata-only"))
}

/// A pod spec inside an object, with its pointer.
#[derive(Debug, Clone, Copy)]
pub struct PodSpec<'a> {
    /// The spec.
    pub spec: &'a Value,
    /// Where the spec is in the object (`/spec/template/spec` for a Deployment).
    pub pointer: &'static str,
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

/// Every pod spec of a workload: a LeaderWorkerSet has a leader and a worker template.
#[must_use]
pub fn pod_specs<'a>(kind: &str, object: &'a Value) -> Vec<PodSpec<'a>> {
    let mut specs: Vec<PodSpec<'a>> = pod_spec(kind, object).into_iter().collect();
    if kind == "LeaderWorkerSet" {
        let pointer = "/spec/leaderWorkerTemplate/leaderTemplate/spec";
        if let Some(spec) = object.pointer(pointer).filter(|v| v.is_object()) {
            specs.insert(0, PodSpec { spec, pointer });
        }
    }
    specs
}

/// The pod spec of a workload of `kind`, if it has one.
#[must_use]
pub fn pod_spec<'a>(kind: &str, object: &'a Value) -> Option<PodSpec<'a>> {
    let pointer = match kind {
        "Pod" => "/spec",
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => "/spec/template/spec",
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        "LeaderWorkerSet" => "/spec/leaderWorkerTemplate/workerTemplate/spec",
        _ => return None,
    };
    object
        .pointer(pointer)
        .filter(|v| v.is_object())
        .map(|spec| PodSpec { spec, pointer })
}

impl<'a> PodSpec<'a> {
    /// The spec's own pointer.
    #[must_use]
    pub fn at(&self) -> Pointer {
        Pointer::from_path(self.pointer)
    }

    /// App containers then initContainers.
    #[must_use]
    pub fn containers(&self) -> Vec<Container<'a>> {
        let mut out = Vec::new();
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

    /// GPUs the pod needs: the sum over app containers, or an initContainer's if larger.
    #[must_use]
    pub fn gpu_count(&self) -> u64 {
        let app: u64 = self.app_containers().iter().map(Container::gpus).sum();
        let init = self
            .containers()
            .iter()
            .filter(|c| c.init)
            .map(Container::gpus)
            .max()
            .unwrap_or(0);
        app.max(init)
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

    /// The accelerator the pod selects (node selector first, then a single required affinity
    /// value), with the pointer to the value.
    #[must_use]
    pub fn accelerator(&self) -> Option<(String, Pointer)> {
        if let Some(value) = self.node_selector(GKE_ACCELERATOR) {
            return Some((
                value.to_string(),
                self.at().key("nodeSelector").key(GKE_ACCELERATOR),
            ));
        }
        let mut values = self.required_affinity_values(GKE_ACCELERATOR);
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
    /// The container's name.
    #[must_use]
    pub fn name(&self) -> &str {
        self.value.get("name").and_then(Value::as_str).unwrap_or("")
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

    /// Whole GPUs this container asks for (limits, else requests).
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
        let (label, at) = spec.accelerator().unwrap();
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
