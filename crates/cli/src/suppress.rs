//! Suppression annotations (product.md, "Suppressions"): `ignore.kubectl-vllm/<rule-id>: "<reason>"`
//! silences one rule for the object that carries it, `kubectl-vllm/ignore-all: "<reason>"` all of
//! them. Only the object's own `metadata.annotations` count; the same keys on a pod template are
//! reported (`suppression-on-pod-template`, with a fix that moves them), and an empty reason is
//! reported (`suppression-without-reason`) but still honoured.

use serde_json::{Map, Value};

use kubectl_vllm_host::PatchOp;
use kubectl_vllm_host::bindings::kubectl_vllm::policy::types::PathValue;

/// The prefix of a one-rule suppression key.
pub const RULE_PREFIX: &str = "ignore.kubectl-vllm/";
/// The key that silences every rule.
pub const ALL: &str = "kubectl-vllm/ignore-all";

/// Where workload kinds keep their pod templates' annotations.
const TEMPLATE_ANNOTATIONS: &[&str] = &[
    "/spec/template/metadata/annotations",
    "/spec/jobTemplate/spec/template/metadata/annotations",
    "/spec/leaderWorkerTemplate/leaderTemplate/metadata/annotations",
    "/spec/leaderWorkerTemplate/workerTemplate/metadata/annotations",
];

/// Whether `key` is a suppression annotation.
fn is_suppression(key: &str) -> bool {
    key == ALL || key.strip_prefix(RULE_PREFIX).is_some_and(|r| !r.is_empty())
}

/// The suppressions an object declares on itself.
#[derive(Debug, Default)]
pub struct Suppressions {
    all: Option<String>,
    rules: Vec<(String, String)>,
}

impl Suppressions {
    /// Reads `object`'s own annotations.
    #[must_use]
    pub fn of(object: &Value) -> Self {
        let mut out = Self::default();
        for (key, reason) in annotations(object, "/metadata/annotations") {
            let reason = reason.as_str().unwrap_or_default().to_string();
            if key == ALL {
                out.all = Some(reason);
            } else if let Some(rule) = key.strip_prefix(RULE_PREFIX) {
                out.rules.push((rule.to_string(), reason));
            }
        }
        out
    }

    /// The annotation that silences `rule`, with its reason.
    #[must_use]
    pub fn why(&self, rule: &str) -> Option<String> {
        if let Some((_, reason)) = self.rules.iter().find(|(r, _)| r == rule) {
            return Some(format!("annotation {RULE_PREFIX}{rule}: {reason}"));
        }
        self.all
            .as_ref()
            .map(|reason| format!("annotation {ALL}: {reason}"))
    }
}

fn annotations<'a>(object: &'a Value, pointer: &str) -> &'a Map<String, Value> {
    static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
    object
        .pointer(pointer)
        .and_then(Value::as_object)
        .unwrap_or(&EMPTY)
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A problem with a suppression annotation, as a host finding to locate.
#[derive(Debug, PartialEq)]
pub struct Problem {
    /// `suppression-without-reason` or `suppression-on-pod-template`.
    pub rule: &'static str,
    /// Pointer of the annotation key in the object.
    pub pointer: String,
    /// Message.
    pub message: String,
    /// Help.
    pub help: String,
    /// Fix: title and operations.
    pub fix: Option<(String, Vec<PatchOp>)>,
}

/// Every problem with `object`'s suppression annotations.
#[must_use]
pub fn problems(object: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    let own = annotations(object, "/metadata/annotations");
    for (key, reason) in own {
        if is_suppression(key) && reason.as_str().is_none_or(|r| r.trim().is_empty()) {
            out.push(Problem {
                rule: "suppression-without-reason",
                pointer: format!("/metadata/annotations/{}", escape(key)),
                message: format!(
                    "`{key}` gives no reason; the suppression applies, but nobody can tell why"
                ),
                help: "write why the check does not apply, e.g. `\"TP=1; measured in load tests\"`"
                    .into(),
                fix: None,
            });
        }
    }
    for base in TEMPLATE_ANNOTATIONS {
        for (key, reason) in annotations(object, base) {
            if !is_suppression(key) {
                continue;
            }
            let mut ops = Vec::new();
            if !own.contains_key(key) {
                let op = if object.pointer("/metadata/annotations").is_some() {
                    PathValue {
                        path: format!("/metadata/annotations/{}", escape(key)),
                        value: reason.to_string(),
                    }
                } else {
                    let mut map = Map::new();
                    map.insert(key.clone(), reason.clone());
                    PathValue {
                        path: "/metadata/annotations".into(),
                        value: Value::Object(map).to_string(),
                    }
                };
                ops.push(PatchOp::Add(op));
            }
            ops.push(PatchOp::Remove(format!("{base}/{}", escape(key))));
            out.push(Problem {
                rule: "suppression-on-pod-template",
                pointer: format!("{base}/{}", escape(key)),
                message: format!(
                    "`{key}` is on the pod template, where it is not honoured (and changing it rolls the pods)"
                ),
                help: "move it to the object's own metadata.annotations".into(),
                fix: Some(("move the annotation to metadata.annotations".into(), ops)),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn own_annotations_silence_and_template_ones_do_not() {
        let object = json!({
            "metadata": {"annotations": {
                "ignore.kubectl-vllm/shm-size": "TP=1",
                "kubectl-vllm/other": "x"
            }},
            "spec": {"template": {"metadata": {"annotations": {"kubectl-vllm/ignore-all": "no"}}}}
        });
        let s = Suppressions::of(&object);
        assert_eq!(
            s.why("shm-size").as_deref(),
            Some("annotation ignore.kubectl-vllm/shm-size: TP=1")
        );
        assert_eq!(s.why("shm-missing"), None);
        let problems = problems(&object);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].rule, "suppression-on-pod-template");
        assert_eq!(
            problems[0].pointer,
            "/spec/template/metadata/annotations/kubectl-vllm~1ignore-all"
        );
        let all = Suppressions::of(
            &json!({"metadata": {"annotations": {"kubectl-vllm/ignore-all": ""}}}),
        );
        assert_eq!(
            all.why("anything").as_deref(),
            Some("annotation kubectl-vllm/ignore-all: ")
        );
    }

    #[test]
    fn empty_reasons_are_reported() {
        let object = json!({"metadata": {"annotations": {
            "ignore.kubectl-vllm/shm-size": " ",
            "ignore.kubectl-vllm/": "",
            "kubectl-vllm/ignore-all": "vendored"
        }}});
        let problems = problems(&object);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].rule, "suppression-without-reason");
        assert_eq!(
            problems[0].pointer,
            "/metadata/annotations/ignore.kubectl-vllm~1shm-size"
        );
    }
}
