use kubectl_vllm_sdk::prelude::*;

use crate::copy::{copies, on_volume};

declare_rule! {
    /// ## What it does
    /// Compares where the copy initContainer puts the model with where vLLM loads it: the copy's
    /// destination (for `cp -r` into a directory, the source's last folder inside it) and the
    /// server's `--model` path, both resolved to a volume and a path inside it through each
    /// container's `volumeMounts` (and `subPath`).
    ///
    /// ## Why is this bad?
    /// vLLM looks where nothing was copied and stops: `OSError ... does not appear to have a file
    /// named config.json`, or a Hugging Face repo-id validation error for the path; the pod
    /// crash-loops after every copy.
    ///
    /// ## Example
    /// ```yaml
    /// initContainers:
    /// - args: ["gcloud storage cp -r gs://models/hf/gemma-3-1b-it /models/"]   # → /models/gemma-3-1b-it
    /// containers:
    /// - args: ["--model=/models/gemma-3-1b"]
    /// ```
    ///
    /// Use instead: `--model=/models/gemma-3-1b-it`.
    ///
    /// The finding points at the server's `--model`.
    ///
    /// ## Fix safety
    /// No fix: either side may be the wrong one.
    ///
    /// ## Source
    /// Catalogue §9e; field report (the GCS copy initContainer).
    ///
    /// - <https://cloud.google.com/storage/docs/gsutil/commands/cp>
    pub struct InitCopyPathMismatch {
        id: "init-copy-path-mismatch",
        severity: Error,
        fix: None,
        summary: "the copy initContainer fills a different path than vLLM loads",
    }
}

impl Rule for InitCopyPathMismatch {
    // Only a pod that copies a model reads its servers.
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        let copies = copies(spec);
        if copies.is_empty() {
            return;
        }
        for server in cx.servers_checked(spec, out) {
            let Some(model) = server.model() else {
                continue;
            };
            let Some(path) = model.value.as_deref().filter(|p| p.starts_with('/')) else {
                continue;
            };
            let read = on_volume(&server.container, path);
            let written: Vec<(String, (String, String))> = copies
                .iter()
                .filter_map(|c| {
                    let dir = c.target_dir()?;
                    Some((dir.clone(), on_volume(&c.container, &dir)?))
                })
                .collect();
            if written.is_empty() || written.iter().any(|(_, w)| Some(w) == read.as_ref()) {
                continue;
            }
            let (dir, (volume, _)) = &written[0];
            let message = match &read {
                Some((v, _)) if v == volume => {
                    format!("the initContainer copies the model to `{dir}` but vLLM loads `{path}`")
                }
                _ => format!(
                    "the initContainer copies the model to `{dir}` on volume `{volume}`, which vLLM's `{path}` is not on"
                ),
            };
            vllm::report_word(out, &model.at, message)
                .help("make --model the directory the copy fills (same volume, same path)");
        }
    }
}
