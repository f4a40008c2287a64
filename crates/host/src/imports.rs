//! What a 0.2 policy imports: `inventory`, `references`, `facts` and `cluster`, answered from the run's
//! [`Shared`](crate::Shared) state.

use crate::bindings::kubectl_vllm::policy::{cluster, facts as wit, inventory, references, types};
use crate::facts::{AcceleratorFact, ModelFact, NodePoolFact, StorageClassFact};
use crate::provider::{Provider, ProviderSource};
use crate::state::State;

/// The contract's name for a provider.
pub(crate) fn provider(p: Provider) -> types::Provider {
    match p {
        Provider::Gke => types::Provider::Gke,
        Provider::Eks => types::Provider::Eks,
        Provider::Aks => types::Provider::Aks,
        Provider::Openshift => types::Provider::Openshift,
        Provider::Generic => types::Provider::Generic,
        Provider::Unknown => types::Provider::Unknown,
    }
}

impl types::Host for State {}

/// An inventory entry as the contract's record.
fn object(entry: &crate::inventory::Entry) -> inventory::Object {
    inventory::Object {
        object_ref: entry.reference.clone(),
        json: entry.json.clone(),
    }
}

impl inventory::Host for State {
    fn get(
        &mut self,
        kind: String,
        namespace: Option<String>,
        name: String,
    ) -> Option<inventory::Object> {
        self.shared
            .inventory
            .get_in(self.unit, &kind, namespace.as_deref(), &name)
            .map(object)
    }

    fn list(
        &mut self,
        kind: String,
        namespace: Option<String>,
        label_selector: String,
    ) -> Vec<inventory::Object> {
        self.shared
            .inventory
            .list_in(self.unit, &kind, namespace.as_deref(), &label_selector)
            .unwrap_or_default()
            .into_iter()
            .map(object)
            .collect()
    }
}

impl references::Host for State {
    fn mentioning(
        &mut self,
        kind: String,
        namespace: Option<String>,
        value: String,
    ) -> Vec<inventory::Object> {
        self.shared
            .inventory
            .mentioning_in(self.unit, &kind, namespace.as_deref(), &value)
            .into_iter()
            .map(object)
            .collect()
    }
}

impl wit::Host for State {
    fn find_image(&mut self, reference: String) -> Option<wit::Image> {
        let found = crate::images::lookup(&self.shared.facts.images, &reference)?;
        Some(wit::Image {
            repository: found.repository,
            vllm_version: found.vllm_version,
            assumed_newest: found.assumed_newest,
            cuda: found.fact.cuda.clone(),
            vendor: vendor(found.fact.vendor),
            ld_library_path: found.fact.ld_library_path.clone(),
            driver_dir: found.fact.driver_dir(),
            patched: found.fact.patched,
            entrypoint: found.fact.entrypoint.clone(),
            pin: found.fact.pin.clone(),
            source: found.fact.source.clone(),
            reference,
        })
    }

    fn get_model(&mut self, name: String) -> Option<wit::Model> {
        self.shared.facts.model(&name).map(model_record)
    }

    fn list_models(&mut self) -> Vec<wit::Model> {
        self.shared.facts.models.iter().map(model_record).collect()
    }

    fn get_accelerator(&mut self, id: String) -> Option<wit::Accelerator> {
        self.shared.facts.accelerator(&id).map(accelerator_record)
    }

    fn list_accelerators(&mut self) -> Vec<wit::Accelerator> {
        self.shared
            .facts
            .accelerators
            .iter()
            .map(accelerator_record)
            .collect()
    }

    fn find_accelerator(&mut self, key: String, value: String) -> Option<wit::AcceleratorMatch> {
        self.shared
            .facts
            .find_accelerator(&key, &value)
            .map(|m| wit::AcceleratorMatch {
                accelerator: accelerator_record(m.accelerator),
                devices_per_node: m.devices_per_node,
            })
    }
}

