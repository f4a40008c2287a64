//! Secret values, read from the source before the loader hides them.

use kubectl_vllm_core::{Pointer, declare_rule};
use kubectl_vllm_manifest::Manifests;
use kubectl_vllm_schema::rules::SchemaValue;

use crate::locate::Locator;
use crate::report::Finding;

declare_rule! {
    /// ## What it does
    /// Finds a Secret of the input set whose value is a placeholder: `REPLACE…`, `<…>`,
    /// `changeme`, `your-…`, `xxx…`, `TODO`, an empty value, `{{…}}` or `${…}` / `$VAR` (an
    /// unrendered template), in `stringData`, or in `data` once base64-decoded. The message names
    /// the Secret and the key, never the value. The host checks the values before it hides them
    /// from policies and reports.
    ///
    /// ## Why is this bad?
    /// The pod starts, and fails only when it uses the token: `401 Unauthorized` from Hugging
    /// Face on a gated model, after the pod was scheduled on a GPU node. A `data` value that is
    /// not base64 at all is a `schema-value` error instead: the API server rejects the Secret.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Secret
    /// stringData:
    ///   hf_api_token: <your token>
    /// ```
    ///
    /// Use instead: create the Secret outside the manifests (`kubectl create secret generic
    /// hf-secret --from-literal=hf_api_token=...`), or render the template before linting.
    ///
    /// ## Fix safety
    /// No fix: only its owner has the value.
    ///
    /// ## Source
    /// product.md, "Rule ids"; GKE Llama 4 sample (`hf_api_token: {{HF_TOKEN}}`).
    pub struct SecretValuePlaceholder {
        id: "secret-value-placeholder",
        severity: Warning,
        fix: None,
        summary: "a Secret in the set holds a placeholder instead of a value",
    }
}

/// `secret-value-placeholder` for a placeholder (in `stringData`, or in `data` once decoded),
/// `schema-value` for a `data` value that is not base64 (the API server rejects the Secret).
/// Messages name the key, never the value.
pub(crate) fn secret_values(manifests: &Manifests, findings: &mut Vec<Finding>) {
    let locator = Locator::new(manifests);
    for object in manifests
        .objects
        .iter()
        .filter(|o| o.reference.kind == "Secret")
    {
        let Some(raw) = manifests.written(object) else {
            continue;
        };
        let name = &object.reference.name;
        for field in ["stringData", "data"] {
            let Some(values) = raw.get(field).and_then(serde_json::Value::as_object) else {
                continue;
            };
            for (key, value) in values {
                let Some(text) = value.as_str() else {
                    continue; // not a string: schema validation reports the type
                };
                let pointer = Pointer::root().key(field).key(key);
                let Some(decoded) = decoded(field, text) else {
                    findings.push(
                        locator
                            .finding::<SchemaValue>(
                                object,
                                pointer,
                                format!(
                                    "Secret `{name}`: the value of `data.{key}` is not base64, so the API server rejects the Secret"
                                ),
                            )
                            .with_help(
                                "base64-encode it, or move the key to `stringData` (an unrendered template is a placeholder: render it first)",
                            ),
                    );
                    continue;
                };
                if let Some(kind) = placeholder(&decoded) {
                    findings.push(
                        locator
                            .finding::<SecretValuePlaceholder>(
                                object,
                                pointer,
                                format!(
                                    "Secret `{name}` key `{key}` is {kind}, not a real value: the pod starts and fails when it uses it"
                                ),
                            )
                            .with_help(
                                "create the Secret outside the manifests (kubectl create secret), or render the template before linting",
                            ),
                    );
                }
            }
        }
    }
}

/// A Secret value as the pod sees it: `stringData` as written, `data` base64-decoded (`None`: not
/// base64).
fn decoded(field: &str, text: &str) -> Option<String> {
    use base64::Engine as _;
    if field != "data" {
        return Some(text.to_string());
    }
    let compact: String = text.split_whitespace().collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// What kind of placeholder a Secret value is (product.md, `secret-value-placeholder`), if it is
/// one: words for the message, never the value itself.
fn placeholder(value: &str) -> Option<&'static str> {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    let is_var = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    };
    if v.is_empty() {
        Some("empty")
    } else if v.contains("{{") && v.contains("}}") {
        Some("an unrendered template (`{{…}}`)")
    } else if v.starts_with("${") && v.ends_with('}') || v.strip_prefix('$').is_some_and(is_var) {
        Some("an unexpanded variable")
    } else if v.starts_with('<') && v.ends_with('>') {
        Some("a placeholder in angle brackets")
    } else if lower.starts_with("replace") {
        Some("a `REPLACE…` placeholder")
    } else if lower.starts_with("your-") || lower.starts_with("your_") || lower.starts_with("your ")
    {
        Some("a `your-…` placeholder")
    } else if lower.starts_with("xxx") {
        Some("an `xxx…` placeholder")
    } else if matches!(
        lower.as_str(),
        "changeme" | "change-me" | "change_me" | "todo" | "tbd"
    ) {
        Some("a placeholder word")
    } else {
        None
    }
}
