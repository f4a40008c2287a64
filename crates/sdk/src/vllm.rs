//! The vLLM command line, read from a container the way catalogue §0 describes: `command`/`args`
//! arrays, `sh -c` / `bash -c` scripts, `vllm serve MODEL`, `python -m
//! vllm.entrypoints.openai.api_server --model ...`, `--flag=value` and `--flag value`.

use serde_json::Value;

use crate::Pointer;
use crate::k8s::{Container, PodSpec};

/// One word of the command line and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word after shell unquoting.
    pub text: String,
    /// The `command`/`args` element it is in.
    pub pointer: Pointer,
    /// Character range of the word inside that element (for `sh -c` strings).
    pub chars: Option<(usize, usize)>,
}

/// A vLLM server invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The words after `serve` / `api_server`.
    pub args: Vec<Word>,
}

/// A flag's value and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagValue {
    /// The value.
    pub value: String,
    /// Where the value is.
    pub at: Word,
}

impl Invocation {
    /// The value of `--name` (also `--name=value`, and the underscore spelling).
    #[must_use]
    pub fn flag(&self, name: &str) -> Option<FlagValue> {
        let dashed = name.replace('_', "-");
        let underscored = name.replace('-', "_");
        let mut found = None;
        let mut i = 0;
        while i < self.args.len() {
            let word = &self.args[i];
            for spelling in [&dashed, &underscored] {
                let long = format!("--{spelling}");
                if word.text == long {
                    if let Some(next) = self.args.get(i + 1) {
                        found = Some(FlagValue {
                            value: next.text.clone(),
                            at: next.clone(),
                        });
                    }
                } else if let Some(value) = word.text.strip_prefix(&format!("{long}=")) {
                    found = Some(FlagValue {
                        value: value.to_string(),
                        at: word.clone(),
                    });
                }
            }
            i += 1;
        }
        found
    }

    /// The model: `--model`, else the first positional argument.
    #[must_use]
    pub fn model(&self) -> Option<FlagValue> {
        if let Some(model) = self.flag("model") {
            return Some(model);
        }
        let first = self.args.first()?;
        (!first.text.starts_with('-')).then(|| FlagValue {
            value: first.text.clone(),
            at: first.clone(),
        })
    }
}

/// Splits a shell string into words, with their character ranges. Handles quotes and backslashes;
/// `;`, `&&`, `||` and newlines end a command and become their own words.
#[must_use]
pub fn shell_words(script: &str) -> Vec<(String, usize, usize)> {
    let chars: Vec<char> = script.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' || c == ';' {
            words.push((";".to_string(), i, i + 1));
            i += 1;
            continue;
        }
        if c.is_whitespace() || c == '\\' && chars.get(i + 1) == Some(&'\n') {
            i += if c == '\\' { 2 } else { 1 };
            continue;
        }
        if (c == '&' || c == '|') && chars.get(i + 1) == Some(&c) {
            words.push((";".to_string(), i, i + 2));
            i += 2;
            continue;
        }
        let start = i;
        let mut word = String::new();
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() || c == ';' {
                break;
            }
            match c {
                '\'' => {
                    i += 1;
                    while i < chars.len() && chars[i] != '\'' {
                        word.push(chars[i]);
                        i += 1;
                    }
                }
                '"' => {
                    i += 1;
                    while i < chars.len() && chars[i] != '"' {
                        if chars[i] == '\\' && i + 1 < chars.len() {
                            i += 1;
                        }
                        word.push(chars[i]);
                        i += 1;
                    }
                }
                '\\' if i + 1 < chars.len() => {
                    i += 1;
                    word.push(chars[i]);
                }
                _ => word.push(c),
            }
            i += 1;
        }
        words.push((word, start, i.min(chars.len())));
    }
    words
}

/// The words of a container's command line, expanding `sh -c SCRIPT`.
#[must_use]
pub fn words(container: &Container) -> Vec<Word> {
    let argv = container.argv();
    let mut out = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let (text, pointer) = &argv[i];
        let is_shell = ["sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/env bash"].contains(text);
        if is_shell && argv.get(i + 1).is_some_and(|(t, _)| *t == "-c") {
            if let Some((script, at)) = argv.get(i + 2) {
                for (word, start, end) in shell_words(script) {
                    out.push(Word {
                        text: word,
                        pointer: at.clone(),
                        chars: Some((start, end)),
                    });
                }
            }
            i += 3;
            continue;
        }
        out.push(Word {
            text: (*text).to_string(),
            pointer: pointer.clone(),
            chars: None,
        });
        i += 1;
    }
    out
}

