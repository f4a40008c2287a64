use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Finds a PVC with `storageClassName: ""` that no PersistentVolume of the input set can bind:
    /// none named by its `volumeName`, none whose `claimRef` names it.
    ///
    /// ## Why is this bad?
    /// `""` means "a PV with no class": dynamic provisioning is off, so without such a PV the PVC is
    /// Pending forever, and so is the pod.
    ///
    /// ## Example
    /// ```yaml
    /// kind: PersistentVolumeClaim
    /// spec:
    ///   storageClassName: ""
    /// ```
    ///
    /// Use instead: a StorageClass name, or a pre-loaded PV with `volumeName` (see the field
    /// report's preloaded-volume.yaml).
    ///
    /// The finding points at `storageClassName`. Not reported while any input failed to load.
    ///
    /// ## Fix safety
    /// No fix: either a PV is missing from the set or the class is wrong.
    ///
    /// ## Source
    /// Kubernetes "Persistent Volumes: Class".
    ///
    /// - <https://kubernetes.io/docs/concepts/storage/persistent-volumes/#class-1>
    pub struct PvcEmptyClassWithoutPv {
        id: "pvc-empty-class-without-pv",
        severity: Error,
        fix: None,
        summary: "a classless PVC has no PersistentVolume to bind",
    }
}

impl Rule for PvcEmptyClassWithoutPv {
    fn check(&self, cx: &Context, out: &mut Findings) {
        if cx.kind() != "PersistentVolumeClaim"
            || cx
                .object
                .pointer("/spec/storageClassName")
                .and_then(Value::as_str)
                != Some("")
        {
            return;
        }
        let name = cx
            .object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let volumes = cx.env.list("PersistentVolume", None, "");
        let by_name = cx
            .object
            .pointer("/spec/volumeName")
            .and_then(Value::as_str)
            .is_some_and(|v| {
                volumes
                    .iter()
                    .any(|pv| pv.pointer("/metadata/name").and_then(Value::as_str) == Some(v))
            });
        let by_claim_ref = volumes.iter().any(|pv| {
            pv.pointer("/spec/claimRef/name").and_then(Value::as_str) == Some(name)
                && pv
                    .pointer("/spec/claimRef/namespace")
                    .and_then(Value::as_str)
                    .is_none_or(|ns| Some(ns) == cx.namespace())
        });
        if by_name || by_claim_ref {
            return;
        }
        out.report(
            &Pointer::from_path("/spec/storageClassName"),
            format!("PVC `{name}` asks for a classless volume, and no PersistentVolume of the input set can bind it: it stays Pending"),
        )
        .help("add the pre-loaded PV (and volumeName), or name a StorageClass");
    }
}
