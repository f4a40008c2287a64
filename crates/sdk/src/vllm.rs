//! The vLLM command line, read from a container the way catalogue §0 describes it, shared by every
//! rule: `command`/`args` arrays; `sh -c` / `bash -c` strings and multi-line scripts (shell
//! tokenised, several commands); `vllm serve MODEL`; `python -m vllm.entrypoints.openai.api_server
//! --model ...`; no command at all (the image's entrypoint); `--flag=value`, `--flag value`, short
//! (`-tp`) and underscore spellings; `$(VAR)` expanded from the container's env (literal values and
//! ConfigMap keys found in the input set). A value that cannot be known is `Unknown`, never guessed.

use serde_json::Value;

use crate::k8s::{Container, PodSpec};
use crate::{Env, FixBuilder, Pointer};

/// One word of the command line and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word after shell unquoting (and before `$(VAR)` expansion).
    pub text: String,
    /// The `command`/`args` element it is in.
    pub pointer: Pointer,
    /// Character range of the word inside that element (for `sh -c` strings).
    pub chars: Option<(usize, usize)>,
}

impl Word {
    /// Whether the word is a whole `command`/`args` element (so a fix may replace the element).
    #[must_use]
    pub fn is_element(&self) -> bool {
        self.chars.is_none()
    }
}

/// How the server is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entrypoint {
    /// `vllm serve ...`.
    Serve,
    /// `python -m vllm.entrypoints.openai.api_server ...`.
    OpenAiModule,
    /// `python -m vllm.entrypoints.api_server ...`: the demo server without `/v1`.
    LegacyApiServer,
    /// No `command`: the image's own entrypoint receives `args`.
    Image,
}

/// A vLLM server invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// How it is started.
    pub entrypoint: Entrypoint,
    /// The word that starts it (`vllm`, the module name), when there is one.
    pub start: Option<Word>,
    /// The words after `serve` / the module.
    pub args: Vec<Word>,
}

/// A flag as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagValue {
    /// The value as written.
    pub raw: String,
    /// The value after `$(VAR)` expansion, `None` when it cannot be known.
    pub value: Option<String>,
    /// The word holding the value (`--flag=value`, or the value after `--flag`).
    pub at: Word,
    /// The word holding the flag name (the same word for `--flag=value`).
    pub flag: Word,
}

impl FlagValue {
    /// The expanded value parsed as a number, when known and numeric.
    #[must_use]
    pub fn number<T: std::str::FromStr>(&self) -> Option<T> {
        self.value.as_deref()?.trim().parse().ok()
    }
}

/// Flags that take no value (so the next word is not theirs).
const SWITCHES: &[&str] = &[
    "trust-remote-code",
    "enforce-eager",
    "enable-prefix-caching",
    "no-enable-prefix-caching",
    "enable-chunked-prefill",
    "disable-log-requests",
    "disable-log-stats",
    "enable-auto-tool-choice",
    "headless",
];

impl Invocation {
    /// The flag `--name` (also `--name=value`, the underscore spelling and `short`, like `-tp`).
    /// The last occurrence wins, as in argparse.
    #[must_use]
    pub fn flag(&self, name: &str, short: Option<&str>, vars: &Vars) -> Option<FlagValue> {
        let dashed = format!("--{}", name.replace('_', "-"));
        let underscored = format!("--{}", name.replace('-', "_"));
        let short = short.map(|s| format!("-{s}"));
        let mut found = None;
        for (i, word) in self.args.iter().enumerate() {
            let names = [Some(&dashed), Some(&underscored), short.as_ref()];
            for spelling in names.into_iter().flatten() {
                if &word.text == spelling {
                    if let Some(next) = self.args.get(i + 1).filter(|w| w.text != ";") {
                        found = Some(FlagValue {
                            raw: next.text.clone(),
                            value: vars.expand(&next.text),
                            at: next.clone(),
                            flag: word.clone(),
                        });
                    }
                } else if let Some(raw) = word.text.strip_prefix(&format!("{spelling}=")) {
                    found = Some(FlagValue {
                        raw: raw.to_string(),
                        value: vars.expand(raw),
                        at: word.clone(),
                        flag: word.clone(),
                    });
                }
            }
        }
        found
    }

