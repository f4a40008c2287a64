use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Finds vLLM pods in a namespace that has a (non-headless) Service named `vllm`, unless the
    /// pod sets `enableServiceLinks: false`.
    ///
    /// ## Why is this bad?
    /// Kubernetes injects `VLLM_PORT=tcp://10.x.x.x:8000` into every pod created after that
    /// Service, and vLLM reads `VLLM_PORT` as its internal port: `ValueError: VLLM_PORT
    /// 'tcp://...' appears to be a URI. This may be caused by a Kubernetes service discovery
    /// issue` (older versions: `invalid literal for int() with base 10`). vLLM's docs: "please do
    /// not name the service as vllm".
    ///
    /// ## Example
    /// ```yaml
    /// kind: Service
    /// metadata: {name: vllm}
    /// ```
    ///
    /// Use instead: rename the Service, or set `enableServiceLinks: false` on the pod.
    ///
    /// The finding points at the pod spec.
    ///
    /// ## Fix safety
    /// Safe: sets `enableServiceLinks: false` on the vLLM pod (nothing in vLLM uses service
    /// links), which needs no rename.
    ///
    /// ## Source
    /// vllm-project/vllm#34199, PR #18209; vLLM "Environment variables".
    ///
    /// - <https://docs.vllm.ai/en/latest/configuration/env_vars.html>
    /// - <https://github.com/vllm-project/vllm/issues/34199>
    pub struct NetServiceNamedVllm {
        id: "net-service-named-vllm",
        severity: Error,
        fix: Always(Safe),
        summary: "a Service named vllm breaks vLLM through injected VLLM_PORT",
    }
}

impl Rule for NetServiceNamedVllm {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        let Some(service) = cx.env.get("Service", cx.namespace(), "vllm") else {
            return;
        };
        if service.pointer("/spec/clusterIP").and_then(Value::as_str) == Some("None") {
            return;
        }
        if cx.servers_checked(spec, out).is_empty()
            || spec.spec.get("enableServiceLinks").and_then(Value::as_bool) == Some(false)
        {
            return;
        }
        out.report(&spec.at(), "Service `vllm` in this namespace injects VLLM_PORT=tcp://..., which vLLM reads as its own port and refuses")
            .help("set enableServiceLinks: false, or rename the Service")
            .fix("set enableServiceLinks: false", |fix| {
                fix.add(&spec.at().key("enableServiceLinks"), &json!(false));
            });
    }
}
