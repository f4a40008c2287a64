use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Notes a model loaded from a path (`--model=/models/gemma-3-1b-it`) without
    /// `--served-model-name`. Info: serving under the path can be intended.
    ///
    /// ## Why is this bad?
    /// The OpenAI API's model id becomes the path: clients asking for `google/gemma-3-1b-it` get
    /// 404 `The model ... does not exist`, and the id changes whenever the mount path does.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["--model=/models/gemma-3-1b-it"]
    /// ```
    ///
    /// Use instead: `["--model=/models/gemma-3-1b-it", "--served-model-name=google/gemma-3-1b-it"]`.
    ///
    /// The finding points at the model.
    ///
    /// ## Fix safety
    /// Unsafe: adds `--served-model-name` with the model's Hugging Face id from the fact table, or
    /// the path's last component. The API's model id changes: clients that send the path must
    /// switch, which is a change beyond the finding.
    ///
    /// ## Source
    /// vLLM CLI `--served-model-name`; llm-d gpt-oss patch; GKE GCS FUSE vLLM sample.
    ///
    /// - <https://docs.vllm.ai/en/latest/cli/serve.html>
    pub struct VllmFlagServedName {
        id: "vllm-flag-served-name",
        severity: Info,
        fix: Always(Unsafe),
        summary: "a model served from a path has the path as its API model id",
    }
}

impl Rule for VllmFlagServedName {
    const SERVERS: Servers = Servers::Complete;

    fn check_server(
        &self,
        cx: &Context,
        _spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let Some((model, fact)) = server.model_fact(cx) else {
            return;
        };
        let Some(path) = model.value.as_deref() else {
            return;
        };
        if !path.starts_with('/') || server.flag("served-model-name").is_some() {
            return;
        }
        let name = fact.map_or_else(
            || {
                path.trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or(path)
                    .to_string()
            },
            |m| m.id,
        );
        vllm::report_word(
            out,
            &model.at,
            format!("clients must call this model `{path}`: no --served-model-name"),
        )
        .help(format!("add --served-model-name={name}"))
        .fix(format!("add --served-model-name={name}"), |fix| {
            server.set_flag(fix, cx.object, "served-model-name", &name);
        });
    }
}
