//! Connecting as kubectl does: a kubeconfig (`--kubeconfig`, `KUBECONFIG`, `~/.kube/config`) and
//! context, or the in-cluster service account.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::error::{ClusterError, error_chain};

/// Where to connect: kubectl's `--kubeconfig` and `--context`.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// A kubeconfig file; else `KUBECONFIG` (a list of files, merged), `~/.kube/config`, or the
    /// in-cluster service account.
    pub kubeconfig: Option<PathBuf>,
    /// A context of the kubeconfig other than its current one.
    pub context: Option<String>,
    /// How long connecting and each request may take (`None`: 30 s, kubectl's
    /// `--request-timeout` default for this tool).
    pub request_timeout: Option<std::time::Duration>,
}

/// Connecting and each request time out after this unless `--request-timeout` says otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

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

impl Connection {
    /// `error` of the request `method path`, which the message names when the server's answer
    /// is no Kubernetes Status.
    #[must_use]
    pub fn error(&self, error: kube::Error, method: &str, path: &str) -> ClusterError {
        ClusterError::from_kube_at(error, &self.server, Some(&format!("{method} {path}")))
    }
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
    let timeout = target.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT);
    config.connect_timeout = Some(timeout);
    config.read_timeout = Some(timeout);
    config.write_timeout = Some(timeout);
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
