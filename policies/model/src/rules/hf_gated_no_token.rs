use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Finds a gated Hugging Face model (Gemma, Llama, Mistral: the model fact table's `gated`)
    /// served without a token: no `HF_TOKEN` or `HUGGING_FACE_HUB_TOKEN` env and no `envFrom`
    /// Secret. Error when vLLM downloads the model by id; info when it loads from a path without
    /// `HF_HUB_OFFLINE=1` (vLLM may still fetch configs or tokenizers from the Hub).
    ///
    /// ## Why is this bad?
    /// The download fails and the pod crash-loops: `Cannot access gated repo ... Access to model
    /// google/gemma-3-1b-it is restricted`. The token must belong to an account that accepted the
    /// model's license, with read scope.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["--model=google/gemma-3-27b-it"]
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// env:
    /// - name: HF_TOKEN
    ///   valueFrom: {secretKeyRef: {name: hf-secret, key: hf_api_token}}
    /// ```
    ///
    /// The finding points at the model.
    ///
    /// ## Fix safety
    /// Unsafe, for models downloaded by id: adds `HF_TOKEN` from the Secret `hf-secret`, key
    /// `hf_api_token` (the GKE samples' convention), which you must create. No fix for local
    /// paths: there the remedy is `HF_HUB_OFFLINE=1` (`hf-offline-local-path`), not a token.
    ///
    /// ## Source
    /// vllm-project/vllm#9255; Hugging Face gated-model docs; GKE vLLM samples (`hf-secret`).
    ///
    /// - <https://github.com/vllm-project/vllm/issues/9255>
    /// - <https://huggingface.co/docs/hub/models-gated>
    pub struct HfGatedNoToken {
        id: "hf-gated-no-token",
        severity: Error,
        fix: Sometimes(Unsafe),
        summary: "a gated Hugging Face model without a token",
    }
}

/// Whether the container gets a Hugging Face token.
fn has_token(container: &Container) -> bool {
    container.env("HF_TOKEN").is_some()
        || container.env("HUGGING_FACE_HUB_TOKEN").is_some()
        || container
            .value
            .get("envFrom")
            .and_then(Value::as_array)
            .is_some_and(|from| from.iter().any(|f| f.get("secretRef").is_some()))
}

/// Whether `HF_HUB_OFFLINE` (or `TRANSFORMERS_OFFLINE`) is on.
pub fn is_offline(container: &Container) -> bool {
    ["HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"]
        .iter()
        .any(|name| {
            container.env(name).is_some_and(|(_, v)| {
                v.get("value").and_then(Value::as_str).is_some_and(|s| {
                    matches!(s.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
                })
            })
        })
}

impl Rule for HfGatedNoToken {
    fn check(&self, cx: &Context, out: &mut Findings) {
        for spec in k8s::pod_specs(cx.kind(), cx.object) {
            for server in cx.servers(&spec) {
                let Some((model_ref, Some(model))) = server.model_fact(cx.env) else {
                    continue;
                };
                if !model.gated || has_token(&server.container) {
                    continue;
                }
                let local = model_ref.value.as_deref().is_some_and(vllm::is_local_path);
                if local && is_offline(&server.container) {
                    continue;
                }
                let (severity, message) = if local {
                    (
                        Severity::Info,
                        format!(
                            "{} is gated and loads from a path without HF_HUB_OFFLINE=1: any Hub request vLLM still makes will be refused",
                            model.id
                        ),
                    )
                } else {
                    (
                        Severity::Error,
                        format!(
                            "{} is a gated repository and no Hugging Face token is set: the download will be refused",
                            model.id
                        ),
                    )
                };
                let finding = vllm::report_word(out, &model_ref.at, message).severity(severity);
                if local {
                    finding
                        .help("set HF_HUB_OFFLINE=1 so nothing asks the Hub, or give it a token");
                    continue;
                }
                finding
                    .help("set HF_TOKEN from a Secret, with a token whose account accepted the model's license")
                    .fix("add HF_TOKEN from Secret hf-secret", |fix| {
                        fix.push(
                            cx.object,
                            &server.container.pointer.key("env"),
                            json!({"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-secret", "key": "hf_api_token"}}}),
                        );
                    });
            }
        }
    }
}
