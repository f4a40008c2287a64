//! Helpers shared by this policy's rules: the memory arithmetic of model fit.

use kubectl_vllm_sdk::vllm::FlagValue;

/// The `--dtype` value, lower-cased (`None`: not set, or unknown).
pub fn dtype(flag: Option<&FlagValue>) -> Option<String> {
    flag?.value.as_ref().map(|v| v.to_ascii_lowercase())
}

/// Memory arithmetic (MiB unless said otherwise).
pub mod fit {
    use kubectl_vllm_sdk::Model;

    /// CUDA context, activations and graphs: what vLLM cannot give to weights or KV cache.
    pub const OVERHEAD_MIB: u64 = 2048;

    /// Whether the model is Gemma 2 or 3 (float16 refused by vLLM).
    pub fn is_gemma(model: &Model) -> bool {
        let t = model.model_type.as_str();
        t.starts_with("gemma2")
            || t.starts_with("gemma3")
            || model.id.to_ascii_lowercase().contains("gemma-2")
            || model.id.to_ascii_lowercase().contains("gemma-3")
    }

    /// Weights held by one GPU with tensor and pipeline parallelism.
    pub fn weights_per_gpu(model: &Model, ranks: u64) -> u64 {
        model.weights_mib.div_ceil(ranks.max(1))
    }

    /// Memory one GPU gives vLLM: its memory × utilization.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    pub fn budget(memory_mib: u64, utilization: f64) -> u64 {
        (memory_mib as f64 * utilization) as u64
    }

    /// Bytes of KV cache one GPU holds for one sequence of `tokens` (bf16 K and V), with KV heads
    /// split across `tp` (replicated when fewer than `tp`) and layers across `pp`. Sliding-window
    /// layers hold at most their window.
    pub fn kv_bytes_per_gpu(model: &Model, tokens: u64, tp: u64, pp: u64) -> u64 {
        let kv_heads = (u64::from(model.kv_heads) / tp.max(1)).max(1);
        let per_layer_token = 2 * 2 * u64::from(model.head_dim) * kv_heads;
        let full = u64::from(model.full_attention_layers.min(model.layers));
        let windowed = u64::from(model.layers) - full;
        let window = if model.sliding_window == 0 {
            tokens
        } else {
            tokens.min(u64::from(model.sliding_window))
        };
        per_layer_token * (full * tokens + windowed * window) / pp.max(1)
    }
}
