//! Probe helpers shared by the probe rules.

use kubectl_vllm_sdk::prelude::*;

/// The port a new probe should use: the container's port name for vLLM's port, else the number.
pub fn probe_port(server: &Server) -> Value {
    let port = server.invocation.port(&server.vars).unwrap_or(8000);
    server
        .container
        .port_name(port)
        .map_or_else(|| json!(port), |name| json!(name))
}

/// A `/health` HTTP probe.
pub fn health_probe(server: &Server, period: u64, failures: u64) -> Value {
    json!({"httpGet": {"path": "/health", "port": probe_port(server)}, "periodSeconds": period, "failureThreshold": failures})
}

/// Seconds a probe tolerates before it fails: initialDelaySeconds + failureThreshold × periodSeconds.
pub fn budget_seconds(probe: &Value) -> u64 {
    let get = |k: &str, d: u64| probe.get(k).and_then(Value::as_u64).unwrap_or(d);
    get("initialDelaySeconds", 0) + get("failureThreshold", 3) * get("periodSeconds", 10)
}
