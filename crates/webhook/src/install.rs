//! `kubectl vllm webhook manifests`: everything a cluster needs to run the webhook, as one YAML
//! stream for `kubectl apply -f -`.
//!
//! Safe by default: `failurePolicy: Ignore` (a webhook that is down never blocks the cluster,
//! kyverno#1981), `timeoutSeconds` at most 10, `sideEffects: None`, only namespaces labelled
//! `kubectl-vllm.dev/admission: enabled`, never the webhook's own namespace or `kube-system`.

use std::fmt::Write as _;

use base64::Engine as _;

/// The label a namespace carries to have its objects reviewed.
pub const OPT_IN_LABEL: &str = "kubectl-vllm.dev/admission";

/// The objects reviewed: pods and their owners, and what they reference.
const RULES: &[(&str, &str, &[&str])] = &[
    ("apps", "v1", &["deployments", "statefulsets"]),
    ("batch", "v1", &["jobs"]),
    ("leaderworkerset.x-k8s.io", "v1", &["leaderworkersets"]),
    ("", "v1", &["pods", "persistentvolumeclaims", "services"]),
];

/// How the webhook is installed.
#[derive(Debug, Clone)]
pub struct Install {
    /// Namespace of the webhook's own objects.
    pub namespace: String,
    /// The container image.
    pub image: String,
    /// `warn` or `enforce`.
    pub mode: String,
    /// `--fail-on` of the server.
    pub fail_on: String,
    /// Whether the mutating webhook is installed too (and the server started with `--mutate`).
    pub mutate: bool,
    /// `Ignore` or `Fail`.
    pub failure_policy: String,
    /// `timeoutSeconds` of the webhook configurations.
    pub timeout_seconds: u8,
    /// TLS: cert-manager's CA injector, or this CA certificate (PEM) as the `caBundle`.
    pub tls: Tls,
}

/// Where the serving certificate comes from.
#[derive(Debug, Clone)]
pub enum Tls {
    /// cert-manager issues it (a self-signed Issuer, a Certificate) and injects the CA.
    CertManager,
    /// `kubectl vllm webhook cert` made it: the CA's PEM, for `caBundle`; the Secret is made
    /// from its files with `kubectl create secret tls`.
    CaBundle(String),
}

/// The Service and the Secret holding the serving certificate.
pub const SERVICE: &str = "kubectl-vllm-webhook";
const SECRET: &str = "kubectl-vllm-webhook-tls";

impl Install {
    /// The name of the cluster-scoped objects (ClusterRole, binding, webhook configurations):
    /// `kubectl-vllm`, or `kubectl-vllm-NS` for an install in namespace NS, so that installs
    /// in two namespaces do not take each other's.
    #[must_use]
    pub fn cluster_name(&self) -> String {
        if self.namespace == "kubectl-vllm" {
            "kubectl-vllm".into()
        } else {
            format!("kubectl-vllm-{}", self.namespace)
        }
    }

