//! What the host offers a policy ([`Env`]): the real host through the component's imports
//! ([`HostEnv`]), memoized for each evaluation.

use serde_json::Value;

use crate::bindings;
use crate::{Accelerator, AcceleratorMatch, Image, Model, NodePool, Profile, StorageClass};

/// What the host offers a policy: lookups into the input set, fact tables and cluster facts.
pub trait Env {
    /// An object of the input set by kind, namespace and name, as JSON.
    fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<Value>;
    /// Objects of `kind` in `namespace` (`None`: all) matching an equality-based label selector.
    /// Shared, because rules of one evaluation ask for the same lists.
    fn list(&self, kind: &str, namespace: Option<&str>, selector: &str) -> Objects;
    /// Objects of `kind` in `namespace` (`None`: all) that hold the string `value` somewhere as a
    /// string value: a superset of those that refer to something named `value`, answered from the
    /// host's index (`references.mentioning`, contract 0.2.1). Ask this, then check the field,
    /// instead of scanning a `list` for every object: that costs the square of the set's size.
    /// The default filters `list`, for test environments.
    fn mentioning(&self, kind: &str, namespace: Option<&str>, value: &str) -> Objects {
        Objects::new(
            self.list(kind, namespace, "")
                .iter()
                .filter(|o| holds_string(o, value))
                .cloned()
                .collect(),
        )
    }
    /// A model by id or alias.
    fn model(&self, name: &str) -> Option<Model>;
    /// An accelerator by id (the GKE label value where GKE offers it).
    fn accelerator(&self, id: &str) -> Option<Accelerator>;
    /// Every known accelerator.
    fn accelerators(&self) -> Vec<Accelerator>;
    /// The accelerator a node label identifies (GKE, GPU Feature Discovery, Karpenter, machine
    /// types).
    fn find_accelerator(&self, key: &str, value: &str) -> Option<AcceleratorMatch>;
    /// The image table's facts about an image reference.
    fn image(&self, reference: &str) -> Option<Image>;
    /// The cluster profile.
    fn profile(&self) -> Profile;
    /// Known node pools.
    fn node_pools(&self) -> Vec<NodePool>;
    /// StorageClasses known to exist in the cluster (outside the input set).
    fn storage_classes(&self) -> Vec<StorageClass>;
}

/// Whether `value` holds the string `wanted` as a string value (not as a key) anywhere.
#[must_use]
pub fn holds_string(value: &Value, wanted: &str) -> bool {
    match value {
        Value::String(s) => s == wanted,
        Value::Array(items) => items.iter().any(|v| holds_string(v, wanted)),
        Value::Object(map) => map.values().any(|v| holds_string(v, wanted)),
        _ => false,
    }
}

/// Objects returned by [`Env::list`].
pub type Objects = std::rc::Rc<Vec<Value>>;

/// Lookup arguments: kind, namespace, and name, selector or value.
type ListKey = (String, Option<String>, String);

fn key(kind: &str, namespace: Option<&str>, name: &str) -> ListKey {
    (
        kind.to_string(),
        namespace.map(str::to_string),
        name.to_string(),
    )
}

/// Memoizes an [`Env`] for one evaluation.
pub(crate) struct CachedEnv<'a> {
    inner: &'a dyn Env,
    profile: std::cell::OnceCell<Profile>,
    node_pools: std::cell::OnceCell<Vec<NodePool>>,
    accelerators: std::cell::OnceCell<Vec<Accelerator>>,
    models: std::cell::RefCell<std::collections::HashMap<String, Option<Model>>>,
    images: std::cell::RefCell<std::collections::HashMap<String, Option<Image>>>,
    lists: std::cell::RefCell<std::collections::HashMap<ListKey, Objects>>,
    mentions: std::cell::RefCell<std::collections::HashMap<ListKey, Objects>>,
    gets: std::cell::RefCell<std::collections::HashMap<ListKey, Option<Value>>>,
}

impl<'a> CachedEnv<'a> {
    pub(crate) fn new(inner: &'a dyn Env) -> Self {
        Self {
            inner,
            profile: std::cell::OnceCell::new(),
            node_pools: std::cell::OnceCell::new(),
            accelerators: std::cell::OnceCell::new(),
            models: std::cell::RefCell::default(),
            images: std::cell::RefCell::default(),
            lists: std::cell::RefCell::default(),
            mentions: std::cell::RefCell::default(),
            gets: std::cell::RefCell::default(),
        }
    }
}

impl CachedEnv<'_> {
    fn table(&self) -> &[Accelerator] {
        self.accelerators.get_or_init(|| self.inner.accelerators())
    }
}

/// The answer cached under `key`, or `ask`'s, cached.
fn memo<K: std::hash::Hash + Eq, V: Clone>(
    cache: &std::cell::RefCell<std::collections::HashMap<K, V>>,
    key: K,
    ask: impl FnOnce() -> V,
) -> V {
    if let Some(hit) = cache.borrow().get(&key) {
        return hit.clone();
    }
    let found = ask();
    cache.borrow_mut().insert(key, found.clone());
    found
}

