use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Finds `runtimeClassName: nvidia` on a GKE cluster.
    ///
    /// ## Why is this bad?
    /// GKE gives containers GPUs through its device plugin on containerd and installs no
    /// RuntimeClass named `nvidia`, so the pod is never created: `RuntimeClass "nvidia" not found`.
    /// The production-stack Helm chart defaults to `runtimeClassName: "nvidia"`; its GCP examples
    /// override it with `""`.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   runtimeClassName: nvidia
    /// ```
    ///
    /// Use instead: no `runtimeClassName`.
    ///
    /// The finding points at `runtimeClassName`. Only GKE clusters are checked.
    ///
    /// ## Fix safety
    /// Safe: removes the field.
    ///
    /// ## Source
    /// vllm-project/production-stack `helm/values.yaml` and GCP deployment examples; GKE "About GPUs".
    ///
    /// - <https://github.com/vllm-project/production-stack/blob/main/helm/values.yaml>
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/gpus>
    pub struct RuntimeClassNvidiaOnGke {
        id: "runtime-class-nvidia-on-gke",
        severity: Error,
        fix: Always(Safe),
        providers: [Gke],
        summary: "runtimeClassName: nvidia does not exist on GKE",
    }
}

impl Rule for RuntimeClassNvidiaOnGke {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        if spec.spec.get("runtimeClassName").and_then(Value::as_str) != Some("nvidia") {
            return;
        }
        let at = spec.at().key("runtimeClassName");
        if !cx.check_provider(out, &at) {
            return;
        }
        out.report(
            &at,
            "GKE has no RuntimeClass `nvidia`: the pod will not be created",
        )
        .help("remove runtimeClassName; GKE exposes GPUs through its device plugin")
        .fix("remove runtimeClassName", |fix| {
            fix.remove(&at);
        });
    }
}
