use kubectl_vllm_sdk::prelude::*;

use crate::claims;

declare_rule! {
    /// ## What it does
    /// Checks that a PVC's `storageClassName` names a StorageClass that exists. With a live
    /// cluster (`--cluster`, `apply`, `diff`) the cluster's classes decide: absent is an error.
    /// Offline a class outside the input set is a warning when the known facts contradict it (the
    /// config's cluster profile lists the classes, or the provider is GKE, whose built-ins are
    /// `standard-rwo`, `premium-rwo` and `standard`), and an info when the cluster's classes are
    /// not known (other providers, or an unknown one). The message says which source it used.
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
    /// The finding points at `storageClassName`. Not run while any input failed to load.
    ///
    /// ## Fix safety
    /// Unsafe: switches to the cluster's default class (`standard-rwo` on GKE), which may have a
    /// different disk type and price than intended.
    ///
    /// ## Source
    /// Field report ("Problem 1: StorageClass not found"); GKE persistent disk CSI driver docs;
    /// product.md ("References to objects outside the input set").
    ///
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/persistent-volumes/gce-pd-csi-driver>
    pub struct ScNotFound {
        id: "sc-not-found",
        severity: Error,
        fix: Sometimes(Unsafe),
        complete_set: true,
        summary: "a PVC names a StorageClass that does not exist",
    }
}

impl Rule for ScNotFound {
    const KINDS: Kinds = Kinds::Only(&["PersistentVolumeClaim"]);

    fn check_object(&self, cx: &Context, out: &mut Findings) {
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
        let classes = cx.env.storage_classes();
        let known: Vec<String> = classes.iter().map(|s| s.name.clone()).collect();
        let default = classes
            .iter()
            .find(|s| s.is_default)
            .map(|s| s.name.clone());
        let live = cx.env.profile().live;
        let (severity, message) = if live {
            (
                Severity::Error,
                format!(
                    "the cluster has no StorageClass `{name}`, and the input set defines none: the PVC will stay Pending"
                ),
            )
        } else if !known.is_empty() {
            let source = if cx.is_gke() && known.iter().any(|k| k == "standard-rwo") {
                "GKE's built-in classes"
            } else {
                "the cluster profile's classes"
            };
            (
                Severity::Warning,
                format!(
                    "StorageClass `{name}` is neither in the input set nor among {source} ({}): unless it is created first, the PVC will stay Pending",
                    known.join(", ")
                ),
            )
        } else {
            (
                Severity::Info,
                format!(
                    "StorageClass `{name}` is not in the input set, and this cluster's classes are not known: it must exist before the PVC is created"
                ),
            )
        };
        let finding = out
            .report(&at, message)
            .severity(severity)
            .help("use an existing class, add the StorageClass to the manifests, or list the cluster's classes under `cluster.storage-classes` (or lint with `--cluster`)");
        if let Some(default) = default {
            finding.fix(format!("use the default class `{default}`"), |fix| {
                fix.replace(&at, &json!(default));
            });
        }
    }
}
