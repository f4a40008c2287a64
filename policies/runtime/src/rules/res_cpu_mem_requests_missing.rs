use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Finds a vLLM container with neither a request nor a limit for CPU or for memory (a missing
    /// request defaults to the limit, so a limit alone counts). Warning; info on GKE Autopilot,
    /// which sets defaults.
    ///
    /// ## Why is this bad?
    /// Extended resources such as GPUs do not count for QoS: a pod with no CPU or memory request is
    /// BestEffort, the first evicted under node memory pressure, and its tokenizer and scheduler
    /// threads are starved. The field report's manifests only set `nvidia.com/gpu`. The GKE
    /// samples set requests equal to limits (Guaranteed).
    ///
    /// ## Example
    /// ```yaml
    /// resources: {limits: {nvidia.com/gpu: 1}}
    /// ```
    ///
    /// Use instead: `requests: {cpu: "3", memory: 16Gi}` (and the same limits).
    ///
    /// The finding points at `resources`, else at the container.
    ///
    /// ## Fix safety
    /// Unsafe: adds the missing requests from a heuristic (2 CPUs + 1 per GPU; memory 1.2 × the
    /// weights each pod loads, at least 8 GiB, plus the /dev/shm size), which changes scheduling.
    ///
    /// ## Source
    /// Kubernetes "Pod Quality of Service Classes"; GKE vLLM samples (requests = limits);
    /// production-stack (requestCPU/requestMemory required).
    ///
    /// - <https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/>
    pub struct ResCpuMemRequestsMissing {
        id: "res-cpu-mem-requests-missing",
        severity: Warning,
        fix: Always(Unsafe),
        summary: "a vLLM container has no CPU or memory request",
    }
}

impl Rule for ResCpuMemRequestsMissing {
    const SERVERS: Servers = Servers::Complete;

    fn check_server(
        &self,
        cx: &Context,
        spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let c = &server.container;
        let missing: Vec<&str> = ["cpu", "memory"]
            .into_iter()
            // Kubernetes defaults a missing request to the limit.
            .filter(|r| c.resource("requests", r).is_none() && c.resource("limits", r).is_none())
            .collect();
        if missing.is_empty() {
            return;
        }
        let gpus = c.gpus();
        let weights_gib = server
            .model_fact(cx)
            .and_then(|(_, m)| m)
            .map_or(0, |m| (m.weights_mib * 12 / 10).div_ceil(1024));
        let shm_gib = spec
            .volumes()
            .iter()
            .filter(|v| v.pointer("/emptyDir/medium").and_then(Value::as_str) == Some("Memory"))
            .filter_map(|v| v.pointer("/emptyDir/sizeLimit").and_then(quantity::bytes))
            .sum::<u64>()
            .div_ceil(quantity::GIB);
        let cpu = (2 + gpus).to_string();
        let memory = format!("{}Gi", weights_gib.max(8) + shm_gib);
        let at = if c.value.get("resources").is_some() {
            c.pointer.key("resources")
        } else {
            c.pointer.clone()
        };
        let requests_at = c.pointer.key("resources").key("requests");
        out.report(&at, format!("container `{}` has no {} request: the pod is evicted first under memory pressure", c.name(), missing.join(" or ")))
            .severity(if cx.is_autopilot() { Severity::Info } else { Severity::Warning })
            .help(format!("request cpu and memory (for example cpu: \"{cpu}\", memory: {memory}), and set limits to match"))
            .fix(format!("request {}", missing.iter().map(|r| if *r == "cpu" { format!("cpu {cpu}") } else { format!("memory {memory}") }).collect::<Vec<_>>().join(" and ")), |fix| {
                let mut requests = serde_json::Map::new();
                for r in &missing {
                    requests.insert((*r).to_string(), json!(if *r == "cpu" { cpu.clone() } else { memory.clone() }));
                }
                match c.resource_parent("requests") {
                    Some(_) => {
                        for (key, value) in requests {
                            fix.add(&requests_at.key(&key), &value);
                        }
                    }
                    None => {
                        fix.set_key(cx.object, &c.pointer.key("resources"), "requests", Value::Object(requests));
                    }
                }
            });
    }
}
