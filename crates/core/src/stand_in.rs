//! Objects known by name only: a Secret the cluster would not let us read, an entry of the
//! config's `existing` list. The host builds them; policies must not conclude from their data.

use serde_json::Value;

/// The annotation the host puts on objects it read from the live cluster or the config's
/// `existing` list.
pub const SOURCE_ANNOTATION: &str = "kubectl-vllm/source";

/// An object known by name only: its identity and the annotation that says so; `source` names
/// where it came from (`cluster`, `existing`).
#[must_use]
pub fn stand_in(
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    source: &str,
) -> Value {
    let mut object = serde_json::json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "annotations": {SOURCE_ANNOTATION: format!("{source}, metadata-only")}},
    });
    if let Some(namespace) = namespace {
        object["metadata"]["namespace"] = Value::String(namespace.to_string());
    }
    object
}

/// Whether `object` is known only by its metadata (read from the cluster as metadata only, or
/// listed as existing in the config): checks on its data must not conclude a key is missing.
#[must_use]
pub fn metadata_only(object: &Value) -> bool {
    object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(SOURCE_ANNOTATION))
        .and_then(Value::as_str)
        .is_some_and(|s| s.contains("metadata-only"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_ins_say_they_are_metadata_only() {
        let object = stand_in("v1", "Secret", Some("ml"), "hf", "existing");
        assert!(metadata_only(&object));
        assert_eq!(object["metadata"]["namespace"], "ml");
        assert!(!metadata_only(&serde_json::json!({"metadata": {}})));
    }
}
