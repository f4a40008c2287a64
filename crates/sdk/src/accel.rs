//! Which accelerator a pod will run on, on any provider: a node label that names the GPU model
//! (GKE's `cloud.google.com/gke-accelerator`, NVIDIA GPU Feature Discovery's
//! `nvidia.com/gpu.product`, a machine type, Karpenter's GPU name), else the node pools the pod
//! can land on, else a MIG slice it requests.

use crate::k8s::{self, Device, PodSpec};
use crate::{Accelerator, Context, Findings, Pointer, SkipReason, Vendor, pools};

/// Node labels that name the GPU model, most specific first.
pub const MODEL_LABELS: &[&str] = &[
    k8s::GKE_ACCELERATOR,
    "nvidia.com/gpu.product",
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
    "karpenter.k8s.aws/instance-gpu-name",
];

/// Node labels that give the GPUs per node.
pub const COUNT_LABELS: &[&str] = &[
    "cloud.google.com/gke-accelerator-count",
    "nvidia.com/gpu.count",
    "karpenter.k8s.aws/instance-gpu-count",
];

/// How a pod picks its accelerator.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The node label key (or `node pool`, or the MIG resource).
    pub key: String,
    /// Its value as written.
    pub value: String,
    /// Where the choice is written (the selector value, the pod spec, the resource).
    pub at: Pointer,
    /// The model, when the fact tables know it.
    pub accelerator: Option<Accelerator>,
    /// Devices per node the choice implies, when known (a machine type, a count label, pools).
    pub devices_per_node: Option<u32>,
}

impl Selection {
    /// How messages name it: the model's name (`A100 40GB`), else the value as written.
    #[must_use]
    pub fn name(&self) -> String {
        self.accelerator
            .as_ref()
            .map_or_else(|| self.value.clone(), |a| a.name.clone())
    }

    /// Where the choice came from, for messages: `nodeSelector nvidia.com/gpu.product=NVIDIA-L4`.
    #[must_use]
    pub fn how(&self) -> String {
        format!("{}={}", self.key, self.value)
    }
}

/// The accelerator `spec` selects (see the module documentation).
#[must_use]
pub fn select(cx: &Context, spec: &PodSpec) -> Option<Selection> {
    let count = COUNT_LABELS
        .iter()
        .find_map(|k| spec.label_value(k))
        .and_then(|(v, _)| v.parse::<u32>().ok());
    for key in MODEL_LABELS {
        let Some((value, at)) = spec.label_value(key) else {
            continue;
        };
        let found = cx.env.find_accelerator(key, &value);
        return Some(Selection {
            key: (*key).to_string(),
            value,
            at,
            devices_per_node: count.or(found.as_ref().and_then(|m| m.devices_per_node)),
            accelerator: found.map(|m| m.accelerator),
        });
    }
    if let Some(selection) = by_pools(cx, spec) {
        return Some(selection);
    }
    mig(spec)
}

/// The accelerator every pool the pod can land on has, when they agree.
fn by_pools(cx: &Context, spec: &PodSpec) -> Option<Selection> {
    let all = cx.env.node_pools();
    if all.is_empty() || spec.gpu_count() == 0 {
        return None;
    }
    let gpu_pools: Vec<_> = pools::matching(cx, spec, &all)
        .into_iter()
        .filter(|p| p.accelerator.is_some())
        .collect();
    let first = gpu_pools.first()?.accelerator.clone()?;
    if gpu_pools
        .iter()
        .any(|p| p.accelerator.as_deref() != Some(first.as_str()))
    {
        return None;
    }
    let names: Vec<&str> = gpu_pools.iter().map(|p| p.name.as_str()).collect();
    let at = if spec.spec.get("nodeSelector").is_some() {
        spec.at().key("nodeSelector")
    } else {
        spec.at()
    };
    Some(Selection {
        key: "node pool".into(),
        value: names.join(", "),
        at,
        accelerator: cx.env.accelerator(&first),
        devices_per_node: gpu_pools.iter().map(|p| p.gpus_per_node).min(),
    })
}

/// A MIG slice (`nvidia.com/mig-3g.40gb`), as an accelerator with the slice's memory. MIG
/// exists only on Ampere and newer data-centre GPUs, so compute capability is at least 8.0.
fn mig(spec: &PodSpec) -> Option<Selection> {
    for container in spec.app_containers() {
        for (device, _) in container.devices() {
            let Device::NvidiaMig(profile) = device else {
                continue;
            };
            let resource = format!("nvidia.com/mig-{profile}");
            let Some(memory_gb) = profile
                .split_once('.')
                .and_then(|(_, m)| m.strip_suffix("gb"))
                .and_then(|m| m.parse::<u64>().ok())
            else {
                continue; // a profile that names no memory: try the next request
            };
            return Some(Selection {
                at: container.resource_at("limits", &resource),
                key: resource.clone(),
                value: profile.clone(),
                accelerator: Some(Accelerator {
                    id: format!("nvidia-mig-{profile}"),
                    name: format!("MIG {profile} slice"),
                    vendor: Vendor::Nvidia,
                    // The profile names decimal gigabytes; taking them as GiB errs towards
                    // more memory, so a fit check never fails a slice that could fit.
                    memory_mib: memory_gb * 1024,
                    compute_capability: 80,
                    bf16: true,
                    fp8: false,
                    on_gke: false,
                    gpus_per_node: Vec::new(),
                    autopilot_counts: Vec::new(),
                    typos: Vec::new(),
                    source: "NVIDIA MIG profile name (<slices>g.<memory>gb)".into(),
                }),
                devices_per_node: None,
            });
        }
    }
    None
}

// The accelerator questions of a context, defined here with the selection they answer from.
impl Context<'_> {
    /// The NVIDIA GPU a pod runs on, with how it was selected, for a rule that needs its facts.
    /// When no node label, pool or MIG request names a model the table knows, records
    /// `skipped(accelerator-unknown)` for the current rule and answers `None`. Pods that request
    /// no NVIDIA device are not checked (other vendors' devices have their own rules).
    pub fn gpu_checked(
        &self,
        spec: &PodSpec,
        out: &mut Findings,
    ) -> Option<(Selection, Accelerator)> {
        if !spec.containers().iter().any(|c| c.nvidia_devices() > 0) {
            return None;
        }
        let Some(selection) = self.accelerator(spec) else {
            out.skip(
                SkipReason::AcceleratorUnknown(
                    "no node label, node pool or MIG request names a GPU model of the table".into(),
                ),
                &spec.at(),
            );
            return None;
        };
        if let Some(gpu) = selection.accelerator.clone() {
            Some((selection, gpu))
        } else {
            out.skip(
                SkipReason::AcceleratorUnknown(selection.how()),
                &selection.at,
            );
            None
        }
    }

    /// The accelerator a pod spec selects, by node label, node pool or MIG resource.
    #[must_use]
    pub fn accelerator(&self, spec: &PodSpec) -> Option<Selection> {
        select(self, spec)
    }
}
