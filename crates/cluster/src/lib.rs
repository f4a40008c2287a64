//! Cluster access for `kubectl vllm`: connecting as kubectl does, reading the live facts the
//! policies check against, server-side apply in dependency order, and diffs.
//!
//! Everything here is async over one kube-rs [`Client`]; the CLI drives it on a current-thread
//! runtime. Errors are classified for people ([`ClusterError`]): an unreachable server, rejected
//! credentials and a missing permission each say what to do.

mod apply;
mod facts;
mod mask;
mod wait;

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

pub use apply::{
    Applied, ApplyOptions, ApplyReport, Outcome, Planned, apply_all, diff_all, plan,
    plan_and_apply, rank,
};
pub use facts::{LiveFacts, ObjectKey, fetch_referenced, read_facts};
pub use mask::{Side, mask};
pub use wait::{Rollout, wait_for, waits_for};

/// Where to connect: kubectl's `--kubeconfig` and `--context`.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// A kubeconfig file; else `KUBECONFIG` (a list of files, merged), `~/.kube/config`, or the
    /// in-cluster service account.
    pub kubeconfig: Option<PathBuf>,
    /// A context of the kubeconfig other than its current one.
    pub context: Option<String>,
}

/// A client and what the kubeconfig said about it.
#[derive(Clone)]
pub struct Connection {
    /// The client.
    pub client: Client,
    /// The context's namespace, or `default`.
    pub namespace: String,
    /// The API server URL, for messages.
    pub server: String,
}

/// Why a cluster operation failed, worded for the person running the command.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterError {
    /// The kubeconfig could not be read or used.
    #[error("cannot load the cluster configuration: {0}")]
    Config(String),
    /// No connection to the API server.
    #[error(
        "cannot reach the cluster at {server}: {message} (is the cluster up, and the kubeconfig's server address right?)"
    )]
    Unreachable {
        /// The server URL.
        server: String,
        /// The transport error.
        message: String,
    },
    /// 401: the credentials are missing, invalid or expired.
    #[error(
        "the cluster at {server} rejected the credentials (401 Unauthorized): they are missing, invalid or expired; refresh them (for GKE: `gcloud container clusters get-credentials CLUSTER`) and retry"
    )]
    Unauthorized {
        /// The server URL.
        server: String,
    },
    /// The kubeconfig's credential plugin or token could not produce credentials.
    #[error(
        "cannot get credentials for {server}: {message} (for GKE: is gke-gcloud-auth-plugin installed and `gcloud auth login` current?)"
    )]
    Credentials {
        /// The server URL.
        server: String,
        /// What the auth layer said.
        message: String,
    },
    /// The TLS handshake failed (certificate or server name).
    #[error(
        "TLS with {server} failed: {message} (check the kubeconfig's certificate-authority-data and server address)"
    )]
    Tls {
        /// The server URL.
        server: String,
        /// The TLS error.
        message: String,
    },
    /// 403: the identity may not do this.
    #[error("permission denied (403 Forbidden): {message}")]
    Forbidden {
        /// The API server's message, which names the user, verb, resource and scope.
        message: String,
    },
    /// Any other API error (404, 409, 422, ...), with the server's message.
    #[error("{message} ({code} {reason})")]
    Api {
        /// HTTP status.
        code: u16,
        /// The Status reason (`NotFound`, `Conflict`, `Invalid`).
        reason: String,
        /// The server's message.
        message: String,
        /// For conflicts: (manager, field) pairs from the Status causes.
        conflicts: Vec<(String, String)>,
    },
}

