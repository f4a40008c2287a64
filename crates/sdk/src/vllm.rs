//! The vLLM command line, read from a container the way catalogue §0 describes it, shared by every
//! rule: `command`/`args` arrays; shell scripts (`sh -c`, `bash -lc`, `-euxc`, `-o pipefail -c`;
//! shell tokenised, several commands, `$VAR` and `${VAR:-default}` expanded from the container's
//! environment); `vllm serve MODEL`; `python -m vllm.entrypoints.openai.api_server --model ...`;
//! KServe's `huggingfaceserver`; no command at all (the image's entrypoint, from the image table or
//! a vLLM image name or vLLM-only flags); a KServe predictor's `model` (its args follow its
//! ServingRuntime's); `--flag=value`, `--flag value`, short (`-tp`) and underscore spellings;
//! `$(VAR)` expanded from the container's env and `envFrom` (literal values and ConfigMaps found in
//! the input set). A value that cannot be known is `Unknown`, never guessed, and a container that
//! looks like vLLM but whose command line cannot be read is reported as unparsed.

use serde_json::Value;

use crate::k8s::{Container, PodRole, PodSpec};
use crate::{Env, FixBuilder, Location, Pointer};

/// One word of the command line and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word after shell unquoting (and before variable expansion).
    pub text: String,
    /// The `command`/`args` element it is in.
    pub pointer: Pointer,
    /// Character range of the word inside that element (for shell scripts).
    pub chars: Option<(usize, usize)>,
    /// The word comes from another object (a KServe ServingRuntime's container): `pointer` is
    /// the evaluated object's container, and fixes must not edit it.
    pub external: bool,
}

impl Word {
    /// Whether the word is a whole `command`/`args` element of the evaluated object (so a fix
    /// may replace the element).
    #[must_use]
    pub fn is_element(&self) -> bool {
        self.chars.is_none() && !self.external
    }

    /// Whether a fix may edit the word.
    #[must_use]
    pub fn editable(&self) -> bool {
        !self.external
    }

    /// Whether the word was read from a shell script (the shell expands `$VAR` in it).
    #[must_use]
    pub fn in_shell(&self) -> bool {
        self.chars.is_some()
    }
}

impl From<&Word> for Location {
    fn from(word: &Word) -> Self {
        Self {
            pointer: word.pointer.clone(),
            sub_span: word.chars,
        }
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
    /// `python -m huggingfaceserver ...`: KServe's Hugging Face runtime, vLLM behind it.
    KServeHuggingFace,
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
    /// Whether `args` are all the server's arguments. A KServe predictor's `model` whose
    /// ServingRuntime is not in the input set has only its own: an absent flag is then unknown,
    /// not the default.
    pub complete: bool,
    /// The model the object names outside the command line (an LLMInferenceService's
    /// `spec.model.uri`), used when no `--model` or positional model is given.
    pub model_elsewhere: Option<FlagValue>,
}

/// A flag as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagValue {
    /// The value as written.
    pub raw: String,
    /// The value after variable expansion, `None` when it cannot be known.
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
    "no-enable-chunked-prefill",
    "disable-log-requests",
    "disable-log-stats",
    "enable-auto-tool-choice",
    "enable-log-requests",
    "enable-expert-parallel",
    "disable-custom-all-reduce",
    "disable-frontend-multiprocessing",
    "headless",
    "async-scheduling",
    "enable-lora",
    "disable-fastapi-docs",
    "enable-request-id-headers",
    "enable-prompt-tokens-details",
    "enable-server-load-tracking",
    "enable-force-include-usage",
    "enable-sleep-mode",
    "disable-uvicorn-access-log",
    "return-tokens-as-token-ids",
];

/// Flags only vLLM has: a container whose arguments use one is a vLLM server.
const VLLM_ONLY_FLAGS: &[&str] = &[
    "max-model-len",
    "gpu-memory-utilization",
    "max-num-batched-tokens",
    "enable-chunked-prefill",
    "swap-space",
    "distributed-executor-backend",
    "enforce-eager",
    "pipeline-parallel-size",
];