impl Env for CachedEnv<'_> {
    fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        memo(&self.gets, key(kind, namespace, name), || {
            self.inner.get(kind, namespace, name)
        })
    }

    fn mentioning(&self, kind: &str, namespace: Option<&str>, value: &str) -> Objects {
        memo(&self.mentions, key(kind, namespace, value), || {
            self.inner.mentioning(kind, namespace, value)
        })
    }

    fn list(&self, kind: &str, namespace: Option<&str>, selector: &str) -> Objects {
        memo(&self.lists, key(kind, namespace, selector), || {
            self.inner.list(kind, namespace, selector)
        })
    }

    fn model(&self, name: &str) -> Option<Model> {
        memo(&self.models, name.to_string(), || self.inner.model(name))
    }

    fn accelerator(&self, id: &str) -> Option<Accelerator> {
        self.table().iter().find(|a| a.id == id).cloned()
    }

    fn accelerators(&self) -> Vec<Accelerator> {
        self.table().to_vec()
    }

    fn find_accelerator(&self, key: &str, value: &str) -> Option<AcceleratorMatch> {
        self.inner.find_accelerator(key, value)
    }

    fn image(&self, reference: &str) -> Option<Image> {
        memo(&self.images, reference.to_string(), || {
            self.inner.image(reference)
        })
    }

    fn profile(&self) -> Profile {
        *self.profile.get_or_init(|| self.inner.profile())
    }

    fn node_pools(&self) -> Vec<NodePool> {
        self.node_pools
            .get_or_init(|| self.inner.node_pools())
            .clone()
    }

    fn storage_classes(&self) -> Vec<StorageClass> {
        self.inner.storage_classes()
    }
}

/// The real host, through the component's imports.
pub struct HostEnv;

thread_local! {
    /// [`HostEnv::list`]'s answers, parsed, for the rest of the input set: each PVC then stops
    /// re-parsing every workload. The host calls `lifecycle.reset` ([`reset`]) before it reuses
    /// the instance for another set.
    static LISTS: std::cell::RefCell<std::collections::HashMap<ListKey, Objects>> =
        std::cell::RefCell::default();
}

/// Forgets what [`HostEnv`] kept of the input set: the host is about to evaluate another set in
/// this instance (`lifecycle.reset`, contract 0.2.2). The [`crate::policy!`] macro exports it.
pub fn reset() {
    LISTS.with(|lists| lists.borrow_mut().clear());
}

impl Env for HostEnv {
    fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        bindings::kubectl_vllm::policy::inventory::get(kind, namespace, name)
            .and_then(|o| serde_json::from_str(&o.json).ok())
    }

    fn list(&self, kind: &str, namespace: Option<&str>, selector: &str) -> Objects {
        let key = (
            kind.to_string(),
            namespace.map(str::to_string),
            selector.to_string(),
        );
        if let Some(hit) = LISTS.with(|lists| lists.borrow().get(&key).cloned()) {
            return hit;
        }
        let objects = Objects::new(
            bindings::kubectl_vllm::policy::inventory::list(kind, namespace, selector)
                .into_iter()
                .filter_map(|o| serde_json::from_str(&o.json).ok())
                .collect(),
        );
        LISTS.with(|lists| lists.borrow_mut().insert(key, Objects::clone(&objects)));
        objects
    }

    fn mentioning(&self, kind: &str, namespace: Option<&str>, value: &str) -> Objects {
        Objects::new(
            bindings::kubectl_vllm::policy::references::mentioning(kind, namespace, value)
                .into_iter()
                .filter_map(|o| serde_json::from_str(&o.json).ok())
                .collect(),
        )
    }

    fn model(&self, name: &str) -> Option<Model> {
        bindings::kubectl_vllm::policy::facts::get_model(name)
    }

    fn accelerator(&self, id: &str) -> Option<Accelerator> {
        bindings::kubectl_vllm::policy::facts::get_accelerator(id)
    }

    fn accelerators(&self) -> Vec<Accelerator> {
        bindings::kubectl_vllm::policy::facts::list_accelerators()
    }

    fn find_accelerator(&self, key: &str, value: &str) -> Option<AcceleratorMatch> {
        bindings::kubectl_vllm::policy::facts::find_accelerator(key, value)
    }

    fn image(&self, reference: &str) -> Option<Image> {
        bindings::kubectl_vllm::policy::facts::find_image(reference)
    }

    fn profile(&self) -> Profile {
        bindings::kubectl_vllm::policy::cluster::get_profile()
    }

    fn node_pools(&self) -> Vec<NodePool> {
        bindings::kubectl_vllm::policy::cluster::list_node_pools()
    }

    fn storage_classes(&self) -> Vec<StorageClass> {
        bindings::kubectl_vllm::policy::cluster::list_storage_classes()
    }
}