fn vendor(v: crate::images::Vendor) -> wit::Vendor {
    use crate::images::Vendor as V;
    match v {
        V::Nvidia => wit::Vendor::Nvidia,
        V::Amd => wit::Vendor::Amd,
        V::Intel => wit::Vendor::Intel,
        V::Aws => wit::Vendor::Aws,
        V::Google => wit::Vendor::Google,
    }
}

pub(crate) fn model_record(m: &ModelFact) -> wit::Model {
    wit::Model {
        id: m.id.clone(),
        aliases: m.aliases.clone(),
        weights_mib: m.weights_mib,
        repository_mib: m.repository_mib,
        extra_folders: m.extra_folders.clone(),
        attention_heads: m.attention_heads,
        vision_heads: m.vision_heads,
        kv_heads: m.kv_heads,
        layers: m.layers,
        full_attention_layers: m.full_attention_layers.unwrap_or(m.layers),
        sliding_window: m.sliding_window,
        head_dim: m.head_dim,
        max_context: m.max_context,
        dtype: m.dtype.clone(),
        model_type: m.model_type.clone(),
        min_vllm: m.min_vllm.clone(),
        min_compute_capability: m.min_compute_capability,
        gated: m.gated,
        source: m.source.clone(),
    }
}

fn accelerator_record(a: &AcceleratorFact) -> wit::Accelerator {
    wit::Accelerator {
        id: a.id.clone(),
        name: a.name.clone(),
        vendor: vendor(a.vendor),
        memory_mib: a.memory_mib,
        compute_capability: a.compute_capability,
        bf16: a.bf16(),
        fp8: a.fp8(),
        on_gke: a.on_gke(),
        gpus_per_node: a.gpus_per_node.clone(),
        autopilot_counts: a.autopilot_counts.clone(),
        typos: a.typos.clone(),
        source: a.source.clone(),
    }
}

impl cluster::Host for State {
    fn get_profile(&mut self) -> cluster::Profile {
        let c = &self.shared.cluster;
        cluster::Profile {
            provider: provider(c.provider.provider),
            provider_source: match c.provider.source {
                ProviderSource::Flag => cluster::ProviderSource::Flag,
                ProviderSource::Config => cluster::ProviderSource::Config,
                ProviderSource::LiveCluster => cluster::ProviderSource::LiveCluster,
                ProviderSource::Hints => cluster::ProviderSource::Hints,
                ProviderSource::None => cluster::ProviderSource::None,
            },
            autopilot: c.autopilot,
            extended_resource_toleration: c.extended_resource_toleration,
            live: c.live,
        }
    }

    fn list_node_pools(&mut self) -> Vec<cluster::NodePool> {
        self.shared
            .cluster
            .node_pools
            .iter()
            .map(|p| node_pool(p, &self.shared.facts))
            .collect()
    }

    fn list_storage_classes(&mut self) -> Vec<cluster::StorageClass> {
        self.shared
            .cluster
            .storage_classes
            .iter()
            .map(storage_class)
            .collect()
    }
}

/// A pool with its accelerator resolved: the profile's `accelerator`, else what its labels say.
pub(crate) fn node_pool(p: &NodePoolFact, facts: &crate::FactTables) -> cluster::NodePool {
    let accelerator = p.accelerator.clone().or_else(|| {
        p.labels
            .iter()
            .find_map(|(k, v)| facts.find_accelerator(k, v))
            .map(|m| m.accelerator.id.clone())
    });
    cluster::NodePool {
        name: p.name.clone(),
        accelerator,
        gpus_per_node: p.gpus_per_node,
        labels: p.labels.clone().into_iter().collect(),
        taints: p
            .taints
            .iter()
            .map(|t| cluster::Taint {
                key: t.key.clone(),
                value: t.value.clone(),
                effect: t.effect.clone(),
            })
            .collect(),
    }
}

fn storage_class(s: &StorageClassFact) -> cluster::StorageClass {
    cluster::StorageClass {
        name: s.name.clone(),
        provisioner: s.provisioner.clone(),
        parameters: s.parameters.clone().into_iter().collect(),
        volume_binding_mode: s.volume_binding_mode.clone(),
        is_default: s.is_default,
    }
}
