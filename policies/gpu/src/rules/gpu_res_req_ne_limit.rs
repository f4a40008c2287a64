use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Checks that every container requesting `nvidia.com/gpu` sets the same quantity in `limits`.
    ///
    /// ## Why is this bad?
    /// GPUs are an extended resource: "You can specify GPU in both limits and requests but these two
    /// values must be equal. You cannot specify GPU requests without specifying limits." The API
    /// server rejects the pod, so the Deployment never gets a single replica.
    ///
    /// ## Example
    /// ```yaml
    /// resources:
    ///   requests:
    ///     nvidia.com/gpu: 2
    ///   limits:
    ///     nvidia.com/gpu: 1
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// resources:
    ///   limits:
    ///     nvidia.com/gpu: 2
    /// ```
    ///
    /// The finding points at the `requests` key.
    ///
    /// ## Fix safety
    /// Safe. When `limits` has a GPU count, `requests` is set to it (the device plugin allocates
    /// by limit); when it has none, the request is copied into `limits`.
    ///
    /// ## Source
    /// Kubernetes, "Schedule GPUs" (https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/).
    ///
    /// - <https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/>
    pub struct GpuResReqNeLimit {
        id: "gpu-res-req-ne-limit",
        severity: Error,
        fix: Always(Safe),
        summary: "a container's nvidia.com/gpu request differs from its limit, or has no limit",
    }
}

impl Rule for GpuResReqNeLimit {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        for container in spec.containers() {
            let Some(request) = container.resource("requests", k8s::NVIDIA_GPU) else {
                continue;
            };
            let requested = quantity::count(request);
            let limit = container.resource("limits", k8s::NVIDIA_GPU);
            let at = container.resource_at("requests", k8s::NVIDIA_GPU);
            match limit {
                Some(limit) if quantity::count(limit) == requested => {}
                Some(limit) => {
                    let limit = limit.clone();
                    out.report(
                        &at,
                        format!(
                            "container `{}` requests {} nvidia.com/gpu but its limit is {}",
                            container.name(),
                            display(request),
                            display(&limit)
                        ),
                    )
                    .help("GPU requests and limits must be equal; setting only limits is enough")
                    .fix("set the GPU request equal to the limit", |fix| {
                        fix.replace(&at, &limit);
                    });
                }
                None => {
                    let limits_at = container.pointer.key("resources").key("limits");
                    let request = request.clone();
                    out.report(
                        &at,
                        format!(
                            "container `{}` requests {} nvidia.com/gpu without a limit",
                            container.name(),
                            display(&request)
                        ),
                    )
                    .help("GPUs must be set in limits (requests may repeat the same value)")
                    .fix("add the same GPU count to limits", |fix| {
                        fix.set_key(cx.object, &limits_at, k8s::NVIDIA_GPU, request.clone());
                    });
                }
            }
        }
    }
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
