use kubectl_vllm_sdk::prelude::*;

use crate::common::{dtype, fit};

declare_rule! {
    /// ## What it does
    /// Finds Gemma 2/3 served in float16 (`--dtype half|float16`) or on a GPU without bfloat16
    /// (T4, V100, P100, P4), where vLLM would have to fall back to float16.
    ///
    /// ## Why is this bad?
    /// vLLM refuses float16 for Gemma 2/3 ("Numerical instability. Please use bfloat16 or float32
    /// instead."): `ValueError: The model type 'gemma3_text' does not support float16`. So Gemma 3
    /// needs an Ampere-or-newer GPU (or float32, which doubles memory).
    ///
    /// ## Example
    /// ```yaml
    /// nodeSelector: {cloud.google.com/gke-accelerator: nvidia-tesla-t4}
    /// args: ["--model=google/gemma-3-1b-it"]
    /// ```
    ///
    /// Use instead: `nvidia-l4` or newer.
    ///
    /// The finding points at `--dtype` when it asks for float16, else at the accelerator selector.
    ///
    /// ## Fix safety
    /// No fix: changing the GPU type changes cost and node pools.
    ///
    /// ## Source
    /// vLLM `config/model.py` (`_FLOAT16_NOT_SUPPORTED_MODELS`).
    ///
    /// - <https://github.com/vllm-project/vllm/blob/main/vllm/config/model.py>
    pub struct ModelGemmaFp16 {
        id: "model-gemma-fp16",
        severity: Error,
        fix: None,
        summary: "Gemma 2/3 in float16, or on a GPU without bfloat16",
    }
}

impl Rule for ModelGemmaFp16 {
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
        if !fit::is_gemma(&model) {
            return;
        }
        let flag = server.flag("dtype");
        if let (Some(flag), Some("half" | "float16" | "fp16")) =
            (&flag, dtype(flag.as_ref()).as_deref())
        {
            vllm::report_word(
                out,
                &flag.at,
                format!(
                    "vLLM refuses float16 for {} (model type {})",
                    model.id, model.model_type
                ),
            )
            .help("use --dtype=bfloat16 (or auto) on an Ampere-or-newer GPU");
            return;
        }
        if matches!(dtype(flag.as_ref()).as_deref(), Some("float32" | "float")) {
            return;
        }
        if let Some((selection, gpu)) = cx.gpu_checked(spec, out)
            && !gpu.bf16
        {
            let label = selection.name();
            out.report(
                &selection.at,
                format!(
                    "{} needs bfloat16, which {label} lacks, and vLLM refuses float16 for Gemma",
                    model.id
                ),
            )
            .help("use nvidia-l4 or a newer GPU (or --dtype=float32, which doubles memory)");
        }
    }
}
