//! How messages name what they are about: a pointer's last field or its dotted path, and the
//! closest allowed name to a misspelt one.

/// The last segment of a pointer, unescaped (the field a message is about).
pub(crate) fn field_name(pointer: &str) -> String {
    segments(pointer).pop().unwrap_or_default()
}

/// A pointer's segments, unescaped.
fn segments(pointer: &str) -> Vec<String> {
    kubectl_vllm_manifest::locate::parse_pointer(pointer).unwrap_or_default()
}

/// `/spec/template/spec/containers/0` → `spec.template.spec.containers[0]`.
pub(crate) fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for segment in segments(pointer) {
        if segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(&segment);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

/// The closest allowed name: the same ignoring case, or within two edits (one for short names).
pub(crate) fn suggestion(name: &str, allowed: &[String]) -> Option<String> {
    let lower = name.to_lowercase();
    if let Some(same) = allowed.iter().find(|a| a.to_lowercase() == lower) {
        return Some(same.clone());
    }
    let limit = if name.len() <= 4 { 1 } else { 2 };
    allowed
        .iter()
        .map(|a| (strsim::levenshtein(&lower, &a.to_lowercase()), a))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, a)| (*d, a.len()))
        .map(|(_, a)| a.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let allowed: Vec<String> = ["tolerations", "nodeSelector", "volumeMounts", "env"]
            .iter()
            .map(|s| (*s).to_string())
            .collect();
        assert_eq!(
            suggestion("tolerration", &allowed).as_deref(),
            Some("tolerations")
        );
        assert_eq!(
            suggestion("nodeSelecter", &allowed).as_deref(),
            Some("nodeSelector")
        );
        assert_eq!(
            suggestion("volumeMount", &allowed).as_deref(),
            Some("volumeMounts")
        );
        assert_eq!(
            suggestion("NODESELECTOR", &allowed).as_deref(),
            Some("nodeSelector")
        );
        assert_eq!(suggestion("replicas", &allowed), None);
        assert_eq!(
            dotted("/spec/template/spec/containers/0/env"),
            "spec.template.spec.containers[0].env"
        );
    }
}
