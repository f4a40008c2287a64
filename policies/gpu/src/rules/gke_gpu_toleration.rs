use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Checks that pods scheduled onto GPU nodes tolerate the `nvidia.com/gpu` taint.
    ///
    /// - A pod that requests `nvidia.com/gpu` and has no such toleration: `info` on GKE, where the
    ///   ExtendedResourceToleration admission controller adds it, and `error` when the cluster
    ///   profile says that controller is off (`extended-resource-toleration: false`).
    /// - A pod that selects GPU nodes (`cloud.google.com/gke-accelerator`) but requests no GPU and
    ///   does not tolerate the taint (a model pre-loader Job, say): `error`.
    ///
    /// ## Why is this bad?
    /// GKE taints GPU nodes `nvidia.com/gpu=present:NoSchedule` when the cluster has a non-GPU pool,
    /// and the field report's scale-to-zero recipe adds the same taint by hand. Only pods requesting
    /// GPUs get the toleration automatically; anything else pinned to GPU nodes stays Pending with
    /// `node(s) had untolerated taint {nvidia.com/gpu: present}`. Clusters without the admission
    /// plugin (self-managed, other distributions) need the toleration on every GPU pod.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   nodeSelector:
    ///     cloud.google.com/gke-accelerator: nvidia-l4
    ///   containers:
    ///   - name: preload
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   nodeSelector:
    ///     cloud.google.com/gke-accelerator: nvidia-l4
    ///   tolerations:
    ///   - key: nvidia.com/gpu
    ///     operator: Exists
    ///     effect: NoSchedule
    /// ```
    ///
    /// The finding points at `tolerations` when it exists, else at the pod spec.
    ///
    /// ## Fix safety
    /// Safe: adds `{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}`. `Exists` also
    /// matches taints valued `true` that other tools use.
    ///
    /// ## Source
    /// GKE, "Run GPUs in GKE Standard node pools" (taints and ExtendedResourceToleration); the
    /// field report's "Scaling to Zero" section.
    ///
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/gpus>
    pub struct GkeGpuToleration {
        id: "gke-gpu-toleration",
        severity: Info,
        fix: Always(Safe),
        providers: [Gke],
        summary: "a pod on GPU nodes does not tolerate the nvidia.com/gpu taint",
    }
}

impl Rule for GkeGpuToleration {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        if spec.tolerates(k8s::NVIDIA_GPU, "NoSchedule") {
            return;
        }
        let requests_gpu = spec.gpu_count() > 0;
        let pinned =
            spec.gke_accelerator().is_some() || spec.requires_node_label(k8s::GKE_ACCELERATOR);
        let automatic = cx.env.profile().extended_resource_toleration;
        let (severity, message) = match (requests_gpu, pinned) {
            (true, _) if automatic => (
                Severity::Info,
                "no nvidia.com/gpu toleration; the ExtendedResourceToleration admission plugin adds it on this cluster, \
                 but the manifest is not portable without it",
            ),
            (true, _) => (
                Severity::Error,
                "no nvidia.com/gpu toleration, and this cluster does not add it automatically: \
                 the pod cannot schedule on tainted GPU nodes",
            ),
            (false, true) => (
                Severity::Error,
                "the pod selects GPU nodes but requests no GPU, so nothing adds the nvidia.com/gpu \
                 toleration: it stays Pending on tainted GPU nodes",
            ),
            (false, false) => return,
        };
        let tolerations_at = spec.at().key("tolerations");
        let at = if spec.spec.get("tolerations").is_some() {
            tolerations_at.clone()
        } else {
            spec.at()
        };
        if !cx.check_provider(out, &at) {
            return;
        }
        out.report(&at, message)
            .severity(severity)
            .help("tolerate `nvidia.com/gpu` with `operator: Exists` and `effect: NoSchedule`")
            .fix("add the nvidia.com/gpu toleration", |fix| {
                fix.push(
                    cx.object,
                    &tolerations_at,
                    json!({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}),
                );
            });
    }
}