/// The flag name of a word (`--max-model-len=8` → `max-model-len`; underscores as dashes).
fn flag_name(word: &str) -> Option<String> {
    let name = word.strip_prefix("--")?;
    let name = name.split_once('=').map_or(name, |(n, _)| n);
    Some(name.replace('_', "-"))
}

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
                            value: vars.expand_word(next),
                            at: next.clone(),
                            flag: word.clone(),
                        });
                    }
                } else if let Some(raw) = word
                    .text
                    .strip_prefix(spelling.as_str())
                    .and_then(|rest| rest.strip_prefix('='))
                {
                    let mut at = word.clone();
                    at.text = raw.to_string();
                    found = Some(FlagValue {
                        raw: raw.to_string(),
                        value: vars.expand_word(&at),
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

    /// The model: `--model` (KServe's runtime: `--model_id`, else `--model_dir`), else the first
    /// positional argument.
    #[must_use]
    pub fn model(&self, vars: &Vars) -> Option<FlagValue> {
        if let Some(model) = self.flag("model", None, vars) {
            return Some(model);
        }
        if let Some(model) = &self.model_elsewhere
            && self.positional().is_empty()
        {
            return Some(model.clone());
        }
        if self.entrypoint == Entrypoint::KServeHuggingFace {
            return self
                .flag("model-id", None, vars)
                .or_else(|| self.flag("model-dir", None, vars));
        }
        let first = self.positional().into_iter().next()?;
        Some(FlagValue {
            raw: first.text.clone(),
            value: vars.expand_word(first),
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
                let name = word.text.trim_start_matches('-').replace('_', "-");
                let takes_value = !word.text.contains('=') && !SWITCHES.contains(&name.as_str());
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
            None => self.complete.then_some(1),
            Some(flag) => flag.number(),
        }
    }

    /// `--port` (default 8000, KServe's runtime 8080; `None` when unknown).
    #[must_use]
    pub fn port(&self, vars: &Vars) -> Option<u16> {
        match self.flag("port", None, vars) {
            None if !self.complete => None,
            None if self.entrypoint == Entrypoint::KServeHuggingFace => Some(8080),
            None => Some(8000),
            Some(flag) => flag.number(),
        }
    }

    /// `--gpu-memory-utilization` (default 0.9; `None` when unknown).
    #[must_use]
    pub fn gpu_memory_utilization(&self, vars: &Vars) -> Option<f64> {
        match self.flag("gpu-memory-utilization", None, vars) {
            None => self.complete.then_some(0.9),
            Some(flag) => flag.number(),
        }
    }

    /// Whether the arguments use a flag only vLLM has.
    #[must_use]
    pub fn has_vllm_only_flag(&self) -> bool {
        self.args
            .iter()
            .filter_map(|w| flag_name(&w.text))
            .any(|n| VLLM_ONLY_FLAGS.contains(&n.as_str()))
    }
}

/// Values of the container's environment variables, for `$(VAR)` and shell expansion.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// `(name, value)`; `None` when the value cannot be known (a Secret, a field reference...).
    vars: Vec<(String, Option<String>)>,
    /// An `envFrom` source whose keys are unknown (a Secret, a ConfigMap outside the set): any
    /// name not defined otherwise may come from it.
    open: bool,
}

impl Vars {
    /// The container's environment in Kubernetes' order: `envFrom` sources (ConfigMaps of the
    /// input set give their keys, with `prefix`), then `env` entries, each literal able to use
    /// variables declared before it; `configMapKeyRef` values are read from ConfigMaps in the
    /// input set.
    #[must_use]
    pub fn of(container: &Container, env: &dyn Env, namespace: Option<&str>) -> Self {
        let mut vars = Self::default();
        if let Some(Value::Array(sources)) = container.value.get("envFrom") {
            for source in sources {
                let prefix = source.get("prefix").and_then(Value::as_str).unwrap_or("");
                let map = source
                    .pointer("/configMapRef/name")
                    .and_then(Value::as_str)
                    .and_then(|name| env.get("ConfigMap", namespace, name))
                    .filter(|cm| !crate::k8s::metadata_only(cm));
                match map
                    .as_ref()
                    .and_then(|cm| cm.get("data"))
                    .and_then(Value::as_object)
                {
                    Some(data) => {
                        for (key, value) in data {
                            vars.vars.push((
                                format!("{prefix}{key}"),
                                value.as_str().map(str::to_string),
                            ));
                        }
                    }
                    // A Secret, or a ConfigMap outside the set: its keys are unknown.
                    None if map.is_none() => vars.open = true,
                    None => {}
                }
            }
        }
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
                        .pointer(crate::Pointer::from_path("/data").key(key).as_str())?
                        .as_str()
                        .map(str::to_string)
                })
            } else if entry.get("valueFrom").is_none() {
                Some(String::new()) // a name with neither value nor valueFrom is empty
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

    /// The value of `name`: `Some(Some(v))` known, `Some(None)` defined but unknown, `None` not
    /// defined by the container (it may still come from an `envFrom` source whose keys are
    /// unknown: see [`Self::is_open`]).
    #[must_use]
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref())
    }

    /// Whether some `envFrom` source's keys are unknown.
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Expands `$(VAR)` as the kubelet does (`$$` escapes; a variable the container does not
    /// declare stays literal, unless an `envFrom` source with unknown keys may declare it).
    /// `None` when a referenced variable's value cannot be known, or the text uses `${VAR}`
    /// (never expanded by Kubernetes, but by a shell it may be).
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
                match self.get(name) {
                    Some(Some(value)) => out.push_str(value),
                    Some(None) => return None,
                    None if self.open => return None,
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

    /// Expands a word as its container sees it: `$(VAR)` (Kubernetes), then, for a word of a
    /// shell script, `$VAR`, `${VAR}` and `${VAR:-default}` from the container's environment. A
    /// shell variable the container does not define comes from the image or is unset: unknown,
    /// unless a default is given.
    #[must_use]
    pub fn expand_word(&self, word: &Word) -> Option<String> {
        if !word.in_shell() {
            return self.expand(&word.text);
        }
        self.expand_shell(&word.text)
    }

    fn expand_shell(&self, text: &str) -> Option<String> {
        let mut out = String::with_capacity(text.len());
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] != '$' {
                out.push(chars[i]);
                i += 1;
                continue;
            }
            // `$(VAR)`: Kubernetes expanded it before the shell ran.
            if chars.get(i + 1) == Some(&'(') {
                let end = chars[i..].iter().position(|&c| c == ')')? + i;
                let piece: String = chars[i..=end].iter().collect();
                out.push_str(&self.expand(&piece)?);
                i = end + 1;
                continue;
            }
            let (name, default, next) = if chars.get(i + 1) == Some(&'{') {
                let end = chars[i..].iter().position(|&c| c == '}')? + i;
                let body: String = chars[i + 2..end].iter().collect();
                let (name, default) = match body.split_once(":-").or_else(|| body.split_once('-')) {
                    Some((n, d)) => (n.to_string(), Some(d.to_string())),
                    None => (body, None),
                };
                (name, default, end + 1)
            } else {
                let end = chars[i + 1..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
                    .map_or(chars.len(), |p| p + i + 1);
                (chars[i + 1..end].iter().collect(), None, end)
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return None; // `$@`, `$1`, `${#X}`: not a plain variable
            }
            match (self.get(&name), default) {
                (Some(Some(value)), _) if !value.is_empty() => out.push_str(value),
                (Some(Some(_)) | None, Some(default)) if !self.open => out.push_str(&default),
                (Some(Some(value)), None) => out.push_str(value),
                _ => return None,
            }
            i = next;
        }
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

/// Shells whose `-c` runs a script.
const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh", "ksh"];

/// Whether `word` names a shell (`bash`, `/bin/sh`, `/usr/bin/env bash` is two words).
fn is_shell_word(word: &str) -> bool {
    SHELLS.contains(&word.rsplit('/').next().unwrap_or(word))
}

/// Where a shell invocation starting at `argv[i]` has its `-c` script: the index of the script.
/// Options before it may be combined (`-lc`, `-euxc`) or separate (`-e -c`, `-o pipefail -c`,
/// `--login -c`). `None`: the shell runs a script file or reads stdin.
fn script_index(argv: &[(&str, Pointer)], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while let Some((arg, _)) = argv.get(j) {
        if *arg == "-o" || *arg == "+o" {
            j += 2;
            continue;
        }
        if arg.starts_with("--") {
            j += 1;
            continue;
        }
        if let Some(letters) = arg.strip_prefix('-').or_else(|| arg.strip_prefix('+')) {
            if letters.contains('c') {
                return Some(j + 1).filter(|&s| s < argv.len());
            }
            j += 1;
            continue;
        }
        return None;
    }
    None
}

/// Whether the container runs a shell script inline (`sh -c SCRIPT`, `bash -lc SCRIPT`, ...).
#[must_use]
pub fn is_shell(container: &Container) -> bool {
    let argv = container.argv();
    let start = usize::from(argv.first().is_some_and(|(t, _)| t.ends_with("env")));
    argv.get(start)
        .is_some_and(|(t, _)| is_shell_word(t) && script_index(&argv, start).is_some())
}

/// The words of a container's command line, expanding inline shell scripts.
#[must_use]
pub fn words(container: &Container) -> Vec<Word> {
    let argv = container.argv();
    let mut out = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let (text, pointer) = &argv[i];
        if is_shell_word(text)
            && let Some(script_at) = script_index(&argv, i)
        {
            let (script, at) = &argv[script_at];
            for (word, start, end) in shell_words(script) {
                out.push(Word {
                    text: word,
                    pointer: at.clone(),
                    chars: Some((start, end)),
                    external: false,
                });
            }
            // `sh -c SCRIPT NAME ARGS...`: the rest are the script's positional parameters.
            break;
        }
        out.push(Word {
            text: (*text).to_string(),
            pointer: pointer.clone(),
            chars: None,
            external: false,
        });
        i += 1;
    }
    out
}

/// Finds a vLLM server invocation among a command line's words.
fn find_invocation(words: &[Word]) -> Option<Invocation> {
    for (i, word) in words.iter().enumerate() {
        let (entrypoint, skip) = if (word.text == "vllm" || word.text.ends_with("/vllm"))
            && words.get(i + 1).is_some_and(|w| w.text == "serve")
        {
            (Entrypoint::Serve, 2)
        } else if word.text == "vllm.entrypoints.openai.api_server" {
            (Entrypoint::OpenAiModule, 1)
        } else if word.text == "vllm.entrypoints.api_server" {
            (Entrypoint::LegacyApiServer, 1)
        } else if word.text == "huggingfaceserver" && i > 0 && words[i - 1].text == "-m" {
            (Entrypoint::KServeHuggingFace, 1)
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
            complete: true,
            model_elsewhere: None,
        });
    }
    None
}

