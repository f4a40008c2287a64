//! The cluster as the webhook sees it: nodes and storage classes kept current by kube-rs
//! reflectors (one LIST, then a WATCH each), the API groups read once (OpenShift), and the
//! objects a reviewed object references (PVCs, ServiceAccounts, Secrets as metadata) read by GET
//! and cached for a while.
//!
//! At admission an object the cluster does not have is not known to be missing: the objects of
//! one `kubectl apply` arrive one by one, and a PVC may come after the Deployment that mounts
//! it. So the linter is told that absence proves nothing (`Live::absence_proves_missing`), which
//! is where the webhook and `lint --cluster` differ (docs/product.md).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt as _, watcher};
use kubectl_vllm_cluster::{ClusterError, Connection, LiveFacts, ObjectKey};
use serde_json::Value;

/// How long a referenced object read from the cluster is used before it is read again.
const PRESENT_FOR: Duration = Duration::from_mins(1);
/// How long one WATCH request lasts (the API server's `timeoutSeconds`); the reflector then
/// watches again from where it was.
const WATCH_FOR: u32 = 25;
/// How long a referenced object the cluster did not have is taken as absent.
const ABSENT_FOR: Duration = Duration::from_secs(10);

/// The live cluster.
pub struct Cluster {
    connection: Connection,
    nodes: Store<Node>,
    classes: Store<StorageClass>,
    openshift: bool,
    /// Bumped by every watch event; the facts are built again when it moved.
    generation: Arc<AtomicU64>,
    facts: RwLock<(u64, Arc<LiveFacts>)>,
    objects: Mutex<HashMap<ObjectKey, (Instant, Option<Value>)>>,
}

impl Cluster {
    /// Starts the reflectors (on the current runtime) and reads the API groups.
    pub async fn start(connection: Connection) -> Result<Arc<Self>, ClusterError> {
        let openshift = match connection.client.list_api_groups().await {
            Ok(groups) => groups
                .groups
                .iter()
                .any(|g| g.name == "config.openshift.io"),
            Err(e) => return Err(connection.error(e, "GET", "/apis")),
        };
        let generation = Arc::new(AtomicU64::new(1));
        let nodes = reflect::<Node>(&connection, "nodes", &generation);
        let classes = reflect::<StorageClass>(&connection, "storageclasses", &generation);
        Ok(Arc::new(Self {
            connection,
            nodes,
            classes,
            openshift,
            generation,
            facts: RwLock::new((0, Arc::new(LiveFacts::default()))),
            objects: Mutex::new(HashMap::new()),
        }))
    }

    /// Waits until both reflectors have listed once.
    pub async fn ready(&self) {
        let _ = self.nodes.wait_until_ready().await;
        let _ = self.classes.wait_until_ready().await;
    }

    /// The node pools, storage classes and provider now.
    pub fn facts(&self) -> Arc<LiveFacts> {
        let now = self.generation.load(Ordering::Acquire);
        {
            let cached = self
                .facts
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if cached.0 == now {
                return Arc::clone(&cached.1);
            }
        }
        let nodes: Vec<Node> = self.nodes.state().iter().map(|n| (**n).clone()).collect();
        let classes: Vec<StorageClass> =
            self.classes.state().iter().map(|c| (**c).clone()).collect();
        let facts = Arc::new(kubectl_vllm_cluster::facts_from(
            &nodes,
            &classes,
            self.openshift,
        ));
        *self
            .facts
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (now, Arc::clone(&facts));
        facts
    }

    /// The cache of referenced objects (a panic elsewhere while it was held leaves it usable: an
    /// entry is written whole or not at all).
    fn objects(&self) -> MutexGuard<'_, HashMap<ObjectKey, (Instant, Option<Value>)>> {
        self.objects
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The referenced objects known present (fresh in the cache) that lookups from `namespace`
    /// may reach.
    pub fn known(&self, namespace: &str) -> Vec<Value> {
        self.objects()
            .iter()
            .filter(|(key, (at, object))| {
                object.is_some()
                    && at.elapsed() < PRESENT_FOR
                    && key.namespace.as_deref().is_none_or(|ns| ns == namespace)
            })
            .filter_map(|(_, (_, object))| object.clone())
            .collect()
    }

    /// Reads the `missed` lookups the cache cannot answer: `true` when one of them exists (so a
    /// second evaluation sees more), with the warnings of reading them.
    pub async fn read(
        &self,
        missed: Vec<(String, Option<String>, String)>,
        namespace: &str,
    ) -> Result<(bool, Vec<String>), ClusterError> {
        let keys: Vec<ObjectKey> = {
            let objects = self.objects();
            missed
                .into_iter()
                .map(|(kind, ns, name)| key(kind, ns, name, namespace))
                .filter(|k| {
                    objects.get(k).is_none_or(|(at, object)| {
                        at.elapsed()
                            >= if object.is_some() {
                                PRESENT_FOR
                            } else {
                                ABSENT_FOR
                            }
                    })
                })
                .collect()
        };
        if keys.is_empty() {
            return Ok((false, Vec::new()));
        }
        let (found, warnings) =
            kubectl_vllm_cluster::fetch_referenced(&self.connection, &keys, namespace).await?;
        let mut objects = self.objects();
        let now = Instant::now();
        let mut any = false;
        for k in keys {
            let object = found.iter().find(|o| is(o, &k)).cloned();
            any |= object.is_some();
            objects.insert(k, (now, object));
        }
        Ok((any, warnings))
    }
}

/// A lookup as the cache keys it: namespaced kinds always with their namespace.
fn key(kind: String, ns: Option<String>, name: String, namespace: &str) -> ObjectKey {
    let namespace = if kubectl_vllm_manifest::is_cluster_scoped(&kind) {
        None
    } else {
        Some(ns.unwrap_or_else(|| namespace.to_string()))
    };
    ObjectKey {
        kind,
        namespace,
        name,
    }
}

fn is(object: &Value, key: &ObjectKey) -> bool {
    let text = |p: &str| object.pointer(p).and_then(Value::as_str);
    text("/kind") == Some(key.kind.as_str())
        && text("/metadata/name") == Some(key.name.as_str())
        && (key.namespace.is_none() || text("/metadata/namespace") == key.namespace.as_deref())
}

/// A reflector over every object of kind `K`, driven on the current runtime; watch errors are
/// printed (the watcher backs off and lists again).
fn reflect<K>(
    connection: &Connection,
    plural: &'static str,
    generation: &Arc<AtomicU64>,
) -> Store<K>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::ClusterResourceScope>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store();
    let api: Api<K> = Api::all(connection.client.clone());
    let generation = Arc::clone(generation);
    // Each watch ends server-side before the client's read timeout (30 s) could cut it.
    let config = watcher::Config::default().timeout(WATCH_FOR);
    let stream = watcher(api, config).default_backoff().reflect(writer);
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            generation.fetch_add(1, Ordering::AcqRel);
            if let Err(e) = event {
                eprintln!("warning: watching {plural}: {e}; retrying");
            }
        }
    });
    reader
}
