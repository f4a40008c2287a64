use kubectl_vllm_sdk::prelude::*;

/// The GKE node label with the number of GPUs per node.
const COUNT_LABEL: &str = "cloud.google.com/gke-accelerator-count";

declare_rule! {
    /// ## What it does
    /// Checks `nodeSelector["cloud.google.com/gke-accelerator-count"]` against the pod's GPU count:
    /// it must be at least the count, and on Autopilot a quantity Autopilot offers for the type.
    ///
    /// ## Why is this bad?
    /// A node with fewer GPUs than the pod requests can never run it, so the pod stays Pending;
    /// Autopilot requires `GPU_COUNT >= GPU_QUANTITY` and rejects the pod otherwise.
    ///
    /// ## Example
    /// ```yaml
    /// nodeSelector:
    ///   cloud.google.com/gke-accelerator: nvidia-tesla-a100
    ///   cloud.google.com/gke-accelerator-count: "2"
    /// containers:
    /// - resources: {limits: {nvidia.com/gpu: 4}}
    /// ```
    ///
    /// Use instead: `cloud.google.com/gke-accelerator-count: "4"`.
    ///
    /// The finding points at the count label.
    ///
    /// ## Fix safety
    /// Safe: sets the label to the pod's GPU count, the only value that places the pod on a node
    /// that fits it exactly.
    ///
    /// ## Source
    /// GKE, "Deploy GPU workloads in Autopilot" (accelerator count selector).
    ///
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/autopilot-gpus>
    pub struct GkeAccelCountSelectorMismatch {
        id: "gke-accel-count-selector-mismatch",
        severity: Error,
        fix: Always(Safe),
        providers: [Gke],
        summary: "the gke-accelerator-count node selector is below the pod's GPU count",
    }
}

impl Rule for GkeAccelCountSelectorMismatch {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        let count = spec.gpu_count();
        if count == 0 {
            return;
        }
        let Some(selected) = spec.node_selector(COUNT_LABEL) else {
            return;
        };
        let at = spec.at().key("nodeSelector").key(COUNT_LABEL);
        if !cx.check_provider(out, &at) {
            return;
        }
        let allowed_on_autopilot =
            cx.accelerator(spec)
                .and_then(|s| s.accelerator)
                .is_none_or(|a| {
                    selected
                        .parse::<u32>()
                        .is_ok_and(|n| a.autopilot_counts.contains(&n))
                });
        let too_small = selected.parse::<u64>().map_or(true, |n| n < count);
        if !too_small && (!cx.is_autopilot() || allowed_on_autopilot) {
            return;
        }
        let message = if too_small {
            format!("the pod asks for {count} GPUs but selects nodes with `{selected}`")
        } else {
            format!("Autopilot does not offer nodes with `{selected}` GPUs of this type")
        };
        out.report(&at, message)
            .help(format!("select nodes with {count} GPUs"))
            .fix(format!("select nodes with {count} GPUs"), |fix| {
                fix.replace(&at, &json!(count.to_string()));
            });
    }
}
