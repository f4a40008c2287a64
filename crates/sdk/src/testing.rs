//! An in-memory [`Env`] for native unit tests of rules.

use serde_json::Value;

use crate::{
    Accelerator, AcceleratorMatch, Env, Image, Model, NodePool, Objects, Profile, ProviderSource,
    StorageClass,
};

/// A host double: objects, facts and a cluster profile held in memory.
pub struct FakeEnv {
    /// Objects of the "input set".
    pub objects: Vec<Value>,
    /// Models.
    pub models: Vec<Model>,
    /// Accelerators.
    pub accelerators: Vec<Accelerator>,
    /// The profile.
    pub profile: Profile,
    /// Node pools.
    pub node_pools: Vec<NodePool>,
    /// Storage classes.
    pub storage_classes: Vec<StorageClass>,
    /// Images, matched by exact reference.
    pub images: Vec<Image>,
}

impl Default for FakeEnv {
    fn default() -> Self {
        Self {
            objects: Vec::new(),
            models: Vec::new(),
            accelerators: Vec::new(),
            profile: Profile {
                provider: crate::wit::Provider::Gke,
                provider_source: ProviderSource::Config,
                autopilot: false,
                extended_resource_toleration: true,
                live: false,
            },
            node_pools: Vec::new(),
            storage_classes: Vec::new(),
            images: Vec::new(),
        }
    }
}

fn field<'a>(o: &'a Value, pointer: &str) -> Option<&'a str> {
    o.pointer(pointer).and_then(Value::as_str)
}

impl Env for FakeEnv {
    fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        self.objects
            .iter()
            .find(|o| {
                field(o, "/kind") == Some(kind)
                    && field(o, "/metadata/name") == Some(name)
                    && (namespace.is_none() || field(o, "/metadata/namespace") == namespace)
            })
            .cloned()
    }

    fn list(&self, kind: &str, namespace: Option<&str>, _selector: &str) -> Objects {
        Objects::new(
            self.objects
                .iter()
                .filter(|o| {
                    field(o, "/kind") == Some(kind)
                        && (namespace.is_none() || field(o, "/metadata/namespace") == namespace)
                })
                .cloned()
                .collect(),
        )
    }

    fn model(&self, name: &str) -> Option<Model> {
        let name = name.to_ascii_lowercase();
        self.models
            .iter()
            .find(|m| {
                m.id.to_ascii_lowercase() == name
                    || m.aliases.iter().any(|a| a.to_ascii_lowercase() == name)
            })
            .cloned()
    }

    fn accelerator(&self, id: &str) -> Option<Accelerator> {
        self.accelerators.iter().find(|a| a.id == id).cloned()
    }

    fn find_accelerator(&self, key: &str, value: &str) -> Option<AcceleratorMatch> {
        (key == crate::k8s::GKE_ACCELERATOR)
            .then(|| self.accelerator(value))
            .flatten()
            .map(|accelerator| AcceleratorMatch {
                accelerator,
                devices_per_node: None,
            })
    }

    fn image(&self, reference: &str) -> Option<Image> {
        self.images
            .iter()
            .find(|i| i.reference == reference)
            .cloned()
    }

    fn accelerators(&self) -> Vec<Accelerator> {
        self.accelerators.clone()
    }

    fn profile(&self) -> Profile {
        self.profile
    }

    fn node_pools(&self) -> Vec<NodePool> {
        self.node_pools.clone()
    }

    fn storage_classes(&self) -> Vec<StorageClass> {
        self.storage_classes.clone()
    }
}
