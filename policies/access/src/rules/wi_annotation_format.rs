use kubectl_vllm_sdk::prelude::*;

use crate::common::WI_ANNOTATION;

declare_rule! {
    /// ## What it does
    /// Checks that a ServiceAccount's `iam.gke.io/gcp-service-account` annotation is a Google
    /// service account email: `NAME@PROJECT.iam.gserviceaccount.com`.
    ///
    /// ## Why is this bad?
    /// GKE's metadata server cannot impersonate anything else, so every GCP call fails with
    /// permission or credential errors. Common mistakes: a missing `.iam.`, the Workload Identity
    /// pool (`PROJECT.svc.id.goog`) instead of the email, spaces, a user email.
    ///
    /// ## Example
    /// ```yaml
    /// annotations:
    ///   iam.gke.io/gcp-service-account: vllm-gcs-reader@my-project.svc.id.goog
    /// ```
    ///
    /// Use instead: `vllm-gcs-reader@my-project.iam.gserviceaccount.com`.
    ///
    /// The finding points at the annotation.
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// GKE "Authenticate to Google Cloud APIs from GKE workloads".
    ///
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity>
    pub struct WiAnnotationFormat {
        id: "wi-annotation-format",
        severity: Error,
        fix: None,
        providers: [Gke],
        summary: "the Workload Identity annotation is not a Google service account email",
    }
}

fn is_gsa_email(value: &str) -> bool {
    let Some((name, domain)) = value.split_once('@') else {
        return false;
    };
    let Some(project) = domain.strip_suffix(".iam.gserviceaccount.com") else {
        return false;
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    ok(name) && ok(project)
}

impl Rule for WiAnnotationFormat {
    const KINDS: Kinds = Kinds::Only(&["ServiceAccount"]);

    fn check_object(&self, cx: &Context, out: &mut Findings) {
        if cx.kind() != "ServiceAccount" {
            return;
        }
        let at = Pointer::from_path("/metadata/annotations").key(WI_ANNOTATION);
        let Some(value) = cx.object.pointer(at.as_str()).and_then(Value::as_str) else {
            return;
        };
        if is_gsa_email(value) || !cx.check_provider(out, &at) {
            return;
        }
        out.report(&at, format!("`{value}` is not a Google service account email (NAME@PROJECT.iam.gserviceaccount.com)"))
            .help("use the GSA's email, as `gcloud iam service-accounts list` prints it");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails() {
        assert!(super::is_gsa_email(
            "vllm-gcs-reader@my-project.iam.gserviceaccount.com"
        ));
        assert!(!super::is_gsa_email("vllm@my-project.svc.id.goog"));
        assert!(!super::is_gsa_email("vllm@my-project.gserviceaccount.com"));
        assert!(!super::is_gsa_email(
            "Vllm@my-project.iam.gserviceaccount.com"
        ));
    }
}
