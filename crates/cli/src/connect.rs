//! A command's cluster connection (`lint --cluster`, `apply`, `diff`): connecting as kubectl
//! does, and the live facts and referenced objects it gives the linter.

use std::io::Write;

use kubectl_vllm_cluster::{self as cluster, Connection, ObjectKey};
use kubectl_vllm_engine::config::Config;
use kubectl_vllm_engine::lint::{Linter, Live};
use kubectl_vllm_manifest::Manifests;

use crate::args::{ClusterArgs, InputArgs};

/// A tokio runtime and a connection: one per command.
pub(crate) struct Session {
    pub runtime: tokio::runtime::Runtime,
    /// The connection.
    pub connection: Connection,
}

impl Session {
    /// Connects as kubectl would (kubeconfig, context); `None` after printing why not.
    pub(crate) fn open(access: &ClusterArgs, stderr: &mut dyn Write) -> Option<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime builds");
        crate::pipeline::phase("connecting to the cluster…");
        match runtime.block_on(cluster::connect(&access.target())) {
            Ok(connection) => Some(Self {
                runtime,
                connection,
            }),
            Err(e) => {
                let _ = writeln!(stderr, "error: {e}");
                None
            }
        }
    }

    /// Reads the live facts into `linter` (two LIST calls), then the objects the set's lookups
    /// missed (one GET each, metadata only for Secrets and ConfigMaps). False after printing
    /// an error.
    pub(crate) fn attach(
        &self,
        linter: &mut Linter,
        manifests: &Manifests,
        config: &Config,
        namespace: &str,
        stderr: &mut dyn Write,
    ) -> bool {
        crate::pipeline::phase("reading the cluster's nodes and storage classes…");
        let facts = match self.runtime.block_on(cluster::read_facts(&self.connection)) {
            Ok(facts) => facts,
            Err(e) => {
                let _ = writeln!(stderr, "error: {e}");
                return false;
            }
        };
        for warning in &facts.warnings {
            let _ = writeln!(stderr, "warning: {warning}");
        }
        linter.set_live(Some(Live::of_run(facts.clone(), Vec::new())));
        // One evaluation finds what the policies look up and the set lacks.
        let _ = linter.lint(manifests, config);
        let keys: Vec<ObjectKey> = linter
            .missed_lookups()
            .into_iter()
            .map(|(kind, namespace, name)| ObjectKey {
                kind,
                namespace,
                name,
            })
            .collect();
        if keys.is_empty() {
            return true;
        }
        match self.runtime.block_on(cluster::fetch_referenced(
            &self.connection,
            &keys,
            namespace,
        )) {
            Ok((objects, warnings)) => {
                for warning in &warnings {
                    let _ = writeln!(stderr, "warning: {warning}");
                }
                linter.set_live(Some(Live::of_run(facts, objects)));
                true
            }
            Err(e) => {
                let _ = writeln!(stderr, "error: {e}");
                false
            }
        }
    }
}

/// The namespace for objects that set none: `-n`, else the kubeconfig context's (with a
/// cluster), else `default`.
#[must_use]
pub(crate) fn namespace(input: &InputArgs, session: Option<&Session>) -> String {
    input
        .namespace
        .clone()
        .or_else(|| session.map(|s| s.connection.namespace.clone()))
        .unwrap_or_else(|| "default".into())
}
