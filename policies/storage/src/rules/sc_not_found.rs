use kubectl_vllm_sdk::prelude::*;

use crate::claims;

declare_rule! {
    /// ## What it does
    /// Checks that a PVC's `storageClassName` names a StorageClass that exists: defined in the
    /// input set, in the config's cluster profile, or (by default on GKE) one of GKE's built-ins
    /// `standard-rwo`, `premium-rwo` and `standard`. The message says which source it used.
    ///
    /// ## Why is this bad?
    /// The field report's first deployment failed on this: `standard-gce-pd` "does not exist by
    /// default", so the PVC stays Pending (`storageclass.storage.k8s.io "standard-gce-pd" not
    /// found`) and the pod waits for it forever.
    ///
    /// ## Example
    /// ```yaml
    /// kind: PersistentVolumeClaim
    /// spec:
    ///   storageClassName: standard-gce-pd
    /// ```
    ///
    /// Use instead: `storageClassName: standard-rwo`, or ship the StorageClass with the set.
    ///
    /// The finding points at `storageClassName`. Not reported while any input failed to load.
    ///
    /// ## Fix safety
    /// Unsafe: switches to the cluster's default class (`standard-rwo` on GKE), which may have a
    /// different disk type and price than intended.
    ///
    /// ## Source
    /// Field report ("Problem 1: StorageClass not found"); GKE persistent disk CSI driver docs.
    ///
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/persistent-volumes/gce-pd-csi-driver>
    pub struct ScNotFound {
        id: "sc-not-found",
        severity: Error,
        fix: Sometimes(Unsafe),
        summary: "a PVC names a StorageClass that does not exist",
    }
}

impl Rule for ScNotFound {
    fn check(&self, cx: &Context, out: &mut Findings) {
        if cx.kind() != "PersistentVolumeClaim" {
            return;
        }
        let Some((name, None)) = claims::class_of(cx, cx.object) else {
            return;
        };
        if cx.object.pointer("/spec/storageClassName").is_none() {
            return; // no default class known: nothing to say
        }
        let at = Pointer::from_path("/spec/storageClassName");
        let known: Vec<String> = cx
            .env
            .storage_classes()
            .into_iter()
            .map(|s| s.name)
            .collect();
        let default = cx
            .env
            .storage_classes()
            .into_iter()
            .find(|s| s.is_default)
            .map(|s| s.name);
        let finding = out
            .report(
                &at,
                format!(
                    "StorageClass `{name}` is neither in the input set nor in the cluster profile ({}): the PVC will stay Pending",
                    if known.is_empty() { "which lists none".to_string() } else { known.join(", ") }
                ),
            )
            .help("use an existing class, or add the StorageClass to the manifests");
        if let Some(default) = default {
            finding.fix(format!("use the default class `{default}`"), |fix| {
                fix.replace(&at, &json!(default));
            });
        }
    }
}
