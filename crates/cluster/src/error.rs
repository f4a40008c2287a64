//! Cluster errors, worded for the person running the command: an unreachable server, rejected
//! credentials and a missing permission each say what to do.

/// Why a cluster operation failed, worded for the person running the command.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterError {
    /// The kubeconfig could not be read or used.
    #[error(
        "cannot load the cluster configuration: {0} (name the kubeconfig with --kubeconfig FILE or KUBECONFIG, and a context with --context; `lint` without --cluster and `apply --dry-run=client` need no cluster)"
    )]
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

/// The HTTP reason phrase of the statuses an API server or a proxy in front of it answers.
fn http_reason(code: u16) -> &'static str {
    match code {
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "error",
    }
}

impl ClusterError {
    /// Classifies a kube-rs error from a call to `server`.
    #[must_use]
    pub fn from_kube(error: kube::Error, server: &str) -> Self {
        Self::from_kube_at(error, server, None)
    }

    /// As [`ClusterError::from_kube`], for the request `request` (`GET /api/v1/nodes`), which a
    /// body that is no Kubernetes Status names: nothing else says what was asked.
    #[must_use]
    pub fn from_kube_at(error: kube::Error, server: &str, request: Option<&str>) -> Self {
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
                    // A body that is no Kubernetes Status (a proxy's or another server's page):
                    // kube-rs makes the body the message (or leaves it empty) under this
                    // reason; say what was asked of whom instead, with the start of the body.
                    let (reason, message) = if status.message.is_empty()
                        || status.reason == KUBE_UNPARSED_REASON
                    {
                        let asked = request.map_or_else(String::new, |r| format!(" {r}"));
                        let body: String = status.message.trim().chars().take(80).collect();
                        let body = if body.is_empty() {
                            String::new()
                        } else {
                            format!(" (it said `{body}`)")
                        };
                        (
                            http_reason(code).to_string(),
                            format!(
                                "the server at {server} answered{asked} without a Kubernetes Status{body}: is the kubeconfig's server address an API server, and does it serve this resource?"
                            ),
                        )
                    } else {
                        (status.reason.clone(), status.message.clone())
                    };
                    Self::Api {
                        code,
                        reason,
                        message,
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
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
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

/// The reason kube-rs gives a Status it made from a body that did not parse as one.
const KUBE_UNPARSED_REASON: &str = "Failed to parse error data";

/// The URL path of a resource collection or object: `/api/v1/namespaces/ml/secrets/hf`,
/// `/apis/storage.k8s.io/v1/storageclasses`.
#[must_use]
pub fn resource_path(
    group: &str,
    version: &str,
    plural: &str,
    namespace: Option<&str>,
    name: Option<&str>,
) -> String {
    let mut path = if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    };
    if let Some(namespace) = namespace {
        path.push_str("/namespaces/");
        path.push_str(namespace);
    }
    path.push('/');
    path.push_str(plural);
    if let Some(name) = name {
        path.push('/');
        path.push_str(name);
    }
    path
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_status_without_a_body_names_the_server_and_the_reason() {
        let status: kube::core::Status = serde_json::from_value(
            json!({"status": "Failure", "code": 404, "reason": "Failed to parse error data", "message": ""}),
        )
        .unwrap();
        let request = format!(
            "GET {}",
            resource_path("storage.k8s.io", "v1", "storageclasses", None, None)
        );
        let error = ClusterError::from_kube_at(
            kube::Error::Api(Box::new(status)),
            "https://k.example:6443",
            Some(&request),
        );
        let text = error.to_string();
        assert!(
            text.contains(
                "the server at https://k.example:6443 answered GET /apis/storage.k8s.io/v1/storageclasses without a Kubernetes Status"
            ) && text.ends_with("(404 Not Found)"),
            "{text}"
        );
        assert_eq!(
            resource_path("", "v1", "secrets", Some("ml"), Some("hf")),
            "/api/v1/namespaces/ml/secrets/hf"
        );
        let config = ClusterError::Config("no kubeconfig".into()).to_string();
        assert!(
            config.contains("--kubeconfig") && config.contains("--dry-run=client"),
            "{config}"
        );
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
}
