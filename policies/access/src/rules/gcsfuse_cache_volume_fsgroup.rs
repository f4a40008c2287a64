use kubectl_vllm_sdk::prelude::*;

const SIDECAR_VOLUMES: &[&str] = &["gke-gcsfuse-cache", "gke-gcsfuse-buffer", "gke-gcsfuse-tmp"];

declare_rule! {
    /// ## What it does
    /// Finds a pod that backs one of the GCS FUSE sidecar's volumes (`gke-gcsfuse-cache`,
    /// `gke-gcsfuse-buffer`, `gke-gcsfuse-tmp`) with a volume that keeps its owner (a
    /// PersistentVolumeClaim, a hostPath, an ephemeral claim) without `securityContext.fsGroup`.
    /// An `emptyDir` is not reported: the kubelet creates it world-writable, and the driver's
    /// own examples use one without fsGroup.
    ///
    /// ## Why is this bad?
    /// The sidecar runs as a non-root user and cannot write to the volume: `Panic:
    /// createFileCacheHandler: error while creating file cache directory ... permission denied`,
    /// and the mount fails. GKE's gcsfuse-shared-cache vLLM sample has this bug.
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    /// - name: gke-gcsfuse-cache
    ///   persistentVolumeClaim: {claimName: cache}
    /// ```
    ///
    /// Use instead: add `securityContext: {fsGroup: 2000}` to the pod spec.
    ///
    /// The finding points at the volume's name.
    ///
    /// ## Fix safety
    /// Safe: sets `securityContext.fsGroup: 2000` (any group works; files become group-writable).
    ///
    /// ## Source
    /// GCS FUSE CSI driver troubleshooting ("Specify a securityContext fsGroup").
    ///
    /// - <https://github.com/GoogleCloudPlatform/gcs-fuse-csi-driver/blob/main/docs/troubleshooting.md>
    pub struct GcsfuseCacheVolumeFsgroup {
        id: "gcsfuse-cache-volume-fsgroup",
        severity: Error,
        fix: Always(Safe),
        providers: [Gke],
        summary: "custom GCS FUSE sidecar volumes without an fsGroup",
    }
}

impl Rule for GcsfuseCacheVolumeFsgroup {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        if spec.spec.pointer("/securityContext/fsGroup").is_some() {
            return;
        }
        // An emptyDir is created world-writable: only a volume that keeps its owner (a
        // PVC, a hostPath, an ephemeral claim) locks the sidecar out.
        let Some((i, name)) = spec.volumes().iter().enumerate().find_map(|(i, v)| {
            let name = v.get("name").and_then(Value::as_str)?;
            (SIDECAR_VOLUMES.contains(&name) && v.get("emptyDir").is_none()).then_some((i, name))
        }) else {
            return;
        };
        let at = spec.at().key("volumes").index(i);
        if !cx.check_provider(out, &at) {
            return;
        }
        out.report(&at, format!("volume `{name}` is written by the non-root GCS FUSE sidecar, but the pod sets no fsGroup: permission denied"))
            .help("set securityContext.fsGroup")
            .fix("set securityContext.fsGroup: 2000", |fix| {
                fix.set_key(cx.object, &spec.at().key("securityContext"), "fsGroup", json!(2000));
            });
    }
}
