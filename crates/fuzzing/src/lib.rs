//! What each fuzz target checks, one function per target of `fuzz/fuzz_targets/`: the
//! fuzzer (cargo-fuzz, nightly) calls these with its inputs, and `cargo test` (stable) replays
//! the seeds taken from `fixtures/`, every crash kept in `fuzz/regressions/<target>/`, and a
//! short deterministic mutation run of each seed through the same functions.
//!
//! A property panics when it does not hold; anything else (an input the code refuses with an
//! error) is a pass.

use kubectl_vllm_core::{Pointer, Quantity};
use kubectl_vllm_manifest::patch::{self, TextOp};
use kubectl_vllm_manifest::yaml::{self, Node, Value as Yaml};
use kubectl_vllm_manifest::{LoadOptions, Manifests};
use serde_json::{Value, json};

pub mod seeds;

/// A fuzz target's property: panics when it does not hold for the input.
pub type Property = fn(&[u8]);

/// The targets, by name (the file names in `fuzz/fuzz_targets/`).
pub const TARGETS: &[(&str, Property)] = &[
    ("yaml_load", yaml_load),
    ("vllm_args", vllm_args),
    ("quantity", quantity),
    ("patch", patch_ops),
    ("admission_review", admission_review),
];

/// At most this many pointers are located per input (a wide input must not make one run slow).
const POINTERS: usize = 2_000;

/// The loader and pointer → span: any text loads (objects, or located input errors) without
/// panicking, and every pointer of every object lands on a span inside the file, on character
/// boundaries, whose line and column can be computed.
pub fn yaml_load(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut manifests = Manifests::default();
    manifests.add_text("fuzz.yaml", text, &LoadOptions::default());
    for error in &manifests.errors {
        if let (Some(file), Some(span)) = (error.file, error.span) {
            check_span(&manifests.files[file].source.text, span.start, span.end);
        }
    }
    let mut located = 0;
    for object in &manifests.objects {
        let text = &manifests.files[object.file].source.text;
        let mut pointers = Vec::new();
        pointers_of(&object.json, &Pointer::root(), &mut pointers);
        pointers.push(Pointer::root().key("no").key("such").index(7));
        for pointer in pointers {
            if located == POINTERS {
                return;
            }
            located += 1;
            let Some(at) = manifests.locate(object, &pointer) else {
                continue;
            };
            check_span(text, at.span.start, at.span.end);
            if let Some(node) = at.node_span {
                check_span(text, node.start, node.end);
            }
            let source = &manifests.files[object.file].source;
            let position = source.position(at.span.start);
            assert_eq!(
                source.offset(position),
                at.span.start,
                "line/column round trip"
            );
        }
    }
}

fn check_span(text: &str, start: usize, end: usize) {
    assert!(
        start <= end && end <= text.len(),
        "span {start}..{end} outside {} bytes",
        text.len()
    );
    assert!(
        text.is_char_boundary(start) && text.is_char_boundary(end),
        "span {start}..{end} splits a character"
    );
}

