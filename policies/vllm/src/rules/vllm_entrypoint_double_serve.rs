use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Finds a container without `command` whose image starts vLLM itself (the image table knows
    /// its entrypoint: `vllm serve`, or `python3 -m vllm.entrypoints.openai.api_server` in older
    /// `vllm/vllm-openai` releases) and whose `args` start by restating a vLLM entrypoint:
    /// `vllm serve`, `serve`, `python3 -m vllm.entrypoints...` or `-m vllm.entrypoints...`.
    /// Images whose entrypoint is unknown, or runs its arguments as a command (NVIDIA's NGC
    /// images), are not reported.
    ///
    /// ## Why is this bad?
    /// Current `vllm/vllm-openai` images have `ENTRYPOINT ["vllm", "serve"]`, so `args` are
    /// appended to it: `vllm serve vllm serve MODEL` fails with `vllm: error: unrecognized
    /// arguments: serve`.
    ///
    /// ## Example
    /// ```yaml
    /// image: vllm/vllm-openai:v0.12.0
    /// args: ["vllm", "serve", "openai/gpt-oss-20b"]
    /// ```
    ///
    /// Use instead: `command: ["vllm", "serve"]` and `args: ["openai/gpt-oss-20b"]`.
    ///
    /// The finding points at `args[0]`.
    ///
    /// ## Fix safety
    /// Safe: moves the leading entrypoint words from `args` into `command`, which runs exactly
    /// what was intended whatever the image's entrypoint is.
    ///
    /// ## Source
    /// vLLM `docker/Dockerfile` (`ENTRYPOINT ["vllm", "serve"]`); catalogue §0.
    ///
    /// - <https://github.com/vllm-project/vllm/blob/main/docker/Dockerfile>
    pub struct VllmEntrypointDoubleServe {
        id: "vllm-entrypoint-double-serve",
        severity: Error,
        fix: Always(Safe),
        summary: "args repeat the image's `vllm serve` entrypoint",
    }
}

impl Rule for VllmEntrypointDoubleServe {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        for container in spec.app_containers() {
            if container.value.get("command").is_some()
                || vllm::image_starts_vllm(cx.env, container.image()) != Some(true)
            {
                continue;
            }
            let Some(Value::Array(args)) = container.value.get("args") else {
                continue;
            };
            let words: Vec<&str> = args.iter().filter_map(Value::as_str).collect();
            let moved = vllm::repeated_entrypoint(&words);
            if moved == 0 {
                continue;
            }
            let first = words[0];
            let mut command: Vec<&str> = words[..moved].to_vec();
            if command == ["serve"] {
                command.insert(0, "vllm");
            }
            let args_at = container.pointer.key("args");
            out.report(
                &args_at.index(0),
                format!(
                    "the image already runs `vllm serve`; args starting with `{first}` run it twice"
                ),
            )
            .help("put the entrypoint in `command` and only the model and flags in `args`")
            .fix(
                format!("move `{}` into command", command.join(" ")),
                |fix| {
                    fix.add(&container.pointer.key("command"), &json!(command));
                    for i in (0..moved).rev() {
                        fix.remove(&args_at.index(i));
                    }
                },
            );
        }
    }
}
