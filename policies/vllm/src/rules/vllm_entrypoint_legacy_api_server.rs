use kubectl_vllm_sdk::prelude::*;
use kubectl_vllm_sdk::vllm::Entrypoint;

declare_rule! {
    /// ## What it does
    /// Finds `python -m vllm.entrypoints.api_server` (without `.openai.`).
    ///
    /// ## Why is this bad?
    /// That module is vLLM's demo `/generate` server: "This API server is used only for
    /// demonstrating usage of AsyncEngine and simple performance benchmarks. It is not intended for
    /// production use." It has no `/v1/*` endpoints, so OpenAI clients and gateways fail. A
    /// warning, not an error: the pod starts and serves `/generate`, which some clients use.
    ///
    /// ## Example
    /// ```yaml
    /// command: ["python3", "-m", "vllm.entrypoints.api_server"]
    /// ```
    ///
    /// Use instead: `["python3", "-m", "vllm.entrypoints.openai.api_server"]` or `["vllm", "serve"]`.
    ///
    /// The finding points at the module name. Images whose vendor replaced the module (the
    /// image table's `patched`: Vertex Model Garden's `pytorch-vllm-serve`, whose `api_server`
    /// serves Vertex's own routes) are not reported.
    ///
    /// ## Fix safety
    /// Unsafe: replaces the module with `vllm.entrypoints.openai.api_server`, which takes the same
    /// flags and serves the OpenAI API, but no longer `/generate`: clients of the demo API break.
    ///
    /// ## Source
    /// vLLM `vllm/entrypoints/api_server.py` docstring; GKE model-armor and ai-on-gke samples.
    ///
    /// - <https://github.com/vllm-project/vllm/blob/main/vllm/entrypoints/api_server.py>
    pub struct VllmEntrypointLegacyApiServer {
        id: "vllm-entrypoint-legacy-api-server",
        severity: Warning,
        fix: Always(Unsafe),
        summary: "the demo api_server module has no OpenAI /v1 endpoints",
    }
}

impl Rule for VllmEntrypointLegacyApiServer {
    fn check_server(
        &self,
        cx: &Context,
        _spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        if server.invocation.entrypoint != Entrypoint::LegacyApiServer {
            return;
        }
        let Some(word) = &server.invocation.start else {
            return;
        };
        if cx
            .env
            .image(server.container.image())
            .is_some_and(|i| i.patched)
        {
            return;
        }
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
