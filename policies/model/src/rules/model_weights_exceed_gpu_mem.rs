use kubectl_vllm_sdk::prelude::*;

use crate::common::{fit, needs};

declare_rule! {
    /// ## What it does
    /// Checks that each GPU can hold its share of the weights: weights ÷ (TP × PP) must fit in
    /// the GPU's memory × `--gpu-memory-utilization` minus ~2 GiB of runtime overhead. Uses the
    /// model and accelerator fact tables; unknown ones are skipped.
    ///
    /// ## Why is this bad?
    /// Loading runs out of memory (`CUDA out of memory`), or vLLM finds nothing left for the KV
    /// cache (`No available memory for the cache blocks`).
    ///
    /// ## Example
    /// ```yaml
    /// nodeSelector: {cloud.google.com/gke-accelerator: nvidia-l4}
    /// args: ["--model=google/gemma-3-27b-it"]          # 51 GiB on one 22.5 GiB L4
    /// resources: {limits: {nvidia.com/gpu: 1}}
    /// ```
    ///
    /// Use instead: `--tensor-parallel-size=4` on 4 GPUs (or a bigger GPU).
    ///
    /// The accelerator comes from the pod's node labels on any provider (GKE's, GPU Feature
    /// Discovery's `nvidia.com/gpu.product`, machine types, Karpenter's GPU name), its node pools
    /// or a MIG slice; `--quantization=fp8` halves a 16-bit checkpoint and `--cpu-offload-gb`
    /// moves weights off each GPU; other quantizations leave the size unknown.
    ///
    /// The finding points at the model. When the model or the accelerator is missing from the fact
    /// tables, the check is skipped and the run says so (`model-unknown`, `accelerator-unknown`).
    ///
    /// ## Fix safety
    /// No fix: more GPUs, a bigger GPU or a quantized checkpoint are all real changes.
    ///
    /// ## Source
    /// Catalogue §1.1 (GPU memory) and §1.3 (checkpoint sizes); vLLM memory profiling.
    ///
    /// - <https://cloud.google.com/compute/docs/accelerator-optimized-machines>
    /// - <https://huggingface.co/docs/hub/models-the-hub>
    pub struct ModelWeightsExceedGpuMem {
        id: "model-weights-exceed-gpu-mem",
        severity: Error,
        fix: None,
        summary: "the model's weights do not fit the GPUs",
    }
}

impl Rule for ModelWeightsExceedGpuMem {
    fn check_server(
        &self,
        cx: &Context,
        spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let Some(p) = needs::placement(cx, spec, server, out) else {
            return;
        };
        let room = fit::budget(p.gpu.memory_mib, p.util).saturating_sub(fit::OVERHEAD_MIB);
        if p.weights_mib <= room {
            return;
        }
        vllm::report_word(
            out,
            &p.model_ref.at,
            format!(
                "each {} must hold {} MiB of {} (TP {} × PP {}) but has {room} MiB for weights at utilization {}",
                p.selection.name(),
                p.weights_mib,
                p.model.id,
                p.tp,
                p.pp,
                p.util
            ),
        )
        .help("spread the model over more GPUs, use a bigger GPU, or a quantized checkpoint");
    }
}
