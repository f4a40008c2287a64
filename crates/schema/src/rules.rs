//! The `schema-*` rules: what this crate's validation reports, each `Issue` naming one of
//! these structs. Documented here like every rule; `kubectl vllm explain` prints these doc
//! comments.

use kubectl_vllm_core::declare_rule;

declare_rule! {
    /// ## What it does
    /// Checks every field's type against the Kubernetes schema of the selected version
    /// (`--kubernetes-version`, default the newest embedded): integers, strings, booleans, lists
    /// and mappings where the API expects them.
    ///
    /// ## Why is this bad?
    /// The API server refuses the object (`json: cannot unmarshal string into Go struct field
    /// DeploymentSpec.spec.replicas of type int32`), and policy linters that only read known
    /// fields let it pass: `replicas: "one"` passes checkov.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   replicas: "one"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   replicas: 1
    /// ```
    ///
    /// ## Fix safety
    /// No fix: the intended value is unknown.
    ///
    /// ## Source
    /// Kubernetes API reference; schemas vendored from kubernetes-validate (local-strict).
    ///
    /// - <https://kubernetes.io/docs/reference/kubernetes-api/>
    /// - <https://github.com/willthames/kubernetes-validate>
    pub struct SchemaType {
        id: "schema-type",
        severity: Error,
        fix: None,
        summary: "a field has the wrong type for the Kubernetes schema",
    }
}

declare_rule! {
    /// ## What it does
    /// Finds fields the Kubernetes schema does not have (strict mode), with the closest known
    /// field as a suggestion: `tolerration`, `nodeSelecter`, `volumeMount`.
    ///
    /// ## Why is this bad?
    /// A typo silently disappears: `kubectl apply` (client-side) drops unknown fields, and the
    /// API server prunes or, with strict field validation, rejects them (`strict decoding
    /// error: unknown field "spec.template.spec.tolerration"`). The toleration, node selector or
    /// volume mount the author meant never takes effect, and the pod lands on the wrong node or
    /// misses its volume.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   tolerration:
    ///   - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}
    /// ```
    ///
    /// Use instead: `tolerations:`.
    ///
    /// ## Fix safety
    /// No fix; the message suggests the closest field name.
    ///
    /// ## Source
    /// Kubernetes "Field validation" (server-side strict decoding).
    ///
    /// - <https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation>
    pub struct SchemaUnknownField {
        id: "schema-unknown-field",
        severity: Error,
        fix: None,
        summary: "a field the Kubernetes schema does not have (a typo, usually)",
    }
}

declare_rule! {
    /// ## What it does
    /// Checks fields with a fixed set of values the API server enforces but OpenAPI lists only in
    /// descriptions: `imagePullPolicy`, `restartPolicy`, taint and toleration `effect` and
    /// `operator`, `accessModes`, `volumeMode`, Service `type`, `persistentVolumeReclaimPolicy`,
    /// `volumeBindingMode`, port `protocol` and more, plus schema enums.
    ///
    /// ## Why is this bad?
    /// The API server refuses the object (`Unsupported value: "Sometimes": supported values:
    /// "Always", "IfNotPresent", "Never"`), after every schema-only linter let it pass:
    /// `imagePullPolicy: Sometimes` passes even kubernetes-validate's strict mode.
    ///
    /// ## Example
    /// ```yaml
    /// tolerations:
    /// - {key: nvidia.com/gpu, operator: Equals, effect: NoSchedule}
    /// ```
    ///
    /// Use instead: `operator: Equal` (values are case-sensitive).
    ///
    /// ## Fix safety
    /// No fix; the message lists the accepted values and suggests the closest.
    ///
    /// ## Source
    /// k8s.io/kubernetes `pkg/apis/core/validation/validation.go` and
    /// `pkg/apis/storage/validation/validation.go`.
    ///
    /// - <https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go>
    pub struct SchemaEnum {
        id: "schema-enum",
        severity: Error,
        fix: None,
        summary: "a field's value is not one the API server accepts",
    }
}

declare_rule! {
    /// ## What it does
    /// Finds required fields that are missing: a container without `name`, a Deployment without
    /// `selector` or `template`, a toleration list entry without what the schema requires.
    ///
    /// ## Why is this bad?
    /// The API server refuses the object (`spec.selector: Required value`).
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - image: vllm/vllm-openai:v0.10.2
    /// ```
    ///
    /// Use instead: give the container a `name`.
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// Kubernetes API reference (required fields).
    ///
    /// - <https://kubernetes.io/docs/reference/kubernetes-api/>
    pub struct SchemaRequired {
        id: "schema-required",
        severity: Error,
        fix: None,
        summary: "a required field is missing",
    }
}

declare_rule! {
    /// ## What it does
    /// Checks the syntax of every resource quantity: requests and limits, PVC storage,
    /// `emptyDir.sizeLimit`, and every other field of type Quantity.
    ///
    /// ## Why is this bad?
    /// The API server refuses the object (`quantities must match the regular expression
    /// '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`). `16GB` is a classic: Kubernetes writes
    /// gigabytes as `16G` and gibibytes as `16Gi`.
    ///
    /// ## Example
    /// ```yaml
    /// resources:
    ///   requests:
    ///     storage: 100GB
    /// ```
    ///
    /// Use instead: `storage: 100Gi`.
    ///
    /// ## Fix safety
    /// No fix: `GB` could mean `G` or `Gi`.
    ///
    /// ## Source
    /// k8s.io/apimachinery `pkg/api/resource/quantity.go`.
    ///
    /// - <https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/>
    pub struct SchemaQuantity {
        id: "schema-quantity",
        severity: Error,
        fix: None,
        summary: "a resource quantity is not valid Kubernetes quantity syntax",
    }
}

