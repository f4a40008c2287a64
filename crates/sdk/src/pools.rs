//! Node pools of the cluster profile as the scheduler sees them.

use serde_json::Value;

use crate::k8s::{self, PodSpec};
use crate::{Context, NodePool, Taint};

/// A pool's node labels, with the ones GKE sets itself on GKE (pool name, accelerator, count).
#[must_use]
pub fn labels(pool: &NodePool, gke: bool) -> Vec<(String, String)> {
    let mut labels = pool.labels.clone();
    if !gke {
        return labels;
    }
    let mut set = |k: &str, v: String| {
        if !labels.iter().any(|(key, _)| key == k) {
            labels.push((k.to_string(), v));
        }
    };
    set("cloud.google.com/gke-nodepool", pool.name.clone());
    if let Some(accelerator) = &pool.accelerator {
        set(k8s::GKE_ACCELERATOR, accelerator.clone());
        set(
            "cloud.google.com/gke-accelerator-count",
            pool.gpus_per_node.to_string(),
        );
    }
    labels
}

/// The pool's NoSchedule/NoExecute taints the pod does not tolerate. With the
/// ExtendedResourceToleration admission plugin, a pod requesting `nvidia.com/gpu` tolerates
/// `nvidia.com/gpu` NoSchedule taints without saying so.
#[must_use]
pub fn untolerated(cx: &Context, spec: &PodSpec, pool: &NodePool) -> Vec<Taint> {
    let automatic = cx.env.profile().extended_resource_toleration && spec.gpu_count() > 0;
    pool.taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .filter(|t| !(automatic && t.key == k8s::NVIDIA_GPU && t.effect == "NoSchedule"))
        .filter(|t| !spec.tolerates_taint(t))
        .cloned()
        .collect()
}

/// Pools whose labels the pod's node selector and required affinity accept.
#[must_use]
pub fn matching<'p>(cx: &Context, spec: &PodSpec, pools: &'p [NodePool]) -> Vec<&'p NodePool> {
    let gke = cx.is_gke();
    pools
        .iter()
        .filter(|p| spec.accepts_node(&labels(p, gke)))
        .collect()
}

/// Whether the pod constrains nodes at all.
#[must_use]
pub fn constrains(spec: &PodSpec) -> bool {
    spec.spec
        .get("nodeSelector")
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty())
        || spec
            .spec
            .pointer("/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution")
            .is_some()
}