fn pointers_of(value: &Value, at: &Pointer, out: &mut Vec<Pointer>) {
    if out.len() >= POINTERS {
        return;
    }
    out.push(at.clone());
    match value {
        Value::Object(members) => {
            for (key, child) in members {
                pointers_of(child, &at.key(key), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers_of(child, &at.index(i), out);
            }
        }
        _ => {}
    }
}

/// The vLLM command-line reader: a container whose `command`/`args` come from the input (a
/// `sh -c` script, or words separated by U+001F) is read without panicking, and every word's
/// character range lies inside the element it names.
pub fn vllm_args(data: &[u8]) {
    use kubectl_vllm_sdk::k8s::Container;
    use kubectl_vllm_sdk::testing::FakeEnv;
    use kubectl_vllm_sdk::vllm;

    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{1f}');
    let first = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let env: Vec<Value> = rest
        .iter()
        .filter_map(|p| p.split_once('='))
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    let all: Vec<&str> = std::iter::once(first).chain(rest.iter().copied()).collect();
    for container in [
        json!({"name": "c", "image": "vllm/vllm-openai:v0.10.1", "command": ["/bin/sh", "-c", first], "args": rest, "env": env}),
        json!({"name": "c", "image": "vllm/vllm-openai:v0.8.5", "args": all, "env": env}),
        json!({"name": "c", "image": "vllm/vllm-openai:v0.10.1", "command": ["vllm", "serve", first], "args": rest}),
    ] {
        let container = Container {
            value: &container,
            pointer: Pointer::root().key("spec").key("containers").index(0),
            init: false,
        };
        for word in vllm::words(&container) {
            check_word(&container, &word);
        }
        let Some(invocation) = vllm::invocation(&container) else {
            continue;
        };
        let vars = vllm::Vars::of(&container, &FakeEnv::default(), Some("default"));
        for word in invocation.args.iter().chain(invocation.start.iter()) {
            check_word(&container, word);
        }
        for flag in [
            "tensor-parallel-size",
            "max-model-len",
            "port",
            "model",
            "served-model-name",
        ] {
            if let Some(value) = invocation.flag(flag, None, &vars) {
                check_word(&container, &value.at);
                check_word(&container, &value.flag);
            }
        }
        let _ = (
            invocation.model(&vars),
            invocation.tensor_parallel(&vars),
            invocation.pipeline_parallel(&vars),
            invocation.data_parallel(&vars),
            invocation.port(&vars),
            invocation.gpu_memory_utilization(&vars),
            invocation.has_vllm_only_flag(),
            invocation.positional(),
        );
    }
    let chars = first.chars().count();
    for (_, start, end) in vllm::shell_words(first) {
        assert!(
            start <= end && end <= chars,
            "shell word {start}..{end} outside {chars} characters"
        );
    }
}

fn check_word(
    container: &kubectl_vllm_sdk::k8s::Container<'_>,
    word: &kubectl_vllm_sdk::vllm::Word,
) {
    let Some(relative) = word.pointer.strip_prefix(&container.pointer) else {
        return;
    };
    if let (Some(element), Some((start, end))) = (
        container
            .value
            .pointer(relative.as_str())
            .and_then(Value::as_str),
        word.chars,
    ) {
        let chars = element.chars().count();
        assert!(
            start <= end && end <= chars,
            "word {start}..{end} outside {chars} characters of its element"
        );
    }
}

/// The Quantity parser: no panic; a parsed quantity's canonical form parses to the same value,
/// and one more round is a fixed point (not the first: as in Kubernetes, `1100687.5Ki` is written
/// `1127104000`, which reads back as a decimal quantity written `1127104k`); whole values and
/// byte counts agree.
pub fn quantity(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(q) = Quantity::parse(text) else {
        return;
    };
    let canonical = q.canonical();
    let again = Quantity::parse(&canonical)
        .unwrap_or_else(|e| panic!("canonical `{canonical}` of `{text}` does not parse: {e}"));
    assert_eq!(
        again.cmp(&q),
        std::cmp::Ordering::Equal,
        "`{text}` → `{canonical}` changed value"
    );
    let second = again.canonical();
    let third = Quantity::parse(&second).expect("a canonical form parses");
    assert_eq!(
        third.cmp(&q),
        std::cmp::Ordering::Equal,
        "`{text}` → `{second}` changed value"
    );
    assert_eq!(
        third.canonical(),
        second,
        "canonical form of `{text}` is not stable"
    );
    if let Some(n) = q.to_u64() {
        assert!(q.is_whole() && !q.is_negative());
        assert_eq!(q.ceil_u64(), Some(n));
    }
    if let Some(ceil) = q.ceil_u64() {
        assert!(!q.is_negative());
        assert!(q.to_u64().is_none_or(|n| n == ceil));
    }
}

/// The patch applier: random operations on a random document either are refused, or give a
/// text that parses, keeps every other document byte for byte, and holds the operation's
/// effect (a replaced or added value reads back equal; a removed key is gone).
///
/// Input: operation bytes, a NUL, then the YAML text.
pub fn patch_ops(data: &[u8]) {
    let split = data.iter().position(|&b| b == 0).unwrap_or(0);
    let (spec, text) = (&data[..split], &data[(split + 1).min(data.len())..]);
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let stream = yaml::parse(text);
    if !stream.errors.is_empty() {
        return;
    }
    let Some(document) = stream.documents.iter().find(|d| d.root.value != Yaml::Null) else {
        return;
    };
    let root = &document.root;
    let mut pointers = Vec::new();
    node_pointers(root, &Pointer::root(), &mut pointers);
    for chunk in spec.chunks(3).take(4) {
        let [kind, which, value] = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let target = &pointers[usize::from(which) % pointers.len()];
        let value = VALUES[usize::from(value) % VALUES.len()]();
        let op = match kind % 4 {
            0 => TextOp::Replace(target.as_str().to_string(), value),
            1 => TextOp::Add(target.key("added-by-fuzz").as_str().to_string(), value),
            2 => TextOp::Add(target.end().as_str().to_string(), value),
            _ => TextOp::Remove(target.as_str().to_string()),
        };
        check_patch(text, document.index, &op);
    }
}

/// Values a fix may write, chosen to be hard to write as YAML.
const VALUES: &[fn() -> Value] = &[
    || json!("yes"),
    || json!("1e3"),
    || json!(": not a key"),
    || json!("# not a comment"),
    || json!("line one\nline two\n"),
    || json!("  leading and trailing  "),
    || json!("tab\there 'quote' \"double\" \\ back"),
    || json!(""),
    || json!(null),
    || json!(true),
    || json!(16),
    || json!(-1.5),
    || json!(["a", {"b": "c"}, []]),
    || json!({"medium": "Memory", "sizeLimit": "16Gi", "x": {}}),
    || json!("*alias"),
    || json!("&anchor"),
    || json!("---"),
    || json!("é ünïcode ✓"),
    || json!("{flow}"),
    || json!("[seq]"),
    || json!("0x1F"),
    || json!("~"),
    || json!("- item"),
];

fn node_pointers(node: &Node, at: &Pointer, out: &mut Vec<Pointer>) {
    if out.len() >= POINTERS {
        return;
    }
    out.push(at.clone());
    match &node.value {
        Yaml::Map(entries) => {
            for entry in entries {
                node_pointers(&entry.value, &at.key(&entry.key), out);
            }
        }
        Yaml::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                node_pointers(item, &at.index(i), out);
            }
        }
        _ => {}
    }
}

