//! Rules the host itself owns: problems no policy can see (unreadable input, a failing policy,
//! duplicate keys that vanish before a policy sees the object) and skipped checks. Each is
//! documented here, in its doc comment, like a policy rule; `kubectl vllm explain` prints it.

use kubectl_vllm_sdk::{Applicability, FixAvailability, RuleMeta, declare_rule, unindent_doc};

use crate::report::Severity;

declare_rule! {
    /// ## What it does
    /// Reports input that cannot be linted: an unreadable path, a file that is not UTF-8, invalid
    /// YAML or JSON (with the parser's position), a document that is not a mapping, or an object
    /// without `apiVersion` or `kind`.
    ///
    /// ## Why is this bad?
    /// `kubectl apply` would reject the file, and every rule is blind to what could not be read.
    /// The other files, and the documents before and after a syntax error, are still linted; while
    /// any input failed, "referenced object not found" checks stay quiet because the set is
    /// incomplete.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["--model=/models/x"
    /// ```
    ///
    /// ## Fix safety
    /// No fix. Exit code 2; cannot be suppressed.
    ///
    /// ## Source
    /// product.md, "Rule ids".
    pub struct InputError {
        id: "input-error",
        severity: Error,
        fix: None,
        summary: "a file could not be read or parsed, or an object has no apiVersion/kind",
    }
}

declare_rule! {
    /// ## What it does
    /// Reports a policy that failed: it could not be loaded, trapped (panicked), exceeded its time
    /// or memory limit, or returned output the contract does not allow. The message names the
    /// policy and the object it was evaluating.
    ///
    /// ## Why is this bad?
    /// The policy's rules did not run on that object, so a clean report would be a lie. The other
    /// policies and objects are still evaluated; the failed instance is replaced for the next one.
    ///
    /// ## Example
    /// `policy `gpu` exceeded its time limit of 2s while evaluating Deployment default/vllm`
    ///
    /// ## Fix safety
    /// No fix. Exit code 2; cannot be suppressed. Report it to the policy's authors.
    ///
    /// ## Source
    /// product.md, "Rule ids".
    pub struct PolicyErrorRule {
        id: "policy-error",
        severity: Error,
        fix: None,
        summary: "a policy failed to load, trapped, timed out, ran out of memory or returned malformed output",
    }
}

declare_rule! {
    /// ## What it does
    /// Finds a mapping key written twice, such as two `env:` keys in one container. The finding
    /// points at the second key, the one Kubernetes keeps.
    ///
    /// ## Why is this bad?
    /// Kubernetes (sigs.k8s.io/yaml) keeps the last value and silently drops the first: the field
    /// report's A100 manifest had two `env:` blocks, so `LD_LIBRARY_PATH` never reached the pod.
    /// Policies see the object as Kubernetes does, so only the loader can notice.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    /// - name: LD_LIBRARY_PATH
    ///   value: /usr/local/nvidia/lib64:/usr/local/cuda/lib64
    /// env:
    /// - name: HF_HUB_OFFLINE
    ///   value: "1"
    /// ```
    ///
    /// Use instead: one `env:` list with both variables.
    ///
    /// ## Fix safety
    /// No fix yet: merging the two blocks needs a human to decide which values win.
    ///
    /// ## Source
    /// Field report (seans3/k8s-ai large-model A100 manifest); kubernetes/kubernetes#99286.
    ///
    /// - <https://github.com/kubernetes/kubernetes/issues/99286>
    pub struct RuntimeDuplicateKeys {
        id: "runtime-duplicate-keys",
        severity: Error,
        fix: None,
        summary: "a mapping key is written twice; Kubernetes silently keeps only the last",
    }
}

