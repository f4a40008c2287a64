//! Mapping keys written twice, which only the loader can see.

use kubectl_vllm_core::{Pointer, declare_rule};
use kubectl_vllm_manifest::{Manifests, ObjectId};

use crate::locate::region;
use crate::report::Finding;

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
    /// No fix yet: merging the two blocks needs a human to decide which values win.
    ///
    /// ## Source
    /// Field report (seans3/k8s-ai large-model A100 manifest); kubernetes/kubernetes#99286.
    ///
    /// - <https://github.com/kubernetes/kubernetes/issues/99286>
    pub struct RuntimeDuplicateKeys {
        id: "runtime-duplicate-keys",
        severity: Error,
        fix: None,
        summary: "a mapping key is written twice; Kubernetes silently keeps only the last",
    }
}

/// One finding per duplicated key, at the second key (the one Kubernetes keeps).
pub(crate) fn duplicate_keys(manifests: &Manifests, findings: &mut Vec<Finding>) {
    for (index, file) in manifests.files.iter().enumerate() {
        for duplicate in &file.stream.duplicates {
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
