use kubectl_vllm_sdk::prelude::*;

const SIDECAR_VOLUMES: &[&str] = &["gke-gcsfuse-cache", "gke-gcsfuse-buffer", "gke-gcsfuse-tmp"];

declare_rule! {
    /// ## What it does
    /// Finds a pod that defines its own GCS FUSE sidecar volumes (`gke-gcsfuse-cache`,
    /// `gke-gcsfuse-buffer`, `gke-gcsfuse-tmp`) without `securityContext.fsGroup`.
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
        summary: "custom GCS FUSE sidecar volumes without an fsGroup",
    }
}

impl Rule for GcsfuseCacheVolumeFsgroup {
    fn check(&self, cx: &Context, out: &mut Findings) {
        for spec in k8s::pod_specs(cx.kind(), cx.object) {
            if spec.spec.pointer("/securityContext/fsGroup").is_some() {
                continue;
            }
            let Some((i, name)) = spec.volumes().iter().enumerate().find_map(|(i, v)| {
                let name = v.get("name").and_then(Value::as_str)?;
                SIDECAR_VOLUMES.contains(&name).then_some((i, name))
            }) else {
                continue;
            };
            out.report(&spec.at().key("volumes").index(i), format!("volume `{name}` is written by the non-root GCS FUSE sidecar, but the pod sets no fsGroup: permission denied"))
                .help("set securityContext.fsGroup")
                .fix("set securityContext.fsGroup: 2000", |fix| {
                    fix.set_key(cx.object, &spec.at().key("securityContext"), "fsGroup", json!(2000));
                });
        }
    }
}