declare_rule! {
    /// ## What it does
    /// Says that checks were skipped because the model is not in the model fact table: which
    /// rules, on which model (at the model's place in the command line), and how to add it.
    ///
    /// ## Why is this bad?
    /// It is not: it is information. Size, parallelism and context checks need the model's
    /// weights size, heads and context length, and guessing them would produce wrong errors. The
    /// rules that skipped say so (the contract's `skipped(model-unknown)`); this finding gathers
    /// them, one per model and object.
    ///
    /// ## Example
    /// `` `/models/my-llama` is not in the model fact table: model-weights-exceed-gpu-mem and vllm-tp-heads did not check it ``
    ///
    /// Add the model to `.kubectl-vllm.yaml`:
    /// ```yaml
    /// facts:
    ///   models:
    ///   - id: me/my-llama
    ///     aliases: [my-llama]
    ///     weights-mib: 15000
    ///     repository-mib: 15000
    ///     attention-heads: 32
    ///     kv-heads: 8
    ///     max-context: 8192
    ///     source: "my model card"
    /// ```
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// product.md, "Rule ids".
    pub struct ModelUnknown {
        id: "model-unknown",
        severity: Info,
        fix: None,
        summary: "checks were skipped because the model is not in the fact table",
    }
}

declare_rule! {
    /// ## What it does
    /// Says that checks were skipped because the pod's accelerator is not known: no node label,
    /// node pool or MIG resource names a GPU model of the accelerator table. It lists the rules
    /// and how to add the GPU.
    ///
    /// ## Why is this bad?
    /// It is not: it is information. GPU memory, compute capability and per-node counts are
    /// needed for those checks. The accelerator is found from `cloud.google.com/gke-accelerator`,
    /// NVIDIA GPU Feature Discovery's `nvidia.com/gpu.product`, `node.kubernetes.io/instance-type`
    /// (EC2, Azure and GCE machine types), Karpenter's `karpenter.k8s.aws/instance-gpu-name`, the
    /// cluster profile's node pools, or a `nvidia.com/mig-*` request.
    ///
    /// ## Example
    /// `the accelerator is not known (nvidia.com/gpu.product=NVIDIA-Future-GPU): model-weights-exceed-gpu-mem did not check this pod`
    ///
    /// Add it under `facts.accelerators` in `.kubectl-vllm.yaml`:
    /// ```yaml
    /// facts:
    ///   accelerators:
    ///   - {id: nvidia-future, name: Future GPU, memory-mib: 98304, compute-capability: 100,
    ///      gfd-products: [NVIDIA-Future-GPU], source: "vendor data sheet"}
    /// ```
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// product.md, "Rule ids" and "Inputs" (accelerator requests).
    pub struct AcceleratorUnknown {
        id: "accelerator-unknown",
        severity: Info,
        fix: None,
        summary: "checks were skipped because the accelerator is not known",
    }
}

declare_rule! {
    /// ## What it does
    /// Once per run, when the provider is unknown and provider-specific rules would have checked
    /// objects of the run: which rules were skipped, on how many objects, and how to set the
    /// provider. When the manifests hold hints for two providers, it names both.
    ///
    /// ## Why is this bad?
    /// It is not: it is information. A rule that only holds on one provider (GKE's accelerator
    /// labels, GKE's driver path, GCS FUSE, Workload Identity) would give false errors elsewhere,
    /// so without a provider it does not run. The provider comes from `--provider`, the config's
    /// `cluster.provider`, the live cluster (`--cluster`, `apply`, `diff`), or keys and values in
    /// the manifests that only one provider uses (`cloud.google.com/*`, `eks.amazonaws.com/*`,
    /// `kubernetes.azure.com/*`, `*.openshift.io` groups...); `generic` runs no provider-specific
    /// rule and says nothing.
    ///
    /// ## Example
    /// `the provider is unknown: 3 provider-specific rules (gke-accel-selector-missing, gke-gpu-toleration, runtime-ld-library-path-gke) were skipped on 2 objects`
    ///
    /// Set it:
    /// ```yaml
    /// cluster:
    ///   provider: eks
    /// ```
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// product.md, "Cluster profile and provider".
    pub struct ProviderUnknown {
        id: "provider-unknown",
        severity: Info,
        fix: None,
        summary: "provider-specific rules were skipped because the provider is unknown",
    }
}

