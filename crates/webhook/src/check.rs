//! One admission object through the engine: the findings `kubectl vllm lint` gives for the same
//! object, gated by the mode; and the safe fixes as a JSON Patch.
//!
//! Everything here is synchronous and owns no I/O: the server runs it on a blocking thread with
//! a [`Linter`] from its pool.

use std::collections::BTreeSet;

use kubectl_vllm_core::{Applicability, Pointer, RuleId, Severity};
use kubectl_vllm_engine::config::Config;
use kubectl_vllm_engine::report::{Edit, Finding};
use kubectl_vllm_engine::{Linter, Report};
use kubectl_vllm_manifest::{LoadOptions, Manifests};
use serde_json::{Value, json};

/// The name findings of an admitted object carry as their file.
pub const ADMISSION_FILE: &str = "<admission>";

/// Kubernetes may truncate longer warnings (`AdmissionResponse.warnings`: "Warnings over 256
/// characters and large numbers of warnings may be truncated").
const MAX_WARNING_CHARS: usize = 256;

/// Warnings past this many are summed up in one last line.
const MAX_WARNINGS: usize = 20;

/// Passes of fixing before giving up on convergence (as `kubectl vllm fix`).
const MAX_PASSES: usize = 4;

/// How findings decide the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Admit everything; findings become admission warnings (kubectl prints them).
    Warn,
    /// Deny while a finding at or above the threshold remains.
    Enforce,
}

/// What turns findings into an answer.
#[derive(Debug, Clone, Copy)]
pub struct Gate {
    /// Warn or enforce.
    pub mode: Mode,
    /// In enforce mode, findings at or above it deny (`None`: nothing denies).
    pub fail_on: Option<Severity>,
    /// Findings at or above it (and below `fail_on` when enforcing) are admission warnings.
    pub warn_on: Severity,
    /// A policy that failed (trap, deadline, memory) denies instead of admitting with a warning.
    pub deny_on_policy_error: bool,
}

/// The answer for one object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// Whether the API server may go on.
    pub allowed: bool,
    /// Why not: `rule-id: message (field)` lines.
    pub message: Option<String>,
    /// Admission warnings.
    pub warnings: Vec<String>,
    /// RFC 6902 operations on the object as sent (mutation only).
    pub patch: Option<Vec<Value>>,
    /// Every reported finding's rule and severity, for the metrics.
    pub findings: Vec<(RuleId, Severity)>,
    /// Policies that failed on this object, for the metrics.
    pub policy_errors: Vec<String>,
}

impl Answer {
    /// Admitted with one warning: nothing was checked, and why (fail open).
    #[must_use]
    pub fn unchecked(why: &str, deny: bool) -> Self {
        let line = format!("kubectl-vllm did not check this object: {why}");
        Self {
            allowed: !deny,
            message: deny.then(|| line.clone()),
            warnings: if deny { Vec::new() } else { vec![clip(&line)] },
            policy_errors: vec!["(deadline)".into()],
            ..Self::default()
        }
    }
}

/// The object as the loader reads it: `managedFields` dropped (bookkeeping no rule reads),
/// `null` members dropped (the API server writes `creationTimestamp: null` and the like, which
/// mean unset), and a name where only `generateName` is set (pods of a ReplicaSet).
#[must_use]
pub fn prepared(object: &Value) -> Value {
    fn drop_nulls(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.retain(|_, v| !v.is_null());
                map.values_mut().for_each(drop_nulls);
            }
            Value::Array(items) => items.iter_mut().for_each(drop_nulls),
            _ => {}
        }
    }
    let mut object = object.clone();
    drop_nulls(&mut object);
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
        let named = metadata
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        if !named && let Some(prefix) = metadata.get("generateName").and_then(Value::as_str) {
            // The API server adds five random characters after admission.
            let name = format!("{prefix}xxxxx");
            metadata.insert("name".into(), json!(name));
        }
    }
    object
}

/// Lints `object` (already [`prepared`]) alone, objects without a namespace in `namespace`:
/// the report `kubectl vllm lint` gives for a file holding just this object.
pub fn lint(linter: &mut Linter, config: &Config, object: &Value, namespace: &str) -> Report {
    let (report, _) = lint_with(linter, config, object, namespace);
    report
}

fn lint_with(
    linter: &mut Linter,
    config: &Config,
    object: &Value,
    namespace: &str,
) -> (Report, Manifests) {
    let options = LoadOptions {
        default_namespace: namespace.to_string(),
        jobs: Some(std::num::NonZeroUsize::MIN),
        ..LoadOptions::default()
    };
    let mut manifests = Manifests::default();
    manifests.add_json(ADMISSION_FILE, object, &options);
    let report = linter.lint(&manifests, config);
    (report, manifests)
}