    /// The YAML stream.
    #[must_use]
    pub fn render(&self) -> String {
        let ns = &self.namespace;
        let cluster_name = self.cluster_name();
        let mut out = String::new();
        let _ = write!(
            out,
            "\
# kubectl-vllm admission webhook ({mode} mode), from `kubectl vllm webhook manifests`.
# Namespaces opt in: kubectl label namespace NAME {OPT_IN_LABEL}=enabled
apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {SERVICE}
  namespace: {ns}
---
# Read-only: the nodes and storage classes the rules check against (watched), and the objects a
# reviewed object names (one GET each, cached). Secrets and ConfigMaps are read as metadata only
# (PartialObjectMetadata); RBAC cannot say so, `get` is the narrowest verb.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {cluster_name}
rules:
  - apiGroups: [\"\"]
    resources: [nodes]
    verbs: [get, list, watch]
  - apiGroups: [storage.k8s.io]
    resources: [storageclasses]
    verbs: [get, list, watch]
  - apiGroups: [\"\"]
    resources: [persistentvolumes, persistentvolumeclaims, serviceaccounts, secrets, configmaps]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {cluster_name}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {cluster_name}
subjects:
  - kind: ServiceAccount
    name: {SERVICE}
    namespace: {ns}
---
",
            mode = self.mode
        );
        out.push_str(&self.deployment());
        let _ = write!(
            out,
            "\
---
# One pod may be evicted at a time: the other keeps answering.
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {SERVICE}
  namespace: {ns}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {SERVICE}
---
apiVersion: v1
kind: Service
metadata:
  name: {SERVICE}
  namespace: {ns}
spec:
  selector:
    app.kubernetes.io/name: {SERVICE}
  ports:
    - name: https
      port: 443
      targetPort: https
"
        );
        if matches!(self.tls, Tls::CertManager) {
            let _ = write!(
                out,
                "\
---
apiVersion: cert-manager.io/v1
kind: Issuer
metadata:
  name: {SERVICE}
  namespace: {ns}
spec:
  selfSigned: {{}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: {SERVICE}
  namespace: {ns}
spec:
  secretName: {SECRET}
  dnsNames:
    - {SERVICE}.{ns}.svc
    - {SERVICE}.{ns}.svc.cluster.local
  issuerRef:
    kind: Issuer
    name: {SERVICE}
"
            );
        }
        out.push_str(&self.configuration(
            "ValidatingWebhookConfiguration",
            "validate",
            "/validate",
        ));
        if self.mutate {
            out.push_str(&self.configuration("MutatingWebhookConfiguration", "mutate", "/mutate"));
        }
        out
    }

    fn deployment(&self) -> String {
        let ns = &self.namespace;
        let image = &self.image;
        let mut args = vec![
            "webhook".to_string(),
            "serve".into(),
            "--tls-cert=/etc/kubectl-vllm/tls/tls.crt".into(),
            "--tls-key=/etc/kubectl-vllm/tls/tls.key".into(),
            format!("--mode={}", self.mode),
            format!("--fail-on={}", self.fail_on),
        ];
        if self.mutate {
            args.push("--mutate".into());
        }
        let args: String = args.iter().fold(String::new(), |mut out, a| {
            let _ = writeln!(out, "            - {a}");
            out
        });
        format!(
            "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {SERVICE}
  namespace: {ns}
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: {SERVICE}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {SERVICE}
    spec:
      serviceAccountName: {SERVICE}
      # Two replicas on two nodes when the cluster has them.
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    app.kubernetes.io/name: {SERVICE}
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: webhook
          image: {image}
          args:
{args}          ports:
            - name: https
              containerPort: 8443
          env:
            # The policies' machine code is embedded; a cache is only used if this CPU needs
            # them compiled.
            - name: KUBECTL_VLLM_CACHE_DIR
              value: /cache
          readinessProbe:
            httpGet:
              path: /readyz
              port: https
              scheme: HTTPS
            periodSeconds: 5
          livenessProbe:
            httpGet:
              path: /livez
              port: https
              scheme: HTTPS
            periodSeconds: 10
            failureThreshold: 3
          resources:
            requests:
              cpu: 200m
              memory: 256Mi
            limits:
              memory: 1Gi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
          volumeMounts:
            - name: tls
              mountPath: /etc/kubectl-vllm/tls
              readOnly: true
            - name: cache
              mountPath: /cache
      volumes:
        - name: tls
          secret:
            secretName: {SECRET}
        - name: cache
          emptyDir:
            sizeLimit: 256Mi
"
        )
    }

    fn configuration(&self, kind: &str, verb: &str, path: &str) -> String {
        let ns = &self.namespace;
        let cluster_name = self.cluster_name();
        let (annotations, ca_bundle) = match &self.tls {
            Tls::CertManager => (
                format!("  annotations:\n    cert-manager.io/inject-ca-from: {ns}/{SERVICE}\n"),
                String::new(),
            ),
            Tls::CaBundle(pem) => (
                String::new(),
                format!(
                    "      caBundle: {}\n",
                    base64::engine::general_purpose::STANDARD.encode(pem)
                ),
            ),
        };
        let mut rules = String::new();
        for (group, version, resources) in RULES {
            let _ = write!(
                rules,
                "      - apiGroups: [\"{group}\"]\n        apiVersions: [{version}]\n        resources: [{}]\n        operations: [CREATE, UPDATE]\n        scope: Namespaced\n",
                resources.join(", ")
            );
        }
        let reinvocation = if kind.starts_with("Mutating") {
            "    reinvocationPolicy: Never\n"
        } else {
            ""
        };
        format!(
            "\
---
apiVersion: admissionregistration.k8s.io/v1
kind: {kind}
metadata:
  name: {cluster_name}
{annotations}webhooks:
  - name: {verb}.kubectl-vllm.dev
    admissionReviewVersions: [v1]
    sideEffects: None
    # Ignore: while the webhook is down, objects are admitted unchecked; Fail blocks them.
    failurePolicy: {failure}
    timeoutSeconds: {timeout}
    matchPolicy: Equivalent
{reinvocation}    namespaceSelector:
      matchLabels:
        {OPT_IN_LABEL}: enabled
      matchExpressions:
        - key: kubernetes.io/metadata.name
          operator: NotIn
          values: [{ns}, kube-system]
    rules:
{rules}    clientConfig:
      service:
        name: {SERVICE}
        namespace: {ns}
        path: {path}
        port: 443
{ca_bundle}",
            failure = self.failure_policy,
            timeout = self.timeout_seconds,
        )
    }
}