/// Finds the vLLM server invocation in a container, without the image table: a command that
/// starts vLLM, or no command, a vLLM image name and arguments for its entrypoint.
#[must_use]
pub fn invocation(container: &Container) -> Option<Invocation> {
    let words = words(container);
    if let Some(found) = find_invocation(&words) {
        return Some(found);
    }
    let has_command = container.value.get("command").is_some();
    let image_args = Invocation {
        entrypoint: Entrypoint::Image,
        start: None,
        args: words,
        complete: true,
        model_elsewhere: None,
    };
    (!has_command && (is_vllm_image(container.image()) || image_args.has_vllm_only_flag()))
        .then_some(image_args)
}

/// Whether an image is a vLLM server image by its name (`vllm/vllm-openai`, `lmcache/vllm-openai`,
/// `nvcr.io/nvidia/vllm`, ...): `vllm` in the image's own name, not only in its registry path
/// (`ghcr.io/vllm-project/...`), and not a tool around vLLM (`kubectl-vllm`, a router, an
/// operator, a mock server).
#[must_use]
pub fn is_vllm_image(image: &str) -> bool {
    const TOOLS: [&str; 6] = [
        "kubectl",
        "router",
        "operator",
        "webhook",
        "controller",
        "mock",
    ];
    let repository = image_repository(image);
    let name = repository.rsplit('/').next().unwrap_or(repository);
    name.contains("vllm") && !TOOLS.iter().any(|tool| name.contains(tool))
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
    /// How vLLM is started (shared: the context reads each container's command line once per
    /// evaluation and hands the same one to every rule).
    pub invocation: std::rc::Rc<Invocation>,
    /// The container's variables (shared like `invocation`).
    pub vars: std::rc::Rc<Vars>,
    /// Only part of the container is in this object: a KServe predictor's `model`, whose image,
    /// env, volumes, probes and first arguments come from its ServingRuntime. Rules that
    /// conclude from an absence (no /dev/shm, no probe, no flag) skip partial servers.
    pub partial: bool,
}

