use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Checks every `secretKeyRef` of a vLLM pod's env (`HF_TOKEN` from `hf-secret`, say): the
    /// Secret must be in the input set and have the key. References marked `optional: true` are
    /// skipped.
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
    /// The finding points at the `secretKeyRef`. Not reported while any input failed to load.
    /// A Secret managed outside the manifests can be ignored in `.kubectl-vllm.yaml`.
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
        summary: "an env secretKeyRef names a Secret or key that does not exist",
    }
}

impl Rule for HfSecretRefMissing {
    fn check(&self, cx: &Context, out: &mut Findings) {
        for spec in k8s::pod_specs(cx.kind(), cx.object) {
            for server in cx.servers(&spec) {
                let Some(Value::Array(env)) = server.container.value.get("env") else {
                    continue;
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
                        None => {
                            out.report(&at, format!("Secret `{secret}` is not in the input set: the container will not start (CreateContainerConfigError)"))
                                .help("add the Secret to the manifests, or ignore this rule for Secrets managed elsewhere");
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
                                out.report(&at, format!("Secret `{secret}` has no key `{key}`: the container will not start"))
                                    .help("use a key the Secret has");
                            }
                        }
                    }
                }
            }
        }
    }
}
