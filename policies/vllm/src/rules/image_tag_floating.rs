use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Finds vLLM images without a fixed version: no tag, `:latest` or `:nightly` (and no digest).
    ///
    /// ## Why is this bad?
    /// Every restart may pull a different vLLM: entrypoints move, the V0 engine was removed, CUDA
    /// base images change (GKE saw `Error 803: system has unsupported display driver / cuda driver
    /// combination` with `:latest`). The field report's manifests used `vllm/vllm-openai:latest`.
    ///
    /// ## Example
    /// ```yaml
    /// image: vllm/vllm-openai:latest
    /// ```
    ///
    /// Use instead: a release tag (`vllm/vllm-openai:v0.20.0`), or a digest.
    ///
    /// The finding points at `image`.
    ///
    /// ## Fix safety
    /// Unsafe: pins the image table's `pin` for the repository (`v0.20.0` for
    /// `vllm/vllm-openai`: the oldest release with the newest row's facts, CUDA 13 and the GKE
    /// driver directory), which is older than what `latest` pulls today; prefer your
    /// organisation's tested version. Offered only where the table names a pin: other
    /// repositories (`lmcache/vllm-openai`, NGC) number their tags their own way.
    ///
    /// ## Source
    /// vllm-project/vllm#21979; gpustack#4678; field report ("Container Image and Driver
    /// Incompatibility").
    ///
    /// - <https://github.com/vllm-project/vllm/issues/21979>
    pub struct ImageTagFloating {
        id: "image-tag-floating",
        severity: Warning,
        fix: Sometimes(Unsafe),
        summary: "a vLLM image is not pinned to a version",
    }
}

impl Rule for ImageTagFloating {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        for container in spec.app_containers() {
            let image = container.image();
            if !vllm::is_vllm_image(image) || image.contains('@') {
                continue;
            }
            let tag = vllm::image_tag(image);
            if !matches!(tag, None | Some("latest" | "nightly")) {
                continue;
            }
            let at = container.pointer.key("image");
            let shown = tag.map_or_else(|| "no tag".to_string(), |t| format!("`:{t}`"));
            let finding = out
                .report(
                    &at,
                    format!("`{image}` ({shown}) pulls whatever vLLM was published last; the checks take the newest release's facts for it"),
                )
                .help("pin a release tag or a digest");
            if let Some(pin) = cx.env.image(image).and_then(|i| i.pin) {
                let pinned = format!("{}:{pin}", vllm::image_repository(image));
                finding.fix(format!("pin {pinned}"), |fix| {
                    fix.replace(&at, &json!(pinned));
                });
            }
        }
    }
}
