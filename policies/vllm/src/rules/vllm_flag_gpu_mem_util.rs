use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Checks `--gpu-memory-utilization`: error outside (0, 1], warning below 0.5 or above 0.95.
    ///
    /// ## Why is this bad?
    /// vLLM validates `gt=0, le=1` and refuses other values. Below 0.5 the KV cache shrinks until
    /// long prompts or concurrency fail; above 0.95 CUDA-graph capture or another process on the
    /// GPU runs it out of memory (`Free memory on device ... is less than desired GPU memory
    /// utilization`). The default is 0.9 (0.92 on current main).
    ///
    /// ## Example
    /// ```yaml
    /// args: ["--gpu-memory-utilization=1.2"]
    /// ```
    ///
    /// Use instead: `--gpu-memory-utilization=0.9`.
    ///
    /// The finding points at the flag.
    ///
    /// ## Fix safety
    /// Safe for values vLLM rejects: sets 0.9, the long-standing default. No fix inside the
    /// accepted range, where the value is a trade-off.
    ///
    /// ## Source
    /// vLLM `config/cache.py` (`gpu_memory_utilization: Field(default=0.92, gt=0, le=1)`).
    ///
    /// - <https://github.com/vllm-project/vllm/blob/main/vllm/config/cache.py>
    pub struct VllmFlagGpuMemUtil {
        id: "vllm-flag-gpu-mem-util",
        severity: Warning,
        fix: Sometimes(Safe),
        summary: "--gpu-memory-utilization is out of range or risky",
    }
}

impl Rule for VllmFlagGpuMemUtil {
    fn check_server(
        &self,
        cx: &Context,
        _spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let Some(flag) = server.flag("gpu-memory-utilization") else {
            return;
        };
        let Some(util) = flag.number::<f64>() else {
            return;
        };
        if util <= 0.0 || util > 1.0 {
            vllm::report_word(
                out,
                &flag.at,
                format!("--gpu-memory-utilization {util} is outside (0, 1]: vLLM refuses to start"),
            )
            .severity(Severity::Error)
            .help("use a fraction such as 0.9")
            .fix("set --gpu-memory-utilization=0.9", |fix| {
                server.set_flag(fix, cx.object, "gpu-memory-utilization", "0.9");
            });
        } else if util < 0.5 {
            vllm::report_word(out, &flag.at, format!("--gpu-memory-utilization {util} leaves most of the GPU unused and the KV cache small"))
                .help("0.9 is the default; lower it only for a GPU shared with other processes");
        } else if util > 0.95 {
            vllm::report_word(out, &flag.at, format!("--gpu-memory-utilization {util} leaves no headroom for CUDA graphs and other processes"))
                .help("stay at or below 0.95");
        }
    }
}
