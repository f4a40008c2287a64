use kubectl_vllm_sdk::accel;
use kubectl_vllm_sdk::pools;
use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Checks that one pod's accelerator request fits on one node of the kind it selects: a
    /// machine type (`node.kubernetes.io/instance-type: p4d.24xlarge` has 8 GPUs), a GPU count
    /// label (NVIDIA GPU Feature Discovery's `nvidia.com/gpu.count`, Karpenter's
    /// `karpenter.k8s.aws/instance-gpu-count`), or the node pools of the cluster profile it can
    /// land on (their `gpus-per-node`). On every provider; GKE's own count label and machine
    /// shapes are `gke-accel-count-*`'s.
    ///
    /// ## Why is this bad?
    /// A pod never spans nodes: `0/N nodes are available: N Insufficient nvidia.com/gpu`, and it
    /// stays Pending. The cluster autoscaler cannot help, since no node of that shape has enough.
    ///
    /// ## Example
    /// ```yaml
    /// nodeSelector: {node.kubernetes.io/instance-type: g5.12xlarge}   # 4 A10G
    /// containers:
    /// - name: vllm
    ///   resources: {limits: {nvidia.com/gpu: 8}}
    /// ```
    ///
    /// Use instead: `g5.48xlarge` (8 A10G), or 4 GPUs with `--tensor-parallel-size=4`.
    ///
    /// The finding points at the selector that fixes the node shape (the pod spec for pools).
    /// Only the accelerator count is compared; CPU and memory against machine shapes are not
    /// checked yet.
    ///
    /// ## Fix safety
    /// No fix: the GPU count drives tensor parallelism, which the user must choose.
    ///
    /// ## Source
    /// Kubernetes "Schedule GPUs"; EC2 and Azure instance type tables (the machine-type fact
    /// table); catalogue §9a RES-EXCEEDS-NODE-SHAPE.
    ///
    /// - <https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/>
    pub struct ResExceedsNodeShape {
        id: "res-exceeds-node-shape",
        severity: Error,
        fix: None,
        summary: "a pod asks for more accelerators than one node of its kind has",
    }
}

/// Labels whose value is a GPU count per node, other than GKE's.
const COUNT_LABELS: &[&str] = &[
    "nvidia.com/gpu.count",
    "karpenter.k8s.aws/instance-gpu-count",
];

impl Rule for ResExceedsNodeShape {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        let needed = spec.device_count();
        if needed == 0 {
            return;
        }
        // The node shape, most specific first: a count label, a machine type, the pools.
        let shape = COUNT_LABELS
            .iter()
            .find_map(|key| {
                let (value, at) = spec.label_value(key)?;
                Some((value.parse::<u64>().ok()?, format!("{key}={value}"), at))
            })
            .or_else(|| {
                accel::MODEL_LABELS
                    .iter()
                    .filter(|k| k.ends_with("instance-type"))
                    .find_map(|key| {
                        let (value, at) = spec.label_value(key)?;
                        let found = cx.env.find_accelerator(key, &value)?;
                        Some((
                            u64::from(found.devices_per_node?),
                            format!("{key}={value}"),
                            at,
                        ))
                    })
            })
            .or_else(|| {
                let all = cx.env.node_pools();
                let gpu_pools: Vec<_> = pools::matching(cx, spec, &all)
                    .into_iter()
                    .filter(|p| p.accelerator.is_some() && p.gpus_per_node > 0)
                    .collect();
                let most = gpu_pools.iter().map(|p| u64::from(p.gpus_per_node)).max()?;
                let names: Vec<&str> = gpu_pools.iter().map(|p| p.name.as_str()).collect();
                Some((most, format!("node pools {}", names.join(", ")), spec.at()))
            });
        let Some((per_node, what, at)) = shape else {
            return;
        };
        if needed <= per_node {
            return;
        }
        out.report(
            &at,
            format!("the pod needs {needed} accelerators but nodes of {what} have at most {per_node}: it stays Pending"),
        )
        .help(format!(
            "request at most {per_node} (and a matching --tensor-parallel-size), or select a larger machine"
        ));
    }
}
