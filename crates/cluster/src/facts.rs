//! Live cluster facts: node pools (accelerator, GPUs per node, labels, taints) from the nodes,
//! storage classes, and the objects a manifest set references but does not contain.
//!
//! Two LIST calls (nodes, storage classes) and one discovery request (the API groups, for
//! OpenShift) per run, and one GET per referenced object; Secrets and ConfigMaps are read as
//! metadata only (never listed, never their values).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMap, Node, PersistentVolume, PersistentVolumeClaim, Secret, ServiceAccount,
};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

use kubectl_vllm_host::facts::{NodePoolFact, Provider, StorageClassFact, TaintFact};

use crate::error::resource_path;
use crate::{ClusterError, Connection};

use kubectl_vllm_core::stand_in::SOURCE_ANNOTATION;

pub use kubectl_vllm_host::facts::LiveFacts;

/// Labels that name a node's pool, by provider.
const POOL_LABELS: &[&str] = &[
    "cloud.google.com/gke-nodepool",
    "eks.amazonaws.com/nodegroup",
    "karpenter.sh/nodepool",
    "kubernetes.azure.com/agentpool",
    "agentpool",
];

/// Labels that differ from node to node within a pool.
const PER_NODE_LABELS: &[&str] = &["kubernetes.io/hostname", "topology.kubernetes.io/zone"];

/// Reads the nodes, the API groups and the storage classes: two LIST calls and one discovery
/// request. A 403 on a LIST falls back (to the config's cluster profile) with a warning, an
/// unreadable group list is a warning; any other failure is an error.
pub async fn read_facts(connection: &Connection) -> Result<LiveFacts, ClusterError> {
    let mut facts = LiveFacts::default();
    let nodes: Api<Node> = Api::all(connection.client.clone());
    match nodes.list(&ListParams::default()).await {
        Ok(list) => {
            facts.provider = provider_of(&list.items);
            facts.node_pools = Some(node_pools(&list.items));
        }
        Err(e) => match connection.error(e, "GET", "/api/v1/nodes") {
            ClusterError::Forbidden { message } => facts.warnings.push(format!(
                "cannot list nodes ({message}); node pools come from the config's cluster profile"
            )),
            other => return Err(other),
        },
    }
    // OpenShift serves its cluster configuration API whatever cloud its nodes run on.
    match connection.client.list_api_groups().await {
        Ok(groups)
            if groups
                .groups
                .iter()
                .any(|g| g.name == "config.openshift.io") =>
        {
            facts.provider = Some(Provider::Openshift);
        }
        Ok(_) => {}
        Err(e) => facts.warnings.push(format!(
            "cannot read the API groups ({}); an OpenShift cluster is not recognised",
            connection.error(e, "GET", "/apis")
        )),
    }
    let classes: Api<StorageClass> = Api::all(connection.client.clone());
    match classes.list(&ListParams::default()).await {
        Ok(list) => facts.storage_classes = Some(list.items.iter().map(storage_class).collect()),
        Err(e) => match connection.error(e, "GET", "/apis/storage.k8s.io/v1/storageclasses") {
            ClusterError::Forbidden { message } => facts.warnings.push(format!(
                "cannot list storage classes ({message}); they come from the config's cluster profile"
            )),
            other => return Err(other),
        },
    }
    Ok(facts)
}

/// The facts `nodes` and `classes` give (a reflector's stores, at admission); `openshift`: the
/// cluster serves `config.openshift.io`.
#[must_use]
pub fn facts_from(nodes: &[Node], classes: &[StorageClass], openshift: bool) -> LiveFacts {
    LiveFacts {
        provider: if openshift {
            Some(Provider::Openshift)
        } else {
            provider_of(nodes)
        },
        node_pools: Some(node_pools(nodes)),
        storage_classes: Some(classes.iter().map(storage_class).collect()),
        warnings: Vec::new(),
    }
}

/// The cloud the nodes run on, from their `spec.providerID` (`gce://`, `aws://`, `azure://`) or
/// GKE's pool label; `None` when no node tells (none at all, bare metal, another cloud) or they
/// disagree.
fn provider_of(nodes: &[Node]) -> Option<Provider> {
    let mut found: Option<Provider> = None;
    for node in nodes {
        let id = node
            .spec
            .as_ref()
            .and_then(|s| s.provider_id.as_deref())
            .unwrap_or("");
        let gke_label = node
            .metadata
            .labels
            .as_ref()
            .is_some_and(|l| l.contains_key("cloud.google.com/gke-nodepool"));
        let provider = if id.starts_with("gce://") || gke_label {
            Provider::Gke
        } else if id.starts_with("aws://") {
            Provider::Eks
        } else if id.starts_with("azure://") {
            Provider::Aks
        } else {
            continue;
        };
        match found {
            Some(p) if p != provider => return None,
            _ => found = Some(provider),
        }
    }
    found
}

