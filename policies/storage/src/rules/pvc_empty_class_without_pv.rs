use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Finds a PVC with `storageClassName: ""` that no PersistentVolume of the input set can bind:
    /// none named by its `volumeName`, none whose `claimRef` names it. Offline that is an info
    /// (the PV may have been made elsewhere); with a live cluster, an error when the PV its
    /// `volumeName` names is missing there too, a warning without `volumeName`.
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
        complete_set: true,
        summary: "a classless PVC has no PersistentVolume to bind",
    }
}

impl Rule for PvcEmptyClassWithoutPv {
    const KINDS: Kinds = Kinds::Only(&["PersistentVolumeClaim"]);

    fn check_object(&self, cx: &Context, out: &mut Findings) {
        if cx.kind() != "PersistentVolumeClaim"
            || cx
                .object
                .pointer("/spec/storageClassName")
                .and_then(Value::as_str)
                != Some("")
        {
            return;
        }
        let name = cx.name();
        let by_name = cx
            .object
            .pointer("/spec/volumeName")
            .and_then(Value::as_str)
            .is_some_and(|v| {
                cx.env
                    .mentioning("PersistentVolume", None, v)
                    .iter()
                    .any(|pv| pv.pointer("/metadata/name").and_then(Value::as_str) == Some(v))
            });
        let by_claim_ref = cx
            .env
            .mentioning("PersistentVolume", None, name)
            .iter()
            .any(|pv| {
                pv.pointer("/spec/claimRef/name").and_then(Value::as_str) == Some(name)
                    && pv
                        .pointer("/spec/claimRef/namespace")
                        .and_then(Value::as_str)
                        .is_none_or(|ns| Some(ns) == cx.namespace())
            });
        if by_name || by_claim_ref {
            return;
        }
        // Offline, the pre-loaded PV may have been made outside the set. A live cluster was asked
        // for the PV named by `volumeName`; a PV that binds by its claimRef is not looked up.
        let live = cx.env.profile().live;
        let named = cx.object.pointer("/spec/volumeName").is_some();
        let (severity, message) = match (live, named) {
            (true, true) => (
                Severity::Error,
                format!(
                    "PVC `{name}` asks for a classless volume, and neither the input set nor the cluster has the PersistentVolume it names: it stays Pending"
                ),
            ),
            (true, false) => (
                Severity::Warning,
                format!(
                    "PVC `{name}` asks for a classless volume without volumeName, and no PersistentVolume of the input set claims it: unless a PV in the cluster does, it stays Pending"
                ),
            ),
            (false, _) => (
                Severity::Info,
                format!(
                    "PVC `{name}` asks for a classless volume, and no PersistentVolume of the input set can bind it: one must exist before it is created, or it stays Pending"
                ),
            ),
        };
        out.report(&Pointer::from_path("/spec/storageClassName"), message)
            .severity(severity)
            .help("add the pre-loaded PV (and volumeName), or name a StorageClass");
    }
}
