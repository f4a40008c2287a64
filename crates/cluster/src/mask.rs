//! Objects as kubectl-vllm shows them: without `managedFields`, and with a Secret's values (and
//! the copy of them kubectl's client-side apply keeps in an annotation) masked.

use serde_json::{Value, json};

/// Which object of a comparison is being masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Printed alone (`apply -o yaml`): every value becomes `<redacted>`.
    Printed,
    /// The live object of a diff: `***`, or `*** (before)` where the other side differs.
    Before,
    /// The merged object of a diff: `***`, or `*** (after)` where the other side differs.
    After,
}

/// `object` masked for showing; `other` is the object it is compared with (for a diff).
#[must_use]
pub fn mask(object: &Value, other: Option<&Value>, side: Side) -> Value {
    let mut object = object.clone();
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    if object["kind"] != "Secret" {
        return object;
    }
    if let Some(annotation) = object
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
        .and_then(|a| a.get_mut("kubectl.kubernetes.io/last-applied-configuration"))
    {
        *annotation = json!(kubectl_vllm_manifest::load::REDACTED);
    }
    if side == Side::Printed {
        kubectl_vllm_manifest::load::redact_secret(&mut object);
        return object;
    }
    let changed = if side == Side::Before {
        "*** (before)"
    } else {
        "*** (after)"
    };
    for field in ["data", "stringData"] {
        let theirs = other.and_then(|o| o.get(field));
        if let Some(map) = object.get_mut(field).and_then(Value::as_object_mut) {
            for (key, value) in map.iter_mut() {
                let same = theirs.and_then(|t| t.get(key)) == Some(&*value);
                *value = json!(if same { "***" } else { changed });
            }
        }
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_on_both_sides_of_a_diff() {
        let live = json!({"kind": "Secret", "metadata": {"managedFields": [1]},
            "data": {"same": "YQ==", "old": "Yg=="}});
        let merged = json!({"kind": "Secret", "metadata": {}, "data": {"same": "YQ==", "old": "Yw==", "new": "ZA=="}});
        let before = mask(&live, Some(&merged), Side::Before);
        let after = mask(&merged, Some(&live), Side::After);
        assert_eq!(
            before["data"],
            json!({"same": "***", "old": "*** (before)"})
        );
        assert_eq!(
            after["data"],
            json!({"same": "***", "old": "*** (after)", "new": "*** (after)"})
        );
        assert!(before["metadata"].get("managedFields").is_none());
        let printed = mask(&live, None, Side::Printed);
        assert_eq!(
            printed["data"]["same"],
            kubectl_vllm_manifest::load::REDACTED
        );
        let deployment = json!({"kind": "Deployment", "data": {"x": "y"}});
        assert_eq!(mask(&deployment, None, Side::Printed), deployment);
    }
}
