use kubectl_vllm_sdk::prelude::*;

/// Provisioners of zonal Persistent Disks.
const ZONAL: &[&str] = &["pd.csi.storage.gke.io", "kubernetes.io/gce-pd"];

declare_rule! {
    /// ## What it does
    /// Finds a StorageClass for zonal Persistent Disks whose `volumeBindingMode` is `Immediate`
    /// (the default when the field is absent).
    ///
    /// ## Why is this bad?
    /// The disk is created at once, in some zone, before the pod is scheduled; if that zone has no
    /// node with the GPU type, the pod stays Pending with `node(s) had volume node affinity
    /// conflict`. `WaitForFirstConsumer` creates the disk where the pod lands.
    ///
    /// ## Example
    /// ```yaml
    /// kind: StorageClass
    /// provisioner: pd.csi.storage.gke.io
    /// ```
    ///
    /// Use instead: add `volumeBindingMode: WaitForFirstConsumer`.
    ///
    /// The finding points at `volumeBindingMode`, else the class's `provisioner`.
    ///
    /// ## Fix safety
    /// Safe for classes in the set. The field is immutable: an existing class must be recreated.
    ///
    /// ## Source
    /// Kubernetes "Storage Classes: Volume Binding Mode".
    ///
    /// - <https://kubernetes.io/docs/concepts/storage/storage-classes/#volume-binding-mode>
    pub struct ScBindingMode {
        id: "sc-binding-mode",
        severity: Warning,
        fix: Always(Safe),
        summary: "a zonal disk StorageClass binds volumes before pods are scheduled",
    }
}

impl Rule for ScBindingMode {
    const KINDS: Kinds = Kinds::Only(&["StorageClass"]);

    fn check_object(&self, cx: &Context, out: &mut Findings) {
        if cx.kind() != "StorageClass" {
            return;
        }
        let provisioner = cx
            .object
            .get("provisioner")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !ZONAL.contains(&provisioner) {
            return;
        }
        let mode_at = Pointer::from_path("/volumeBindingMode");
        let mode = cx.object.get("volumeBindingMode").and_then(Value::as_str);
        if mode.is_some_and(|m| m != "Immediate") {
            return;
        }
        let at = if mode.is_some() {
            mode_at.clone()
        } else {
            Pointer::from_path("/provisioner")
        };
        out.report(
            &at,
            "zonal disks bound Immediately land in a zone chosen before the GPU pod is scheduled",
        )
        .help("set volumeBindingMode: WaitForFirstConsumer")
        .fix("set volumeBindingMode: WaitForFirstConsumer", |fix| {
            fix.set_key(
                cx.object,
                &Pointer::root(),
                "volumeBindingMode",
                json!("WaitForFirstConsumer"),
            );
        });
    }
}
