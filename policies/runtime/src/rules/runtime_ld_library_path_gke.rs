use kubectl_vllm_sdk::prelude::*;

/// The value the field report settled on.
const LD_LIBRARY_PATH: &str = "/usr/local/nvidia/lib64:/usr/local/cuda/lib64";
/// Where GKE mounts the host's NVIDIA driver libraries.
const DRIVER_DIR: &str = "/usr/local/nvidia/lib64";

declare_rule! {
    /// ## What it does
    /// Checks that a vLLM container requesting GPUs on GKE has `LD_LIBRARY_PATH` containing
    /// `/usr/local/nvidia/lib64`.
    ///
    /// ## Why is this bad?
    /// GKE mounts the node's NVIDIA driver at `/usr/local/nvidia/lib64`. vLLM images whose loader
    /// path does not include it start without a GPU: `No platform detected, vLLM is running on
    /// UnspecifiedPlatform`, `torch.cuda.is_available() == False`, `Device string must not be empty`
    /// or CUDA error 803. The field report hit this with `vllm/vllm-openai:latest`; the documented
    /// workaround for vLLM >= 0.9.0 is
    /// `LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/local/cuda/lib64`.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: vllm
    ///   image: vllm/vllm-openai:v0.10.1
    ///   resources:
    ///     limits:
    ///       nvidia.com/gpu: 1
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// containers:
    /// - name: vllm
    ///   image: vllm/vllm-openai:v0.10.1
    ///   env:
    ///   - name: LD_LIBRARY_PATH
    ///     value: /usr/local/nvidia/lib64:/usr/local/cuda/lib64
    ///   resources:
    ///     limits:
    ///       nvidia.com/gpu: 1
    /// ```
    ///
    /// The finding points at the variable's `value` when it is set, else at `env`, else at the
    /// container. Only GKE clusters (`provider: gke`) are checked.
    ///
    /// ## Fix safety
    /// Safe: sets the variable to `/usr/local/nvidia/lib64:/usr/local/cuda/lib64`.
    ///
    /// ## Source
    /// Field report, "Problem 2: Container Image and Driver Incompatibility"; vllm-project/vllm#23935;
    /// GKE "Run GPUs in GKE Standard node pools" (CUDA libraries).
    ///
    /// - <https://github.com/vllm-project/vllm/issues/23935>
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/gpus>
    pub struct RuntimeLdLibraryPathGke {
        id: "runtime-ld-library-path-gke",
        severity: Error,
        fix: Always(Safe),
        summary: "a GPU vLLM container on GKE cannot find the node's NVIDIA driver (LD_LIBRARY_PATH)",
    }
}

impl Rule for RuntimeLdLibraryPathGke {
    fn check(&self, cx: &Context, out: &mut Findings) {
        for spec in k8s::pod_specs(cx.kind(), cx.object) {
            check_spec(cx, spec, out);
        }
    }
}

/// Checks one pod template (a LeaderWorkerSet has two).
fn check_spec(cx: &Context, spec: PodSpec<'_>, out: &mut Findings) {
    if !cx.is_gke() {
        return;
    }
    for server in vllm::servers(&spec, cx.env, cx.namespace()) {
        let container = server.container;
        if container.gpus() == 0 {
            continue;
        }
        let env_at = container.pointer.key("env");
        if let Some((i, var)) = container.env("LD_LIBRARY_PATH") {
            let value = var.get("value").and_then(Value::as_str);
            if value.is_some_and(|v| v.split(':').any(|p| p.trim_end_matches('/') == DRIVER_DIR)) {
                continue;
            }
            if var.get("valueFrom").is_some() {
                continue;
            }
            let value_at = env_at.index(i).key("value");
            out.report(
                    &value_at,
                    format!(
                        "LD_LIBRARY_PATH of container `{}` does not include {DRIVER_DIR}, where GKE mounts the NVIDIA driver",
                        container.name()
                    ),
                )
                .help(format!("set it to `{LD_LIBRARY_PATH}`"))
                .fix("set LD_LIBRARY_PATH to the GKE driver paths", |fix| {
                    fix.set_key(cx.object, &env_at.index(i), "value", json!(LD_LIBRARY_PATH));
                });
        } else {
            let at = if container.value.get("env").is_some() {
                env_at.clone()
            } else {
                container.pointer.clone()
            };
            out.report(
                    &at,
                    format!(
                        "container `{}` requests GPUs on GKE without LD_LIBRARY_PATH; vLLM will not find the NVIDIA driver",
                        container.name()
                    ),
                )
                .help(format!("add `LD_LIBRARY_PATH: {LD_LIBRARY_PATH}` to env"))
                .fix("add LD_LIBRARY_PATH with the GKE driver paths", |fix| {
                    fix.push(
                        cx.object,
                        &env_at,
                        json!({"name": "LD_LIBRARY_PATH", "value": LD_LIBRARY_PATH}),
                    );
                });
        }
    }
}
