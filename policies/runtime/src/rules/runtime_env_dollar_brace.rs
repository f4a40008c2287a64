use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Finds shell-style variables — `${VAR}`, or `$VAR` with an upper-case name — in an env
    /// value, or in `command`/`args` that no shell runs.
    ///
    /// ## Why is this bad?
    /// Kubernetes expands only `$(VAR)`, and only for variables declared earlier in the same
    /// container; `${VAR}` and `$VAR` stay literal. The GKE samples' `LD_LIBRARY_PATH:
    /// ${LD_LIBRARY_PATH}:/usr/local/nvidia/lib64` therefore *replaces* the image's library path
    /// with a string whose first entry is the text `${LD_LIBRARY_PATH}`, and the LWS examples'
    /// `HUGGING_FACE_HUB_TOKEN: $HUGGING_FACE_HUB_TOKEN` send the text `$HUGGING_FACE_HUB_TOKEN` to
    /// Hugging Face as the token. (`$(LD_LIBRARY_PATH)` would not help either: the image's own ENV
    /// is not expandable.)
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
    /// The finding points at the variable inside the value.
    ///
    /// ## Fix safety
    /// For `VAR: ${VAR}:...` (appending to the image's own value), the fix writes the image's
    /// value in place of `${VAR}`: safe when the image table knows it (the container then gets
    /// what its author meant), unsafe otherwise (the fix drops the literal `${VAR}` entry and
    /// keeps the rest). Other uses have no fix: the intended value is unknown. A script run by a
    /// shell (`sh -c`, `bash -lc`, `-euxc`, `-o pipefail -c`) expands `${VAR}` itself and is not
    /// reported.
    ///
    /// ## Source
    /// Kubernetes "Define dependent environment variables"; GKE vLLM samples; field report.
    ///
    /// - <https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/>
    pub struct RuntimeEnvDollarBrace {
        id: "runtime-env-dollar-brace",
        severity: Warning,
        fix: Sometimes(Safe),
        summary: "${VAR} or $VAR in env or args is never expanded by Kubernetes",
    }
}

/// Character range of the first shell-style variable in `text`: `${...}`, or `$NAME` with an
/// upper-case name (`$HF_TOKEN`; a lower-case `$x` is more often a literal dollar). `$$` and
/// `$(VAR)` are Kubernetes' own.
fn dollar_brace(text: &str) -> Option<(usize, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('$') => i += 2,
            Some('{') => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == '}')
                    .map_or(chars.len(), |e| i + e + 1);
                return Some((i, end));
            }
            Some(c) if c.is_ascii_uppercase() || *c == '_' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_'))
                    .map_or(chars.len(), |e| i + 1 + e);
                if end - i > 2 {
                    return Some((i, end));
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    None
}

impl Rule for RuntimeEnvDollarBrace {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
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
                    let found: String = value.chars().skip(start).take(end - start).collect();
                    let finding = out
                        .report(&at, format!("`{name}` contains `{found}`, which Kubernetes never expands: the container gets the text itself"))
                        .sub_span(start, end)
                        .help("write the value out in full (Kubernetes expands only $(VAR) of earlier env entries)");
                    // `VAR: ${VAR}:more`: the author meant the image's value, then more.
                    let own = format!("${{{name}}}");
                    let Some(rest) = value.strip_prefix(&own) else {
                        continue;
                    };
                    let image_value = cx.env.image(container.image()).and_then(|i| {
                        if name == "LD_LIBRARY_PATH" {
                            i.ld_library_path
                        } else {
                            None
                        }
                    });
                    if let Some(image_value) = image_value {
                        let fixed = format!("{image_value}{rest}")
                            .trim_start_matches(':')
                            .to_string();
                        finding.fix(
                            format!("write the image's {name} in place of {own}"),
                            |fix| {
                                fix.replace(&at, &json!(fixed));
                            },
                        );
                    } else {
                        let fixed = rest.trim_start_matches(':').to_string();
                        if !fixed.is_empty() {
                            finding.fix_as(
                                Applicability::Unsafe,
                                format!("drop the literal {own}"),
                                |fix| {
                                    fix.replace(&at, &json!(fixed));
                                },
                            );
                        }
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
                let found: String = text.chars().skip(start).take(end - start).collect();
                out.report(&at, format!("`{found}` in command/args is passed literally: no shell runs this container"))
                    .sub_span(start, end)
                    .help("use $(VAR) for env variables, or run the command through `sh -c`");
            }
        }
    }
}
