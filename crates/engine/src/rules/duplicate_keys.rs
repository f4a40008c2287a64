//! Mapping keys written twice, which only the loader can see.

use kubectl_vllm_core::{Applicability, Pointer, declare_rule};
use kubectl_vllm_manifest::{Manifests, ObjectId};
use serde_json::Value;

use crate::locate::region;
use crate::report::{Edit, Finding, Fix};

declare_rule! {
    /// ## What it does
    /// Finds a mapping key written twice, such as two `env:` keys in one container. The finding
    /// points at the second key, the one Kubernetes keeps.
    ///
    /// ## Why is this bad?
    /// Kubernetes (sigs.k8s.io/yaml) keeps the last value and silently drops the first: the field
    /// report's A100 manifest had two `env:` blocks, so `LD_LIBRARY_PATH` never reached the pod.
    /// Policies see the object as Kubernetes does, so only the loader can notice.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    /// - name: LD_LIBRARY_PATH
    ///   value: /usr/local/nvidia/lib64:/usr/local/cuda/lib64
    /// env:
    /// - name: HF_HUB_OFFLINE
    ///   value: "1"
    /// ```
    ///
    /// Use instead: one `env:` list with both variables.
    ///
    /// ## Fix safety
    /// Unsafe (`fix --unsafe-fixes`): the ignored occurrence is removed and what it held is
    /// merged into the one Kubernetes keeps, which wins where both set the same thing: mapping
    /// keys it lacks are added, list items it lacks (by `name`, else by value) are inserted
    /// before its own, in their written order (so `$(VAR)` references keep working). The object
    /// Kubernetes sees changes, so review the result; for two scalars only the ignored one is
    /// removed.
    ///
    /// ## Source
    /// Field report (seans3/k8s-ai large-model A100 manifest); kubernetes/kubernetes#99286.
    ///
    /// - <https://github.com/kubernetes/kubernetes/issues/99286>
    pub struct RuntimeDuplicateKeys {
        id: "runtime-duplicate-keys",
        severity: Error,
        fix: Always(Unsafe),
        summary: "a mapping key is written twice; Kubernetes silently keeps only the last",
    }
}

/// One finding per duplicated key, at the second key (the one Kubernetes keeps).
pub(crate) fn duplicate_keys(manifests: &Manifests, findings: &mut Vec<Finding>) {
    for (index, file) in manifests.files.iter().enumerate() {
        for duplicate in &file.duplicates {
            let first = file.source.position(duplicate.first.start);
            let Ok(pointer) = Pointer::parse(&duplicate.pointer) else {
                continue; // the loader writes valid pointers
            };
            let key = pointer.last().unwrap_or_default().into_owned();
            let mut finding = Finding::of::<RuntimeDuplicateKeys>(
                file.source.name.clone(),
                format!(
                    "`{key}` is set twice in this mapping (first on line {}); Kubernetes keeps only this one and silently drops the first",
                    first.line
                ),
            )
            .with_help(format!("merge the two `{key}` entries into one"));
            finding.region = Some(region(&file.source, index, duplicate.second, false));
            let object = manifests
                .object_at(index, duplicate.document, &pointer)
                .map(|i| &manifests.objects[i]);
            match object {
                Some(object) => {
                    finding.resource = Some(object.reference.clone());
                    finding.pointer = object.id().relative_pointer(&pointer);
                    finding.object = Some(object.id());
                    if let Some(at) = &finding.pointer {
                        let kept = object.json.pointer(at.as_str());
                        finding.fix = Some(merge(&key, at, &duplicate.dropped, kept));
                    }
                }
                None => {
                    finding.object = Some(ObjectId {
                        file: index,
                        document: duplicate.document,
                        item: Pointer::root(),
                    });
                }
            }
            findings.push(finding);
        }
    }
}

/// The fix: add what only the ignored occurrence held to the kept one, then drop the ignored one.
fn merge(key: &str, at: &Pointer, dropped: &Value, kept: Option<&Value>) -> Fix {
    let mut edits = Vec::new();
    match (dropped, kept) {
        (Value::Object(dropped), Some(Value::Object(kept))) => {
            for (name, value) in dropped {
                if !kept.contains_key(name) {
                    edits.push(Edit::Add(at.key(name), value.clone()));
                }
            }
        }
        (Value::Array(dropped), Some(Value::Array(kept))) => {
            let missing = dropped
                .iter()
                .filter(|item| !kept.iter().any(|k| same_item(k, item)));
            for (i, item) in missing.enumerate() {
                edits.push(Edit::Add(at.index(i), item.clone()));
            }
        }
        _ => {}
    }
    let title = match edits.len() {
        0 => format!("remove the ignored first `{key}`"),
        1 => format!("merge the ignored first `{key}` into the kept one (adds 1 entry)"),
        n => format!("merge the ignored first `{key}` into the kept one (adds {n} entries)"),
    };
    edits.push(Edit::DropShadowed(at.clone()));
    Fix {
        title,
        applicability: Applicability::Unsafe,
        edits,
    }
}

/// List items are the same entry when they have the same `name` (env, ports, volumes, volume
/// mounts, containers), otherwise when they are equal.
fn same_item(a: &Value, b: &Value) -> bool {
    match (a.get("name"), b.get("name")) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}
