use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Finds initContainers (a GCS copier, a downloader) that request `nvidia.com/gpu`.
    ///
    /// ## Why is this bad?
    /// The pod's effective request is max(largest initContainer, sum of app containers): a copier
    /// holding GPUs wastes them while it runs, and asking for more than the server does can make
    /// the pod unschedulable.
    ///
    /// ## Example
    /// ```yaml
    /// initContainers:
    /// - name: copy-model
    ///   resources: {limits: {nvidia.com/gpu: 1}}
    /// ```
    ///
    /// Use instead: no GPU on the initContainer.
    ///
    /// The finding points at the initContainer's GPU quantity.
    ///
    /// ## Fix safety
    /// Safe: removes `nvidia.com/gpu` from the initContainer's limits and requests.
    ///
    /// ## Source
    /// Kubernetes, "Init containers" (resource sharing within containers).
    ///
    /// - <https://kubernetes.io/docs/concepts/workloads/pods/init-containers/#resource-sharing-within-containers>
    pub struct GpuResInInitcontainer {
        id: "gpu-res-in-initcontainer",
        severity: Warning,
        fix: Always(Safe),
        summary: "an initContainer requests GPUs",
    }
}

impl Rule for GpuResInInitcontainer {
    fn check_pod_spec(&self, _cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        for container in spec.containers().into_iter().filter(|c| c.init) {
            let sections: Vec<&str> = ["limits", "requests"]
                .into_iter()
                .filter(|s| container.resource(s, k8s::NVIDIA_GPU).is_some())
                .collect();
            let Some(first) = sections.first() else {
                continue;
            };
            out.report(
                &container.resource_at(first, k8s::NVIDIA_GPU),
                format!(
                    "initContainer `{}` holds GPUs it does not need",
                    container.name()
                ),
            )
            .help("only the vLLM server needs GPUs")
            .fix("remove the GPU from the initContainer", |fix| {
                for section in &sections {
                    fix.remove(&container.resource_at(section, k8s::NVIDIA_GPU));
                }
            });
        }
    }
}
