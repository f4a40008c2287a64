use kubectl_vllm_sdk::prelude::*;
use kubectl_vllm_sdk::vllm::Entrypoint;

declare_rule! {
    /// ## What it does
    /// Finds `python -m vllm.entrypoints.api_server` (without `.openai.`).
    ///
    /// ## Why is this bad?
    /// That module is vLLM's demo `/generate` server: "This API server is used only for
    /// demonstrating usage of AsyncEngine and simple performance benchmarks. It is not intended for
    /// production use." It has no `/v1/*` endpoints, so OpenAI clients and gateways fail.
    ///
    /// ## Example
    /// ```yaml
    /// command: ["python3", "-m", "vllm.entrypoints.api_server"]
    /// ```
    ///
    /// Use instead: `["python3", "-m", "vllm.entrypoints.openai.api_server"]` or `["vllm", "serve"]`.
    ///
    /// The finding points at the module name.
    ///
    /// ## Fix safety
    /// Safe: replaces the module with `vllm.entrypoints.openai.api_server`, which takes the same
    /// flags and serves the OpenAI API.
    ///
    /// ## Source
    /// vLLM `vllm/entrypoints/api_server.py` docstring; GKE model-armor and ai-on-gke samples.
    ///
    /// - <https://github.com/vllm-project/vllm/blob/main/vllm/entrypoints/api_server.py>
    pub struct VllmEntrypointLegacyApiServer {
        id: "vllm-entrypoint-legacy-api-server",
        severity: Error,
        fix: Always(Safe),
        summary: "the demo api_server module has no OpenAI /v1 endpoints",
    }
}

impl Rule for VllmEntrypointLegacyApiServer {
    fn check(&self, cx: &Context, out: &mut Findings) {
        for spec in k8s::pod_specs(cx.kind(), cx.object) {
            for server in cx.servers(&spec) {
                if server.invocation.entrypoint != Entrypoint::LegacyApiServer {
                    continue;
                }
                let Some(word) = &server.invocation.start else {
                    continue;
                };
                vllm::report_word(
                    out,
                    word,
                    "vllm.entrypoints.api_server is a demo server without the OpenAI /v1 API",
                )
                .help("run vllm.entrypoints.openai.api_server (or `vllm serve`)")
                .fix("use vllm.entrypoints.openai.api_server", |fix| {
                    vllm::replace_word(fix, cx.object, word, "vllm.entrypoints.openai.api_server");
                });
            }
        }
    }
}
