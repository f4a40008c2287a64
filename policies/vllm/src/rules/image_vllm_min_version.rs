use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Compares the vLLM release a pinned image ships (from the image table: the tag of
    /// `vllm/vllm-openai`, the release notes of NGC's `YY.MM-py3` tags, ...) with the oldest vLLM
    /// that serves the model (the model fact table's `min-vllm`: 0.10.1 for gpt-oss, 0.8.0 for
    /// Gemma 3). Images whose vLLM release the table does not know (`lmcache/vllm-openai`, whose
    /// tags are LMCache versions; a custom build) and floating tags are not checked.
    ///
    /// ## Why is this bad?
    /// An older vLLM does not know the architecture and exits at startup (`Model architectures
    /// ['GptOssForCausalLM'] are not supported`).
    ///
    /// ## Example
    /// ```yaml
    /// image: vllm/vllm-openai:v0.9.2
    /// args: ["--model=openai/gpt-oss-20b"]
    /// ```
    ///
    /// Use instead: `vllm/vllm-openai:v0.10.1` or newer.
    ///
    /// The finding points at `image`.
    ///
    /// ## Fix safety
    /// No fix: an upgrade can change flags and defaults.
    ///
    /// ## Source
    /// OpenAI cookbook "Run gpt-oss with vLLM" (0.10.1); vllm-project/vllm#22525; vLLM release notes.
    ///
    /// - <https://cookbook.openai.com/articles/gpt-oss/run-vllm>
    /// - <https://github.com/vllm-project/vllm/issues/22525>
    pub struct ImageVllmMinVersion {
        id: "image-vllm-min-version",
        severity: Error,
        fix: None,
        summary: "the pinned vLLM image is older than the model needs",
    }
}

fn parse(version: &str) -> Option<(u32, u32, u32)> {
    vllm::tag_version(version)
}

impl Rule for ImageVllmMinVersion {
    fn check_server(
        &self,
        cx: &Context,
        _spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let image = server.container.image();
        let Some(version) = cx
            .env
            .image(image)
            .and_then(|i| i.vllm_version)
            .as_deref()
            .and_then(parse)
        else {
            return;
        };
        let Some((_, model)) = server.known_model(cx, out) else {
            return;
        };
        let Some(minimum) = parse(&model.min_vllm) else {
            return;
        };
        if version >= minimum {
            return;
        }
        out.report(
            &server.container.pointer.key("image"),
            format!(
                "{} needs vLLM {} or newer, but `{image}` is older",
                model.id, model.min_vllm
            ),
        )
        .help(format!("use vLLM v{} or newer", model.min_vllm));
    }
}