impl ClusterError {
    /// Classifies a kube-rs error from a call to `server`.
    #[must_use]
    pub fn from_kube(error: kube::Error, server: &str) -> Self {
        match error {
            kube::Error::Api(status) => match status.code {
                401 => Self::Unauthorized {
                    server: server.to_string(),
                },
                // An admission webhook may deny with 403; that is a rejection, not RBAC.
                403 if !status.message.starts_with("admission webhook") => Self::Forbidden {
                    message: status.message.clone(),
                },
                code => {
                    let conflicts = status
                        .details
                        .as_ref()
                        .map(|d| {
                            d.causes
                                .iter()
                                .filter(|c| c.reason == "FieldManagerConflict")
                                .map(|c| {
                                    let manager = c
                                        .message
                                        .split('"')
                                        .nth(1)
                                        .unwrap_or(&c.message)
                                        .to_string();
                                    (manager, c.field.clone())
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    Self::Api {
                        code,
                        reason: status.reason.clone(),
                        message: status.message.clone(),
                        conflicts,
                    }
                }
            },
            kube::Error::Auth(e) => Self::Credentials {
                server: server.to_string(),
                message: error_chain(&e),
            },
            // Token refresh and exec plugins fail inside the client's service stack.
            other if has_source::<kube::client::AuthError>(&other) => Self::Credentials {
                server: server.to_string(),
                message: error_chain(&other),
            },
            other
                if has_source::<kube::client::RustlsTlsError>(&other)
                    || error_chain(&other).contains("certificate") =>
            {
                Self::Tls {
                    server: server.to_string(),
                    message: error_chain(&other),
                }
            }
            other => Self::Unreachable {
                server: server.to_string(),
                message: error_chain(&other),
            },
        }
    }

    /// The HTTP status, for API errors.
    #[must_use]
    pub fn code(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { .. } => Some(401),
            Self::Forbidden { .. } => Some(403),
            Self::Api { code, .. } => Some(*code),
            Self::Config(_)
            | Self::Unreachable { .. }
            | Self::Credentials { .. }
            | Self::Tls { .. } => None,
        }
    }
}

/// Whether `error` or one of its sources is an `E`.
fn has_source<E: std::error::Error + 'static>(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<E>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// An error and its sources, `: `-separated, without repeats.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// Connects as kubectl would. No request is made yet: an unreachable server shows on first use.
pub async fn connect(target: &Target) -> Result<Connection, ClusterError> {
    let options = KubeConfigOptions {
        context: target.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = match (&target.kubeconfig, &target.context) {
        (Some(path), _) => {
            let kubeconfig = Kubeconfig::read_from(path).map_err(|e| {
                ClusterError::Config(format!("{}: {}", path.display(), error_chain(&e)))
            })?;
            Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| ClusterError::Config(error_chain(&e)))?
        }
        (None, Some(_)) => Config::from_kubeconfig(&options)
            .await
            .map_err(|e| ClusterError::Config(error_chain(&e)))?,
        (None, None) => Config::infer()
            .await
            .map_err(|e| ClusterError::Config(error_chain(&e)))?,
    };
    let mut config = config;
    // kube's default is no read timeout: a server that accepts and never answers would hang the
    // run. Watches here last at most 10 s.
    config
        .read_timeout
        .get_or_insert(std::time::Duration::from_mins(1));
    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let namespace = config.default_namespace.clone();
    let client = Client::try_from(config).map_err(|e| ClusterError::Config(error_chain(&e)))?;
    Ok(Connection {
        client,
        namespace,
        server,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use kubectl_vllm_apidouble::ApiDouble;

    use super::*;

    async fn connected(double: &ApiDouble, dir: &str) -> Connection {
        let dir =
            std::env::temp_dir().join(format!("kubectl-vllm-cluster-{dir}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = Target {
            kubeconfig: Some(double.kubeconfig(&dir, "ml", "t0ken")),
            context: None,
        };
        connect(&target).await.unwrap()
    }

    fn deployment(replicas: u32) -> serde_json::Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "vllm"},
               "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.10.2"}]}}}})
    }

    #[tokio::test]
    async fn facts_plan_apply_conflict_and_dry_run_through_the_real_client() {
        let double = ApiDouble::start();
        double.require_token("t0ken");
        double.seed(
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": {
                "cloud.google.com/gke-nodepool": "l4", "cloud.google.com/gke-accelerator": "nvidia-l4"}},
                "spec": {"providerID": "gce://p/z/n1", "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]},
                "status": {"allocatable": {"nvidia.com/gpu": "1"}}}),
            "kubelet",
        );
        double.seed(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}}),
            "kubectl",
        );
        let connection = connected(&double, "facts").await;
        assert_eq!(connection.namespace, "ml");
        let facts = read_facts(&connection).await.unwrap();
        let pools = facts.node_pools.unwrap();
        assert_eq!((pools[0].name.as_str(), pools[0].gpus_per_node), ("l4", 1));
        assert_eq!(
            facts.provider,
            Some(kubectl_vllm_host::facts::Provider::Gke)
        );

        let objects = [
            deployment(1),
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "weights"}, "spec": {}}),
            json!({"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "metadata": {"name": "big"}, "spec": {}}),
        ];
        let planned = plan(&connection, &objects, &connection.namespace, &[])
            .await
            .unwrap();
        let order: Vec<&str> = planned.iter().map(|p| p.reference.as_str()).collect();
        assert_eq!(
            order,
            [
                "persistentvolumeclaim/weights",
                "deployment.apps/vllm",
                "leaderworkerset.leaderworkerset.x-k8s.io/big"
            ]
        );
        let options = ApplyOptions {
            field_manager: "kubectl-vllm".into(),
            force_conflicts: false,
            dry_run: false,
        };
        let report = apply_all(&connection, &planned, &options).await;
        assert!(report.failed.is_none(), "{:?}", report.failed);
        assert_eq!(report.applied[1].outcome, Outcome::Created);
        assert_eq!(
            double.object("deployments.apps", "ml", "vllm").unwrap()["spec"]["replicas"],
            1
        );
        let again = apply_all(&connection, &planned, &options).await;
        assert_eq!(again.applied[1].outcome, Outcome::Unchanged);

        // Another manager owns replicas: a conflict names it, force takes the field.
        double.seed(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "vllm", "namespace": "ml"}, "spec": {"replicas": 3}}),
            "kubectl-client-side-apply",
        );
        let report = apply_all(&connection, &planned[1..2], &options).await;
        let (what, error) = report.failed.unwrap();
        assert_eq!(what, "deployment.apps/vllm");
        let ClusterError::Api {
            code: 409,
            conflicts,
            ..
        } = &error
        else {
            panic!("{error}")
        };
        assert_eq!(
            conflicts,
            &[(
                "kubectl-client-side-apply".to_string(),
                ".spec.replicas".to_string()
            )]
        );
        let forced = ApplyOptions {
            force_conflicts: true,
            ..options.clone()
        };
        let report = apply_all(&connection, &planned[1..2], &forced).await;
        assert!(report.failed.is_none());
        assert_eq!(
            double.object("deployments.apps", "ml", "vllm").unwrap()["spec"]["replicas"],
            1
        );

        // Dry run: sent with dryRun=All, nothing stored.
        let changed = plan(&connection, &[deployment(2)], "ml", &[])
            .await
            .unwrap();
        let dry = ApplyOptions {
            dry_run: true,
            ..options
        };
        let report = apply_all(&connection, &changed, &dry).await;
        assert_eq!(report.applied[0].object["spec"]["replicas"], 2);
        assert_eq!(
            double.object("deployments.apps", "ml", "vllm").unwrap()["spec"]["replicas"],
            1
        );
        let last = double.requests().pop().unwrap();
        assert_eq!(last.method, "PATCH");
        assert_eq!(last.query.get("dryRun").map(String::as_str), Some("All"));

        // Unknown kinds fail before anything is sent.
        let unknown =
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
        let error = plan(&connection, &[unknown], "ml", &[]).await.unwrap_err();
        assert!(
            error.to_string().contains("no matches for kind \"Widget\""),
            "{error}"
        );
    }

    #[tokio::test]
    async fn the_provider_comes_from_the_nodes_and_openshift_from_its_api_group() {
        use kubectl_vllm_host::facts::Provider;
        let double = ApiDouble::start();
        double.require_token("t0ken");
        double.seed(
            kubectl_vllm_apidouble::eks_l4_node("ip-10-0-1-2", 4),
            "kubelet",
        );
        let connection = connected(&double, "provider").await;
        let facts = read_facts(&connection).await.unwrap();
        assert_eq!(facts.provider, Some(Provider::Eks));
        assert!(facts.warnings.is_empty(), "{:?}", facts.warnings);
        let pools = facts.node_pools.unwrap();
        assert_eq!((pools[0].name.as_str(), pools[0].gpus_per_node), ("gpu", 4));
        // The same nodes under OpenShift, which serves config.openshift.io on every cloud.
        double.serve_group("config.openshift.io");
        let facts = read_facts(&connection).await.unwrap();
        assert_eq!(facts.provider, Some(Provider::Openshift));
        // Nodes that name no cloud leave the provider unknown.
        let bare = ApiDouble::start();
        bare.require_token("t0ken");
        bare.seed(
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "metal-1"},
                "status": {"allocatable": {"nvidia.com/gpu": "8"}}}),
            "kubelet",
        );
        let facts = read_facts(&connected(&bare, "provider-bare").await)
            .await
            .unwrap();
        assert_eq!(facts.provider, None);
    }

    #[test]
    fn a_webhook_denial_is_a_rejection_not_a_permission_problem() {
        let status = |code: u16, message: &str| {
            kube::Error::Api(Box::new(
                serde_json::from_value(json!({"status": "Failure", "code": code, "reason": "Forbidden", "message": message}))
                    .unwrap(),
            ))
        };
        let rbac = ClusterError::from_kube(
            status(
                403,
                "pods is forbidden: User \"u\" cannot list resource \"pods\"",
            ),
            "s",
        );
        assert!(matches!(rbac, ClusterError::Forbidden { .. }), "{rbac}");
        let webhook = ClusterError::from_kube(
            status(
                403,
                "admission webhook \"validation.gatekeeper.sh\" denied the request: [gpu-limits] missing limit",
            ),
            "s",
        );
        assert!(
            matches!(webhook, ClusterError::Api { code: 403, .. }),
            "{webhook}"
        );
    }

    #[tokio::test]
    async fn credentials_permissions_and_reachability_are_told_apart() {
        let double = ApiDouble::start();
        double.require_token("other");
        let connection = connected(&double, "auth").await;
        let error = read_facts(&connection).await.unwrap_err();
        assert!(
            matches!(error, ClusterError::Unauthorized { .. }),
            "{error}"
        );

        let double = ApiDouble::start();
        double.forbid("list", "nodes");
        let connection = connected(&double, "forbidden").await;
        let facts = read_facts(&connection).await.unwrap();
        assert!(facts.node_pools.is_none());
        assert!(
            facts.warnings[0].contains("cannot list resource \"nodes\""),
            "{:?}",
            facts.warnings
        );

        let url = double.url();
        drop(double);
        let dir =
            std::env::temp_dir().join(format!("kubectl-vllm-cluster-gone-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kubeconfig");
        std::fs::write(&path, format!("apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{{name: c, cluster: {{server: \"{url}\"}}}}]\ncontexts: [{{name: c, context: {{cluster: c, user: u}}}}]\nusers: [{{name: u, user: {{token: x}}}}]\n")).unwrap();
        let connection = connect(&Target {
            kubeconfig: Some(path),
            context: None,
        })
        .await
        .unwrap();
        let error = read_facts(&connection).await.unwrap_err();
        assert!(matches!(error, ClusterError::Unreachable { .. }), "{error}");
    }
}
