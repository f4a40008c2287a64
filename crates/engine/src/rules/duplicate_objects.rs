//! One object defined twice in a run, which `kubectl apply` silently merges into the last copy.

use std::collections::HashMap;
use std::path::Path;

use kubectl_vllm_core::{Pointer, Severity, declare_rule};
use kubectl_vllm_manifest::{Manifests, Object};
use serde_json::Value;

use crate::locate::Locator;
use crate::report::Finding;

declare_rule! {
    /// ## What it does
    /// Finds an object (API group, kind, namespace and name) defined more than once in the
    /// input set, and reports each later copy, naming the first. Differing copies in one file or
    /// one render (stdin) are an error; differing copies in different files a warning; identical
    /// copies an info. Copies in different renders (a kustomize base and its overlay, two
    /// charts) are not compared: each render is applied on its own.
    ///
    /// Different files are only a warning, also in one directory (product.md says error there):
    /// sample repositories keep alternatives side by side under one name (GKE's
    /// `llm-serving-gemma/vllm/` has a `vllm-gemma-deployment` per model size), each meant to be
    /// applied alone, and those deploy fine.
    ///
    /// ## Why is this bad?
    /// `kubectl apply -f dir/` applies both, in file order: the second silently replaces the
    /// first, so a Service's selector or port, a Deployment's GPU request or a PVC's size is
    /// whatever the last file says, and the linter's checks of the first copy describe nothing
    /// that runs. Objects without a name (`generateName`) are never the same object.
    ///
    /// ## Example
    /// ```yaml
    /// # service.yaml
    /// kind: Service
    /// metadata: {name: vllm}
    /// spec: {selector: {app: vllm}, ports: [{port: 8000}]}
    /// ---
    /// # further down in service.yaml
    /// kind: Service
    /// metadata: {name: vllm}
    /// spec: {selector: {app: vllm-old}, ports: [{port: 80}]}
    /// ```
    ///
    /// Use instead: one definition; delete or rename the other copy.
    ///
    /// ## Fix safety
    /// No fix: which copy is meant is the author's call.
    ///
    /// ## Source
    /// product.md, "Rule ids"; kubectl's apply semantics (each document is applied in turn).
    pub struct DuplicateObject {
        id: "duplicate-object",
        severity: Error,
        fix: None,
        summary: "one object is defined twice in the input set; the later copy silently wins",
    }
}

/// The identity `kubectl apply` merges on: API group (not version), kind, namespace, name.
type Key<'a> = (&'a str, &'a str, Option<&'a str>, &'a str);

fn key(object: &Object) -> Option<Key<'_>> {
    let r = &object.reference;
    if r.name.is_empty() {
        return None;
    }
    let group = r.api_version.rsplit_once('/').map_or("", |(g, _)| g);
    Some((
        group,
        r.kind.as_str(),
        r.namespace.as_deref(),
        r.name.as_str(),
    ))
}

/// A later copy of an object defined earlier in the run: what `duplicate-object` reports and
/// what `apply` refuses (differing) or sends once (identical).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaterCopy {
    /// Index of the first copy in [`Manifests::objects`].
    pub first: usize,
    /// Index of this copy.
    pub later: usize,
    /// The fields that differ (`spec.selector`, at most three and a count); empty when the
    /// copies are identical.
    pub differences: Vec<String>,
}

/// Every later copy of an object, in input order, each compared with the first copy.
#[must_use]
pub fn later_copies(manifests: &Manifests) -> Vec<LaterCopy> {
    let mut first: HashMap<Key, usize> = HashMap::new();
    let mut copies = Vec::new();
    for (index, object) in manifests.objects.iter().enumerate() {
        let Some(key) = key(object) else { continue };
        let Some(&earlier) = first.get(&key) else {
            first.insert(key, index);
            continue;
        };
        copies.push(LaterCopy {
            first: earlier,
            later: index,
            differences: differences(&manifests.objects[earlier].json, &object.json),
        });
    }
    copies
}

/// One finding per later copy of an object, naming the first.
pub(crate) fn duplicate_objects(manifests: &Manifests, findings: &mut Vec<Finding>) {
    let locator = Locator::new(manifests);
    for LaterCopy {
        first,
        later,
        differences,
    } in later_copies(manifests)
    {
        let (original, object) = (&manifests.objects[first], &manifests.objects[later]);
        let same_file = original.file == object.file;
        // Each kustomization or chart is rendered and applied on its own (a base and its
        // overlays, one chart per environment): copies in different renders are not applied
        // together.
        let rendered =
            manifests.rendering(original).is_some() || manifests.rendering(object).is_some();
        if rendered && !same_file {
            continue;
        }
        let same_directory = directory(manifests, original) == directory(manifests, object);
        let at = Pointer::from_path("/metadata/name");
        let where_first = locator.describe(original, &at);
        let r = &object.reference;
        let name = r
            .namespace
            .as_ref()
            .map_or_else(|| r.name.clone(), |ns| format!("{ns}/{}", r.name));
        let (severity, message) = if differences.is_empty() {
            (
                Severity::Info,
                format!(
                    "{} {name} is defined a second time, identically (first {where_first})",
                    r.kind
                ),
            )
        } else {
            let fields = differences.join(", ");
            let how = if same_file {
                "in the same file; applying it, this copy silently replaces the first"
            } else if same_directory {
                "in the same directory; applied together, the later copy silently wins (fine if the files are alternatives)"
            } else {
                "in another directory; applied together, the later copy wins"
            };
            (
                if same_file {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                format!(
                    "{} {name} is defined a second time (first {where_first}) and the copies differ in {fields}, {how}",
                    r.kind
                ),
            )
        };
        let mut finding = locator
            .finding::<DuplicateObject>(object, at, message)
            .with_help("keep one definition: delete or rename the other copy");
        finding.severity = severity;
        findings.push(finding);
    }
}

/// The directory of the object's file (`None` for stdin: one render).
fn directory<'a>(manifests: &'a Manifests, object: &Object) -> Option<&'a Path> {
    Path::new(&manifests.files[object.file].source.name).parent()
}

/// The fields that differ, as `spec.selector`, at most three and at most two levels deep.
fn differences(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return out;
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let (x, y) = (a.get(key), b.get(key));
        if x == y {
            continue;
        }
        match (x.and_then(Value::as_object), y.and_then(Value::as_object)) {
            (Some(x), Some(y)) => {
                let mut inner: Vec<&String> = x.keys().chain(y.keys()).collect();
                inner.sort();
                inner.dedup();
                out.extend(
                    inner
                        .into_iter()
                        .filter(|k| x.get(*k) != y.get(*k))
                        .map(|k| format!("`{key}.{k}`")),
                );
            }
            _ => out.push(format!("`{key}`")),
        }
    }
    if out.len() > 3 {
        let more = out.len() - 3;
        out.truncate(3);
        out.push(format!("{more} more"));
    }
    out
}
