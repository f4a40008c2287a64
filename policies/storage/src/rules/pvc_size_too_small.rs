use kubectl_vllm_sdk::prelude::*;

use crate::claims;

declare_rule! {
    /// ## What it does
    /// Checks that a PersistentVolumeClaim that holds model weights is large enough for them. The
    /// model is found on the workloads of the input set that mount the claim: the vLLM container's
    /// `--model` (or the positional model of `vllm serve`), resolving `$(VAR)` from its env, and
    /// the `gs://` source of a copy initContainer. Its size comes from the model fact table
    /// (weights × 1.1; the whole repository × 1.1 when a copier copies a model that has extra
    /// folders, such as gpt-oss's `original/` and `metal/`, without `--exclude`).
    ///
    /// ## Why is this bad?
    /// The copier or downloader fails with `No space left on device` and the pod sits in
    /// `Init:CrashLoopBackOff`, after minutes of copying.
    ///
    /// ## Example
    /// ```yaml
    /// # the Deployment runs --model=/models/gemma-3-27b-it (51.1 GiB of weights)
    /// kind: PersistentVolumeClaim
    /// spec:
    ///   resources:
    ///     requests:
    ///       storage: 50Gi
    /// ```
    ///
    /// Use instead: `storage: 60Gi` or more.
    ///
    /// The finding points at `spec.resources.requests.storage` (or the nearest existing parent).
    /// A model that is not in the fact table yields `model-unknown` (info) instead, saying how to
    /// add it in `.kubectl-vllm.yaml`.
    ///
    /// ## Fix safety
    /// Unsafe: raising the request costs money, and shrinking back is impossible; the PD CSI driver
    /// grows existing volumes only when the StorageClass has `allowVolumeExpansion: true`.
    ///
    /// ## Source
    /// Catalogue table 1.3 (checkpoint sizes from the Hugging Face repositories).
    ///
    /// - <https://huggingface.co/google/gemma-3-27b-it/tree/main>
    /// - <https://huggingface.co/openai/gpt-oss-120b/tree/main>
    pub struct PvcSizeTooSmall {
        id: "pvc-size-too-small",
        severity: Error,
        fix: Always(Unsafe),
        summary: "a PVC holding model weights is smaller than the model",
    }
}

impl Rule for PvcSizeTooSmall {
    const KINDS: Kinds = Kinds::Only(&["PersistentVolumeClaim"]);

    fn check_object(&self, cx: &Context, out: &mut Findings) {
        if cx.kind() != "PersistentVolumeClaim" {
            return;
        }
        let claim = cx.name();
        if claim.is_empty() {
            return;
        }
        let storage_at = Pointer::from_path("/spec/resources/requests/storage");
        let Some(requested) = cx
            .object
            .pointer(storage_at.as_str())
            .and_then(quantity::bytes)
        else {
            return;
        };
        let uses = claims::users(cx, claim);
        let Some(need) = claims::requirement(&uses) else {
            // No user's model is in the fact table: the check needed the first one named.
            if let Some(reference) = uses.iter().find_map(|u| u.reference.as_deref()) {
                cx.model_checked(reference, &storage_at, out);
            }
            return;
        };
        let (Some(model), Some(needed)) = (&need.model, need.required_bytes()) else {
            return;
        };
        if requested >= needed {
            return;
        }
        let size = quantity::gib_ceil(needed);
        let what = if need.copies_extra {
            format!(
                "copies all of {} ({} with {}) without excluding them",
                model.id,
                quantity::human(model.repository_mib * quantity::MIB),
                model.extra_folders.join(" and ")
            )
        } else {
            format!(
                "serves {} with {} of weights",
                model.id,
                quantity::human(model.weights_mib * quantity::MIB)
            )
        };
        out.report(
            &storage_at,
            format!(
                "PVC `{claim}` requests {} but {} {what}: the copy will run out of space",
                quantity::human(requested),
                need.owner
            ),
        )
        .help(format!("request at least {size} (+10%)"))
        .fix(format!("raise the request to {size}"), |fix| {
            fix.replace(&storage_at, &json!(size));
        });
    }
}