declare_rule! {
    /// ## What it does
    /// Says that checks were skipped on a container that looks like a vLLM server (a vLLM image,
    /// or `vllm` on its command line) whose command line cannot be read from the manifest: a
    /// script run from a file, an image whose entrypoint the image table does not know, a flag
    /// whose value comes from a Secret, or a KServe model whose ServingRuntime is not in the set.
    ///
    /// ## Why is this bad?
    /// It is not: it is information, so that a clean report never hides a server nothing
    /// checked. The rules that could not read the server say so (`skipped(unparsed)`); this
    /// finding gathers them per container.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: vllm
    ///   image: vllm/vllm-openai:v0.10.1
    ///   command: ["/bin/bash", "/scripts/start.sh"]
    /// ```
    ///
    /// Use instead: the vLLM command line in `command`/`args` (`vllm serve MODEL --flags`), or
    /// an inline `bash -c` script.
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// Catalogue §0 (how to extract vLLM settings from a pod spec).
    pub struct ServerUnparsed {
        id: "server-unparsed",
        severity: Info,
        fix: None,
        summary: "checks were skipped because a vLLM server's command line cannot be read",
    }
}

declare_rule! {
    /// ## What it does
    /// Finds a Secret of the input set whose value is a placeholder: `REPLACE…`, `<…>`,
    /// `changeme`, `your-…`, `xxx…`, `TODO`, an empty value, `{{…}}` or `${…}` / `$VAR` (an
    /// unrendered template), in `stringData`, or in `data` once base64-decoded. The message names
    /// the Secret and the key, never the value. The host checks the values before it hides them
    /// from policies and reports.
    ///
    /// ## Why is this bad?
    /// The pod starts, and fails only when it uses the token: `401 Unauthorized` from Hugging
    /// Face on a gated model, after the pod was scheduled on a GPU node. A `data` value that is
    /// not base64 at all is a `schema-value` error instead: the API server rejects the Secret.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Secret
    /// stringData:
    ///   hf_api_token: <your token>
    /// ```
    ///
    /// Use instead: create the Secret outside the manifests (`kubectl create secret generic
    /// hf-secret --from-literal=hf_api_token=...`), or render the template before linting.
    ///
    /// ## Fix safety
    /// No fix: only its owner has the value.
    ///
    /// ## Source
    /// product.md, "Rule ids"; GKE Llama 4 sample (`hf_api_token: {{HF_TOKEN}}`).
    pub struct SecretValuePlaceholder {
        id: "secret-value-placeholder",
        severity: Warning,
        fix: None,
        summary: "a Secret in the set holds a placeholder instead of a value",
    }
}

declare_rule! {
    /// ## What it does
    /// Finds a suppression annotation (`ignore.kubectl-vllm/<rule-id>` or
    /// `kubectl-vllm/ignore-all`) whose reason is empty. The suppression still applies.
    ///
    /// ## Why is this bad?
    /// A silenced check with no reason is a deployment problem nobody can re-evaluate: when the
    /// model, GPU or cluster changes, the next reader cannot tell whether the reason still holds.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     ignore.kubectl-vllm/shm-size: ""
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     ignore.kubectl-vllm/shm-size: "TP=1; 1 GiB measured enough in load tests"
    /// ```
    ///
    /// ## Fix safety
    /// No fix: only a human knows the reason. `kubectl-vllm/ignore-all` does not silence this rule.
    ///
    /// ## Source
    /// product.md, "Suppressions".
    pub struct SuppressionWithoutReason {
        id: "suppression-without-reason",
        severity: Warning,
        fix: None,
        summary: "a suppression annotation has no reason",
    }
}

