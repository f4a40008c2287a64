use kubectl_vllm_sdk::prelude::*;

use kubectl_vllm_sdk::pools;

declare_rule! {
    /// ## What it does
    /// Checks the pod's `nodeSelector` and required node affinity against the node pools of the
    /// cluster profile (`cluster.node-pools` in `.kubectl-vllm.yaml`; their labels plus the ones GKE
    /// sets: `cloud.google.com/gke-nodepool`, `gke-accelerator`, `gke-accelerator-count`). Nothing
    /// is checked when the profile lists no pools.
    ///
    /// ## Why is this bad?
    /// No node of any pool carries the labels, so the pod stays Pending: `0/N nodes are available:
    /// N node(s) didn't match Pod's node affinity/selector`. Unless node auto-provisioning can
    /// create such a pool, nothing will ever change that.
    ///
    /// ## Example
    /// ```yaml
    /// nodeSelector:
    ///   cloud.google.com/gke-accelerator: nvidia-h100-80gb   # the cluster only has L4 pools
    /// ```
    ///
    /// Use instead: a label a pool has, or a pool with that accelerator.
    ///
    /// The finding points at `nodeSelector`, else at the required node affinity.
    ///
    /// ## Fix safety
    /// No fix: the right pool is the user's choice.
    ///
    /// ## Source
    /// Kubernetes "Assigning Pods to Nodes"; GKE node labels.
    ///
    /// - <https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/>
    pub struct NodeSelectorUnmatched {
        id: "node-selector-unmatched",
        severity: Error,
        fix: None,
        summary: "no node pool of the cluster profile matches the pod's node selector",
    }
}

impl Rule for NodeSelectorUnmatched {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        let all = cx.env.node_pools();
        if all.is_empty() {
            return;
        }
        if !pools::constrains(spec) || !pools::matching(cx, spec, &all).is_empty() {
            return;
        }
        let at = if spec.spec.get("nodeSelector").is_some() {
            spec.at().key("nodeSelector")
        } else {
            spec.at().key("affinity")
        };
        let names: Vec<String> = all
            .iter()
            .map(|p| {
                format!(
                    "{}{}",
                    p.name,
                    p.accelerator
                        .as_ref()
                        .map_or(String::new(), |a| format!(" ({a})"))
                )
            })
            .collect();
        out.report(
            &at,
            format!(
                "no node pool of the cluster profile matches this selector; pools: {}",
                names.join(", ")
            ),
        )
        .help("select labels a pool has, or add the pool (or its labels) to the cluster profile");
    }
}
