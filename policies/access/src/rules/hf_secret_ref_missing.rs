use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Checks every `secretKeyRef` of a vLLM pod's env (`HF_TOKEN` from `hf-secret`, say): a
    /// Secret of the input set must have the key (error), and with a live cluster (`--cluster`,
    /// `apply`, `diff`) the Secret must exist (error). Offline, a Secret outside the set is only
    /// an info: GitOps repositories make Secrets elsewhere (`kubectl create secret`, sealed or
    /// external secrets). Secrets listed under `cluster.existing` in the config count as present.
    /// References marked `optional: true` are skipped.
    ///
    /// ## Why is this bad?
    /// The container is never created: `CreateContainerConfigError: secret "hf-secret" not found`
    /// or `couldn't find key hf_api_token in Secret default/hf-secret`.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    /// - name: HF_TOKEN
    ///   valueFrom: {secretKeyRef: {name: hf-secret, key: hf_api_token}}
    /// ```
    ///
    /// Use instead: ship the Secret with the set (or create it first and lint with `--cluster`),
    /// with the key the reference names.
    ///
    /// The finding points at the `secretKeyRef`. Not run while any input failed to load (the set
    /// is incomplete).
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// Kubernetes "Secrets: Using Secrets as environment variables"; GKE vLLM samples (`hf-secret`).
    ///
    /// - <https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-environment-variables>
    pub struct HfSecretRefMissing {
        id: "hf-secret-ref-missing",
        severity: Error,
        fix: None,
        complete_set: true,
        summary: "an env secretKeyRef names a Secret or key that does not exist",
    }
}

impl Rule for HfSecretRefMissing {
    fn check_server(
        &self,
        cx: &Context,
        _spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let Some(Value::Array(env)) = server.container.value.get("env") else {
            return;
        };
        for (i, var) in env.iter().enumerate() {
            let Some(reference) = var.pointer("/valueFrom/secretKeyRef") else {
                continue;
            };
            if reference.get("optional").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let secret = reference.get("name").and_then(Value::as_str).unwrap_or("");
            let key = reference.get("key").and_then(Value::as_str).unwrap_or("");
            let at = server
                .container
                .pointer
                .key("env")
                .index(i)
                .key("valueFrom")
                .key("secretKeyRef");
            match cx.env.get("Secret", cx.namespace(), secret) {
                // Offline, a Secret made elsewhere (`kubectl create secret`, sealed or
                // external secrets) is not a problem; a live cluster's GET decides.
                None if cx.env.profile().live => {
                    out.report(&at, format!("Secret `{secret}` exists neither in the input set nor in the cluster: the container will not start (CreateContainerConfigError)"))
                        .help("create the Secret first, or ship it with the manifests");
                }
                None => {
                    out.report(&at, format!("Secret `{secret}` is not in the input set: it must exist in namespace {} before the pod starts", cx.namespace().unwrap_or("default")))
                        .severity(Severity::Info)
                        .help("list it under `cluster.existing` in .kubectl-vllm.yaml, or lint with `--cluster` to check it");
                }
                // Read from the cluster as metadata only: its keys are unknown.
                Some(found) if kubectl_vllm_sdk::k8s::metadata_only(&found) => {}
                Some(found) => {
                    let has = ["/data", "/stringData"].iter().any(|field| {
                        found
                            .pointer(field)
                            .and_then(Value::as_object)
                            .is_some_and(|m| m.contains_key(key))
                    });
                    if !has {
                        out.report(
                            &at,
                            format!(
                                "Secret `{secret}` has no key `{key}`: the container will not start"
                            ),
                        )
                        .help("use a key the Secret has");
                    }
                }
            }
        }
    }
}
