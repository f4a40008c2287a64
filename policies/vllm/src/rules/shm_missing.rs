use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Checks that a vLLM container running tensor or pipeline parallelism inside its pod
    /// (`--tensor-parallel-size` × `--pipeline-parallel-size` above 1) mounts a volume at
    /// `/dev/shm` (unless the pod uses `hostIPC`). Error; a warning for data parallelism alone
    /// (`--data-parallel-size` above 1), whose ranks share memory only for some models.
    ///
    /// ## Why is this bad?
    /// Container runtimes give `/dev/shm` 64 MiB. vLLM's workers and NCCL share tensors between
    /// the parallel ranks of a pod through it, and fail with `NCCL WARN Error while creating
    /// shared memory segment /dev/shm/nccl-...`, `No space left on device`, `ncclSystemError` or
    /// bus errors. The field report's gemma-27b and gpt-oss deployments ran TP 4 and 8 without
    /// it. With one rank (TP = PP = DP = 1) there is no peer to share with, so nothing is reported.
    /// A parallelism the manifest does not show (a flag from a Secret) is reported as skipped.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: vllm
    ///   args: ["--tensor-parallel-size=4"]
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// containers:
    /// - name: vllm
    ///   args: ["--tensor-parallel-size=4"]
    ///   volumeMounts:
    ///   - {name: dshm, mountPath: /dev/shm}
    /// volumes:
    /// - name: dshm
    ///   emptyDir: {medium: Memory, sizeLimit: 8Gi}
    /// ```
    ///
    /// The finding points at the container's `volumeMounts`, else at the container. A KServe
    /// predictor's `model` is not checked: its ServingRuntime holds the volumes.
    ///
    /// ## Fix safety
    /// Safe: adds the `dshm` volume (sizeLimit 2 GiB × ranks, at most 20 GiB) and its mount, and
    /// nothing else. Pages written there count against the container's memory limit, as any
    /// shared memory does.
    ///
    /// ## Source
    /// NVIDIA/nccl#525; vllm-project/vllm#1710; vLLM docs "Using Docker" (shared memory) and "Using
    /// Kubernetes" (`sizeLimit: 2Gi`); production-stack (20Gi with tensor parallelism).
    ///
    /// - <https://github.com/NVIDIA/nccl/issues/525>
    /// - <https://github.com/vllm-project/vllm/issues/1710>
    /// - <https://docs.vllm.ai/en/latest/deployment/k8s.html>
    pub struct ShmMissing {
        id: "shm-missing",
        severity: Error,
        fix: Always(Safe),
        summary: "a vLLM container with parallel ranks has the 64 MiB default /dev/shm",
    }
}

/// The sizeLimit the fix writes: 2 GiB per tensor-parallel rank, at most 20 GiB.
pub fn recommended_size(tp: u64) -> String {
    format!("{}Gi", (2 * tp.max(1)).min(20))
}

/// The pod volume mounted at `/dev/shm` by this container, if any.
pub fn shm_volume<'a>(spec: &PodSpec<'a>, server: &Server) -> Option<(usize, &'a Value)> {
    let mount = server
        .container
        .value
        .get("volumeMounts")?
        .as_array()?
        .iter()
        .find(|m| {
            m.get("mountPath")
                .and_then(Value::as_str)
                .map(|p| p.trim_end_matches('/'))
                == Some("/dev/shm")
        })?;
    let name = mount.get("name")?.as_str()?;
    spec.volumes()
        .iter()
        .enumerate()
        .find(|(_, v)| v.get("name").and_then(Value::as_str) == Some(name))
}

impl Rule for ShmMissing {
    // A pod on the host's IPC namespace has the host's /dev/shm: its servers are not read.
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        if spec.spec.get("hostIPC").and_then(Value::as_bool) == Some(true) {
            return;
        }
        for server in cx.complete_servers(spec, out) {
            if shm_volume(spec, &server).is_some() {
                continue;
            }
            let Some((tp, pp, dp)) = server.sizes(out) else {
                continue;
            };
            let parallel = tp * pp > 1;
            if !parallel && dp <= 1 {
                continue;
            }
            let mounts_at = server.container.pointer.key("volumeMounts");
            let at = if server.container.value.get("volumeMounts").is_some() {
                mounts_at.clone()
            } else {
                server.container.pointer.clone()
            };
            let message = if parallel {
                format!(
                    "container `{}` runs tensor/pipeline parallelism ({tp} × {pp}) with the 64 MiB default /dev/shm: NCCL will fail",
                    server.container.name()
                )
            } else {
                format!(
                    "container `{}` runs {dp} data-parallel ranks with the 64 MiB default /dev/shm; MoE models share tensors between them",
                    server.container.name()
                )
            };
            let name = if spec
                .volumes()
                .iter()
                .any(|v| v.get("name").and_then(Value::as_str) == Some("dshm"))
            {
                "dshm-vllm"
            } else {
                "dshm"
            };
            let size = recommended_size(tp * pp * dp);
            out.report(&at, message)
                .severity(if parallel {
                    Severity::Error
                } else {
                    Severity::Warning
                })
                .help("mount an emptyDir with medium: Memory at /dev/shm")
                .fix(
                    format!("mount a {size} Memory emptyDir at /dev/shm"),
                    |fix| {
                        fix.push(
                            cx.object,
                            &spec.at().key("volumes"),
                            json!({"name": name, "emptyDir": {"medium": "Memory", "sizeLimit": size}}),
                        );
                        fix.push(
                            cx.object,
                            &mounts_at,
                            json!({"name": name, "mountPath": "/dev/shm"}),
                        );
                    },
                );
        }
    }
}