/// The answer for `report` (of the object admitted) under `gate`. `before`: the report of the
/// object before an UPDATE; findings it had too never deny (a rule added later must not block
/// the controllers that update old objects), they are warnings saying so.
#[must_use]
pub fn answer(linter: &Linter, report: &Report, before: Option<&Report>, gate: Gate) -> Answer {
    let old: BTreeSet<(&RuleId, Option<&Pointer>)> = before
        .map(|r| {
            r.findings
                .iter()
                .map(|f| (&f.rule, f.pointer.as_ref()))
                .collect()
        })
        .unwrap_or_default();
    let mut blocking = Vec::new();
    let mut warnings = Vec::new();
    let mut answer = Answer {
        allowed: true,
        ..Answer::default()
    };
    for finding in &report.findings {
        answer
            .findings
            .push((finding.rule.clone(), finding.severity));
        if linter.registry().unsuppressible(finding.rule.as_str()) {
            answer
                .policy_errors
                .push(finding.policy.clone().unwrap_or_else(|| "(input)".into()));
            let line = format!("kubectl-vllm could not check: {}", line(finding));
            if gate.deny_on_policy_error {
                blocking.push(line);
            } else {
                warnings.push((None, line));
            }
            continue;
        }
        let existed = old.contains(&(&finding.rule, finding.pointer.as_ref()));
        let denies = gate.mode == Mode::Enforce
            && gate.fail_on.is_some_and(|t| finding.severity >= t)
            && !existed;
        if denies {
            blocking.push(line(finding));
        } else if finding.severity >= gate.warn_on {
            let also = if existed {
                " [also before this update]"
            } else {
                ""
            };
            let text = format!("{} {}{also}", finding.severity, line(finding));
            warnings.push((Some(std::cmp::Reverse(finding.severity)), text));
        }
    }
    if !blocking.is_empty() {
        answer.allowed = false;
        answer.message = Some(blocking.join("\n"));
    }
    // What could not be checked first, then errors, warnings and infos, each in report order
    // (the list may be cut at the end).
    warnings.sort_by_key(|(rank, _)| *rank);
    let warnings: Vec<String> = warnings.into_iter().map(|(_, w)| w).collect();
    answer.warnings = warning_list(&warnings);
    answer
}

/// `rule-id: message (field)`.
fn line(finding: &Finding) -> String {
    let field = finding
        .pointer
        .as_ref()
        .filter(|p| !p.is_root())
        .map_or_else(String::new, |p| format!(" ({})", field_path(p)));
    format!(
        "{}: {}{field}",
        finding.rule,
        without_locations(&finding.message, ADMISSION_FILE)
    )
}

/// `message` without the ` at FILE:30` a message may carry (a provider hint's place): a line of
/// the JSON the webhook linted (`FILE` is [`ADMISSION_FILE`]) means nothing to the user; the
/// field names the place.
#[must_use]
pub fn without_locations(message: &str, file: &str) -> String {
    let marker = format!(" at {file}:");
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(&marker) {
        out.push_str(&rest[..at]);
        rest =
            rest[at + marker.len()..].trim_start_matches(|c: char| c.is_ascii_digit() || c == ':');
    }
    out.push_str(rest);
    out
}

