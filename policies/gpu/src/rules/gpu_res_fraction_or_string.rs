use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Checks that every `nvidia.com/gpu` quantity is a whole number (`1`, `"2"`), not a fraction
    /// (`0.5`, `500m`) or another string.
    ///
    /// ## Why is this bad?
    /// "It is not possible to request a fraction of a GPU": the API server rejects the pod.
    /// Time-sharing and MIG use other mechanisms and resource names.
    ///
    /// ## Example
    /// ```yaml
    /// limits:
    ///   nvidia.com/gpu: 500m
    /// ```
    ///
    /// Use instead: `nvidia.com/gpu: 1`, or a MIG/time-sharing resource.
    ///
    /// The finding points at the quantity's key.
    ///
    /// ## Fix safety
    /// No fix: rounding up or down changes cost or breaks the model.
    ///
    /// ## Source
    /// Kubernetes, "Schedule GPUs".
    ///
    /// - <https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/>
    pub struct GpuResFractionOrString {
        id: "gpu-res-fraction-or-string",
        severity: Error,
        fix: None,
        summary: "an nvidia.com/gpu quantity is not a whole number",
    }
}

impl Rule for GpuResFractionOrString {
    fn check_pod_spec(&self, _cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        for container in spec.containers() {
            for section in ["limits", "requests"] {
                let Some(quantity) = container.resource(section, k8s::NVIDIA_GPU) else {
                    continue;
                };
                if quantity::count(quantity).is_some() {
                    continue;
                }
                let shown = quantity
                    .as_str()
                    .map_or_else(|| quantity.to_string(), str::to_string);
                out.report(
                    &container.resource_at(section, k8s::NVIDIA_GPU),
                    format!(
                        "container `{}` asks for `{shown}` nvidia.com/gpu in {section}: GPU quantities must be whole numbers",
                        container.name()
                    ),
                )
                .help("request whole GPUs; share a GPU with MIG or GKE time-sharing instead");
            }
        }
    }
}
