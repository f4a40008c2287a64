use kubectl_vllm_sdk::prelude::*;

use crate::common::uses_gcsfuse;

/// The pod annotation that makes GKE inject the GCS FUSE sidecar.
const ANNOTATION: &str = "gke-gcsfuse/volumes";

declare_rule! {
    /// ## What it does
    /// Finds a pod that mounts a GCS FUSE volume (an inline `gcsfuse.csi.storage.gke.io` CSI
    /// volume, or a PVC of the set bound to a GCS FUSE PV) whose pod template lacks the annotation
    /// `gke-gcsfuse/volumes: "true"`, including the common mistake of putting it on the
    /// Deployment's own metadata.
    ///
    /// ## Why is this bad?
    /// GKE's webhook injects the gcsfuse sidecar only into pods with that annotation; without it
    /// the mount fails: `MountVolume.SetUp failed ... rpc error: code = FailedPrecondition desc =
    /// failed to find the sidecar container in Pod spec`. The field report lost a day to a
    /// missing sidecar on Autopilot.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// metadata:
    ///   annotations: {gke-gcsfuse/volumes: "true"}   # wrong place
    /// spec:
    ///   template:
    ///     spec:
    ///       volumes:
    ///       - name: weights
    ///         csi: {driver: gcsfuse.csi.storage.gke.io, volumeAttributes: {bucketName: models}}
    /// ```
    ///
    /// Use instead: the annotation under `spec.template.metadata.annotations`.
    ///
    /// The finding points at the template's `annotations`, else its `metadata`.
    ///
    /// ## Fix safety
    /// Safe: adds `gke-gcsfuse/volumes: "true"` to the pod template.
    ///
    /// ## Source
    /// GCS FUSE CSI driver known issues and troubleshooting; field report (Part 1).
    ///
    /// - <https://github.com/GoogleCloudPlatform/gcs-fuse-csi-driver/blob/main/docs/known-issues.md>
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/persistent-volumes/cloud-storage-fuse-csi-driver>
    pub struct GcsfuseAnnotationMissing {
        id: "gcsfuse-annotation-missing",
        severity: Error,
        fix: Always(Safe),
        providers: [Gke],
        summary: "a pod mounts GCS FUSE without the sidecar-injection annotation",
    }
}

impl Rule for GcsfuseAnnotationMissing {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        if !uses_gcsfuse(cx, spec) {
            return;
        }
        let metadata = spec.metadata.clone();
        let annotations = metadata.key("annotations");
        let value = cx
            .object
            .pointer(annotations.key(ANNOTATION).as_str())
            .and_then(Value::as_str);
        if value == Some("true") {
            return;
        }
        let misplaced = spec.pointer.as_str() != "/spec"
            && cx
                .object
                .pointer(
                    Pointer::from_path("/metadata/annotations")
                        .key(ANNOTATION)
                        .as_str(),
                )
                .is_some();
        let at = if cx.object.pointer(annotations.as_str()).is_some() {
            annotations.clone()
        } else {
            metadata.clone()
        };
        if !cx.check_provider(out, &at) {
            return;
        }
        let message = if misplaced {
            "gke-gcsfuse/volumes is on the workload's metadata, not the pod template's: no sidecar is injected".to_string()
        } else {
            "the pod mounts GCS FUSE but its template lacks gke-gcsfuse/volumes: \"true\": no sidecar, the mount fails".to_string()
        };
        out.report(&at, message)
            .help("annotate the pod template with gke-gcsfuse/volumes: \"true\"")
            .fix("annotate the pod template", |fix| {
                fix.set_key(cx.object, &annotations, ANNOTATION, json!("true"));
            });
    }
}