    /// Whether a switch such as `--trust-remote-code` is present.
    #[must_use]
    pub fn switch(&self, name: &str) -> Option<&Word> {
        let dashed = format!("--{name}");
        let underscored = format!("--{}", name.replace('-', "_"));
        self.args
            .iter()
            .find(|w| w.text == dashed || w.text == underscored)
    }

    /// The model: `--model`, else the first positional argument.
    #[must_use]
    pub fn model(&self, vars: &Vars) -> Option<FlagValue> {
        if let Some(model) = self.flag("model", None, vars) {
            return Some(model);
        }
        let first = self.positional().into_iter().next()?;
        Some(FlagValue {
            raw: first.text.clone(),
            value: vars.expand(&first.text),
            at: first.clone(),
            flag: first.clone(),
        })
    }

    /// Positional arguments (words that are neither flags nor flag values).
    #[must_use]
    pub fn positional(&self) -> Vec<&Word> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.args.len() {
            let word = &self.args[i];
            if word.text.starts_with('-') {
                let name = word.text.trim_start_matches('-');
                let takes_value = !word.text.contains('=') && !SWITCHES.contains(&name);
                i += if takes_value { 2 } else { 1 };
                continue;
            }
            out.push(word);
            i += 1;
        }
        out
    }

    /// `--tensor-parallel-size` / `-tp` (default 1; `None` when unknown).
    #[must_use]
    pub fn tensor_parallel(&self, vars: &Vars) -> Option<u64> {
        self.size("tensor-parallel-size", Some("tp"), vars)
    }

    /// `--pipeline-parallel-size` / `-pp` (default 1; `None` when unknown).
    #[must_use]
    pub fn pipeline_parallel(&self, vars: &Vars) -> Option<u64> {
        self.size("pipeline-parallel-size", Some("pp"), vars)
    }

    /// `--data-parallel-size` / `-dp` (default 1; `None` when unknown).
    #[must_use]
    pub fn data_parallel(&self, vars: &Vars) -> Option<u64> {
        self.size("data-parallel-size", Some("dp"), vars)
    }

    fn size(&self, name: &str, short: Option<&str>, vars: &Vars) -> Option<u64> {
        match self.flag(name, short, vars) {
            None => Some(1),
            Some(flag) => flag.number(),
        }
    }

    /// `--port` (default 8000; `None` when unknown).
    #[must_use]
    pub fn port(&self, vars: &Vars) -> Option<u16> {
        match self.flag("port", None, vars) {
            None => Some(8000),
            Some(flag) => flag.number(),
        }
    }

    /// `--gpu-memory-utilization` (default 0.9; `None` when unknown).
    #[must_use]
    pub fn gpu_memory_utilization(&self, vars: &Vars) -> Option<f64> {
        match self.flag("gpu-memory-utilization", None, vars) {
            None => Some(0.9),
            Some(flag) => flag.number(),
        }
    }
}

/// Values of the container's environment variables, for `$(VAR)` expansion.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// `(name, value)`; `None` when the value cannot be known (a Secret, a field reference...).
    vars: Vec<(String, Option<String>)>,
}

impl Vars {
    /// The container's env, in order; each literal may use variables declared before it, and
    /// `configMapKeyRef` values are read from ConfigMaps in the input set.
    #[must_use]
    pub fn of(container: &Container, env: &dyn Env, namespace: Option<&str>) -> Self {
        let mut vars = Self::default();
        let Some(Value::Array(entries)) = container.value.get("env") else {
            return vars;
        };
        for entry in entries {
            let Some(name) = entry.get("name").and_then(Value::as_str) else {
                continue;
            };
            let value = if let Some(value) = entry.get("value") {
                value.as_str().and_then(|v| vars.expand(v))
            } else if let Some(reference) = entry.pointer("/valueFrom/configMapKeyRef") {
                let map = reference.get("name").and_then(Value::as_str);
                let key = reference.get("key").and_then(Value::as_str);
                map.zip(key).and_then(|(map, key)| {
                    env.get("ConfigMap", namespace, map)?
                        .pointer(&format!(
                            "/data/{}",
                            key.replace('~', "~0").replace('/', "~1")
                        ))?
                        .as_str()
                        .map(str::to_string)
                })
            } else {
                None
            };
            vars.vars.push((name.to_string(), value));
        }
        vars
    }

