use kubectl_vllm_sdk::prelude::*;

use crate::common::{dtype, fit};

declare_rule! {
    /// ## What it does
    /// Finds a bfloat16 model served on a GPU without bfloat16 (compute capability below 8.0:
    /// T4, V100, P100, P4) while `--dtype` is absent, `auto` or `bfloat16`. Gemma 2/3 (which cannot
    /// use float16 either: `model-gemma-fp16`) and MXFP4 models (`model-mxfp4-min-cc`) are left to
    /// their own rules.
    ///
    /// ## Why is this bad?
    /// vLLM refuses to start: `ValueError: Bfloat16 is only supported on GPUs with compute
    /// capability of at least 8.0. Your Tesla T4 GPU has compute capability 7.5. You can use
    /// float16 instead by explicitly setting the dtype flag in CLI, for example: --dtype=half.`
    ///
    /// ## Example
    /// ```yaml
    /// nodeSelector: {cloud.google.com/gke-accelerator: nvidia-tesla-t4}
    /// args: ["--model=Qwen/Qwen2.5-7B-Instruct"]
    /// ```
    ///
    /// Use instead: `--dtype=half`, or an Ampere-or-newer GPU.
    ///
    /// The finding points at `--dtype` when it is set, else at the accelerator selector.
    ///
    /// ## Fix safety
    /// Safe: adds `--dtype=half`, which vLLM itself proposes; float16 has the same memory use.
    ///
    /// ## Source
    /// vllm-project/vllm#1157 and #946; catalogue §1.1 (compute capabilities).
    ///
    /// - <https://github.com/vllm-project/vllm/issues/1157>
    pub struct ModelBf16PreAmpere {
        id: "model-bf16-pre-ampere",
        severity: Error,
        fix: Always(Safe),
        summary: "a bfloat16 model on a GPU without bfloat16",
    }
}

impl Rule for ModelBf16PreAmpere {
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
        if model.dtype != "bfloat16" || fit::is_gemma(&model) {
            return;
        }
        let Some((selection, gpu)) = cx.gpu_checked(spec, out) else {
            return;
        };
        if gpu.bf16 {
            return;
        }
        let label = selection.name();
        let selector_at = selection.at.clone();
        let flag = server.flag("dtype");
        if !matches!(
            dtype(flag.as_ref()).as_deref(),
            None | Some("auto" | "bfloat16" | "bf16")
        ) {
            return;
        }
        let message = format!(
            "{} is bfloat16 but {label} has no bfloat16 (compute capability {}.{})",
            model.id,
            gpu.compute_capability / 10,
            gpu.compute_capability % 10
        );
        let finding = match &flag {
            Some(flag) => vllm::report_word(out, &flag.at, message),
            None => out.report(&selector_at, message),
        };
        finding
            .help("run it in float16 with --dtype=half, or on an Ampere-or-newer GPU")
            .fix("set --dtype=half", |fix| {
                server.set_flag(fix, cx.object, "dtype", "half");
            });
    }
}