/// Groups nodes into pools by their pool label (a node without one is its own pool).
fn node_pools(nodes: &[Node]) -> Vec<NodePoolFact> {
    let mut pools: BTreeMap<String, Vec<&Node>> = BTreeMap::new();
    for node in nodes {
        let labels = node.metadata.labels.clone().unwrap_or_default();
        let pool = POOL_LABELS
            .iter()
            .find_map(|l| labels.get(*l).cloned())
            .or_else(|| node.metadata.name.clone())
            .unwrap_or_default();
        pools.entry(pool).or_default().push(node);
    }
    pools
        .into_iter()
        .map(|(name, nodes)| {
            // Labels every node of the pool has, with the same value.
            let mut labels = nodes[0].metadata.labels.clone().unwrap_or_default();
            for node in &nodes[1..] {
                let theirs = node.metadata.labels.clone().unwrap_or_default();
                labels.retain(|k, v| theirs.get(k) == Some(v));
            }
            for label in PER_NODE_LABELS {
                labels.remove(*label);
            }
            let gpus = nodes
                .iter()
                .filter_map(|n| {
                    let allocatable = n.status.as_ref()?.allocatable.as_ref()?;
                    allocatable.get("nvidia.com/gpu")?.0.parse::<u32>().ok()
                })
                .max()
                .or_else(|| {
                    labels
                        .get("cloud.google.com/gke-accelerator-count")?
                        .parse()
                        .ok()
                })
                .unwrap_or(0);
            // Taints every node of the pool has; those the node lifecycle controller sets
            // (not-ready, unreachable) are transient.
            let taints_of = |node: &Node| -> Vec<TaintFact> {
                node.spec
                    .as_ref()
                    .and_then(|s| s.taints.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|t| !t.key.starts_with("node.kubernetes.io/"))
                    .map(|t| TaintFact {
                        key: t.key,
                        value: t.value.unwrap_or_default(),
                        effect: t.effect,
                    })
                    .collect()
            };
            let mut taints = taints_of(nodes[0]);
            for node in &nodes[1..] {
                let theirs = taints_of(node);
                taints.retain(|t| theirs.contains(t));
            }
            NodePoolFact {
                name,
                accelerator: labels.get("cloud.google.com/gke-accelerator").cloned(),
                gpus_per_node: gpus,
                labels,
                taints,
            }
        })
        .collect()
}

fn storage_class(class: &StorageClass) -> StorageClassFact {
    StorageClassFact {
        name: class.metadata.name.clone().unwrap_or_default(),
        provisioner: class.provisioner.clone(),
        parameters: class.parameters.clone().unwrap_or_default(),
        volume_binding_mode: class
            .volume_binding_mode
            .clone()
            .unwrap_or_else(|| "Immediate".into()),
        is_default: class
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("storageclass.kubernetes.io/is-default-class"))
            .is_some_and(|v| v == "true"),
    }
}

/// An object a policy looked up and the input set does not have.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// Kind.
    pub kind: String,
    /// Namespace (`None` for cluster-scoped kinds).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

/// Reads the referenced objects that exist in the cluster (in `namespace` when a lookup named
/// none), one GET each: PersistentVolumes,
/// PersistentVolumeClaims and ServiceAccounts whole; Secrets and ConfigMaps as metadata only
/// (their data is never read). Each carries the annotation `kubectl-vllm/source: cluster` (with
/// `metadata-only` for the latter, whose keys are then unknown to policies). A 404 leaves the
/// object out; a 403 adds a metadata-only stand-in (it cannot be proven missing) and a warning.
pub async fn fetch_referenced(
    connection: &Connection,
    keys: &[ObjectKey],
    namespace: &str,
) -> Result<(Vec<Value>, Vec<String>), ClusterError> {
    let default_namespace = namespace;
    let mut objects = Vec::new();
    let mut warnings = Vec::new();
    for key in keys {
        let namespace = key.namespace.as_deref().unwrap_or(default_namespace);
        let client = connection.client.clone();
        let result = match key.kind.as_str() {
            "PersistentVolume" => whole(Api::<PersistentVolume>::all(client), &key.name).await,
            "PersistentVolumeClaim" => {
                whole(
                    Api::<PersistentVolumeClaim>::namespaced(client, namespace),
                    &key.name,
                )
                .await
            }
            "ServiceAccount" => {
                whole(
                    Api::<ServiceAccount>::namespaced(client, namespace),
                    &key.name,
                )
                .await
            }
            "Secret" => metadata(Api::<Secret>::namespaced(client, namespace), &key.name).await,
            "ConfigMap" => {
                metadata(Api::<ConfigMap>::namespaced(client, namespace), &key.name).await
            }
            _ => continue,
        };
        match result {
            Ok(Some(mut object)) => {
                object["kind"] = json!(key.kind);
                object["apiVersion"] = json!("v1");
                objects.push(object);
            }
            Ok(None) => {}
            Err(e) => match connection.error(
                e,
                "GET",
                &resource_path(
                    "",
                    "v1",
                    &format!("{}s", key.kind.to_ascii_lowercase()),
                    (key.kind != "PersistentVolume").then_some(namespace),
                    Some(&key.name),
                ),
            ) {
                ClusterError::Forbidden { message } => {
                    warnings.push(format!(
                        "cannot read {} {namespace}/{} ({message}); assumed to exist",
                        key.kind, key.name
                    ));
                    let namespace = (key.kind != "PersistentVolume").then_some(namespace);
                    objects.push(kubectl_vllm_core::stand_in::stand_in(
                        "v1", &key.kind, namespace, &key.name, "cluster",
                    ));
                }
                other => return Err(other),
            },
        }
    }
    Ok((objects, warnings))
}