    /// A literal value, used by tests.
    #[must_use]
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.vars.push((name.into(), Some(value.into())));
        self
    }

    /// Expands `$(VAR)` as the kubelet does (`$$` escapes; an undeclared variable stays
    /// literal). `None` when a referenced variable's value cannot be known, or the text uses
    /// `${VAR}` (never expanded by Kubernetes, but by a shell it may be).
    #[must_use]
    pub fn expand(&self, text: &str) -> Option<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let tail = &rest[at..];
            if let Some(after) = tail.strip_prefix("$$") {
                out.push('$');
                rest = after;
            } else if let Some(body) = tail.strip_prefix("$(")
                && let Some(end) = body.find(')')
            {
                let name = &body[..end];
                match self.vars.iter().rev().find(|(n, _)| n == name) {
                    Some((_, Some(value))) => out.push_str(value),
                    Some((_, None)) => return None,
                    None => out.push_str(&tail[..end + 3]),
                }
                rest = &body[end + 1..];
            } else if tail.starts_with("${") {
                return None;
            } else {
                out.push('$');
                rest = &tail[1..];
            }
        }
        out.push_str(rest);
        Some(out)
    }
}

/// Splits a shell string into words, with their character ranges. Handles quotes and backslashes;
/// `;`, `&&`, `||`, `|` and newlines end a command and become a `;` word.
#[must_use]
pub fn shell_words(script: &str) -> Vec<(String, usize, usize)> {
    let chars: Vec<char> = script.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && chars.get(i + 1) == Some(&'\n') {
            i += 2;
            continue;
        }
        if c == '\n' || c == ';' || c == '|' || c == '&' {
            let len = if chars.get(i + 1) == Some(&c) && c != '\n' && c != ';' {
                2
            } else {
                1
            };
            words.push((";".to_string(), i, i + len));
            i += len;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        let mut word = String::new();
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() || matches!(c, ';' | '|' | '&') {
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

const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "/bin/sh",
    "/bin/bash",
    "/usr/bin/bash",
    "/usr/bin/sh",
];

/// Whether the container runs a shell script (`sh -c SCRIPT`).
#[must_use]
pub fn is_shell(container: &Container) -> bool {
    let argv = container.argv();
    argv.first().is_some_and(|(t, _)| SHELLS.contains(t))
        && argv
            .iter()
            .any(|(t, _)| *t == "-c" || *t == "-ec" || *t == "-xc")
}

/// The words of a container's command line, expanding `sh -c SCRIPT`.
#[must_use]
pub fn words(container: &Container) -> Vec<Word> {
    let argv = container.argv();
    let mut out = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let (text, pointer) = &argv[i];
        if SHELLS.contains(text)
            && argv
                .get(i + 1)
                .is_some_and(|(t, _)| matches!(*t, "-c" | "-ec" | "-xc"))
        {
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

/// Finds the vLLM server invocation in a container.
#[must_use]
pub fn invocation(container: &Container) -> Option<Invocation> {
    let words = words(container);
    for (i, word) in words.iter().enumerate() {
        let (entrypoint, skip) = if (word.text == "vllm" || word.text.ends_with("/vllm"))
            && words.get(i + 1).is_some_and(|w| w.text == "serve")
        {
            (Entrypoint::Serve, 2)
        } else if word.text == "vllm.entrypoints.openai.api_server" {
            (Entrypoint::OpenAiModule, 1)
        } else if word.text == "vllm.entrypoints.api_server" {
            (Entrypoint::LegacyApiServer, 1)
        } else {
            continue;
        };
        let args = words[i + skip..]
            .iter()
            .take_while(|w| w.text != ";")
            .cloned()
            .collect();
        return Some(Invocation {
            entrypoint,
            start: Some(word.clone()),
            args,
        });
    }
    let has_command = container.value.get("command").is_some();
    if !has_command && is_vllm_image(container.image()) {
        return Some(Invocation {
            entrypoint: Entrypoint::Image,
            start: None,
            args: words,
        });
    }
    None
}

/// Whether an image is a vLLM server image (`vllm/vllm-openai`, `lmcache/vllm-openai`, ...).
#[must_use]
pub fn is_vllm_image(image: &str) -> bool {
    image_repository(image).contains("vllm")
}

/// The repository part of an image reference (no tag, no digest).
#[must_use]
pub fn image_repository(image: &str) -> &str {
    let name = image.split('@').next().unwrap_or(image);
    match name.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => name,
    }
}

/// The tag of an image reference (`None`: no tag; a digest-only reference has none).
#[must_use]
pub fn image_tag(image: &str) -> Option<&str> {
    let name = image.split('@').next().unwrap_or(image);
    match name.rsplit_once(':') {
        Some((_, tag)) if !tag.contains('/') => Some(tag),
        _ => None,
    }
}

/// A release version parsed from a tag such as `v0.10.1` or `0.9.2-cu128` (`None`: not a
/// release, like `latest` or `nightly`).
#[must_use]
pub fn tag_version(tag: &str) -> Option<(u32, u32, u32)> {
    let tag = tag.strip_prefix('v').unwrap_or(tag);
    let core = tag.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next()??;
    let minor = parts.next()??;
    let patch = parts.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

/// A vLLM server container with its invocation and variables.
#[derive(Debug, Clone)]
pub struct Server<'a> {
    /// The container.
    pub container: Container<'a>,
    /// How vLLM is started.
    pub invocation: Invocation,
    /// The container's variables.
    pub vars: Vars,
}

impl Server<'_> {
    /// `--model` (or the positional model).
    #[must_use]
    pub fn model(&self) -> Option<FlagValue> {
        self.invocation.model(&self.vars)
    }

    /// A flag.
    #[must_use]
    pub fn flag(&self, name: &str) -> Option<FlagValue> {
        self.invocation.flag(name, None, &self.vars)
    }

    /// Tensor parallelism, pipeline parallelism and GPU memory utilization, when all are known.
    #[must_use]
    pub fn memory_plan(&self) -> Option<(u64, u64, f64)> {
        let inv = &self.invocation;
        Some((
            inv.tensor_parallel(&self.vars)?,
            inv.pipeline_parallel(&self.vars)?,
            inv.gpu_memory_utilization(&self.vars)?,
        ))
    }
}

/// The vLLM server containers of a pod spec.
#[must_use]
pub fn servers<'a>(spec: &PodSpec<'a>, env: &dyn Env, namespace: Option<&str>) -> Vec<Server<'a>> {
    spec.app_containers()
        .into_iter()
        .filter_map(|container| {
            let invocation = invocation(&container)?;
            let vars = Vars::of(&container, env, namespace);
            Some(Server {
                container,
                invocation,
                vars,
            })
        })
        .collect()
}

