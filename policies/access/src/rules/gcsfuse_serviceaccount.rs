use kubectl_vllm_sdk::prelude::*;

use crate::common::{needs_gcp, service_account, uses_gcsfuse};

declare_rule! {
    /// ## What it does
    /// Finds a pod that reads Cloud Storage (a GCS FUSE volume, or an initContainer running
    /// `gcloud storage` or `gsutil`) as the namespace's `default` service account.
    ///
    /// ## Why is this bad?
    /// Workload Identity grants access per Kubernetes service account; the `default` one is rarely
    /// granted a bucket, so the mount or copy fails: `MountVolume.SetUp failed ... rpc error: code
    /// = Unauthenticated` or `PermissionDenied ... does not have storage.objects.list access`.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   initContainers:
    ///   - name: copy
    ///     command: ["gcloud", "storage", "rsync", "--recursive", "gs://models/x", "/models/x"]
    /// ```
    ///
    /// Use instead: `serviceAccountName: vllm-sa`, a KSA granted `roles/storage.objectViewer` on
    /// the bucket (see `wi-ksa-annotation`).
    ///
    /// The finding points at `serviceAccountName`, else at the pod spec.
    ///
    /// ## Fix safety
    /// No fix: the right service account and its IAM binding are outside the manifest.
    ///
    /// ## Source
    /// GCS FUSE CSI driver troubleshooting; GKE Workload Identity Federation.
    ///
    /// - <https://github.com/GoogleCloudPlatform/gcs-fuse-csi-driver/blob/main/docs/troubleshooting.md>
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity>
    pub struct GcsfuseServiceaccount {
        id: "gcsfuse-serviceaccount",
        severity: Warning,
        fix: None,
        providers: [Gke],
        summary: "a pod reads Cloud Storage as the default service account",
    }
}

impl Rule for GcsfuseServiceaccount {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        if !needs_gcp(cx, spec) || service_account(spec) != "default" {
            return;
        }
        let at = if spec.spec.get("serviceAccountName").is_some() {
            spec.at().key("serviceAccountName")
        } else {
            spec.at()
        };
        if !cx.check_provider(out, &at) {
            return;
        }
        let what = if uses_gcsfuse(cx, spec) {
            "mounts a GCS FUSE volume"
        } else {
            "copies from Cloud Storage"
        };
        out.report(&at, format!("the pod {what} as the `default` service account, which is rarely granted the bucket: the mount or copy fails with PermissionDenied unless its principal was granted access"))
            .help("run it as a KSA with roles/storage.objectViewer on the bucket (Workload Identity)");
    }
}