/// A pointer as kubectl names fields: `spec.template.spec.containers[0].resources`, keys with a
/// dot or slash in brackets (`metadata.annotations[iam.gke.io/gcp-service-account]`).
#[must_use]
pub fn field_path(pointer: &Pointer) -> String {
    let mut out = String::new();
    for token in pointer.tokens() {
        if token.parse::<usize>().is_ok() || token.contains(['.', '/']) {
            out.push('[');
            out.push_str(&token);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    out
}

/// One line each, clipped to what the API server keeps, at most [`MAX_WARNINGS`].
pub(crate) fn warning_list(lines: &[String]) -> Vec<String> {
    let total = lines.len();
    let mut out: Vec<String> = lines.iter().take(MAX_WARNINGS).map(|l| clip(l)).collect();
    if total > MAX_WARNINGS {
        out.pop();
        out.push(format!(
            "…and {} more findings: `kubectl vllm lint` on the manifest lists them all",
            total - MAX_WARNINGS + 1
        ));
    }
    out
}

fn clip(line: &str) -> String {
    let flat = line.replace(['\n', '\r', '\t'], " ");
    if flat.chars().count() <= MAX_WARNING_CHARS {
        return flat;
    }
    let mut clipped: String = flat.chars().take(MAX_WARNING_CHARS - 1).collect();
    clipped.push('…');
    clipped
}

/// The safe fixes of `object`, pass after pass (each pass lints the fixed object again) until
/// none applies: the JSON Patch operations in order, and each applied fix's `rule: title`.
/// `original`: the object as the API server sent it; the operations are checked to apply to it.
#[derive(Debug, Clone, Default)]
pub struct Mutation {
    /// RFC 6902 operations on the object as sent.
    pub operations: Vec<Value>,
    /// `rule-id: title` of each fix applied.
    pub applied: Vec<String>,
    /// Fixes that did not apply, and why.
    pub failed: Vec<String>,
    /// The report on the fixed object.
    pub remaining: Report,
}

/// Applies the safe fixes of `object` (its [`prepared`] form is linted; `original` is what the
/// operations must apply to).
pub fn mutate(linter: &mut Linter, config: &Config, original: &Value, namespace: &str) -> Mutation {
    let mut current = prepared(original);
    let mut mutation = Mutation::default();
    let mut refused: BTreeSet<(RuleId, String)> = BTreeSet::new();
    for _ in 0..MAX_PASSES {
        let (report, _) = lint_with(linter, config, &current, namespace);
        let mut changed = false;
        for finding in &report.findings {
            let Some(fix) = &finding.fix else { continue };
            if fix.applicability != Applicability::Safe
                || refused.contains(&(finding.rule.clone(), fix.title.clone()))
            {
                continue;
            }
            let mut next = current.clone();
            match kubectl_vllm_engine::edit::apply(&mut next, &fix.edits) {
                Ok(()) => {
                    mutation
                        .operations
                        .extend(fix.edits.iter().filter_map(operation));
                    mutation
                        .applied
                        .push(format!("{}: {}", finding.rule, fix.title));
                    current = next;
                    changed = true;
                }
                Err(why) => {
                    // Another fix of this pass changed what this one expected; the next pass
                    // lints again and sees.
                    if !changed {
                        mutation
                            .failed
                            .push(format!("{}: {} ({why})", finding.rule, fix.title));
                        refused.insert((finding.rule.clone(), fix.title.clone()));
                    }
                }
            }
        }
        mutation.remaining = report;
        if !changed {
            return mutation;
        }
    }
    mutation.remaining = lint_with(linter, config, &current, namespace).0;
    mutation
}

/// The edit as an RFC 6902 operation (`None`: a text-only edit, which JSON has no place for).
fn operation(edit: &Edit) -> Option<Value> {
    Some(match edit {
        Edit::Replace(path, value) => {
            json!({"op": "replace", "path": path.as_str(), "value": value})
        }
        Edit::Add(path, value) => json!({"op": "add", "path": path.as_str(), "value": value}),
        Edit::Remove(path) => json!({"op": "remove", "path": path.as_str()}),
        Edit::DropShadowed(_) => return None,
    })
}

/// Whether `operations` apply to `object` (the object as the API server sent it, which the
/// fixes saw without its `managedFields` and `null` members).
pub fn applies(object: &Value, operations: &[Value]) -> Result<Value, String> {
    let patch: json_patch::Patch =
        serde_json::from_value(Value::Array(operations.to_vec())).map_err(|e| e.to_string())?;
    let mut patched = object.clone();
    json_patch::patch(&mut patched, &patch).map_err(|e| e.to_string())?;
    Ok(patched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_as_kubectl_names_them() {
        let p = |s: &str| Pointer::parse(s).unwrap();
        assert_eq!(
            field_path(&p("/spec/template/spec/containers/0/resources")),
            "spec.template.spec.containers[0].resources"
        );
        assert_eq!(
            field_path(&p("/metadata/annotations/iam.gke.io~1gcp-service-account")),
            "metadata.annotations[iam.gke.io/gcp-service-account]"
        );
    }

    #[test]
    fn admission_lines_leave_messages_without_a_place() {
        assert_eq!(
            without_locations(
                "no toleration (GKE, from nodeSelector x at <admission>:30:7) here",
                ADMISSION_FILE
            ),
            "no toleration (GKE, from nodeSelector x) here"
        );
    }

    #[test]
    fn warnings_are_one_clipped_line_each_and_at_most_twenty() {
        let long = format!("a\nb {}", "x".repeat(400));
        let out = warning_list(&vec![long; 25]);
        assert_eq!(out.len(), MAX_WARNINGS);
        assert!(out[0].starts_with("a b x"));
        assert_eq!(out[0].chars().count(), MAX_WARNING_CHARS);
        assert!(out[19].starts_with("…and 6 more findings"), "{}", out[19]);
    }

    #[test]
    fn prepared_objects_lose_bookkeeping_and_gain_a_name() {
        let object = json!({"kind": "Pod", "metadata": {"generateName": "vllm-7d9-", "creationTimestamp": null,
            "managedFields": [{"manager": "kube-controller-manager"}]}, "spec": {"containers": [{"name": "a", "resources": {}}]}});
        let prepared = prepared(&object);
        assert_eq!(
            prepared["metadata"],
            json!({"generateName": "vllm-7d9-", "name": "vllm-7d9-xxxxx"})
        );
        assert_eq!(prepared["spec"], object["spec"]);
    }

    #[test]
    fn operations_that_do_not_apply_are_refused() {
        let object = json!({"metadata": {"name": "a"}});
        let ok = [json!({"op": "add", "path": "/metadata/labels", "value": {"x": "y"}})];
        assert_eq!(
            applies(&object, &ok).unwrap()["metadata"]["labels"]["x"],
            "y"
        );
        let bad = [json!({"op": "replace", "path": "/spec/replicas", "value": 1})];
        assert!(applies(&object, &bad).is_err());
    }
}
