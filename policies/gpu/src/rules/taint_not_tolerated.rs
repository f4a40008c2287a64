use kubectl_vllm_sdk::prelude::*;

use kubectl_vllm_sdk::pools;

declare_rule! {
    /// ## What it does
    /// Checks the pod's tolerations against the NoSchedule/NoExecute taints of the node pools that
    /// could run it (those its node selector accepts; for a GPU pod, those with GPUs), from the
    /// cluster profile. Kubernetes' matching: `Exists` matches any value, `Equal` the same value, an
    /// empty effect every effect. On GKE the ExtendedResourceToleration admission plugin makes a pod
    /// that requests `nvidia.com/gpu` tolerate `nvidia.com/gpu` NoSchedule taints (so the field
    /// report's `nvidia.com/gpu=present:NoSchedule` pool is fine there); with `provider: generic`
    /// or `extended-resource-toleration: false`, nothing is automatic. Nothing is checked when the
    /// profile lists no pools.
    ///
    /// ## Why is this bad?
    /// If every pool that could run the pod has a taint it does not tolerate, it stays Pending:
    /// `0/N nodes are available: N node(s) had untolerated taint {cloud.google.com/gke-spot: true}`.
    ///
    /// ## Example
    /// ```yaml
    /// # cluster profile: pool spot-l4 tainted cloud.google.com/gke-spot=true:NoSchedule
    /// nodeSelector: {cloud.google.com/gke-accelerator: nvidia-l4}
    /// tolerations: [{key: nvidia.com/gpu, operator: Exists}]
    /// ```
    ///
    /// Use instead: add `{key: cloud.google.com/gke-spot, operator: Equal, value: "true", effect:
    /// NoSchedule}`.
    ///
    /// The finding points at `tolerations`, else at the pod spec.
    ///
    /// ## Fix safety
    /// Unsafe: tolerating a taint lets the pod onto those nodes (Spot VMs can be reclaimed at any
    /// time; a dedicated pool may belong to someone else).
    ///
    /// ## Source
    /// Kubernetes "Taints and Tolerations"; GKE "Run GPUs in GKE Standard node pools"
    /// (ExtendedResourceToleration); field report ("Scaling to Zero").
    ///
    /// - <https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/>
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/gpus>
    pub struct TaintNotTolerated {
        id: "taint-not-tolerated",
        severity: Error,
        fix: Always(Unsafe),
        summary: "every node pool that could run the pod has a taint it does not tolerate",
    }
}

impl Rule for TaintNotTolerated {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        let all = cx.env.node_pools();
        if all.is_empty() {
            return;
        }
        let gpus = spec.gpu_count();
        let candidates: Vec<_> = pools::matching(cx, spec, &all)
            .into_iter()
            .filter(|p| gpus == 0 || p.accelerator.is_some())
            .collect();
        if candidates.is_empty() {
            return; // node-selector-unmatched, or no GPU pool at all
        }
        let blocked: Vec<_> = candidates
            .iter()
            .map(|p| (p, pools::untolerated(cx, spec, p)))
            .collect();
        if blocked.iter().any(|(_, taints)| taints.is_empty()) {
            return;
        }
        let (pool, taints) = &blocked[0];
        let taint = &taints[0];
        let shown = if taint.value.is_empty() {
            format!("{}:{}", taint.key, taint.effect)
        } else {
            format!("{}={}:{}", taint.key, taint.value, taint.effect)
        };
        let others = if blocked.len() > 1 {
            format!(" (and the other {} matching pools)", blocked.len() - 1)
        } else {
            String::new()
        };
        let tolerations_at = spec.at().key("tolerations");
        let at = if spec.spec.get("tolerations").is_some() {
            tolerations_at.clone()
        } else {
            spec.at()
        };
        let toleration = if taint.value.is_empty() {
            json!({"key": taint.key, "operator": "Exists", "effect": taint.effect})
        } else {
            json!({"key": taint.key, "operator": "Equal", "value": taint.value, "effect": taint.effect})
        };
        out.report(&at, format!("node pool `{}` is tainted {shown}, which this pod does not tolerate{others}: it stays Pending", pool.name))
            .help(format!("tolerate {shown}, or run on another pool"))
            .fix(format!("tolerate {shown}"), |fix| {
                fix.push(cx.object, &tolerations_at, toleration.clone());
            });
    }
}
