use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Finds an MXFP4 model (gpt-oss) on a GPU below the model's minimum compute capability (8.0:
    /// T4, V100, P100, P4 are too old).
    ///
    /// ## Why is this bad?
    /// vLLM's MXFP4 kernels declare `get_min_capability() = 80` and run bf16 activations, so vLLM
    /// refuses the quantization method on Turing and Volta and the pod crash-loops.
    ///
    /// ## Example
    /// ```yaml
    /// nodeSelector: {cloud.google.com/gke-accelerator: nvidia-tesla-t4}
    /// args: ["--model=openai/gpt-oss-20b"]
    /// ```
    ///
    /// Use instead: `nvidia-l4`, `nvidia-tesla-a100` or newer.
    ///
    /// The finding points at the accelerator selector.
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// vLLM `model_executor/layers/quantization/mxfp4.py`; vllm-project/vllm#23203.
    ///
    /// - <https://github.com/vllm-project/vllm/blob/main/vllm/model_executor/layers/quantization/mxfp4.py>
    /// - <https://github.com/vllm-project/vllm/issues/23203>
    pub struct ModelMxfp4MinCc {
        id: "model-mxfp4-min-cc",
        severity: Error,
        fix: None,
        summary: "an MXFP4 model on a GPU older than Ampere",
    }
}

impl Rule for ModelMxfp4MinCc {
    fn check_server(
        &self,
        cx: &Context,
        spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let Some((_, model)) = server.known_model(cx, out) else {
            return;
        };
        if model.dtype != "mxfp4" {
            return;
        }
        let Some((selection, gpu)) = cx.gpu_checked(spec, out) else {
            return;
        };
        if gpu.compute_capability >= model.min_compute_capability {
            return;
        }
        let label = selection.name();
        out.report(
            &selection.at,
            format!(
                "{} is MXFP4, which needs compute capability {}.{}; {label} has {}.{}",
                model.id,
                model.min_compute_capability / 10,
                model.min_compute_capability % 10,
                gpu.compute_capability / 10,
                gpu.compute_capability % 10
            ),
        )
        .help("use nvidia-l4, nvidia-tesla-a100 or newer");
    }
}
