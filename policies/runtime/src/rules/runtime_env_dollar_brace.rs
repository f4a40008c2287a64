use kubectl_vllm_sdk::prelude::*;

/// The explicit value the field report settled on for LD_LIBRARY_PATH.
const LD_LIBRARY_PATH: &str = "/usr/local/nvidia/lib64:/usr/local/cuda/lib64";

declare_rule! {
    /// ## What it does
    /// Finds `${VAR}` in an env value, or in `command`/`args` that no shell runs.
    ///
    /// ## Why is this bad?
    /// Kubernetes expands only `$(VAR)`, and only for variables declared earlier in the same
    /// container; `${VAR}` stays literal. The GKE samples' `LD_LIBRARY_PATH:
    /// ${LD_LIBRARY_PATH}:/usr/local/nvidia/lib64` therefore *replaces* the image's library path
    /// with a string whose first entry is the text `${LD_LIBRARY_PATH}`. (`$(LD_LIBRARY_PATH)` would
    /// not help either: the image's own ENV is not expandable.)
    ///
    /// ## Example
    /// ```yaml
    /// env:
    /// - name: LD_LIBRARY_PATH
    ///   value: ${LD_LIBRARY_PATH}:/usr/local/nvidia/lib64
    /// ```
    ///
    /// Use instead: `value: /usr/local/nvidia/lib64:/usr/local/cuda/lib64`.
    ///
    /// The finding points at the `${...}` inside the value.
    ///
    /// ## Fix safety
    /// Safe for `LD_LIBRARY_PATH`: writes the explicit GKE value. Other variables have no fix (the
    /// intended value is unknown).
    ///
    /// ## Source
    /// Kubernetes "Define dependent environment variables"; GKE vLLM samples; field report.
    ///
    /// - <https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/>
    pub struct RuntimeEnvDollarBrace {
        id: "runtime-env-dollar-brace",
        severity: Warning,
        fix: Sometimes(Safe),
        summary: "${VAR} in env or args is never expanded by Kubernetes",
    }
}

/// Character range of the first `${...}` in `text`.
fn dollar_brace(text: &str) -> Option<(usize, usize)> {
    let start = text.find("${")?;
    let end = text[start..]
        .find('}')
        .map_or(text.len(), |e| start + e + 1);
    Some((text[..start].chars().count(), text[..end].chars().count()))
}

impl Rule for RuntimeEnvDollarBrace {
    fn check(&self, cx: &Context, out: &mut Findings) {
        for spec in k8s::pod_specs(cx.kind(), cx.object) {
            for container in spec.containers() {
                if let Some(Value::Array(env)) = container.value.get("env") {
                    for (i, var) in env.iter().enumerate() {
                        let Some(value) = var.get("value").and_then(Value::as_str) else {
                            continue;
                        };
                        let Some((start, end)) = dollar_brace(value) else {
                            continue;
                        };
                        let name = var.get("name").and_then(Value::as_str).unwrap_or("");
                        let at = container.pointer.key("env").index(i).key("value");
                        let finding = out
                            .report(&at, format!("`{name}` contains `{}`, which Kubernetes never expands", value.chars().skip(start).take(end - start).collect::<String>()))
                            .sub_span(start, end)
                            .help("write the value out in full (Kubernetes expands only $(VAR) of earlier env entries)");
                        if name == "LD_LIBRARY_PATH" {
                            finding.fix(
                                format!("set LD_LIBRARY_PATH to {LD_LIBRARY_PATH}"),
                                |fix| {
                                    fix.replace(&at, &json!(LD_LIBRARY_PATH));
                                },
                            );
                        }
                    }
                }
                if vllm::is_shell(&container) {
                    continue; // a shell expands ${VAR} itself
                }
                for (text, at) in container.argv() {
                    let Some((start, end)) = dollar_brace(text) else {
                        continue;
                    };
                    out.report(&at, "`${...}` in command/args is passed literally: no shell runs this container")
                        .sub_span(start, end)
                        .help("use $(VAR) for env variables, or run the command through `sh -c`");
                }
            }
        }
    }
}