/// GET of a whole object; `None` on 404.
async fn whole<K>(api: Api<K>, name: &str) -> Result<Option<Value>, kube::Error>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let Some(object) = api.get_opt(name).await? else {
        return Ok(None);
    };
    let mut value = serde_json::to_value(&object).unwrap_or(Value::Null);
    annotate(&mut value, "cluster");
    Ok(Some(value))
}

/// GET of an object's metadata only; `None` on 404.
async fn metadata<K>(api: Api<K>, name: &str) -> Result<Option<Value>, kube::Error>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let Some(partial) = api.get_metadata_opt(name).await? else {
        return Ok(None);
    };
    let mut value =
        json!({"metadata": serde_json::to_value(&partial.metadata).unwrap_or(Value::Null)});
    annotate(&mut value, "cluster, metadata-only");
    Ok(Some(value))
}

fn annotate(object: &mut Value, source: &str) {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
        let annotations = metadata.entry("annotations").or_insert_with(|| json!({}));
        annotations[SOURCE_ANNOTATION] = json!(source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubectl_vllm_host::ClusterProfile;

    fn node(name: &str, labels: &Value, gpus: &str, taints: &Value) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": labels},
            "spec": {"providerID": "gce://p/z/n", "taints": taints},
            "status": {"allocatable": {"cpu": "8", "nvidia.com/gpu": gpus}}
        }))
        .unwrap()
    }

    #[test]
    fn nodes_group_into_pools_with_common_labels_and_taints() {
        let pool = |host: &str| {
            json!({"cloud.google.com/gke-nodepool": "l4", "cloud.google.com/gke-accelerator": "nvidia-l4",
                   "kubernetes.io/hostname": host, "cloud.google.com/gke-spot": "true"})
        };
        let spot = json!([{"key": "cloud.google.com/gke-spot", "value": "true", "effect": "NoSchedule"},
                          {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]);
        let pools = node_pools(&[
            node("a", &pool("a"), "1", &spot),
            node("b", &pool("b"), "1", &spot),
            node(
                "c",
                &json!({"cloud.google.com/gke-nodepool": "default"}),
                "0",
                &json!([]),
            ),
        ]);
        assert_eq!(pools.len(), 2);
        assert_eq!(pools[0].name, "default");
        let l4 = &pools[1];
        assert_eq!(
            (l4.accelerator.as_deref(), l4.gpus_per_node),
            (Some("nvidia-l4"), 1)
        );
        assert!(!l4.labels.contains_key("kubernetes.io/hostname"));
        assert_eq!(l4.labels["cloud.google.com/gke-spot"], "true");
        assert_eq!(
            l4.taints,
            vec![TaintFact {
                key: "cloud.google.com/gke-spot".into(),
                value: "true".into(),
                effect: "NoSchedule".into()
            }]
        );
    }

    #[test]
    fn profile_pools_without_live_nodes_are_kept() {
        let declared = |name: &str| NodePoolFact {
            name: name.into(),
            accelerator: Some("nvidia-a100-80gb".into()),
            gpus_per_node: 8,
            labels: BTreeMap::new(),
            taints: Vec::new(),
        };
        let profile = ClusterProfile {
            node_pools: vec![declared("a100-zero"), declared("l4")],
            ..ClusterProfile::default()
        };
        let facts = LiveFacts {
            provider: Some(Provider::Gke),
            node_pools: Some(vec![NodePoolFact {
                gpus_per_node: 1,
                ..declared("l4")
            }]),
            storage_classes: Some(Vec::new()),
            warnings: Vec::new(),
        };
        let cluster = kubectl_vllm_host::Cluster::live(
            &profile,
            kubectl_vllm_host::Resolved::fixed(Provider::Gke),
            &facts,
        );
        assert!(cluster.live);
        let names: Vec<(&str, u32)> = cluster
            .node_pools
            .iter()
            .map(|p| (p.name.as_str(), p.gpus_per_node))
            .collect();
        assert_eq!(names, [("l4", 1), ("a100-zero", 8)]);
        assert!(cluster.storage_classes.is_empty());
    }
}