/// A container that looks like a vLLM server but whose command line cannot be read.
#[derive(Debug, Clone)]
pub struct Unparsed {
    /// The container.
    pub pointer: Pointer,
    /// Why, in a few words.
    pub why: String,
}

/// Whether a container looks like a vLLM server: a vLLM image (by the image table or its name),
/// or `vllm` among its words.
fn looks_like_vllm(container: &Container, env: &dyn Env) -> bool {
    let image = container.image();
    if is_ray_worker(&words(container)) {
        return false;
    }
    env.image(image).is_some()
        || is_vllm_image(image)
        || words(container).iter().any(|w| {
            let t = w.text.as_str();
            t == "vllm"
                || t.ends_with("/vllm")
                || t.starts_with("vllm.")
                || (is_script(t) && t.contains("vllm"))
        })
}

/// Whether a word names a shell script (`multi-node-serving.sh`).
fn is_script(word: &str) -> bool {
    std::path::Path::new(word)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("sh"))
}

/// Whether a command line only joins a Ray cluster (a multi-node vLLM's worker pods: `ray start
/// --address=...`, or vLLM's `multi-node-serving.sh worker`): the server runs on the leader.
fn is_ray_worker(words: &[Word]) -> bool {
    words.windows(2).any(|w| {
        (w[0].text == "ray" && w[1].text == "start")
            || (is_script(&w[0].text) && w[1].text == "worker")
    })
}