declare_rule! {
    /// ## What it does
    /// Finds a suppression annotation on a pod template (`spec.template.metadata.annotations`)
    /// instead of on the object itself. It is not honoured there.
    ///
    /// ## Why is this bad?
    /// Annotations on the pod template are copied to every pod and, on a Deployment, change the
    /// template hash, so editing one rolls the pods (and reloads the model on every GPU). A
    /// suppression belongs to the object the linter reports on.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   template:
    ///     metadata:
    ///       annotations:
    ///         ignore.kubectl-vllm/probe-missing-readiness: "batch job, no traffic"
    /// ```
    ///
    /// Use instead: the same key under the Deployment's own `metadata.annotations`.
    ///
    /// ## Fix safety
    /// Safe: moves the key (with its reason) to the object's `metadata.annotations`. The pods are
    /// rolled once, because the template changes.
    ///
    /// ## Source
    /// product.md, "Suppressions".
    pub struct SuppressionOnPodTemplate {
        id: "suppression-on-pod-template",
        severity: Warning,
        fix: Always(Safe),
        summary: "a suppression annotation sits on a pod template, where it is not honoured",
    }
}

/// A host-owned rule's metadata.
#[derive(Debug, Clone)]
pub struct HostRule {
    /// Id.
    pub id: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Whether its findings carry a fix (`none`, `always`), and how safe it is.
    pub fix: (&'static str, Option<&'static str>),
    /// One line.
    pub summary: &'static str,
    /// Documentation (Markdown).
    pub documentation: String,
}

fn rule<T: RuleMeta>() -> HostRule {
    HostRule {
        id: T::ID,
        severity: Severity::from(T::SEVERITY),
        fix: match T::FIX {
            FixAvailability::None => ("none", None),
            FixAvailability::Sometimes(a) => ("sometimes", Some(applicability(a))),
            FixAvailability::Always(a) => ("always", Some(applicability(a))),
        },
        summary: T::SUMMARY,
        documentation: unindent_doc(T::DOC),
    }
}

/// Every host-owned rule.
#[must_use]
pub fn all() -> Vec<HostRule> {
    vec![
        rule::<InputError>(),
        rule::<PolicyErrorRule>(),
        rule::<RuntimeDuplicateKeys>(),
        rule::<ModelUnknown>(),
        rule::<AcceleratorUnknown>(),
        rule::<ProviderUnknown>(),
        rule::<ServerUnparsed>(),
        rule::<SecretValuePlaceholder>(),
        rule::<SuppressionWithoutReason>(),
        rule::<SuppressionOnPodTemplate>(),
        rule::<crate::schema_rules::SchemaType>(),
        rule::<crate::schema_rules::SchemaUnknownField>(),
        rule::<crate::schema_rules::SchemaEnum>(),
        rule::<crate::schema_rules::SchemaRequired>(),
        rule::<crate::schema_rules::SchemaQuantity>(),
        rule::<crate::schema_rules::SchemaLabel>(),
        rule::<crate::schema_rules::SchemaName>(),
        rule::<crate::schema_rules::SchemaRange>(),
        rule::<crate::schema_rules::SchemaValue>(),
        rule::<crate::schema_rules::SchemaUnknownKind>(),
    ]
}

const fn applicability(a: Applicability) -> &'static str {
    match a {
        Applicability::Safe => "safe",
        Applicability::Unsafe => "unsafe",
        Applicability::DisplayOnly => "display-only",
    }
}

/// Ids of the host's rules that can never be suppressed.
pub const UNSUPPRESSIBLE: &[&str] = &["input-error", "policy-error"];

/// Rules that suppression annotations cannot silence (an `ignore-all` would hide its own problem).
pub const NOT_SILENCED_BY_ANNOTATIONS: &[&str] = &[
    "input-error",
    "policy-error",
    "suppression-without-reason",
    "suppression-on-pod-template",
];
