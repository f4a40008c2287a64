use kubectl_vllm_sdk::prelude::*;

use super::probes::{budget_seconds, health_probe};

/// Throughput assumed for reading weights at startup (MiB/s): a balanced persistent disk of a
/// few hundred GiB, or GCS.
const LOAD_MIB_PER_SECOND: u64 = 200;
/// Engine start, CUDA graph capture and torch.compile, seconds.
const WARMUP_SECONDS: u64 = 180;

declare_rule! {
    /// ## What it does
    /// Finds a vLLM container with a `livenessProbe` but no `startupProbe`. The estimated startup
    /// is the weights at 200 MiB/s + 3 minutes of warm-up. Error when the estimate is more than
    /// twice the liveness budget (initialDelaySeconds + failureThreshold × periodSeconds): disk
    /// and network speeds vary too much for a closer call. Warning otherwise. A model the fact
    /// table does not know is skipped (and the run says so).
    ///
    /// ## Why is this bad?
    /// The kubelet kills the container while it is still loading weights; it restarts, loads
    /// again and is killed again: `KeyboardInterrupt: terminated` in the log and `failed liveness
    /// probe, will be restarted` in events. 61 GiB of gpt-oss-120b from a 250Gi pd-standard disk
    /// takes about 35 minutes.
    ///
    /// ## Example
    /// ```yaml
    /// livenessProbe:
    ///   httpGet: {path: /health, port: 8000}
    ///   initialDelaySeconds: 60
    /// ```
    ///
    /// Use instead: the same, plus `startupProbe: {httpGet: {path: /health, port: 8000},
    /// periodSeconds: 10, failureThreshold: 120}`.
    ///
    /// The finding points at `livenessProbe`.
    ///
    /// ## Fix safety
    /// Safe: adds a `/health` startupProbe every 10 s whose failure threshold covers twice the
    /// estimate (at least 10 minutes); liveness starts only once it succeeds.
    ///
    /// ## Source
    /// vLLM "Using Kubernetes" (troubleshooting); production-stack (startup 10 s × 60); llm-d
    /// (30 s × 120); catalogue §1.4 (disk throughput).
    ///
    /// - <https://docs.vllm.ai/en/latest/deployment/k8s.html>
    /// - <https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/>
    pub struct ProbeLivenessWithoutStartup {
        id: "probe-liveness-without-startup",
        severity: Warning,
        fix: Always(Safe),
        summary: "a liveness probe can kill vLLM while it loads the model",
    }
}

impl Rule for ProbeLivenessWithoutStartup {
    const SERVERS: Servers = Servers::Complete;

    fn check_server(
        &self,
        cx: &Context,
        _spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let c = &server.container;
        let Some(liveness) = c.value.get("livenessProbe") else {
            return;
        };
        if c.value.get("startupProbe").is_some() {
            return;
        }
        // Without the model's size there is no load time to compare with: say so.
        let Some((_, model)) = server.known_model(cx, out) else {
            return;
        };
        let estimate = model.weights_mib / LOAD_MIB_PER_SECOND + WARMUP_SECONDS;
        let budget = budget_seconds(liveness);
        let failures = (2 * estimate).div_ceil(10).max(60);
        // The estimate is rough (disk and network speeds vary tenfold): an error needs a load
        // that takes more than twice the probe's budget.
        let (severity, message) = if 2 * budget < estimate {
            (
                Severity::Error,
                format!(
                    "the livenessProbe kills vLLM after {budget}s, but loading {} is expected to take about {estimate}s",
                    model.id
                ),
            )
        } else if budget < estimate {
            (
                Severity::Warning,
                format!(
                    "the livenessProbe kills vLLM after {budget}s; loading {} may take about {estimate}s",
                    model.id
                ),
            )
        } else {
            (
                Severity::Warning,
                format!(
                    "livenessProbe without a startupProbe: a slow load (a cold disk, a new node) restarts vLLM after {budget}s"
                ),
            )
        };
        out.report(&c.pointer.key("livenessProbe"), message)
            .severity(severity)
            .help("add a startupProbe; liveness starts only after it succeeds")
            .fix(
                format!("add a /health startupProbe (10s × {failures})"),
                |fix| {
                    fix.add(
                        &c.pointer.key("startupProbe"),
                        &health_probe(server, 10, failures),
                    );
                },
            );
    }
}
