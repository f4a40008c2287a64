use kubectl_vllm_sdk::prelude::*;

/// The tag the fix pins: the newest release this project's fixtures and rules were checked
/// against (it serves every model of the fact table, gpt-oss included).
pub const PINNED_TAG: &str = "v0.10.2";

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
    /// Use instead: `vllm/vllm-openai:v0.10.2`, or a digest.
    ///
    /// The finding points at `image`.
    ///
    /// ## Fix safety
    /// Unsafe: pins `v0.10.2`, which may be older or newer than what `latest` gave you; prefer
    /// your organisation's tested version.
    ///
    /// ## Source
    /// vllm-project/vllm#21979; gpustack#4678; field report ("Container Image and Driver
    /// Incompatibility").
    ///
    /// - <https://github.com/vllm-project/vllm/issues/21979>
    pub struct ImageTagFloating {
        id: "image-tag-floating",
        severity: Warning,
        fix: Always(Unsafe),
        summary: "a vLLM image is not pinned to a version",
    }
}

impl Rule for ImageTagFloating {
    fn check(&self, cx: &Context, out: &mut Findings) {
        for spec in k8s::pod_specs(cx.kind(), cx.object) {
            for container in spec.app_containers() {
                let image = container.image();
                if !vllm::is_vllm_image(image) || image.contains('@') {
                    continue;
                }
                let tag = vllm::image_tag(image);
                if !matches!(tag, None | Some("latest" | "nightly")) {
                    continue;
                }
                let repository = vllm::image_repository(image);
                let pinned = format!("{repository}:{PINNED_TAG}");
                let at = container.pointer.key("image");
                let shown = tag.map_or_else(|| "no tag".to_string(), |t| format!("`:{t}`"));
                out.report(
                    &at,
                    format!("`{image}` ({shown}) pulls whatever vLLM was published last"),
                )
                .help("pin a release tag or a digest")
                .fix(format!("pin {pinned}"), |fix| {
                    fix.replace(&at, &json!(pinned));
                });
            }
        }
    }
}
