use kubectl_vllm_sdk::prelude::*;

use crate::common::parallelism_site;

declare_rule! {
    /// ## What it does
    /// Compares vLLM's parallelism with the GPUs the container gets: `--tensor-parallel-size` ×
    /// `--pipeline-parallel-size` × `--data-parallel-size` (each 1 when absent) against the
    /// container's `nvidia.com/gpu`. For a LeaderWorkerSet, TP × PP must equal `size` × the GPUs of
    /// each pod. Error when vLLM wants more GPUs than it has, warning when fewer.
    ///
    /// ## Why is this bad?
    /// More ranks than visible GPUs fails at startup (`Tensor parallel size (2) cannot be larger
    /// than the number of available GPUs (1)`) or, in some versions, falls back to Ray and times
    /// out on a placement group. Fewer ranks than GPUs leaves paid-for GPUs idle.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["--model=/models/gemma-3-27b-it", "--tensor-parallel-size=2"]
    /// resources: {limits: {nvidia.com/gpu: 4}}
    /// ```
    ///
    /// Use instead: `--tensor-parallel-size=4`.
    ///
    /// The finding points at `--tensor-parallel-size` (inside a shell script, at the flag), else at
    /// the GPU limit.
    ///
    /// ## Fix safety
    /// Unsafe, offered when neither pipeline nor data parallelism is set and the model's attention
    /// heads divide the GPU count: sets `--tensor-parallel-size` to the GPU count, which changes
    /// memory use and throughput.
    ///
    /// ## Source
    /// vLLM ParallelConfig validation (ai-dynamo/dynamo#4934 log); vllm-project/vllm#25775; GKE
    /// LeaderWorkerSet multi-host sample (size 2 × 8 GPUs, TP 8 × PP 2).
    ///
    /// - <https://github.com/vllm-project/vllm/pull/25775>
    /// - <https://github.com/GoogleCloudPlatform/kubernetes-engine-samples/tree/main/ai-ml/llm-multihost-gpus>
    pub struct VllmTpPpGpuMismatch {
        id: "vllm-tp-pp-gpu-mismatch",
        severity: Error,
        fix: Sometimes(Unsafe),
        summary: "tensor × pipeline × data parallelism does not match the container's GPUs",
    }
}

impl Rule for VllmTpPpGpuMismatch {
    /// A LeaderWorkerSet's ranks span its group; any other workload's are its first pod
    /// template's (a Ray head, a KServe predictor).
    fn check_object(&self, cx: &Context, out: &mut Findings) {
        let specs = cx.pod_specs();
        if cx.kind() == "LeaderWorkerSet" {
            check_leader_worker_set(cx, &specs, out);
            return;
        }
        let Some(spec) = specs.first() else { return };
        self.check_pod_spec(cx, spec, out);
    }

    fn check_server(
        &self,
        cx: &Context,
        spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        // Every device that runs one rank (GPUs, MIG slices, TPU chips, Gaudi, Neuron
        // cores); a Neuron device holds several cores, so its rank count is unknown.
        let Some(gpus) = server.container.rank_devices().filter(|&n| n > 0) else {
            return;
        };
        if !tpu_ranks_known(spec, &server.container.devices()) {
            return;
        }
        let inv = &server.invocation;
        let Some((tp, pp, dp)) = server.sizes(out) else {
            return;
        };
        let ranks = tp * pp * dp;
        if ranks == gpus {
            return;
        }
        let product = if pp == 1 && dp == 1 {
            format!("tensor parallelism {tp}")
        } else {
            format!("TP {tp} × PP {pp} × DP {dp} = {ranks} ranks")
        };
        let (severity, message) = if ranks > gpus {
            (
                Severity::Error,
                format!(
                    "{product} needs {ranks} GPUs but container `{}` has {gpus}",
                    server.container.name()
                ),
            )
        } else {
            (
                Severity::Warning,
                format!(
                    "{product} uses {ranks} of the {gpus} GPUs of container `{}`",
                    server.container.name()
                ),
            )
        };
        let heads_ok = server.model_fact(cx).and_then(|(_, m)| m).is_some_and(|m| {
            u64::from(m.attention_heads) % gpus == 0
                && (m.vision_heads == 0 || u64::from(m.vision_heads) % gpus == 0)
        });
        let unset = |name, short| inv.flag(name, Some(short), &server.vars).is_none();
        let fixable =
            heads_ok && unset("pipeline-parallel-size", "pp") && unset("data-parallel-size", "dp");
        let finding = parallelism_site(server)
            .report(out, message)
            .severity(severity)
            .help(format!(
                "make the ranks equal the GPUs: {gpus} GPUs, or request {ranks}"
            ));
        if fixable {
            finding.fix(format!("set --tensor-parallel-size={gpus}"), |fix| {
                server.set_flag(fix, cx.object, "tensor-parallel-size", &gpus.to_string());
            });
        }
    }
}

fn check_leader_worker_set(cx: &Context, specs: &[PodSpec], out: &mut Findings) {
    let Some(worker) = specs.last() else { return };
    let size = cx
        .object
        .pointer("/spec/leaderWorkerTemplate/size")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let Some(per_pod) = worker.rank_devices() else {
        return;
    };
    let devices: Vec<(k8s::Device, u64)> = worker
        .containers()
        .iter()
        .flat_map(Container::devices)
        .collect();
    if !tpu_ranks_known(worker, &devices) {
        return;
    }
    let Some(server) = specs.iter().flat_map(|s| cx.servers(s)).next() else {
        return;
    };
    let Some((tp, pp, _)) = server.sizes(out) else {
        return;
    };
    let total = size * per_pod;
    let ranks = tp * pp;
    if per_pod == 0 || ranks == total {
        return;
    }
    let severity = if ranks > total {
        Severity::Error
    } else {
        Severity::Warning
    };
    parallelism_site(&server)
        .report(
            out,
            format!("TP {tp} × PP {pp} = {ranks} ranks, but the group has {size} pods × {per_pod} GPUs = {total}"),
        )
        .severity(severity)
        .help("across a LeaderWorkerSet, TP × PP must equal size × GPUs per pod");
}

/// GKE TPU generations whose chip is one JAX device, so one rank: v4 and v5p (megacore: two
/// TensorCores as one device), v5e and v6e (one TensorCore). A TPU7x chip (like v2 and v3) holds
/// two TensorCores that JAX sees as two devices, so TP 2 on one chip is right there
/// (AI-Hypercomputer/tpu-recipes' Ironwood recipes).
const ONE_DEVICE_PER_CHIP: &[&str] = &[
    "tpu-v4-podslice",
    "tpu-v5-lite-podslice",
    "tpu-v5-lite-device",
    "tpu-v5p-slice",
    "tpu-v6e-slice",
];

/// Whether the ranks of `devices` are known: no TPU among them, or the pod selects a TPU
/// generation with one device per chip. Otherwise the rule cannot know and says nothing.
fn tpu_ranks_known(spec: &PodSpec<'_>, devices: &[(k8s::Device, u64)]) -> bool {
    const KEY: &str = "cloud.google.com/gke-tpu-accelerator";
    if !devices.iter().any(|(d, _)| *d == k8s::Device::Tpu) {
        return true;
    }
    let mut generations: Vec<String> = spec
        .required_affinity_values(KEY)
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    generations.extend(spec.node_selector(KEY).map(str::to_string));
    !generations.is_empty()
        && generations
            .iter()
            .all(|g| ONE_DEVICE_PER_CHIP.contains(&g.as_str()))
}
