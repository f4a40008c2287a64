//! Helpers shared by this policy's rules: GCS FUSE volumes, GCP access, service accounts.

use kubectl_vllm_sdk::prelude::*;

/// The GCS FUSE CSI driver.
pub const GCSFUSE: &str = "gcsfuse.csi.storage.gke.io";
/// The Workload Identity annotation on a Kubernetes ServiceAccount.
pub const WI_ANNOTATION: &str = "iam.gke.io/gcp-service-account";

/// Whether the pod mounts a GCS FUSE volume: inline CSI, or a PVC of the set bound to a GCS FUSE PV.
pub fn uses_gcsfuse(cx: &Context, spec: &PodSpec) -> bool {
    spec.volumes().iter().any(|v| {
        if v.pointer("/csi/driver").and_then(Value::as_str) == Some(GCSFUSE) {
            return true;
        }
        let Some(claim) = v
            .pointer("/persistentVolumeClaim/claimName")
            .and_then(Value::as_str)
        else {
            return false;
        };
        let Some(pvc) = cx.env.get("PersistentVolumeClaim", cx.namespace(), claim) else {
            return false;
        };
        let Some(pv_name) = pvc.pointer("/spec/volumeName").and_then(Value::as_str) else {
            return false;
        };
        cx.env
            .get("PersistentVolume", None, pv_name)
            .is_some_and(|pv| {
                pv.pointer("/spec/csi/driver").and_then(Value::as_str) == Some(GCSFUSE)
            })
    })
}

/// Whether the pod calls GCP APIs: GCS FUSE, or an initContainer running `gcloud storage` or
/// `gsutil`.
pub fn needs_gcp(cx: &Context, spec: &PodSpec) -> bool {
    uses_gcsfuse(cx, spec)
        || spec.containers().iter().filter(|c| c.init).any(|c| {
            let words = vllm::words(c);
            words.iter().enumerate().any(|(i, w)| {
                w.text == "gsutil"
                    || w.text.ends_with("/gsutil")
                    || (w.text == "gcloud" && words.get(i + 1).is_some_and(|n| n.text == "storage"))
            })
        })
}

/// The service account the pod runs as (`default` when unset).
pub fn service_account<'a>(spec: &PodSpec<'a>) -> &'a str {
    spec.spec
        .get("serviceAccountName")
        .or_else(|| spec.spec.get("serviceAccount"))
        .and_then(Value::as_str)
        .unwrap_or("default")
}
