use kubectl_vllm_sdk::prelude::*;

use crate::common::parallelism_site;

declare_rule! {
    /// ## What it does
    /// Checks that `--tensor-parallel-size` divides the model's attention heads (and the heads of
    /// its vision tower, for Gemma 3 27B), using the model fact table. A size that divides them
    /// but is not a power of two (7 for a 28-head model) is a warning: suspicious, not fatal.
    ///
    /// ## Why is this bad?
    /// vLLM refuses to start: `ValueError: Total number of attention heads (32) must be divisible
    /// by tensor parallel size (3).`, and the pod crash-loops.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["--model=google/gemma-3-27b-it", "--tensor-parallel-size=3"]
    /// ```
    ///
    /// Use instead: a divisor of 32 and 16, such as 2 or 4.
    ///
    /// The finding points at `--tensor-parallel-size`.
    ///
    /// ## Fix safety
    /// No fix: the right size also depends on the GPU count; the help lists the valid sizes.
    ///
    /// ## Source
    /// vLLM `config/model.py` `verify_with_parallel_config`; model config.json (catalogue §1.3).
    ///
    /// - <https://github.com/vllm-project/vllm/blob/main/vllm/config/model.py>
    pub struct VllmTpHeads {
        id: "vllm-tp-heads",
        severity: Error,
        fix: None,
        summary: "tensor parallelism does not divide the model's attention heads",
    }
}

impl Rule for VllmTpHeads {
    fn check_server(
        &self,
        cx: &Context,
        _spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let Some((tp, _, _)) = server.sizes(out) else {
            return;
        };
        // One rank divides every head count.
        if tp <= 1 {
            return;
        }
        let Some((_, model)) = server.known_model(cx, out) else {
            return;
        };
        let divides = |heads: u32| heads == 0 || u64::from(heads) % tp == 0;
        if divides(model.attention_heads) && divides(model.vision_heads) {
            if !tp.is_power_of_two() {
                parallelism_site(server)
                    .report(
                        out,
                        format!("tensor parallelism {tp} divides the heads of {} but is not a power of two", model.id),
                    )
                    .severity(Severity::Warning)
                    .help("GPU nodes come with 1, 2, 4 or 8 GPUs and NCCL's ring and tree layouts assume powers of two; use one unless you know why not");
            }
            return;
        }
        let valid: Vec<String> = (1..=64u32)
            .filter(|&n| {
                model.attention_heads % n == 0
                    && (model.vision_heads == 0 || model.vision_heads % n == 0)
            })
            .map(|n| n.to_string())
            .collect();
        let heads = if model.vision_heads > 0 {
            format!(
                "{} attention heads and {} vision heads",
                model.attention_heads, model.vision_heads
            )
        } else {
            format!("{} attention heads", model.attention_heads)
        };
        parallelism_site(server)
            .report(
                out,
                format!(
                    "{} has {heads}, which tensor parallelism {tp} does not divide",
                    model.id
                ),
            )
            .help(format!("valid sizes: {}", valid.join(", ")));
    }
}
