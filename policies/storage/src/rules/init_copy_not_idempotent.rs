use kubectl_vllm_sdk::prelude::*;

use crate::copy::copies;

declare_rule! {
    /// ## What it does
    /// Finds a copy initContainer that runs `gcloud storage cp -r` / `gsutil cp -r` into a
    /// persistent volume without checking for an earlier copy (`[ -f marker ] || ...`).
    ///
    /// ## Why is this bad?
    /// Every pod restart copies the whole model again (minutes to tens of minutes on a persistent
    /// disk), which defeats the cache the volume is for; `rsync` only transfers what changed. The
    /// field report switched to rsync for the larger models.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["gcloud storage cp -r gs://models/hf/gemma-3-1b-it /models/"]
    /// ```
    ///
    /// Use instead: `gcloud storage rsync --recursive gs://models/hf/gemma-3-1b-it /models/gemma-3-1b-it`.
    ///
    /// The finding points at `cp` (inside a script, at the word).
    ///
    /// ## Fix safety
    /// Unsafe, offered for `sh -c` scripts: rewrites the command to `gcloud storage rsync
    /// --recursive SOURCE TARGET`, which also deletes nothing but changes the tool's semantics
    /// and output.
    ///
    /// ## Source
    /// Catalogue §9e; gcloud storage rsync.
    ///
    /// - <https://cloud.google.com/sdk/gcloud/reference/storage/rsync>
    pub struct InitCopyNotIdempotent {
        id: "init-copy-not-idempotent",
        severity: Warning,
        fix: Sometimes(Unsafe),
        summary: "the copy initContainer copies the whole model on every start",
    }
}

impl Rule for InitCopyNotIdempotent {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        if spec.claim_names().is_empty() {
            return;
        }
        for copy in copies(spec) {
            if copy.verb.text != "cp" || !copy.recursive || copy.guarded {
                continue;
            }
            let finding = vllm::report_word(
                out,
                &copy.verb,
                "`cp -r` copies the whole model on every pod start",
            )
            .help("use rsync (only changes are copied), or guard the copy with a marker file");
            let (Some(dest), Some(target)) = (&copy.dest, copy.target_dir()) else {
                continue;
            };
            let (Some((start, _)), Some((_, end))) = (copy.tool.chars, dest.chars) else {
                continue;
            };
            if copy.tool.pointer != dest.pointer {
                continue;
            }
            let script = cx
                .object
                .pointer(dest.pointer.as_str())
                .and_then(Value::as_str)
                .unwrap_or("");
            let byte = |c: usize| {
                script
                    .char_indices()
                    .nth(c)
                    .map_or(script.len(), |(i, _)| i)
            };
            let rewritten = format!(
                "{}gcloud storage rsync --recursive {} {target}{}",
                &script[..byte(start)],
                copy.source.text,
                &script[byte(end)..]
            );
            finding.fix("rewrite the copy as gcloud storage rsync", |fix| {
                fix.replace(&dest.pointer, &json!(rewritten));
            });
        }
    }
}
