use kubectl_vllm_sdk::Model;
use kubectl_vllm_sdk::prelude::*;

/// Headroom over the weights: filesystem overhead, tokenizer and config files, partial downloads.
const HEADROOM_PERCENT: u64 = 110;

/// Workload kinds whose pod templates can mount a claim.
const WORKLOADS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
    "LeaderWorkerSet",
];

declare_rule! {
    /// ## What it does
    /// Checks that a PersistentVolumeClaim that holds model weights is large enough for them. The
    /// model is found on the workloads of the input set that mount the claim: the vLLM container's
    /// `--model` (or the positional model of `vllm serve`), resolving `$(VAR)` from its env, and
    /// the `gs://` source of a copy initContainer. Its size comes from the model fact table
    /// (weights × 1.1).
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
    fn check(&self, cx: &Context, out: &mut Findings) {
        if cx.kind() != "PersistentVolumeClaim" {
            return;
        }
        let Some(claim) = cx.object.pointer("/metadata/name").and_then(Value::as_str) else {
            return;
        };
        let storage_at = Pointer::from_path("/spec/resources/requests/storage");
        let Some(requested) = cx
            .object
            .pointer(storage_at.as_str())
            .and_then(quantity::bytes)
        else {
            return;
        };
        let mut known: Vec<(Model, String)> = Vec::new();
        let mut unknown: Vec<(String, String)> = Vec::new();
        for kind in WORKLOADS {
            for workload in cx.env.list(kind, cx.namespace(), "") {
                let Some(spec) = k8s::pod_spec(kind, &workload) else {
                    continue;
                };
                if !spec.claim_names().contains(&claim) {
                    continue;
                }
                let name = workload
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let owner = format!("{kind}/{name}");
                let mut references: Vec<String> = vllm::servers(&spec, cx.env, cx.namespace())
                    .iter()
                    .filter_map(|server| server.model()?.value)
                    .collect();
                references.extend(vllm::gcs_sources(&spec).into_iter().map(|(url, _)| url));
                for reference in references {
                    let model = vllm::model_names(&reference)
                        .iter()
                        .find_map(|n| cx.env.model(n));
                    match model {
                        Some(model) => known.push((model, owner.clone())),
                        None => unknown.push((reference, owner.clone())),
                    }
                }
            }
        }
        let Some((model, owner)) = known.into_iter().max_by_key(|(m, _)| m.weights_mib) else {
            if let Some((reference, owner)) = unknown.first() {
                out.report_as(
                    "model-unknown",
                    &storage_at,
                    format!(
                        "{owner} serves `{reference}`, which is not in the model fact table; the size of PVC `{claim}` was not checked"
                    ),
                )
                .help("add the model under `facts.models` in .kubectl-vllm.yaml (id, aliases, weights-mib, ...)");
            }
            return;
        };
        let needed = model.weights_mib * quantity::MIB * HEADROOM_PERCENT / 100;
        if requested >= needed {
            return;
        }
        let size = quantity::gib_ceil(needed);
        out.report(
            &storage_at,
            format!(
                "PVC `{claim}` requests {} but {owner} serves {} with {} of weights: the copy will run out of space",
                quantity::human(requested),
                model.id,
                quantity::human(model.weights_mib * quantity::MIB),
            ),
        )
        .help(format!("request at least {size} (weights + 10%)"))
        .fix(format!("raise the request to {size}"), |fix| {
            fix.replace(&storage_at, &json!(size));
        });
    }
}
