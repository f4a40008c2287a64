use kubectl_vllm_sdk::prelude::*;

use super::shm_missing::{recommended_size, shm_volume};

declare_rule! {
    /// ## What it does
    /// Checks the size of the memory-backed `/dev/shm` of a vLLM container: at least 1 GiB with
    /// tensor or pipeline parallelism (warning), no more than the container's memory limit
    /// (warning), and a `sizeLimit` at all (info).
    ///
    /// ## Why is this bad?
    /// tmpfs pages count against the container's memory limit: one larger than the limit promises
    /// memory the pod cannot have, and too small breaks NCCL like the 64 MiB default does. An
    /// unbounded `/dev/shm` only grows as it is written (vLLM and NCCL write a bounded amount) and
    /// the memory limit caps it, so a missing `sizeLimit` is hygiene, not a failure. Reference sizes: 2 GiB for one GPU (vLLM
    /// docs), 8–20 GiB with tensor parallelism (production-stack, llm-d).
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    /// - name: dshm
    ///   emptyDir: {medium: Memory}
    /// ```
    ///
    /// Use instead: `emptyDir: {medium: Memory, sizeLimit: 8Gi}` (and a memory limit that includes it).
    ///
    /// The finding points at the volume's `sizeLimit`, else its `emptyDir`.
    ///
    /// ## Fix safety
    /// Safe when the limit is missing or too small: sets 2 GiB × TP (at most 20 GiB). No fix when
    /// it exceeds the memory limit (which of the two is wrong is the user's call).
    ///
    /// ## Source
    /// Kubernetes "Volumes: emptyDir" (memory accounting); vLLM "Using Kubernetes"; vllm-project/
    /// production-stack deployment template; llm-d optimized-baseline.
    ///
    /// - <https://kubernetes.io/docs/concepts/storage/volumes/#emptydir>
    /// - <https://docs.vllm.ai/en/latest/deployment/k8s.html>
    pub struct ShmSize {
        id: "shm-size",
        severity: Warning,
        fix: Sometimes(Safe),
        summary: "the memory-backed /dev/shm has no, too small, or too large a sizeLimit",
    }
}

impl Rule for ShmSize {
    const SERVERS: Servers = Servers::Complete;

    fn check_server(
        &self,
        _cx: &Context,
        spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let Some((index, volume)) = shm_volume(spec, server) else {
            return;
        };
        if volume.pointer("/emptyDir/medium").and_then(Value::as_str) != Some("Memory") {
            return;
        }
        let inv = &server.invocation;
        let ranks = inv.tensor_parallel(&server.vars).unwrap_or(1)
            * inv.pipeline_parallel(&server.vars).unwrap_or(1);
        let empty_dir = spec.at().key("volumes").index(index).key("emptyDir");
        let limit_at = empty_dir.key("sizeLimit");
        let recommended = recommended_size(ranks);
        let memory_limit = server
            .container
            .resource("limits", "memory")
            .and_then(quantity::bytes);
        match volume.pointer("/emptyDir/sizeLimit") {
            None => {
                out.report(&empty_dir, "the /dev/shm emptyDir has no sizeLimit: what is written there counts against the pod's memory without a bound of its own")
                    .severity(Severity::Info)
                    .help(format!("set sizeLimit: {recommended}"))
                    .fix(format!("set sizeLimit: {recommended}"), |fix| {
                        fix.add(&limit_at, &json!(recommended));
                    });
            }
            Some(size) => {
                let Some(bytes) = quantity::bytes(size) else {
                    return;
                };
                if ranks > 1 && bytes < quantity::GIB {
                    out.report(
                        &limit_at,
                        format!(
                            "{} of /dev/shm is too small for {ranks} parallel ranks",
                            quantity::human(bytes)
                        ),
                    )
                    .help(format!("use at least 1Gi; {recommended} is typical"))
                    .fix(format!("set sizeLimit: {recommended}"), |fix| {
                        fix.replace(&limit_at, &json!(recommended));
                    });
                } else if let Some(limit) = memory_limit.filter(|&l| bytes > l) {
                    out.report(
                        &limit_at,
                        format!(
                            "/dev/shm may use {} but container `{}` is limited to {} of memory",
                            quantity::human(bytes),
                            server.container.name(),
                            quantity::human(limit)
                        ),
                    )
                    .help("shared memory counts against the memory limit: raise the limit or lower sizeLimit");
                }
            }
        }
    }
}
