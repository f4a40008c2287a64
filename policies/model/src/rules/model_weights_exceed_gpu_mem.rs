use kubectl_vllm_sdk::prelude::*;

use crate::common::fit;

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
    /// The finding points at the model. When the model or (off GKE) the accelerator is missing from
    /// the fact tables, this rule reports `model-unknown` / `accelerator-unknown` (info) instead,
    /// and the model-fit rules skip the pod.
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
    fn check(&self, cx: &Context, out: &mut Findings) {
        for spec in k8s::pod_specs(cx.kind(), cx.object) {
            check_spec(cx, spec, out);
        }
    }
}

/// Checks one pod template (a LeaderWorkerSet has two).
fn check_spec(cx: &Context, spec: PodSpec<'_>, out: &mut Findings) {
    report_unknown_facts(cx, &spec, out);
    let Some((label, _, Some(gpu))) = cx.accelerator(&spec) else {
        return;
    };
    for server in cx.servers(&spec) {
        let Some((model_ref, Some(model))) = server.model_fact(cx.env) else {
            continue;
        };
        let Some((tp, pp, util)) = server.memory_plan() else {
            continue;
        };
        let share = fit::weights_per_gpu(&model, tp * pp);
        let room = fit::budget(gpu.memory_mib, util).saturating_sub(fit::OVERHEAD_MIB);
        if share <= room {
            continue;
        }
        vllm::report_word(
            out,
            &model_ref.at,
            format!(
                "each {label} must hold {} MiB of {} (TP {tp} × PP {pp}) but has {room} MiB for weights at utilization {util}",
                share, model.id
            ),
        )
        .help("spread the model over more GPUs, use a bigger GPU, or a quantized checkpoint");
    }
}

/// The model-fit checks of this policy need both fact tables: say when a fact is missing (the
/// host-owned `model-unknown` and `accelerator-unknown`), once per server and pod.
fn report_unknown_facts(cx: &Context, spec: &PodSpec, out: &mut Findings) {
    for server in cx.servers(spec) {
        if let Some((model, None)) = server.model_fact(cx.env)
            && let Some(name) = model.value.as_deref()
        {
            vllm::report_word(out, &model.at, format!("`{name}` is not in the model fact table: model-fit and parallelism checks were skipped"))
                .help("add it under `facts.models` in .kubectl-vllm.yaml (id, aliases, weights-mib, attention-heads, kv-heads, layers, head-dim, max-context)");
            out.last_as("model-unknown");
        }
    }
    // On GKE an unknown label is `gke-accel-value-invalid`; elsewhere it only lacks facts.
    if !cx.is_gke()
        && let Some((label, at, None)) = cx.accelerator(spec)
        && !cx.servers(spec).is_empty()
    {
        out.report(&at, format!("accelerator `{label}` is not in the accelerator fact table: model-fit checks were skipped"))
            .help("add it under `facts.accelerators` in .kubectl-vllm.yaml (label, name, memory-mib, compute-capability, gpus-per-node)");
        out.last_as("accelerator-unknown");
    }
}
