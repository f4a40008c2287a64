use kubectl_vllm_sdk::prelude::*;

use crate::common::service_account;

declare_rule! {
    /// ## What it does
    /// Finds a pod whose `serviceAccountName` names a ServiceAccount that the input set defines
    /// only in other namespaces.
    ///
    /// ## Why is this bad?
    /// A pod can only use a ServiceAccount of its own namespace: it is rejected (`serviceaccount
    /// "vllm-sa" not found`), or, if one of that name exists there, runs with the wrong identity.
    /// "Make sure your workload Pod is using the Kubernetes service account in the same
    /// namespace."
    ///
    /// ## Example
    /// ```yaml
    /// kind: ServiceAccount
    /// metadata: {name: vllm-sa, namespace: infra}
    /// ---
    /// kind: Deployment
    /// metadata: {name: vllm, namespace: serving}
    /// spec: {template: {spec: {serviceAccountName: vllm-sa}}}
    /// ```
    ///
    /// Use instead: create the ServiceAccount in `serving`.
    ///
    /// The finding points at `serviceAccountName`. Not reported while any input failed to load.
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// GCS FUSE CSI driver troubleshooting; Kubernetes "Service Accounts".
    ///
    /// - <https://kubernetes.io/docs/concepts/security/service-accounts/>
    pub struct WiNamespaceMatch {
        id: "wi-namespace-match",
        severity: Error,
        fix: None,
        providers: [Gke],
        complete_set: true,
        summary: "a pod's ServiceAccount exists only in another namespace",
    }
}

impl Rule for WiNamespaceMatch {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        let name = service_account(spec);
        if name == "default" || cx.env.get("ServiceAccount", cx.namespace(), name).is_some() {
            return;
        }
        let elsewhere: Vec<String> = cx
            .env
            .mentioning("ServiceAccount", None, name)
            .iter()
            .filter(|sa| sa.pointer("/metadata/name").and_then(Value::as_str) == Some(name))
            .filter_map(|sa| {
                sa.pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect();
        if elsewhere.is_empty() {
            return;
        }
        let at = spec.at().key("serviceAccountName");
        if !cx.check_provider(out, &at) {
            return;
        }
        // Offline, the account may also exist in the pod's namespace outside the set; a live
        // cluster's GET settles it.
        let live = cx.env.profile().live;
        out.report(
            &at,
            format!(
                "ServiceAccount `{name}` is defined in namespace {} but the pod runs in {}{}",
                elsewhere.join(", "),
                cx.namespace().unwrap_or("default"),
                if live {
                    ", where the cluster has none"
                } else {
                    ""
                }
            ),
        )
        .severity(if live {
            Severity::Error
        } else {
            Severity::Warning
        })
        .help("pods can only use ServiceAccounts of their own namespace");
    }
}
