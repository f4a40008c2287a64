use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Finds a gated Hugging Face model (Gemma, Llama, Mistral: the model fact table's `gated`)
    /// served without a token: no `HF_TOKEN` or `HUGGING_FACE_HUB_TOKEN` env and no `envFrom`
    /// Secret, while vLLM downloads the model by id. A model loaded from a path needs no token.
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
    /// Unsafe: adds `HF_TOKEN` from the Secret `hf-secret`, key `hf_api_token` (the GKE samples'
    /// convention), which you must create.
    ///
    /// ## Source
    /// vllm-project/vllm#9255; Hugging Face gated-model docs; GKE vLLM samples (`hf-secret`).
    ///
    /// - <https://github.com/vllm-project/vllm/issues/9255>
    /// - <https://huggingface.co/docs/hub/models-gated>
    pub struct HfGatedNoToken {
        id: "hf-gated-no-token",
        severity: Error,
        fix: Always(Unsafe),
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
    const SERVERS: Servers = Servers::Complete;

    fn check_server(
        &self,
        cx: &Context,
        _spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        // Weights from a path need no token (`hf-offline-local-path` covers the Hub).
        if has_token(&server.container)
            || server
                .model()
                .and_then(|m| m.value)
                .is_some_and(|v| vllm::is_local_path(&v))
        {
            return;
        }
        let Some((model_ref, model)) = server.known_model(cx, out) else {
            return;
        };
        if !model.gated {
            return;
        }
        let message = format!(
            "{} is a gated repository and no Hugging Face token is set: the download will be refused",
            model.id
        );
        vllm::report_word(out, &model_ref.at, message)
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