/// The invocation of a container: a command line that starts vLLM; else, with no `command`, the
/// image's entrypoint followed by `args` when the image table knows the entrypoint; else, for an
/// image the table knows nothing of, its `args` when the image's name or a vLLM-only flag says it
/// is vLLM.
fn resolve(container: &Container, env: &dyn Env) -> Option<Invocation> {
    let own = words(container);
    if let Some(found) = find_invocation(&own) {
        return Some(found);
    }
    if container.value.get("command").is_some() {
        return None;
    }
    let known = env
        .image(container.image())
        .filter(|i| !i.entrypoint.is_empty());
    if let Some(image) = known {
        let mut all: Vec<Word> = image
            .entrypoint
            .iter()
            .map(|text| Word {
                text: text.clone(),
                pointer: container.pointer.clone(),
                chars: None,
                external: true,
            })
            .collect();
        // Args that repeat an entrypoint (`serve MODEL` under `vllm serve`) are
        // `vllm-entrypoint-double-serve`'s to report; read the model and flags after them.
        let texts: Vec<&str> = own.iter().map(|w| w.text.as_str()).collect();
        let repeated = repeated_entrypoint(&texts);
        all.extend(own.into_iter().skip(repeated));
        let mut found = find_invocation(&all)?;
        found.start = None;
        return Some(found);
    }
    invocation(container)
}

/// How many leading words restate a vLLM entrypoint: `vllm serve`, `serve`, `python3 -m
/// vllm.entrypoints...`, `-m vllm.entrypoints...` (0: none).
#[must_use]
pub fn repeated_entrypoint(words: &[&str]) -> usize {
    let module = |w: &str| w.starts_with("vllm.entrypoints");
    match words {
        ["vllm", "serve", ..] => 2,
        ["serve", ..] => 1,
        ["python" | "python3", "-m", m, ..] if module(m) => 3,
        ["-m", m, ..] if module(m) => 2,
        _ => 0,
    }
}

/// Whether the image table knows `image`'s entrypoint to start vLLM itself (so `args` are vLLM's
/// arguments, and repeating `vllm serve` in them runs it twice).
#[must_use]
pub fn image_starts_vllm(env: &dyn Env, image: &str) -> Option<bool> {
    let entrypoint = env.image(image)?.entrypoint;
    if entrypoint.is_empty() {
        return None;
    }
    let words: Vec<Word> = entrypoint
        .into_iter()
        .map(|text| Word {
            text,
            pointer: Pointer::root(),
            chars: None,
            external: true,
        })
        .collect();
    Some(find_invocation(&words).is_some())
}

