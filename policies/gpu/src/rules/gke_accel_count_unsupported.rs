use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Checks the pod's GPU count (the sum of its containers' `nvidia.com/gpu`) against the counts
    /// GKE offers for the selected accelerator: the machine shapes' GPUs per node on Standard, the
    /// accepted quantities on Autopilot.
    ///
    /// ## Why is this bad?
    /// No machine shape offers that count, so the pod stays Pending on Standard, and Autopilot
    /// rejects it ("If you request a GPU quantity that isn't supported for that type, Autopilot
    /// rejects your Pod"). Examples: 3 or 6 on `nvidia-l4`, 16 on `nvidia-a100-80gb`, anything but 8
    /// on `nvidia-h200-141gb`.
    ///
    /// ## Example
    /// ```yaml
    /// nodeSelector:
    ///   cloud.google.com/gke-accelerator: nvidia-a100-80gb
    /// containers:
    /// - name: vllm
    ///   resources:
    ///     limits:
    ///       nvidia.com/gpu: 16
    /// ```
    ///
    /// Use instead: a count the type offers (`8`), with `--tensor-parallel-size` to match.
    ///
    /// The finding points at the GPU limit of the first container that requests GPUs.
    ///
    /// ## Fix safety
    /// No fix: the GPU count drives tensor parallelism, which the user must choose.
    ///
    /// ## Source
    /// Catalogue table 1.1 (GCE accelerator-optimized machines; GKE "Deploy GPU workloads in
    /// Autopilot").
    ///
    /// - <https://cloud.google.com/compute/docs/accelerator-optimized-machines>
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/autopilot-gpus>
    pub struct GkeAccelCountUnsupported {
        id: "gke-accel-count-unsupported",
        severity: Error,
        fix: None,
        providers: [Gke],
        summary: "the pod's GPU count is not offered for its accelerator type",
    }
}

impl Rule for GkeAccelCountUnsupported {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        let count = spec.gpu_count();
        if count == 0 {
            return;
        }
        let Some((label, at)) = spec.gke_accelerator() else {
            return;
        };
        if !cx.check_provider(out, &at) {
            return;
        }
        let Some(accelerator) = cx.env.accelerator(&label) else {
            return;
        };
        let autopilot = cx.env.profile().autopilot;
        let allowed = if autopilot {
            &accelerator.autopilot_counts
        } else {
            &accelerator.gpus_per_node
        };
        if allowed.iter().any(|&n| u64::from(n) == count) {
            return;
        }
        let Some(container) = spec.containers().into_iter().find(|c| c.gpus() > 0) else {
            return;
        };
        let at = if container.resource("limits", k8s::NVIDIA_GPU).is_some() {
            container.resource_at("limits", k8s::NVIDIA_GPU)
        } else {
            container.resource_at("requests", k8s::NVIDIA_GPU)
        };
        let offered: Vec<String> = allowed.iter().map(ToString::to_string).collect();
        let (where_, offered) = if autopilot {
            ("Autopilot accepts", offered)
        } else {
            ("GKE machine shapes offer", offered)
        };
        let message = if offered.is_empty() {
            format!("{label} is not offered on Autopilot")
        } else {
            format!(
                "the pod asks for {count} GPUs but {where_} {} per pod on {label}",
                offered.join(", ")
            )
        };
        let next = allowed
            .iter()
            .copied()
            .filter(|&n| u64::from(n) > count)
            .min();
        let finding = out.report(&at, message);
        if let Some(next) = next {
            finding.help(format!(
                "use {next} GPUs (and a matching --tensor-parallel-size), or another accelerator"
            ));
        } else {
            finding.help("use fewer GPUs per pod, or an accelerator with more GPUs per node");
        }
    }
}
