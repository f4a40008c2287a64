use kubectl_vllm_sdk::prelude::*;

use crate::common::{WI_ANNOTATION, needs_gcp, service_account};

declare_rule! {
    /// ## What it does
    /// Finds a Kubernetes ServiceAccount of the input set used by a pod that calls GCP (GCS FUSE,
    /// `gcloud storage`, `gsutil`) and that has no `iam.gke.io/gcp-service-account` annotation.
    ///
    /// ## Why is this bad?
    /// With Workload Identity's impersonation pattern both halves are needed: the IAM binding
    /// `roles/iam.workloadIdentityUser` *and* this annotation; without it the pod gets the KSA's own
    /// identity, which the bucket does not know (`PermissionDenied`). The field report annotated
    /// the KSA by hand with `kubectl annotate`, so the manifest never had it. (Granting roles to the
    /// KSA's `principal://` directly needs no annotation: a linter cannot see IAM, hence a warning.)
    ///
    /// ## Example
    /// ```yaml
    /// kind: ServiceAccount
    /// metadata:
    ///   name: vllm-sa
    /// ```
    ///
    /// Use instead: `annotations: {iam.gke.io/gcp-service-account: vllm-gcs-reader@PROJECT.iam.gserviceaccount.com}`.
    ///
    /// The finding points at the ServiceAccount's `metadata`.
    ///
    /// ## Fix safety
    /// No fix: the Google service account's email is not in the manifests.
    ///
    /// ## Source
    /// GKE "Authenticate to Google Cloud APIs from GKE workloads"; field report (step 6).
    ///
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity>
    pub struct WiKsaAnnotation {
        id: "wi-ksa-annotation",
        severity: Warning,
        fix: None,
        providers: [Gke],
        summary: "a ServiceAccount used to reach GCP has no Workload Identity annotation",
    }
}

impl Rule for WiKsaAnnotation {
    const KINDS: Kinds = Kinds::Only(&["ServiceAccount"]);

    fn check_object(&self, cx: &Context, out: &mut Findings) {
        if cx.kind() != "ServiceAccount" {
            return;
        }
        if cx
            .object
            .pointer(
                Pointer::from_path("/metadata/annotations")
                    .key(WI_ANNOTATION)
                    .as_str(),
            )
            .is_some()
        {
            return;
        }
        let name = cx.name();
        let user = k8s::WORKLOAD_KINDS.iter().find_map(|kind| {
            // A named account is found through the host's index; `default` is every pod that
            // names none.
            let workloads = if name == "default" {
                cx.env.list(kind, cx.namespace(), "")
            } else {
                cx.env.mentioning(kind, cx.namespace(), name)
            };
            workloads.iter().find_map(|w| {
                k8s::pod_specs(kind, w)
                    .iter()
                    .any(|spec| service_account(spec) == name && needs_gcp(cx, spec))
                    .then(|| {
                        format!(
                            "{kind}/{}",
                            w.pointer("/metadata/name")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                        )
                    })
            })
        });
        let Some(user) = user else { return };
        if !cx.check_provider(out, &Pointer::from_path("/metadata")) {
            return;
        }
        out.report(
            &Pointer::from_path("/metadata"),
            format!("{user} reaches GCP as ServiceAccount `{name}`, which has no {WI_ANNOTATION} annotation"),
        )
        .help(format!("annotate it with {WI_ANNOTATION}: GSA@PROJECT.iam.gserviceaccount.com (and bind roles/iam.workloadIdentityUser), or grant roles to its principal:// directly"));
    }
}
