use kubectl_vllm_sdk::prelude::*;

use super::hf_gated_no_token::is_offline;

declare_rule! {
    /// ## What it does
    /// Notes a model loaded from a local path (a PVC, a GCS FUSE mount) without `HF_HUB_OFFLINE=1`
    /// (or `TRANSFORMERS_OFFLINE=1`). Info: with egress it serves fine.
    ///
    /// ## Why is this bad?
    /// With local weights the pod should not depend on huggingface.co, yet vLLM and transformers
    /// may still call the Hub for tokenizers, processors and cache files: on private clusters
    /// without NAT that hangs or times out at startup. A manifest cannot say whether its cluster
    /// has egress, so this is advice, not a failure.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["--model=/models/gemma-3-1b-it"]
    /// ```
    ///
    /// Use instead: the same, with `env: [{name: HF_HUB_OFFLINE, value: "1"}]`.
    ///
    /// The finding points at the variable when it is set to something else, else at `env`, else
    /// at the container.
    ///
    /// ## Fix safety
    /// Unsafe: sets `HF_HUB_OFFLINE=1`; some vLLM versions mishandle local paths in offline mode
    /// (vllm-project/vllm#23684), so test it.
    ///
    /// ## Source
    /// vllm-project/vllm#39039, #1910, #3719; huggingface_hub environment variables.
    ///
    /// - <https://github.com/vllm-project/vllm/issues/39039>
    /// - <https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables#hfhuboffline>
    pub struct HfOfflineLocalPath {
        id: "hf-offline-local-path",
        severity: Info,
        fix: Always(Unsafe),
        summary: "a model loaded from a path still calls the Hugging Face Hub",
    }
}

impl Rule for HfOfflineLocalPath {
    const SERVERS: Servers = Servers::Complete;

    fn check_server(
        &self,
        cx: &Context,
        _spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let Some(model) = server.model() else {
            return;
        };
        let Some(path) = model.value.as_deref() else {
            return;
        };
        if !path.starts_with('/') || is_offline(&server.container) {
            return;
        }
        let c = &server.container;
        let env_at = c.pointer.key("env");
        let existing = c.env("HF_HUB_OFFLINE");
        let at = match existing {
            Some((i, _)) => env_at.index(i),
            None if c.value.get("env").is_some() => env_at.clone(),
            None => c.pointer.clone(),
        };
        out.report(&at, format!("`{path}` is local, but without HF_HUB_OFFLINE=1 vLLM still contacts the Hugging Face Hub"))
            .help("set HF_HUB_OFFLINE=1")
            .fix("set HF_HUB_OFFLINE=1", |fix| match existing {
                Some((i, _)) => {
                    fix.set_key(cx.object, &env_at.index(i), "value", json!("1"));
                }
                None => {
                    fix.push(cx.object, &env_at, json!({"name": "HF_HUB_OFFLINE", "value": "1"}));
                }
            });
    }
}