declare_rule! {
    /// ## What it does
    /// Checks label keys and values (object labels, `matchLabels`, `nodeSelector`) and
    /// annotation keys: an optional DNS subdomain prefix and exactly one `/`, then a name of at
    /// most 63 characters; label values of at most 63 characters.
    ///
    /// ## Why is this bad?
    /// The API server refuses the object (`metadata.annotations: Invalid value:
    /// "kubectl-vllm/ignore/all": a qualified name must consist of alphanumeric characters`).
    /// Annotation keys allow exactly one `/`.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     kubectl-vllm/ignore/shm-size: "reason"
    /// ```
    ///
    /// Use instead: `ignore.kubectl-vllm/shm-size: "reason"`.
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// Kubernetes "Labels and Selectors", "Annotations" (syntax and character set).
    ///
    /// - <https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set>
    pub struct SchemaLabel {
        id: "schema-label",
        severity: Error,
        fix: None,
        summary: "a label or annotation key, or a label value, has invalid syntax",
    }
}

declare_rule! {
    /// ## What it does
    /// Checks `metadata.name` as the API server does for its kind: a DNS-1123 subdomain for most
    /// kinds (lower-case letters, digits, `-` and `.`, at most 253 characters), a DNS-1123 label
    /// for Namespaces (at most 63 characters, no dots), a DNS-1035 label for Services (also
    /// starting with a letter), a path segment for RBAC roles and bindings
    /// (`system:controller:x` is fine).
    ///
    /// ## Why is this bad?
    /// The API server refuses the object (`metadata.name: Invalid value: "vLLM_gemma": a
    /// lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters`).
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   name: vLLM_gemma
    /// ```
    ///
    /// Use instead: `name: vllm-gemma`.
    ///
    /// ## Fix safety
    /// No fix: renaming an object changes what other objects must reference.
    ///
    /// ## Source
    /// Kubernetes "Object Names and IDs".
    ///
    /// - <https://kubernetes.io/docs/concepts/overview/working-with-objects/names/>
    pub struct SchemaName {
        id: "schema-name",
        severity: Error,
        fix: None,
        summary: "an object name is not a valid DNS-1123 name",
    }
}

declare_rule! {
    /// ## What it does
    /// Checks ports: container, Service and probe ports are 1–65535, and a named port is an
    /// IANA service name (1–15 lower-case letters, digits and `-`).
    ///
    /// ## Why is this bad?
    /// The API server refuses the object (`containerPort: Invalid value: 80000: must be between
    /// 1 and 65535, inclusive`).
    ///
    /// ## Example
    /// ```yaml
    /// ports:
    /// - containerPort: 80000
    /// ```
    ///
    /// Use instead: `containerPort: 8000`.
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// k8s.io/kubernetes `pkg/apis/core/validation/validation.go` (validatePortNumOrName).
    ///
    /// - <https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go>
    pub struct SchemaRange {
        id: "schema-range",
        severity: Error,
        fix: None,
        summary: "a port number or port name is out of range",
    }
}

declare_rule! {
    /// ## What it does
    /// Reports any other schema constraint a field breaks (a minimum, a maximum, a pattern, a
    /// format), with the validator's message.
    ///
    /// ## Why is this bad?
    /// The API server refuses the object.
    ///
    /// ## Example
    /// A CRD field below its `minimum`.
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// The schema of the kind (Kubernetes, or a CRD's `openAPIV3Schema`).
    ///
    /// - <https://json-schema.org/draft/2020-12/json-schema-validation>
    pub struct SchemaValue {
        id: "schema-value",
        severity: Error,
        fix: None,
        summary: "a field breaks a schema constraint (minimum, maximum, pattern, format)",
    }
}

declare_rule! {
    /// ## What it does
    /// Says, once per run and kind, that objects of a kind have no schema, so their fields are
    /// not checked: a custom resource whose CRD was not given with `--schema`. A kind Kubernetes
    /// has under an apiVersion the selected version does not serve (`extensions/v1beta1`
    /// Deployment) is an error instead, naming the apiVersion to use.
    ///
    /// ## Why is this bad?
    /// For a custom resource it is information, so a clean report is not mistaken for a checked
    /// one. Kubernetes kinds and LeaderWorkerSet (`leaderworkerset.x-k8s.io/v1`) are built in. A
    /// removed apiVersion is refused by the API server: `no matches for kind "Deployment" in
    /// version "extensions/v1beta1"`.
    ///
    /// ## Example
    /// `no schema for monitoring.coreos.com/v1 ServiceMonitor: its fields are not checked`
    ///
    /// Add the CRD: `kubectl vllm lint --schema crds/ deploy/`.
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// kubeconform's `-ignore-missing-schemas` discussion: silently passing unknown kinds hides
    /// typos in exactly the resources nobody else checks.
    ///
    /// - <https://github.com/yannh/kubeconform>
    pub struct SchemaUnknownKind {
        id: "schema-unknown-kind",
        severity: Info,
        fix: None,
        summary: "no schema for this kind: its fields are not checked",
    }
}