fn check_patch(text: &str, document: usize, op: &TextOp) {
    let Ok(patched) = patch::apply(text, document, std::slice::from_ref(op)) else {
        return;
    };
    let before = yaml::parse(text);
    let after = yaml::parse(&patched);
    assert!(
        after.errors.is_empty(),
        "a patched text does not parse: {op:?}\n{patched}"
    );
    assert_eq!(
        before.documents.len(),
        after.documents.len(),
        "documents appeared or vanished: {op:?}\n{patched}"
    );
    for (b, a) in before.documents.iter().zip(&after.documents) {
        if b.index != document {
            assert_eq!(
                &text[b.span.start..b.span.end],
                &patched[a.span.start..a.span.end],
                "another document changed: {op:?}"
            );
        }
    }
    let Some(tree) = after
        .documents
        .iter()
        .find(|d| d.index == document)
        .map(|d| &d.root)
    else {
        panic!("the patched document is gone: {op:?}\n{patched}");
    };
    let json = tree.to_json();
    match op {
        TextOp::Replace(pointer, value) | TextOp::Add(pointer, value)
            if !pointer.ends_with("/-") =>
        {
            assert_eq!(
                json.pointer(pointer),
                Some(value),
                "{op:?} did not take effect:\n{patched}"
            );
        }
        TextOp::Remove(pointer) if !pointer.is_empty() => {
            let parent = Pointer::parse(pointer).ok().and_then(|p| p.parent());
            let was_map = parent
                .as_ref()
                .and_then(|p| {
                    before
                        .documents
                        .iter()
                        .find(|d| d.index == document)?
                        .root
                        .to_json()
                        .pointer(p.as_str())
                        .map(Value::is_object)
                })
                .unwrap_or(false);
            if was_map {
                assert!(
                    json.pointer(pointer).is_none(),
                    "{op:?} left the key:\n{patched}"
                );
            }
        }
        _ => {}
    }
}

/// AdmissionReview decoding: any body decodes or is refused without panicking; an object it
/// yields is written as JSON text whose parse is exactly the tree kept for it, and the answer
/// encodes as JSON.
pub fn admission_review(data: &[u8]) {
    use kubectl_vllm_webhook::{check, review};
    let Ok(admission) = review::decode(data) else {
        return;
    };
    let _ = admission.describe();
    if let Some(object) = &admission.object {
        let prepared = check::prepared(object);
        let (text, document) = kubectl_vllm_manifest::json::document(&prepared);
        let parsed = yaml::parse(&text);
        assert!(
            parsed.errors.is_empty(),
            "the written object does not parse:\n{text}"
        );
        assert_eq!(
            parsed.documents.first().map(|d| &d.root),
            Some(&document.root),
            "the kept tree is not the parse of its text"
        );
        let mut manifests = Manifests::default();
        manifests.add_json("review.json", &prepared, &LoadOptions::default());
    }
    let answer = check::Answer::unchecked("fuzz", false);
    let body = review::encode(&admission, &answer);
    serde_json::from_slice::<Value>(&body).expect("the answer is JSON");
}

#[cfg(test)]
mod tests;
