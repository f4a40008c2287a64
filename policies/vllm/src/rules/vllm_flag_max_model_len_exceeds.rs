use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Checks `--max-model-len` against the model's maximum context (`max_position_embeddings` in
    /// the model fact table), unless `VLLM_ALLOW_LONG_MAX_MODEL_LEN=1` is set or the command line
    /// overrides RoPE scaling (`--hf-overrides` or `--rope-scaling`).
    ///
    /// ## Why is this bad?
    /// vLLM refuses to start: `ValueError: User-specified max_model_len (X) is greater than the
    /// derived max_model_len (max_position_embeddings=Y ...)`. With the override, positions past
    /// the trained context produce NaNs for RoPE models.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["--model=google/gemma-3-1b-it", "--max-model-len=65536"]   # the model has 32768
    /// ```
    ///
    /// Use instead: `--max-model-len=32768` or less.
    ///
    /// The finding points at the flag.
    ///
    /// ## Fix safety
    /// Safe: clamps the value to the model's maximum, the largest value vLLM accepts.
    ///
    /// ## Source
    /// vLLM `config/model.py` (`_get_and_verify_max_len`); model config.json (catalogue §1.3).
    ///
    /// - <https://github.com/vllm-project/vllm/blob/main/vllm/config/model.py>
    pub struct VllmFlagMaxModelLenExceeds {
        id: "vllm-flag-max-model-len-exceeds",
        severity: Error,
        fix: Always(Safe),
        summary: "--max-model-len exceeds the model's maximum context",
    }
}

impl Rule for VllmFlagMaxModelLenExceeds {
    fn check_server(
        &self,
        cx: &Context,
        _spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let Some(flag) = server.flag("max-model-len") else {
            return;
        };
        let Some(len) = flag.number::<u64>() else {
            server.skip_unknown(out, &flag);
            return;
        };
        let Some((_, model)) = server.known_model(cx, out) else {
            return;
        };
        let allowed = server
            .container
            .env("VLLM_ALLOW_LONG_MAX_MODEL_LEN")
            .is_some_and(|(_, v)| {
                v.get("value")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s == "1" || s.eq_ignore_ascii_case("true"))
            });
        let rope = server
            .flag("hf-overrides")
            .is_some_and(|f| f.raw.contains("rope_scaling"))
            || server.flag("rope-scaling").is_some();
        if len <= u64::from(model.max_context) || allowed || rope {
            return;
        }
        let max = model.max_context;
        vllm::report_word(
            out,
            &flag.at,
            format!(
                "--max-model-len {len} exceeds the {max} tokens {} supports",
                model.id
            ),
        )
        .help(format!("use at most {max}"))
        .fix(format!("set --max-model-len={max}"), |fix| {
            server.set_flag(fix, cx.object, "max-model-len", &max.to_string());
        });
    }
}
