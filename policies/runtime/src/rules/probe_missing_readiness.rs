use kubectl_vllm_sdk::prelude::*;

use super::probes::health_probe;

declare_rule! {
    /// ## What it does
    /// Finds a vLLM container without a `readinessProbe`.
    ///
    /// ## Why is this bad?
    /// Loading a model takes minutes. Without readiness the Service routes requests to pods that
    /// are still loading (connection refused, 503), and rolling updates remove the old pod before
    /// the new one can serve.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: vllm
    ///   ports: [{containerPort: 8000}]
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///   readinessProbe:
    ///     httpGet: {path: /health, port: 8000}
    ///     periodSeconds: 5
    ///     failureThreshold: 3
    /// ```
    ///
    /// The finding points at the container.
    ///
    /// ## Fix safety
    /// Safe: adds an HTTP readiness probe on vLLM's `/health` and port (by name when the port is
    /// named), every 5 s, failing after 3.
    ///
    /// ## Source
    /// vLLM "Using Kubernetes"; production-stack values; llm-d optimized-baseline.
    ///
    /// - <https://docs.vllm.ai/en/latest/deployment/k8s.html>
    pub struct ProbeMissingReadiness {
        id: "probe-missing-readiness",
        severity: Warning,
        fix: Always(Safe),
        summary: "a vLLM container has no readinessProbe",
    }
}

impl Rule for ProbeMissingReadiness {
    const SERVERS: Servers = Servers::Complete;

    fn check_server(
        &self,
        _cx: &Context,
        _spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        if server.container.value.get("readinessProbe").is_some() {
            return;
        }
        let c = &server.container;
        out.report(&c.pointer, format!("container `{}` has no readinessProbe: traffic reaches it while the model is still loading", c.name()))
            .help("add an httpGet readinessProbe on /health")
            .fix("add a /health readinessProbe", |fix| {
                fix.add(&c.pointer.key("readinessProbe"), &health_probe(server, 5, 3));
            });
    }
}
