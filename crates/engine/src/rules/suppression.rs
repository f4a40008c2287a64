//! Problems with suppression annotations themselves (product.md, "Suppressions").

use serde_json::{Map, Value};

use kubectl_vllm_core::{Applicability, Pointer, RuleId, declare_rule, rule_id};
use kubectl_vllm_manifest::Manifests;

use crate::locate::Locator;
use crate::report::{Edit, Finding, Fix};
use crate::suppress::{TEMPLATE_ANNOTATIONS, annotations, is_suppression};

declare_rule! {
    /// ## What it does
    /// Finds a suppression annotation (`ignore.kubectl-vllm/<rule-id>` or
    /// `kubectl-vllm/ignore-all`) whose reason is empty. The suppression still applies.
    ///
    /// ## Why is this bad?
    /// A silenced check with no reason is a deployment problem nobody can re-evaluate: when the
    /// model, GPU or cluster changes, the next reader cannot tell whether the reason still holds.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     ignore.kubectl-vllm/shm-size: ""
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     ignore.kubectl-vllm/shm-size: "TP=1; 1 GiB measured enough in load tests"
    /// ```
    ///
    /// ## Fix safety
    /// No fix: only a human knows the reason. `kubectl-vllm/ignore-all` does not silence this rule.
    ///
    /// ## Source
    /// product.md, "Suppressions".
    pub struct SuppressionWithoutReason {
        id: "suppression-without-reason",
        severity: Warning,
        fix: None,
        summary: "a suppression annotation has no reason",
    }
}

declare_rule! {
    /// ## What it does
    /// Finds a suppression annotation on a pod template (`spec.template.metadata.annotations`)
    /// instead of on the object itself. It is not honoured there.
    ///
    /// ## Why is this bad?
    /// Annotations on the pod template are copied to every pod and, on a Deployment, change the
    /// template hash, so editing one rolls the pods (and reloads the model on every GPU). A
    /// suppression belongs to the object the linter reports on.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   template:
    ///     metadata:
    ///       annotations:
    ///         ignore.kubectl-vllm/probe-missing-readiness: "batch job, no traffic"
    /// ```
    ///
    /// Use instead: the same key under the Deployment's own `metadata.annotations`.
    ///
    /// ## Fix safety
    /// Safe: moves the key (with its reason) to the object's `metadata.annotations`. The pods are
    /// rolled once, because the template changes.
    ///
    /// ## Source
    /// product.md, "Suppressions".
    pub struct SuppressionOnPodTemplate {
        id: "suppression-on-pod-template",
        severity: Warning,
        fix: Always(Safe),
        summary: "a suppression annotation sits on a pod template, where it is not honoured",
    }
}

/// Findings about every object's suppression annotations.
pub(crate) fn suppression_problems(manifests: &Manifests, findings: &mut Vec<Finding>) {
    let locator = Locator::new(manifests);
    for object in &manifests.objects {
        for problem in problems(&object.json) {
            let mut finding = Finding::new(
                problem.rule,
                kubectl_vllm_core::Severity::Warning,
                String::new(),
                problem.message,
            )
            .with_help(problem.help);
            finding.fix = problem.fix.map(|(title, edits)| Fix {
                title,
                applicability: Applicability::Safe,
                edits,
            });
            findings.push(locator.place(finding, object, problem.pointer));
        }
    }
}

/// A problem with a suppression annotation, as a host finding to locate.
#[derive(Debug, PartialEq)]
pub struct Problem {
    /// `suppression-without-reason` or `suppression-on-pod-template`.
    pub rule: RuleId,
    /// Pointer of the annotation key in the object.
    pub pointer: Pointer,
    /// Message.
    pub message: String,
    /// Help.
    pub help: String,
    /// Fix: title and operations.
    pub fix: Option<(String, Vec<Edit>)>,
}

/// Every problem with `object`'s suppression annotations.
#[must_use]
pub fn problems(object: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    let own_at = Pointer::from_path("/metadata/annotations");
    let own = annotations(object, own_at.as_str());
    for (key, reason) in own {
        if is_suppression(key) && reason.as_str().is_none_or(|r| r.trim().is_empty()) {
            out.push(Problem {
                rule: rule_id::<SuppressionWithoutReason>(),
                pointer: own_at.key(key),
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
            let at = Pointer::from_path(base).key(key);
            let mut ops = Vec::new();
            if !own.contains_key(key) {
                ops.push(if object.pointer(own_at.as_str()).is_some() {
                    Edit::Add(own_at.key(key), reason.clone())
                } else {
                    let mut map = Map::new();
                    map.insert(key.clone(), reason.clone());
                    Edit::Add(own_at.clone(), Value::Object(map))
                });
            }
            ops.push(Edit::Remove(at.clone()));
            out.push(Problem {
                rule: rule_id::<SuppressionOnPodTemplate>(),
                pointer: at,
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
        let s = crate::suppress::Suppressions::of(&object);
        assert_eq!(
            s.why("shm-size").as_deref(),
            Some("annotation ignore.kubectl-vllm/shm-size: TP=1")
        );
        assert_eq!(s.why("shm-missing"), None);
        let problems = problems(&object);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].rule, "suppression-on-pod-template");
        assert_eq!(
            problems[0].pointer.as_str(),
            "/spec/template/metadata/annotations/kubectl-vllm~1ignore-all"
        );
        let all = crate::suppress::Suppressions::of(
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
            problems[0].pointer.as_str(),
            "/metadata/annotations/ignore.kubectl-vllm~1shm-size"
        );
    }
}
