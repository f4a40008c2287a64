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

    /// The least of that overhead (small models, `--enforce-eager`): checks that must be sure use
    /// it.
    pub const MIN_OVERHEAD_MIB: u64 = 1024;

    /// Whether the model is Gemma 2 or 3 (float16 refused by vLLM).
    pub fn is_gemma(model: &Model) -> bool {
        let t = model.model_type.as_str();
        t.starts_with("gemma2")
            || t.starts_with("gemma3")
            || model.id.to_ascii_lowercase().contains("gemma-2")
            || model.id.to_ascii_lowercase().contains("gemma-3")
    }

    /// Weights one GPU holds as the server loads them, in MiB: the checkpoint split over `ranks`,
    /// halved by `--quantization=fp8` on a 16-bit checkpoint, less `--cpu-offload-gb`. `None`
    /// when a flag changes the size in a way not modelled here (another quantization, a value
    /// that cannot be read).
    pub fn weights_on_each_gpu(
        model: &Model,
        server: &kubectl_vllm_sdk::vllm::Server,
        ranks: u64,
    ) -> Option<u64> {
        let sixteen_bit = matches!(model.dtype.as_str(), "bfloat16" | "float16");
        let checkpoint = match server.flag("quantization") {
            None => model.weights_mib,
            Some(q) => match q.value.as_deref()?.to_ascii_lowercase().as_str() {
                "fp8" if sixteen_bit => model.weights_mib / 2,
                q if q == model.dtype => model.weights_mib,
                _ => return None,
            },
        };
        let offload_mib = match server.flag("cpu-offload-gb") {
            None => 0,
            Some(flag) => {
                let gib: f64 = flag.number()?;
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let mib = (gib * 1024.0) as u64;
                mib
            }
        };
        Some(
            checkpoint
                .div_ceil(ranks.max(1))
                .saturating_sub(offload_mib),
        )
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

/// What a memory check needs: the model of the server and the GPU of its pod.
pub mod needs {
    use kubectl_vllm_sdk::accel::Selection;
    use kubectl_vllm_sdk::prelude::*;
    use kubectl_vllm_sdk::vllm::FlagValue;
    use kubectl_vllm_sdk::{Accelerator, Model};

    /// What a memory check needs of one server: its model, the GPU it runs on, its parallelism,
    /// its `--gpu-memory-utilization` and the weights each GPU holds.
    pub struct Placement {
        /// Where the model is named.
        pub model_ref: FlagValue,
        /// The model's facts.
        pub model: Model,
        /// How the GPU was selected.
        pub selection: Selection,
        /// The GPU's facts.
        pub gpu: Accelerator,
        /// Tensor parallelism.
        pub tp: u64,
        /// Pipeline parallelism.
        pub pp: u64,
        /// `--gpu-memory-utilization`.
        pub util: f64,
        /// Weights on each GPU, MiB ([`super::fit::weights_on_each_gpu`]).
        pub weights_mib: u64,
    }

    /// The [`Placement`] of a server, or `None` after recording the fact that was missing.
    pub fn placement(
        cx: &Context,
        spec: &PodSpec,
        server: &Server,
        out: &mut Findings,
    ) -> Option<Placement> {
        let (model_ref, model) = server.known_model(cx, out)?;
        let (selection, gpu) = cx.gpu_checked(spec, out)?;
        let (tp, pp, _) = server.sizes(out)?;
        let Some(util) = server.invocation.gpu_memory_utilization(&server.vars) else {
            server.skip_unread(out, &[("gpu-memory-utilization", None)]);
            return None;
        };
        let weights_mib = super::fit::weights_on_each_gpu(&model, server, tp * pp)?;
        Some(Placement {
            model_ref,
            model,
            selection,
            gpu,
            tp,
            pp,
            util,
            weights_mib,
        })
    }
}