impl Server<'_> {
    /// The model reference and its facts (when the fact table knows it).
    #[must_use]
    pub fn model_fact(&self, env: &dyn Env) -> Option<(FlagValue, Option<crate::Model>)> {
        let model = self.model()?;
        let fact = model.value.as_deref().and_then(|v| model_fact(env, v));
        Some((model, fact))
    }

    /// Sets `--name=value`: rewrites the existing flag (its value word for `--name value`), or
    /// appends it to the command line.
    pub fn set_flag(&self, fix: &mut FixBuilder, object: &Value, name: &str, value: &str) {
        match self.invocation.flag(name, None, &self.vars) {
            Some(flag) if flag.at == flag.flag => {
                replace_word(fix, object, &flag.at, &format!("--{name}={value}"));
            }
            Some(flag) => replace_word(fix, object, &flag.at, value),
            None => self.append(fix, object, &format!("--{name}={value}")),
        }
    }

    /// Appends one argument to the vLLM command line.
    pub fn append(&self, fix: &mut FixBuilder, object: &Value, text: &str) {
        let last = self
            .invocation
            .args
            .last()
            .or(self.invocation.start.as_ref());
        match last {
            Some(word) if !word.is_element() => {
                let (_, end) = word.chars.unwrap_or_default();
                if let Some(script) = object
                    .pointer(word.pointer.as_str())
                    .and_then(Value::as_str)
                {
                    let at = script
                        .char_indices()
                        .nth(end)
                        .map_or(script.len(), |(i, _)| i);
                    let edited = format!("{} {text}{}", &script[..at], &script[at..]);
                    fix.replace(&word.pointer, &Value::String(edited));
                }
            }
            _ => {
                fix.push(
                    object,
                    &self.container.pointer.key("args"),
                    Value::String(text.into()),
                );
            }
        }
    }
}

