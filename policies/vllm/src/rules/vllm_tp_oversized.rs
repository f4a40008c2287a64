use kubectl_vllm_sdk::prelude::*;

use crate::common::{gib, parallelism_site};

declare_rule! {
    /// ## What it does
    /// Notes tensor parallelism above 1 for a model whose weights fill at most half of one GPU
    /// (gpt-oss-20b's 12.8 GiB on 4 × A100 40 GB; Gemma 3 1B on anything).
    ///
    /// ## Why is this bad?
    /// Tensor parallelism adds an all-reduce per layer; a model that fits one GPU serves more
    /// tokens per GPU as several TP=1 replicas. The gpt-oss recipe: "Set this to 1 to achieve the
    /// best throughput per GPU".
    ///
    /// ## Example
    /// ```yaml
    /// args: ["--model=openai/gpt-oss-20b", "--tensor-parallel-size=4"]
    /// ```
    ///
    /// Use instead: `--tensor-parallel-size=1` with 1 GPU per replica, and more replicas.
    ///
    /// The finding points at `--tensor-parallel-size`.
    ///
    /// ## Fix safety
    /// No fix: replicas, GPUs and the Service change together.
    ///
    /// ## Source
    /// vllm-project/recipes `OpenAI/GPT-OSS.md`; catalogue §1.3.
    ///
    /// - <https://github.com/vllm-project/recipes/blob/main/OpenAI/GPT-OSS.md>
    pub struct VllmTpOversized {
        id: "vllm-tp-oversized",
        severity: Info,
        fix: None,
        summary: "tensor parallelism for a model that fits one GPU",
    }
}

impl Rule for VllmTpOversized {
    fn check_server(
        &self,
        cx: &Context,
        spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let Some((tp, _, _)) = server.sizes(out) else {
            return;
        };
        if tp <= 1 {
            return;
        }
        let Some((_, model)) = server.known_model(cx, out) else {
            return;
        };
        let Some((_, gpu)) = cx.gpu_checked(spec, out) else {
            return;
        };
        let label = gpu.name.clone();
        if model.weights_mib * 2 > gpu.memory_mib {
            return;
        }
        parallelism_site(server)
            .report(
                out,
                format!(
                    "{} ({} of weights) fits one {label} ({}); tensor parallelism {tp} trades throughput per GPU for nothing",
                    model.id,
                    gib(model.weights_mib),
                    gib(gpu.memory_mib)
                ),
            )
            .help("serve it with --tensor-parallel-size=1 and scale replicas instead");
    }
}
