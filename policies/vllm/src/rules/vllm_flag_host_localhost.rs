use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Finds `--host` set to a loopback address (`127.0.0.1`, `localhost`, `::1`).
    ///
    /// ## Why is this bad?
    /// The server then listens only inside the pod: the Service, probes and clients get
    /// `connection refused`, and the pod never becomes Ready.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["--host=127.0.0.1"]
    /// ```
    ///
    /// Use instead: `--host=0.0.0.0`.
    ///
    /// The finding points at the flag.
    ///
    /// ## Fix safety
    /// Safe: sets `--host=0.0.0.0`, what the GKE samples and production-stack use.
    ///
    /// ## Source
    /// vLLM CLI `--host`; GKE vLLM samples; vllm-project/production-stack.
    ///
    /// - <https://docs.vllm.ai/en/latest/cli/serve.html>
    pub struct VllmFlagHostLocalhost {
        id: "vllm-flag-host-localhost",
        severity: Error,
        fix: Always(Safe),
        summary: "vLLM listens on loopback only",
    }
}

impl Rule for VllmFlagHostLocalhost {
    fn check_server(
        &self,
        cx: &Context,
        _spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let Some(flag) = server.flag("host") else {
            return;
        };
        let Some(host) = flag.value.as_deref() else {
            return;
        };
        if !matches!(host, "127.0.0.1" | "localhost" | "::1" | "[::1]") {
            return;
        }
        vllm::report_word(
            out,
            &flag.at,
            format!("--host {host} listens on loopback: nothing outside the pod can reach vLLM"),
        )
        .help("listen on all interfaces with --host=0.0.0.0")
        .fix("set --host=0.0.0.0", |fix| {
            server.set_flag(fix, cx.object, "host", "0.0.0.0");
        });
    }
}
