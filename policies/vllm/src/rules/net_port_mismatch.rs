use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Compares vLLM's port (`--port`, 8000 by default) with the container's `ports`, its probes'
    /// `httpGet`/`tcpSocket` port (a number, or a name resolved through `ports`), and, on a
    /// Service of the input set that selects the pod, `targetPort` (by number or by name).
    ///
    /// ## Why is this bad?
    /// A Service whose targetPort misses vLLM's port never answers (connection refused through the
    /// Service); a probe on the wrong port keeps the pod unready, or restarts it forever.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["--port=8080"]
    /// ports: [{containerPort: 8000}]
    /// readinessProbe: {httpGet: {path: /health, port: 8000}}
    /// ```
    ///
    /// Use instead: 8080 everywhere (or drop `--port`).
    ///
    /// The finding points at the mismatching port: in the container's `ports`, its probe, or the
    /// Service's `targetPort`.
    ///
    /// ## Fix safety
    /// Safe: sets the mismatching port to vLLM's.
    ///
    /// ## Source
    /// Kubernetes "Service" (targetPort), "Configure Liveness, Readiness and Startup Probes"; vLLM
    /// `--port`.
    ///
    /// - <https://kubernetes.io/docs/concepts/services-networking/service/#field-spec-ports>
    pub struct NetPortMismatch {
        id: "net-port-mismatch",
        severity: Error,
        fix: Always(Safe),
        summary: "a containerPort, probe or Service targetPort misses vLLM's port",
    }
}

/// A port as written: a number, or a name resolved through the container's `ports`.
fn resolve(container: &Container, port: &Value) -> Option<u64> {
    if let Some(n) = port.as_u64() {
        return Some(n);
    }
    let name = port.as_str()?;
    if let Ok(n) = name.parse() {
        return Some(n);
    }
    container
        .value
        .get("ports")?
        .as_array()?
        .iter()
        .find_map(|p| {
            (p.get("name").and_then(Value::as_str) == Some(name))
                .then(|| p.get("containerPort").and_then(Value::as_u64))
                .flatten()
        })
}

impl Rule for NetPortMismatch {
    const KINDS: Kinds = Kinds::PodTemplatesAnd(&["Service"]);

    const SERVERS: Servers = Servers::Complete;

    fn check_object(&self, cx: &Context, out: &mut Findings) {
        if cx.kind() == "Service" {
            check_service(cx, out);
            return;
        }
        for spec in cx.pod_specs() {
            self.check_pod_spec(cx, &spec, out);
        }
    }

    /// A server's own ports and probes against the port vLLM listens on.
    fn check_server(
        &self,
        _cx: &Context,
        _spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let Some(port) = server.invocation.port(&server.vars).map(u64::from) else {
            return;
        };
        let c = &server.container;
        if let Some(Value::Array(ports)) = c.value.get("ports") {
            let numbers: Vec<u64> = ports
                .iter()
                .filter_map(|p| p.get("containerPort").and_then(Value::as_u64))
                .collect();
            if !numbers.is_empty() && !numbers.contains(&port) {
                let at = c.pointer.key("ports").index(0).key("containerPort");
                out.report(
                    &at,
                    format!(
                        "vLLM listens on {port}, but container `{}` declares port {}",
                        c.name(),
                        numbers[0]
                    ),
                )
                .fix(format!("declare containerPort {port}"), |fix| {
                    fix.replace(&at, &json!(port));
                });
            }
        }
        for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
            for handler in ["httpGet", "tcpSocket"] {
                let at = c.pointer.key(probe).key(handler).key("port");
                let Some(value) = c.value.pointer(&format!("/{probe}/{handler}/port")) else {
                    continue;
                };
                match resolve(c, value) {
                    Some(p) if p == port => {}
                    resolved => {
                        let shown = resolved.map_or_else(
                            || format!("`{}` (no such port name)", value.as_str().unwrap_or("?")),
                            |p| p.to_string(),
                        );
                        out.report(
                            &at,
                            format!("the {probe} checks port {shown}, but vLLM listens on {port}"),
                        )
                        .fix(format!("probe port {port}"), |fix| {
                            fix.replace(&at, &json!(port));
                        });
                    }
                }
            }
        }
    }
}

/// A Service's target ports against vLLM in the workloads of the namespace it selects.
fn check_service(cx: &Context, out: &mut Findings) {
    let Some(Value::Object(selector)) = cx.object.pointer("/spec/selector") else {
        return;
    };
    // The workloads that hold the selector's first label value: the host's index narrows the
    // namespace down to candidates, and the labels decide below.
    let Some(Value::String(first)) = selector.values().next() else {
        return;
    };
    for kind in k8s::WORKLOAD_KINDS {
        for workload in cx.env.mentioning(kind, cx.namespace(), first).iter() {
            for spec in k8s::pod_specs(kind, workload) {
                let labels = spec.labels(workload);
                if !labels.is_some_and(|l| selector.iter().all(|(k, v)| l.get(k) == Some(v))) {
                    continue;
                }
                for server in vllm::servers(&spec, cx.env, cx.namespace()) {
                    let Some(port) = server.invocation.port(&server.vars).map(u64::from) else {
                        continue;
                    };
                    let Some(Value::Array(ports)) = cx.object.pointer("/spec/ports") else {
                        continue;
                    };
                    for (i, p) in ports.iter().enumerate() {
                        let target = p.get("targetPort").or_else(|| p.get("port"));
                        let Some(target) = target else { continue };
                        match resolve(&server.container, target) {
                            Some(t) if t == port => {}
                            resolved => {
                                let field = if p.get("targetPort").is_some() {
                                    "targetPort"
                                } else {
                                    "port"
                                };
                                let at = Pointer::from_path("/spec/ports").index(i).key(field);
                                let shown = resolved.map_or_else(
                                    || {
                                        format!(
                                            "`{}` (no such port name in the pod)",
                                            target.as_str().unwrap_or("?")
                                        )
                                    },
                                    |t| t.to_string(),
                                );
                                let name = workload
                                    .pointer("/metadata/name")
                                    .and_then(Value::as_str)
                                    .unwrap_or("");
                                out.report(&at, format!("the Service sends traffic to {shown}, but vLLM in {kind}/{name} listens on {port}"))
                                    .fix(format!("target port {port}"), |fix| {
                                        fix.set_key(cx.object, &Pointer::from_path("/spec/ports").index(i), "targetPort", json!(port));
                                    });
                            }
                        }
                    }
                }
            }
        }
    }
}
