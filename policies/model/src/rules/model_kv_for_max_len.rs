use kubectl_vllm_sdk::prelude::*;

use crate::common::{fit, needs};

declare_rule! {
    /// ## What it does
    /// Estimates the KV cache one sequence of `--max-model-len` tokens needs on each GPU (the
    /// model's maximum context when the flag is absent) and compares it with what is left after the
    /// weights: memory × utilization − weights ÷ (TP × PP) − 1 GiB (the least the runtime takes).
    /// KV bytes per token are 2 × 2 × head_dim × KV heads per GPU for every full-attention layer
    /// (half with `--kv-cache-dtype=fp8`); sliding-window layers hold at most their window. The
    /// estimate leaves out activations and allocator sharing, so a finding needs the KV cache to
    /// exceed the room by more than 25%: a manifest inside the estimate's own error is not
    /// reported.
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

/// The estimate's own error: it leaves out activations and CUDA graphs (which the 2 GiB overhead
/// only approximates), and vLLM's allocators share pages between layer groups. A finding needs
/// the KV cache to exceed the most optimistic room by more than this.
const MARGIN: f64 = 1.25;

impl Rule for ModelKvForMaxLen {
    fn check_server(
        &self,
        cx: &Context,
        spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let Some(needs::Placement {
            model_ref,
            model,
            selection,
            gpu,
            tp,
            pp,
            util,
            weights_mib: weights,
        }) = needs::placement(cx, spec, server, out)
        else {
            return;
        };
        if model.layers == 0 || model.head_dim == 0 {
            return;
        }
        let flag = server.flag("max-model-len");
        let tokens = match &flag {
            Some(flag) => {
                if let Some(n) = flag.number::<u64>() {
                    n
                } else {
                    server.skip_unknown(out, flag);
                    return;
                }
            }
            None => u64::from(model.max_context),
        };
        let left = fit::budget(gpu.memory_mib, util).saturating_sub(weights);
        // The least the runtime takes, for the check; the usual 2 GiB, for the fix.
        let optimistic = left.saturating_sub(fit::MIN_OVERHEAD_MIB) * quantity::MIB;
        let usual = left.saturating_sub(fit::OVERHEAD_MIB) * quantity::MIB;
        if optimistic == 0 {
            return; // model-weights-exceed-gpu-mem reports this
        }
        let kv_scale = match server.flag("kv-cache-dtype").and_then(|f| f.value) {
            Some(d) if d.starts_with("fp8") => 0.5,
            _ => 1.0,
        };
        let kv = |t: u64| -> u64 {
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let scaled = (fit::kv_bytes_per_gpu(&model, t, tp, pp) as f64 * kv_scale) as u64;
            scaled
        };
        let needed = kv(tokens);
        #[allow(clippy::cast_precision_loss)]
        if (needed as f64) <= optimistic as f64 * MARGIN {
            return;
        }
        let fits = (1..=tokens / 1024)
            .rev()
            .map(|k| k * 1024)
            .find(|&t| kv(t) <= usual);
        let label = selection.name();
        let message = format!(
            "one {tokens}-token sequence of {} needs about {} of KV cache per {label}, but at most {} is left after the weights",
            model.id,
            quantity::human(needed),
            quantity::human(optimistic)
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