/// Finds the vLLM server invocation in a container: `vllm serve ...`,
/// `python -m vllm.entrypoints.openai.api_server ...`, or, for a `vllm/vllm-openai` image without a
/// command, the args given to its entrypoint.
#[must_use]
pub fn invocation(container: &Container) -> Option<Invocation> {
    let words = words(container);
    for (i, word) in words.iter().enumerate() {
        let starts = (word.text == "vllm" || word.text.ends_with("/vllm"))
            && words.get(i + 1).is_some_and(|w| w.text == "serve");
        let skip = if starts {
            2
        } else if word.text.starts_with("vllm.entrypoints.") {
            1
        } else {
            continue;
        };
        let args = words[i + skip..]
            .iter()
            .take_while(|w| w.text != ";")
            .cloned()
            .collect();
        return Some(Invocation { args });
    }
    let has_command = container.value.get("command").is_some();
    if !has_command && is_vllm_image(container.image()) {
        return Some(Invocation { args: words });
    }
    None
}

/// Whether an image is a vLLM server image.
#[must_use]
pub fn is_vllm_image(image: &str) -> bool {
    let name = image.split(['@']).next().unwrap_or(image);
    let repo = name
        .rsplit_once(':')
        .map_or(name, |(r, tag)| if tag.contains('/') { name } else { r });
    repo.contains("vllm")
}

/// The vLLM server containers of a pod spec, with their invocation.
#[must_use]
pub fn servers<'a>(spec: &PodSpec<'a>) -> Vec<(Container<'a>, Invocation)> {
    spec.app_containers()
        .into_iter()
        .filter_map(|c| {
            let inv = invocation(&c)
                .or_else(|| is_vllm_image(c.image()).then(|| Invocation { args: words(&c) }))?;
            Some((c, inv))
        })
        .collect()
}

/// `gs://` URLs an initContainer copies from (the GCS copy pattern of the field report).
#[must_use]
pub fn gcs_sources(spec: &PodSpec) -> Vec<(String, Word)> {
    let mut out = Vec::new();
    for container in spec.containers().iter().filter(|c| c.init) {
        for word in words(container) {
            if word.text.starts_with("gs://") {
                out.push((word.text.trim_end_matches('/').to_string(), word));
            }
        }
    }
    out
}

/// Names a model could be known by, from the most to the least specific: the string itself, then
/// its last path component (`/models/gemma-3-1b-it` → `gemma-3-1b-it`).
#[must_use]
pub fn model_names(reference: &str) -> Vec<String> {
    let trimmed = reference.trim_end_matches('/');
    let mut names = vec![trimmed.to_string()];
    if let Some((_, last)) = trimmed.rsplit_once('/') {
        names.push(last.to_string());
    }
    names
}

/// Resolves `$(VAR)` from the container's literal env values, as the kubelet does.
#[must_use]
pub fn expand_env(container: &Container, text: &str) -> String {
    if !text.contains("$(") {
        return text.to_string();
    }
    let mut out = text.to_string();
    if let Some(Value::Array(env)) = container.value.get("env") {
        for var in env {
            if let (Some(name), Some(value)) = (
                var.get("name").and_then(Value::as_str),
                var.get("value").and_then(Value::as_str),
            ) {
                out = out.replace(&format!("$({name})"), value);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::pod_spec;
    use serde_json::json;

    fn inv(container: &Value) -> Invocation {
        let pod = json!({"spec": {"containers": [container]}});
        let spec = pod_spec("Pod", &pod).unwrap();
        let c = &spec.containers()[0];
        invocation(c).unwrap()
    }

    #[test]
    fn reads_module_entrypoint_with_equals_flags() {
        let i = inv(&json!({"image": "vllm/vllm-openai:latest",
            "command": ["python", "-m", "vllm.entrypoints.openai.api_server"],
            "args": ["--model=/models/gemma-3-1b-it", "--tensor-parallel-size", "4"]}));
        assert_eq!(i.model().unwrap().value, "/models/gemma-3-1b-it");
        assert_eq!(i.flag("tensor-parallel-size").unwrap().value, "4");
        assert_eq!(
            i.flag("tensor_parallel_size").unwrap().at.pointer.as_str(),
            "/spec/containers/0/args/2"
        );
    }

    #[test]
    fn reads_shell_scripts_with_sub_spans() {
        let i = inv(&json!({"image": "x", "command": ["/bin/sh", "-c"],
            "args": ["echo hi && vllm serve google/gemma-3-27b-it --max-model-len 4096"]}));
        let model = i.model().unwrap();
        assert_eq!(model.value, "google/gemma-3-27b-it");
        assert_eq!(model.at.chars, Some((22, 43)));
        assert_eq!(i.flag("max-model-len").unwrap().value, "4096");
    }

    #[test]
    fn image_entrypoint_takes_positional_model() {
        let i = inv(&json!({"image": "vllm/vllm-openai:v0.10.1", "args": ["openai/gpt-oss-20b"]}));
        assert_eq!(i.model().unwrap().value, "openai/gpt-oss-20b");
    }

    #[test]
    fn shell_quotes() {
        let w: Vec<_> = shell_words("a 'b c' \"d\\\"e\"; f")
            .into_iter()
            .map(|w| w.0)
            .collect();
        assert_eq!(w, vec!["a", "b c", "d\"e", ";", "f"]);
    }
}
