//! Prometheus metrics in the text exposition format (version 0.0.4): requests by endpoint and
//! outcome, a latency histogram per endpoint, findings by rule and severity, policy errors by
//! policy, and reviews in flight.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use kubectl_vllm_core::{RuleId, Severity};

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Admitted (warnings or not).
    Allowed,
    /// Denied.
    Denied,
    /// Admitted without a check: a policy failed or the deadline passed.
    Unchecked,
    /// Answered 400: not an AdmissionReview we take.
    Invalid,
}

impl Outcome {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
            Self::Unchecked => "unchecked",
            Self::Invalid => "invalid",
        }
    }
}

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Counts {
    requests: BTreeMap<(&'static str, Outcome), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    findings: BTreeMap<(RuleId, Severity), u64>,
    policy_errors: BTreeMap<String, u64>,
}

/// The server's metrics.
#[derive(Default)]
pub struct Metrics {
    counts: Mutex<Counts>,
    in_flight: AtomicI64,
}

impl Metrics {
    /// A request to `endpoint` ended with `outcome` after `elapsed`.
    pub fn request(&self, endpoint: &'static str, outcome: Outcome, elapsed: Duration) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *counts.requests.entry((endpoint, outcome)).or_default() += 1;
        let histogram = counts.latency.entry(endpoint).or_default();
        let seconds = elapsed.as_secs_f64();
        for (bucket, bound) in histogram.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// What one review found.
    pub fn findings(&self, findings: &[(RuleId, Severity)], policy_errors: &[String]) {
        if findings.is_empty() && policy_errors.is_empty() {
            return;
        }
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (rule, severity) in findings {
            *counts
                .findings
                .entry((rule.clone(), *severity))
                .or_default() += 1;
        }
        for policy in policy_errors {
            *counts.policy_errors.entry(policy.clone()).or_default() += 1;
        }
    }

    /// A review started (`+1`) or ended (`-1`).
    pub fn in_flight(&self, delta: i64) {
        self.in_flight.fetch_add(delta, Ordering::Relaxed);
    }

    /// The exposition text.
    #[must_use]
    pub fn render(&self) -> String {
        let counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP kubectl_vllm_webhook_requests_total Admission reviews answered, by endpoint and outcome.\n# TYPE kubectl_vllm_webhook_requests_total counter"
        );
        for ((endpoint, outcome), n) in &counts.requests {
            let _ = writeln!(
                out,
                "kubectl_vllm_webhook_requests_total{{endpoint=\"{endpoint}\",outcome=\"{}\"}} {n}",
                outcome.as_str()
            );
        }
        let _ = writeln!(
            out,
            "# HELP kubectl_vllm_webhook_request_duration_seconds Time from request to answer.\n# TYPE kubectl_vllm_webhook_request_duration_seconds histogram"
        );
        for (endpoint, h) in &counts.latency {
            let name = "kubectl_vllm_webhook_request_duration_seconds";
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{endpoint=\"{endpoint}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{endpoint=\"{endpoint}\",le=\"+Inf\"}} {}\n{name}_sum{{endpoint=\"{endpoint}\"}} {}\n{name}_count{{endpoint=\"{endpoint}\"}} {}",
                h.count, h.sum, h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP kubectl_vllm_webhook_findings_total Findings reported in reviews, by rule and severity.\n# TYPE kubectl_vllm_webhook_findings_total counter"
        );
        for ((rule, severity), n) in &counts.findings {
            let _ = writeln!(
                out,
                "kubectl_vllm_webhook_findings_total{{rule=\"{rule}\",severity=\"{severity}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP kubectl_vllm_webhook_policy_errors_total Reviews a policy failed on (trap, deadline, memory), by policy.\n# TYPE kubectl_vllm_webhook_policy_errors_total counter"
        );
        for (policy, n) in &counts.policy_errors {
            let policy = policy.replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(
                out,
                "kubectl_vllm_webhook_policy_errors_total{{policy=\"{policy}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP kubectl_vllm_webhook_in_flight Reviews being evaluated now.\n# TYPE kubectl_vllm_webhook_in_flight gauge\nkubectl_vllm_webhook_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_lands_in_every_bucket_at_or_above_its_latency() {
        let metrics = Metrics::default();
        metrics.request("validate", Outcome::Allowed, Duration::from_millis(3));
        metrics.findings(
            &[(RuleId::new("gpu-mem-util"), Severity::Warning)],
            &["builtin:chaos".into()],
        );
        let text = metrics.render();
        for line in [
            "kubectl_vllm_webhook_requests_total{endpoint=\"validate\",outcome=\"allowed\"} 1",
            "kubectl_vllm_webhook_request_duration_seconds_bucket{endpoint=\"validate\",le=\"0.002\"} 0",
            "kubectl_vllm_webhook_request_duration_seconds_bucket{endpoint=\"validate\",le=\"0.005\"} 1",
            "kubectl_vllm_webhook_request_duration_seconds_bucket{endpoint=\"validate\",le=\"+Inf\"} 1",
            "kubectl_vllm_webhook_findings_total{rule=\"gpu-mem-util\",severity=\"warning\"} 1",
            "kubectl_vllm_webhook_policy_errors_total{policy=\"builtin:chaos\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
    }
}