/// The vLLM server containers of a pod spec, and the containers that look like vLLM but could not
/// be read.
#[must_use]
pub fn servers_and_unparsed<'a>(
    spec: &PodSpec<'a>,
    env: &dyn Env,
    namespace: Option<&str>,
) -> (Vec<Server<'a>>, Vec<Unparsed>) {
    let mut servers = Vec::new();
    let mut unparsed = Vec::new();
    for container in spec.app_containers() {
        let model = spec.is_kserve_predictor() && container.pointer.as_str().ends_with("/model");
        let (found, partial) = match &spec.role {
            _ if model => (kserve_model(&container, env, namespace), true),
            PodRole::Ray { serve_vllm } => {
                // The operator runs `ray start` here; vLLM runs inside Ray Serve unless the
                // container starts it itself.
                let own = find_invocation(&words(&container));
                if own.is_none() && (*serve_vllm || looks_like_vllm(&container, env)) {
                    unparsed.push(Unparsed {
                        pointer: container.pointer.clone(),
                        why: format!(
                            "container `{}` is a Ray node: vLLM runs inside Ray Serve, whose engine arguments (the RayService's serveConfigV2) are not read",
                            container.name()
                        ),
                    });
                }
                (own, false)
            }
            PodRole::LlmInference { model } if container.name() == "main" => {
                (Some(llm_inference(&container, model.as_deref())), true)
            }
            PodRole::ServingRuntime => (resolve(&container, env), true),
            _ => (resolve(&container, env), false),
        };
        match found {
            Some(invocation) => {
                let vars = Vars::of(&container, env, namespace);
                servers.push(Server {
                    container,
                    invocation: std::rc::Rc::new(invocation),
                    vars: std::rc::Rc::new(vars),
                    partial,
                });
            }
            None if matches!(spec.role, PodRole::Ray { .. }) => {}
            None if !model && looks_like_vllm(&container, env) => {
                let argv: Vec<&str> = container.argv().into_iter().map(|(t, _)| t).collect();
                let why = if argv.is_empty() {
                    format!(
                        "container `{}` runs image `{}`, whose entrypoint the image table does not know",
                        container.name(),
                        container.image()
                    )
                } else {
                    let shown: String = argv.join(" ").chars().take(60).collect();
                    format!(
                        "container `{}` runs `{shown}`, which does not start vLLM where the manifest shows it",
                        container.name()
                    )
                };
                unparsed.push(Unparsed {
                    pointer: container.pointer.clone(),
                    why,
                });
            }
            None => {}
        }
    }
    (servers, unparsed)
}

/// The vLLM server containers of a pod spec.
#[must_use]
pub fn servers<'a>(spec: &PodSpec<'a>, env: &dyn Env, namespace: Option<&str>) -> Vec<Server<'a>> {
    servers_and_unparsed(spec, env, namespace).0
}

/// An LLMInferenceService's `main` container: KServe's preset supplies vLLM's command line, the
/// container adds `args`, and the model is `spec.model.uri`.
fn llm_inference(container: &Container, model: Option<&str>) -> Invocation {
    let at = Word {
        text: model.unwrap_or_default().to_string(),
        pointer: Pointer::from_path("/spec/model/uri"),
        chars: None,
        external: true,
    };
    Invocation {
        entrypoint: Entrypoint::Image,
        start: None,
        args: words(container),
        complete: false,
        model_elsewhere: model.map(|m| FlagValue {
            raw: m.to_string(),
            value: Some(m.to_string()),
            at: at.clone(),
            flag: at,
        }),
    }
}