/// Replaces one word of a command line: the whole `command`/`args` element, or its characters
/// inside a `sh -c` script.
pub fn replace_word(fix: &mut FixBuilder, object: &Value, word: &Word, text: &str) {
    let Some((start, end)) = word.chars else {
        fix.replace(&word.pointer, &Value::String(text.into()));
        return;
    };
    let Some(script) = object
        .pointer(word.pointer.as_str())
        .and_then(Value::as_str)
    else {
        return;
    };
    let byte = |c: usize| {
        script
            .char_indices()
            .nth(c)
            .map_or(script.len(), |(i, _)| i)
    };
    let edited = format!("{}{text}{}", &script[..byte(start)], &script[byte(end)..]);
    fix.replace(&word.pointer, &Value::String(edited));
}

/// Reports a finding at a command-line word (with a sub-span inside a `sh -c` script).
pub fn report_word<'f>(
    out: &'f mut crate::Findings,
    word: &Word,
    message: impl Into<String>,
) -> crate::FindingBuilder<'f> {
    let finding = out.report(&word.pointer, message);
    match word.chars {
        Some((start, end)) => finding.sub_span(start, end),
        None => finding,
    }
}

/// The model fact for a model reference (a Hugging Face id, or a path whose last component is an
/// alias).
#[must_use]
pub fn model_fact(env: &dyn Env, reference: &str) -> Option<crate::Model> {
    model_names(reference).iter().find_map(|n| env.model(n))
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

/// Whether a model reference is a filesystem path rather than a Hugging Face id.
#[must_use]
pub fn is_local_path(reference: &str) -> bool {
    reference.starts_with('/') || reference.starts_with("./") || reference.starts_with("gs://")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::pod_spec;
    use crate::testing::FakeEnv;
    use serde_json::json;

    fn server(container: &Value, env: &FakeEnv) -> (Invocation, Vars) {
        let pod = json!({"spec": {"containers": [container]}});
        let spec = pod_spec("Pod", &pod).unwrap();
        let c = &spec.containers()[0];
        (invocation(c).unwrap(), Vars::of(c, env, Some("default")))
    }

    #[test]
    fn module_entrypoint_with_equals_flags_and_short_spellings() {
        let (i, v) = server(
            &json!({"image": "vllm/vllm-openai:latest",
            "command": ["python", "-m", "vllm.entrypoints.openai.api_server"],
            "args": ["--model=/models/gemma-3-1b-it", "-tp", "4", "--pipeline_parallel_size=2"]}),
            &FakeEnv::default(),
        );
        assert_eq!(i.entrypoint, Entrypoint::OpenAiModule);
        assert_eq!(i.model(&v).unwrap().raw, "/models/gemma-3-1b-it");
        assert_eq!(i.tensor_parallel(&v), Some(4));
        assert_eq!(i.pipeline_parallel(&v), Some(2));
        assert_eq!(i.data_parallel(&v), Some(1));
        assert_eq!(i.port(&v), Some(8000));
        assert_eq!(
            i.flag("tensor-parallel-size", Some("tp"), &v)
                .unwrap()
                .at
                .pointer
                .as_str(),
            "/spec/containers/0/args/2"
        );
    }

    #[test]
    fn shell_scripts_with_several_commands_and_sub_spans() {
        let (i, v) = server(
            &json!({"image": "x", "command": ["/bin/sh", "-c"],
            "args": ["pip install foo && echo 'a; b'\nvllm serve google/gemma-3-27b-it \\\n  --max-model-len 4096 --tensor-parallel-size=2; echo done"]}),
            &FakeEnv::default(),
        );
        assert_eq!(i.entrypoint, Entrypoint::Serve);
        let model = i.model(&v).unwrap();
        assert_eq!(model.raw, "google/gemma-3-27b-it");
        assert_eq!(model.at.chars, Some((42, 63)));
        assert_eq!(i.flag("max-model-len", None, &v).unwrap().raw, "4096");
        assert_eq!(i.tensor_parallel(&v), Some(2));
        assert!(i.args.iter().all(|w| w.text != "done"));
    }

    #[test]
    fn image_entrypoint_takes_positional_model() {
        let (i, v) = server(
            &json!({"image": "vllm/vllm-openai:v0.10.1", "args": ["--port", "8080", "openai/gpt-oss-20b"]}),
            &FakeEnv::default(),
        );
        assert_eq!(i.entrypoint, Entrypoint::Image);
        assert_eq!(i.model(&v).unwrap().raw, "openai/gpt-oss-20b");
        assert_eq!(i.port(&v), Some(8080));
    }

    #[test]
    fn env_and_config_map_variables_expand_and_unknowns_stay_unknown() {
        let env = FakeEnv {
            objects: vec![
                json!({"kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "default"},
                "data": {"tp": "8"}}),
            ],
            ..FakeEnv::default()
        };
        let (i, v) = server(
            &json!({"image": "vllm/vllm-openai:v0.10.1",
            "command": ["vllm", "serve"],
            "args": ["$(MODEL)", "--tensor-parallel-size=$(TP)", "--max-model-len=$(LEN)", "--port=$$(X)"],
            "env": [
                {"name": "ROOT", "value": "/models"},
                {"name": "MODEL", "value": "$(ROOT)/gpt-oss-120b"},
                {"name": "TP", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "tp"}}},
                {"name": "LEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
            ]}),
            &env,
        );
        assert_eq!(
            i.model(&v).unwrap().value.as_deref(),
            Some("/models/gpt-oss-120b")
        );
        assert_eq!(i.tensor_parallel(&v), Some(8));
        let len = i.flag("max-model-len", None, &v).unwrap();
        assert_eq!(len.value, None);
        assert_eq!(
            i.flag("port", None, &v).unwrap().value.as_deref(),
            Some("$(X)")
        );
        assert_eq!(Vars::default().expand("${LD_LIBRARY_PATH}:/x"), None);
        assert_eq!(
            Vars::default().expand("$(UNDECLARED)"),
            Some("$(UNDECLARED)".into())
        );
    }

    #[test]
    fn legacy_server_and_images() {
        let (i, _) = server(
            &json!({"image": "x", "command": ["python3", "-m", "vllm.entrypoints.api_server"]}),
            &FakeEnv::default(),
        );
        assert_eq!(i.entrypoint, Entrypoint::LegacyApiServer);
        assert_eq!(image_tag("vllm/vllm-openai:v0.10.1"), Some("v0.10.1"));
        assert_eq!(image_tag("localhost:5000/vllm"), None);
        assert_eq!(
            image_repository("localhost:5000/vllm:1"),
            "localhost:5000/vllm"
        );
        assert_eq!(tag_version("v0.10.1"), Some((0, 10, 1)));
        assert_eq!(tag_version("0.9-cu128"), Some((0, 9, 0)));
        assert_eq!(tag_version("latest"), None);
    }

    #[test]
    fn shell_quotes() {
        let w: Vec<_> = shell_words("a 'b c' \"d\\\"e\"; f # note\ng")
            .into_iter()
            .map(|w| w.0)
            .collect();
        assert_eq!(w, vec!["a", "b c", "d\"e", ";", "f", ";", "g"]);
    }
}
