use kubectl_vllm_sdk::prelude::*;

use crate::common::fit;

declare_rule! {
    /// ## What it does
    /// Estimates the KV cache one sequence of `--max-model-len` tokens needs on each GPU (the
    /// model's maximum context when the flag is absent) and compares it with what is left after the
    /// weights: memory × utilization − weights ÷ (TP × PP) − ~2 GiB. KV bytes per token are
    /// 2 × 2 × head_dim × KV heads per GPU for every full-attention layer; sliding-window layers
    /// hold at most their window.
    ///
    /// ## Why is this bad?
    /// vLLM refuses to start: `ValueError: To serve at least one request with the model's max seq
    /// len (X), (Y GiB KV cache is needed, which is larger than the available KV cache memory (Z
    /// GiB). ... Try increasing gpu_memory_utilization or decreasing max_model_len`.
    ///
    /// ## Example
    /// ```yaml
    /// nodeSelector: {cloud.google.com/gke-accelerator: nvidia-l4}
    /// args: ["--model=meta-llama/Llama-3.1-8B-Instruct"]   # 128k tokens of KV on one L4
    /// ```
    ///
    /// Use instead: `--max-model-len=8192` (or more GPUs).
    ///
    /// The finding points at `--max-model-len` when it is set, else at the model.
    ///
    /// ## Fix safety
    /// Unsafe: sets `--max-model-len` to the longest context that fits (a multiple of 1024), which
    /// rejects longer prompts.
    ///
    /// ## Source
    /// vLLM `v1/core/kv_cache_utils.py`; catalogue §1.3 (KV bytes per token); llm-d gpt-oss-120b
    /// patch (0.95 utilization for 128k on one H100).
    ///
    /// - <https://github.com/vllm-project/vllm/blob/main/vllm/v1/core/kv_cache_utils.py>
    pub struct ModelKvForMaxLen {
        id: "model-kv-for-max-len",
        severity: Warning,
        fix: Sometimes(Unsafe),
        summary: "the KV cache for one max-length sequence does not fit",
    }
}

impl Rule for ModelKvForMaxLen {
    fn check(&self, cx: &Context, out: &mut Findings) {
        for spec in k8s::pod_specs(cx.kind(), cx.object) {
            check_spec(cx, spec, out);
        }
    }
}

/// Checks one pod template (a LeaderWorkerSet has two).
fn check_spec(cx: &Context, spec: PodSpec<'_>, out: &mut Findings) {
    let Some((label, _, Some(gpu))) = cx.accelerator(&spec) else {
        return;
    };
    for server in cx.servers(&spec) {
        let Some((model_ref, Some(model))) = server.model_fact(cx.env) else {
            continue;
        };
        if model.layers == 0 || model.head_dim == 0 {
            continue;
        }
        let Some((tp, pp, util)) = server.memory_plan() else {
            continue;
        };
        let flag = server.flag("max-model-len");
        let tokens = match &flag {
            Some(flag) => match flag.number::<u64>() {
                Some(n) => n,
                None => continue,
            },
            None => u64::from(model.max_context),
        };
        let room_mib = fit::budget(gpu.memory_mib, util)
            .saturating_sub(fit::weights_per_gpu(&model, tp * pp))
            .saturating_sub(fit::OVERHEAD_MIB);
        if room_mib == 0 {
            continue; // model-weights-exceed-gpu-mem reports this
        }
        let room = room_mib * quantity::MIB;
        let needed = fit::kv_bytes_per_gpu(&model, tokens, tp, pp);
        if needed <= room {
            continue;
        }
        let fits = (1..=tokens / 1024)
            .rev()
            .map(|k| k * 1024)
            .find(|&t| fit::kv_bytes_per_gpu(&model, t, tp, pp) <= room);
        let message = format!(
            "one {tokens}-token sequence of {} needs {} of KV cache per {label}, but only {} is left after the weights",
            model.id,
            quantity::human(needed),
            quantity::human(room)
        );
        let finding = match &flag {
            Some(flag) => vllm::report_word(out, &flag.at, message),
            None => vllm::report_word(out, &model_ref.at, message),
        };
        let finding =
            finding.help("lower --max-model-len, raise --gpu-memory-utilization, or add GPUs");
        if let Some(fits) = fits {
            finding.fix(format!("set --max-model-len={fits}"), |fix| {
                server.set_flag(fix, cx.object, "max-model-len", &fits.to_string());
            });
        }
    }
}