/// A KServe predictor's `model`: its ServingRuntime's container command line (when the runtime is
/// in the input set, named by `model.runtime`), then the model's own `args`. Without the runtime,
/// the model's arguments alone, when they use a flag only vLLM has.
fn kserve_model(
    container: &Container,
    env: &dyn Env,
    namespace: Option<&str>,
) -> Option<Invocation> {
    let own = words(container);
    let runtime = container
        .value
        .get("runtime")
        .and_then(Value::as_str)
        .and_then(|name| {
            env.get("ServingRuntime", namespace, name)
                .or_else(|| env.get("ClusterServingRuntime", None, name))
        });
    if let Some(runtime) = runtime {
        let containers = runtime
            .pointer("/spec/containers")
            .and_then(Value::as_array)?;
        let first = containers.first()?;
        let runtime_container = Container {
            value: first,
            pointer: container.pointer.clone(),
            init: false,
        };
        let mut all: Vec<Word> = words(&runtime_container)
            .into_iter()
            .map(|mut w| {
                w.pointer = container.pointer.clone();
                w.chars = None;
                w.external = true;
                w
            })
            .collect();
        all.extend(own);
        return find_invocation(&all);
    }
    let bare = Invocation {
        entrypoint: Entrypoint::Image,
        start: None,
        args: own,
        complete: false,
        model_elsewhere: None,
    };
    bare.has_vllm_only_flag().then_some(bare)
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

    /// The flags among `names` (with their short spellings) whose values cannot be known, for
    /// a rule to say it skipped: `--tensor-parallel-size=$(TP)`.
    #[must_use]
    pub fn unknown_flags(&self, names: &[(&str, Option<&str>)]) -> Vec<FlagValue> {
        names
            .iter()
            .filter_map(|(name, short)| self.invocation.flag(name, *short, &self.vars))
            .filter(|f| f.value.is_none())
            .collect()
    }

    /// Tensor, pipeline and data parallelism, when all are known. Otherwise records, for the
    /// current rule, which flag could not be read, and answers `None`.
    pub fn sizes(&self, out: &mut crate::Findings) -> Option<(u64, u64, u64)> {
        let inv = &self.invocation;
        let known = (
            inv.tensor_parallel(&self.vars),
            inv.pipeline_parallel(&self.vars),
            inv.data_parallel(&self.vars),
        );
        if let (Some(tp), Some(pp), Some(dp)) = known {
            return Some((tp, pp, dp));
        }
        self.skip_unread(
            out,
            &[
                ("tensor-parallel-size", Some("tp")),
                ("pipeline-parallel-size", Some("pp")),
                ("data-parallel-size", Some("dp")),
            ],
        );
        None
    }

    /// Records, for the current rule, why flags among `names` could not be read: a value that
    /// cannot be known, or (a KServe model without its ServingRuntime) arguments not in the set.
    pub fn skip_unread(&self, out: &mut crate::Findings, names: &[(&str, Option<&str>)]) {
        let unknown = self.unknown_flags(names);
        if let Some(flag) = unknown.first() {
            self.skip_unknown(out, flag);
        } else if !self.invocation.complete {
            let why = format!(
                "container `{}` gets the rest of its command line from KServe (its ServingRuntime, or the LLMInferenceService's preset), which is not in the input set",
                self.container.name()
            );
            out.skip(crate::SkipReason::Unparsed(why), &self.container.pointer);
        }
    }

    /// Records, for the current rule, that a flag it needs cannot be read (its value comes from a
    /// Secret, the image's environment or a script argument).
    pub fn skip_unknown(&self, out: &mut crate::Findings, flag: &FlagValue) {
        let shown = if flag.flag == flag.at {
            flag.flag.text.clone()
        } else {
            format!("{} {}", flag.flag.text, flag.raw)
        };
        let why = format!("the value of `{shown}` cannot be known from the manifest");
        skip_word(out, &flag.at, crate::SkipReason::Unparsed(why));
    }
}

// `model_fact` and `known_model`, which ask a rule's context, are defined with the context.
impl Server<'_> {
    /// Sets `--name=value`: rewrites the existing flag (its value word for `--name value`), or
    /// appends it to the command line. Does nothing when the word is not in this object.
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
            .or(self.invocation.start.as_ref())
            .filter(|w| w.editable());
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
/// inside a shell script. A word from another object is left alone.
pub fn replace_word(fix: &mut FixBuilder, object: &Value, word: &Word, text: &str) {
    if !word.editable() {
        return;
    }
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

/// Reports a finding at a command-line word (with a sub-span inside a shell script).
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

/// Records a skip at a command-line word (with a sub-span inside a shell script).
pub fn skip_word(out: &mut crate::Findings, word: &Word, reason: crate::SkipReason) {
    out.skip_at(reason, &word.into());
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
    reference.starts_with('/')
        || reference.starts_with("./")
        || reference.starts_with("gs://")
        || reference.starts_with("s3://")
        || reference.starts_with("pvc://")
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
        for image in [
            "vllm/vllm-openai:v0.10.1",
            "nvcr.io/nvidia/vllm:25.09-py3",
            "public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:0.9.1",
            "localhost:5000/vllm",
        ] {
            assert!(is_vllm_image(image), "{image}");
        }
        for image in [
            "ghcr.io/kubectl-vllm/kubectl-vllm:0.1.0",
            "ghcr.io/vllm-project/semantic-router/extproc:latest",
            "lmcache/vllm-router:latest",
            "aibrix/vllm-mock:nightly",
        ] {
            assert!(!is_vllm_image(image), "{image}");
        }
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
