//! What the storage rules share: which workloads mount a claim, what model they put on it, and
//! which StorageClass a claim gets.

use kubectl_vllm_sdk::prelude::*;
use kubectl_vllm_sdk::{Model, StorageClass};

/// Headroom over the bytes to store: filesystem overhead, tokenizer and config files.
pub const HEADROOM_PERCENT: u64 = 110;

/// A workload that mounts the claim, and the model it serves or copies there.
pub struct ClaimUse {
    /// `Kind/name`.
    pub owner: String,
    /// The model reference found (`--model`, or the copier's `gs://` source).
    pub reference: Option<String>,
    /// The model's facts.
    pub model: Option<Model>,
    /// Whether a copier copies the whole repository (no `--exclude`/`-x`) of a model with extra
    /// folders.
    pub copies_extra: bool,
}

impl ClaimUse {
    /// Bytes the claim must hold (+10%), and whether the model's extra folders count.
    pub fn required_bytes(&self) -> Option<u64> {
        let model = self.model.as_ref()?;
        let mib = if self.copies_extra {
            model.repository_mib
        } else {
            model.weights_mib
        };
        Some(mib * quantity::MIB * HEADROOM_PERCENT / 100)
    }
}

/// Every workload of the claim's namespace that mounts it (one entry per model reference), read
/// once per evaluation for the rules that ask.
pub fn users(cx: &Context, claim: &str) -> std::rc::Rc<Vec<ClaimUse>> {
    cx.memo(claim, || read_users(cx, claim))
}

fn read_users(cx: &Context, claim: &str) -> Vec<ClaimUse> {
    let mut uses = Vec::new();
    for kind in k8s::WORKLOAD_KINDS {
        // Those that name the claim anywhere: the host's index, not a scan of the namespace.
        for workload in cx.env.mentioning(kind, cx.namespace(), claim).iter() {
            let mut references: Vec<(String, bool)> = Vec::new();
            let mut mounts = false;
            for spec in k8s::pod_specs(kind, workload) {
                if !spec.claim_names().contains(&claim) {
                    continue;
                }
                mounts = true;
                let copies_everything = !spec.containers().iter().filter(|c| c.init).any(|c| {
                    vllm::words(c)
                        .iter()
                        .any(|w| w.text == "-x" || w.text.starts_with("--exclude"))
                });
                for (url, _) in vllm::gcs_sources(&spec) {
                    references.push((url, copies_everything));
                }
                let mount_paths = claim_mount_paths(&spec, claim);
                for server in vllm::servers(&spec, cx.env, cx.namespace()) {
                    let Some(value) = server.model().and_then(|m| m.value) else {
                        continue;
                    };
                    // A model read from a path is on this claim only when the path is under
                    // where the server mounts it (a cache volume holds no weights).
                    if value.starts_with('/')
                        && !mount_paths.iter().any(|(c, m)| {
                            c == &server.container.pointer && value.starts_with(m.as_str())
                        })
                    {
                        continue;
                    }
                    references.push((value, false));
                }
            }
            if !mounts {
                continue;
            }
            let name = workload
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let owner = format!("{kind}/{name}");
            if references.is_empty() {
                uses.push(ClaimUse {
                    owner,
                    reference: None,
                    model: None,
                    copies_extra: false,
                });
                continue;
            }
            for (reference, copies_everything) in references {
                let model = cx.model(&reference);
                let copies_extra = copies_everything
                    && model.as_ref().is_some_and(|m| !m.extra_folders.is_empty());
                uses.push(ClaimUse {
                    owner: owner.clone(),
                    reference: Some(reference),
                    model,
                    copies_extra,
                });
            }
        }
    }
    uses
}

/// Where each container of `spec` mounts the volumes backed by `claim`: (container, path).
fn claim_mount_paths(spec: &PodSpec, claim: &str) -> Vec<(Pointer, String)> {
    let volumes: Vec<&str> = spec
        .volumes()
        .iter()
        .filter(|v| {
            v.pointer("/persistentVolumeClaim/claimName")
                .and_then(Value::as_str)
                == Some(claim)
        })
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .collect();
    let mut out = Vec::new();
    for container in spec.containers() {
        let Some(Value::Array(mounts)) = container.value.get("volumeMounts") else {
            continue;
        };
        for mount in mounts {
            let name = mount.get("name").and_then(Value::as_str).unwrap_or("");
            if let Some(path) = mount.get("mountPath").and_then(Value::as_str)
                && volumes.contains(&name)
            {
                out.push((container.pointer.clone(), path.to_string()));
            }
        }
    }
    out
}

/// The claim's model need: the largest requirement among its users.
pub fn requirement(uses: &[ClaimUse]) -> Option<&ClaimUse> {
    uses.iter()
        .filter(|u| u.model.is_some())
        .max_by_key(|u| u.required_bytes())
}

/// Where a StorageClass comes from.
pub enum ClassSource {
    /// Defined in the input set.
    InputSet(Value),
    /// Known from the cluster profile (or GKE's built-ins).
    Cluster(StorageClass),
}

impl ClassSource {
    /// `parameters.type` (the disk type).
    pub fn disk_type(&self) -> Option<String> {
        match self {
            Self::InputSet(sc) => sc
                .pointer("/parameters/type")
                .and_then(Value::as_str)
                .map(str::to_string),
            Self::Cluster(sc) => sc
                .parameters
                .iter()
                .find(|(k, _)| k == "type")
                .map(|(_, v)| v.clone()),
        }
    }

    /// Where the facts came from, for messages.
    pub fn origin(&self) -> &'static str {
        match self {
            Self::InputSet(_) => "defined in the input set",
            Self::Cluster(_) => "from the cluster profile",
        }
    }
}

/// The StorageClass named `name`: from the input set, else the cluster facts.
pub fn storage_class(cx: &Context, name: &str) -> Option<ClassSource> {
    if let Some(sc) = cx.env.get("StorageClass", None, name) {
        return Some(ClassSource::InputSet(sc));
    }
    cx.env
        .storage_classes()
        .into_iter()
        .find(|s| s.name == name)
        .map(ClassSource::Cluster)
}

/// The class a claim gets: its `storageClassName`, or the default class (`None` for `""`).
pub fn class_of(cx: &Context, claim: &Value) -> Option<(String, Option<ClassSource>)> {
    match claim
        .pointer("/spec/storageClassName")
        .and_then(Value::as_str)
    {
        Some("") => None,
        Some(name) => Some((name.to_string(), storage_class(cx, name))),
        None => {
            let in_set = cx
                .env
                .list("StorageClass", None, "")
                .iter()
                .find(|sc| {
                    sc.pointer("/metadata/annotations/storageclass.kubernetes.io~1is-default-class")
                        .and_then(Value::as_str)
                        == Some("true")
                })
                .cloned();
            if let Some(sc) = in_set {
                let name = sc
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                return Some((name, Some(ClassSource::InputSet(sc))));
            }
            let default = cx
                .env
                .storage_classes()
                .into_iter()
                .find(|s| s.is_default)?;
            Some((default.name.clone(), Some(ClassSource::Cluster(default))))
        }
    }
}

/// Access modes of a claim or volume.
pub fn access_modes(object: &Value) -> Vec<String> {
    object
        .pointer("/spec/accessModes")
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}
