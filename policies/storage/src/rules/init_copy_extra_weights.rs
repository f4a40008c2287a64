use kubectl_vllm_sdk::prelude::*;

use crate::copy::copies;

declare_rule! {
    /// ## What it does
    /// Finds a copy initContainer that copies a model repository with folders vLLM does not need
    /// (the model fact table's `extra-folders`: gpt-oss's `original/` and `metal/`) without
    /// excluding them (`-x` / `--exclude`).
    ///
    /// ## Why is this bad?
    /// Two to three times the disk and copy time: gpt-oss-120b is about 180 GiB copied blindly
    /// against 61 GiB of weights vLLM loads; on a pd-standard disk every extra GiB is minutes.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["gsutil -m rsync -r gs://models/hf/gpt-oss-120b /models/gpt-oss-120b"]
    /// ```
    ///
    /// Use instead: `gsutil -m rsync -r -x '^(original|metal)/' gs://models/hf/gpt-oss-120b /models/gpt-oss-120b`.
    ///
    /// The finding points at `rsync`/`cp`.
    ///
    /// ## Fix safety
    /// Unsafe: adds an exclusion regex for the extra folders to `rsync` (`-x` for gsutil,
    /// `--exclude=` for gcloud storage); check nothing else you need lives there.
    ///
    /// ## Source
    /// Catalogue §1.3 and §9e (repository listings of openai/gpt-oss-20b and -120b).
    ///
    /// - <https://huggingface.co/openai/gpt-oss-120b/tree/main>
    /// - <https://cloud.google.com/storage/docs/gsutil/commands/rsync>
    pub struct InitCopyExtraWeights {
        id: "init-copy-extra-weights",
        severity: Warning,
        fix: Sometimes(Unsafe),
        summary: "the copy initContainer copies repository folders vLLM does not load",
    }
}

impl Rule for InitCopyExtraWeights {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        for copy in copies(spec) {
            if copy.excludes {
                continue;
            }
            let Some(model) = cx.model(&copy.source.text) else {
                continue;
            };
            if model.extra_folders.is_empty() {
                continue;
            }
            let folders: Vec<&str> = model
                .extra_folders
                .iter()
                .map(|f| f.trim_end_matches('/'))
                .collect();
            let pattern = format!("^({})/", folders.join("|"));
            let finding = vllm::report_word(
                out,
                &copy.verb,
                format!(
                    "copies all of {} ({}) although vLLM loads {}; {} are not needed",
                    model.id,
                    quantity::human(model.repository_mib * quantity::MIB),
                    quantity::human(model.weights_mib * quantity::MIB),
                    model.extra_folders.join(", ")
                ),
            )
            .help(format!("exclude them: rsync -x '{pattern}' (gsutil) or --exclude='{pattern}' (gcloud storage)"));
            if copy.verb.text != "rsync" {
                continue;
            }
            let gsutil = copy.tool.text.ends_with("gsutil");
            if copy.verb.is_element() {
                // Insert the flag as new elements right after `rsync`.
                let path = copy.verb.pointer.as_str();
                let Some((parent, index)) = path.rsplit_once('/') else {
                    continue;
                };
                let Ok(index) = index.parse::<usize>() else {
                    continue;
                };
                let parent = Pointer::from_path(parent);
                let added: Vec<String> = if gsutil {
                    vec!["-x".into(), pattern.clone()]
                } else {
                    vec![format!("--exclude={pattern}")]
                };
                finding.fix("exclude the extra folders", |fix| {
                    for (offset, word) in added.iter().enumerate() {
                        fix.add(&parent.index(index + 1 + offset), &json!(word));
                    }
                });
            } else {
                let text = if gsutil {
                    format!("rsync -x '{pattern}'")
                } else {
                    format!("rsync --exclude='{pattern}'")
                };
                finding.fix("exclude the extra folders", |fix| {
                    vllm::replace_word(fix, cx.object, &copy.verb, &text);
                });
            }
        }
    }
}
