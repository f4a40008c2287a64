use kubectl_vllm_sdk::prelude::*;

/// Paths vLLM answers with 200 once it can serve.
const HEALTHY: &[&str] = &["/health", "/v1/models", "/ping", "/metrics"];

declare_rule! {
    /// ## What it does
    /// Checks the `httpGet.path` of a vLLM container's probes against the endpoints vLLM serves:
    /// `/health`, `/v1/models`, `/ping`, `/metrics`.
    ///
    /// ## Why is this bad?
    /// vLLM answers other paths, `/` included, with 404: the readiness probe never passes and the
    /// liveness probe restarts a healthy server.
    ///
    /// ## Example
    /// ```yaml
    /// readinessProbe:
    ///   httpGet: {path: /, port: 8000}
    /// ```
    ///
    /// Use instead: `path: /health`.
    ///
    /// The finding points at `path`.
    ///
    /// ## Fix safety
    /// Safe: sets `/health`, which answers 200 exactly when the engine is alive.
    ///
    /// ## Source
    /// vLLM OpenAI server routes; vLLM "Using Kubernetes"; llm-d (`/health`, `/v1/models`).
    ///
    /// - <https://docs.vllm.ai/en/latest/deployment/k8s.html>
    pub struct ProbeHealthPath {
        id: "probe-health-path",
        severity: Warning,
        fix: Always(Safe),
        summary: "a probe asks vLLM for a path it answers with 404",
    }
}

impl Rule for ProbeHealthPath {
    fn check_server(
        &self,
        _cx: &Context,
        _spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let c = &server.container;
        for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
            let Some(path) = c
                .value
                .pointer(&format!("/{probe}/httpGet/path"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            let clean = path.split('?').next().unwrap_or(path).trim_end_matches('/');
            if HEALTHY.contains(&clean) {
                continue;
            }
            let at = c.pointer.key(probe).key("httpGet").key("path");
            out.report(
                &at,
                format!("vLLM answers `{path}` with 404: the {probe} always fails"),
            )
            .help("probe /health")
            .fix("probe /health", |fix| {
                fix.replace(&at, &json!("/health"));
            });
        }
    }
}
