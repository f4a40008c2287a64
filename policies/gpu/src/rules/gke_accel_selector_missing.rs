use kubectl_vllm_sdk::pools;
use kubectl_vllm_sdk::prelude::*;

/// A GKE ComputeClass: its priorities name the machine types (and so the GPU).
const COMPUTE_CLASS: &str = "cloud.google.com/compute-class";

declare_rule! {
    /// ## What it does
    /// Checks that a pod requesting `nvidia.com/gpu` on GKE selects a GPU type with the node label
    /// `cloud.google.com/gke-accelerator`, through `nodeSelector` or a required node affinity. A
    /// selector that only matches pools of one GPU type in the cluster profile (a pool name, say)
    /// counts as selecting it, and so does a custom ComputeClass (`cloud.google.com/compute-class`),
    /// which names its machine types itself.
    ///
    /// ## Why is this bad?
    /// On a Standard cluster with several GPU pools the pod lands on any GPU type: a T4 pool means a
    /// bf16 `ValueError` at startup, a small GPU means out-of-memory. Autopilot rejects a GPU pod that
    /// omits the type. Warning on Standard, error on Autopilot.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///   - name: vllm
    ///     resources:
    ///       limits:
    ///         nvidia.com/gpu: 1
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   nodeSelector:
    ///     cloud.google.com/gke-accelerator: nvidia-l4
    ///   containers:
    ///   - name: vllm
    ///     resources:
    ///       limits:
    ///         nvidia.com/gpu: 1
    /// ```
    ///
    /// The finding points at `nodeSelector` when it exists, else at the pod spec.
    ///
    /// ## Fix safety
    /// Unsafe, and offered only when the cluster profile has exactly one GPU type: choosing the GPU
    /// changes cost and what the model can run on.
    ///
    /// ## Source
    /// GKE, "Run GPUs in GKE Standard node pools" and "Deploy GPU workloads in Autopilot".
    ///
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/gpus>
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/autopilot-gpus>
    pub struct GkeAccelSelectorMissing {
        id: "gke-accel-selector-missing",
        severity: Warning,
        fix: Sometimes(Unsafe),
        providers: [Gke],
        summary: "a GPU pod on GKE does not select a GPU type with cloud.google.com/gke-accelerator",
    }
}

impl Rule for GkeAccelSelectorMissing {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        if spec.gpu_count() == 0 {
            return;
        }
        if spec.node_selector(k8s::GKE_ACCELERATOR).is_some()
            || spec.requires_node_label(k8s::GKE_ACCELERATOR)
            || spec.label_value(COMPUTE_CLASS).is_some()
            || spec.requires_node_label(COMPUTE_CLASS)
        {
            return;
        }
        // Selecting a pool (by name or label) pins the GPU type when every pool it matches in the
        // cluster profile has the same accelerator.
        let pools = cx.env.node_pools();
        let matching = pools::matching(cx, spec, &pools);
        if pools::constrains(spec)
            && let Some(first) = matching.first().and_then(|p| p.accelerator.as_ref())
            && matching
                .iter()
                .all(|p| p.accelerator.as_ref() == Some(first))
        {
            return;
        }
        let profile = cx.env.profile();
        let selector_at = spec.at().key("nodeSelector");
        let at = if spec.spec.get("nodeSelector").is_some() {
            selector_at.clone()
        } else {
            spec.at()
        };
        if !cx.check_provider(out, &at) {
            return;
        }
        let mut types: Vec<String> = cx
            .env
            .node_pools()
            .into_iter()
            .filter_map(|p| p.accelerator)
            .collect();
        types.sort();
        types.dedup();
        let finding = out
            .report(
                &at,
                format!(
                    "the pod requests {} nvidia.com/gpu but does not select a GPU type",
                    spec.gpu_count()
                ),
            )
            .help(format!(
                "add `nodeSelector: {{{}: <type>}}`{}",
                k8s::GKE_ACCELERATOR,
                if profile.autopilot {
                    "; Autopilot rejects GPU pods without it"
                } else {
                    ""
                }
            ));
        let finding = if profile.autopilot {
            finding.severity(Severity::Error)
        } else {
            finding
        };
        if let [only] = types.as_slice() {
            let only = only.clone();
            finding.fix(
                format!("select `{only}`, the cluster's only GPU type"),
                |fix| {
                    fix.set_key(
                        cx.object,
                        &selector_at,
                        k8s::GKE_ACCELERATOR,
                        Value::String(only.clone()),
                    );
                },
            );
        }
    }
}
