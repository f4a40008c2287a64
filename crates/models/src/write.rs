//! The row written into a config file's `facts.models`, through the same text patcher fixes use
//! (`kubectl_vllm_manifest::patch`): the rest of the file, comments included, stays byte for byte.
//! A row with the same id is replaced; the file is checked to load as a config before it is
//! written, so a config is never left broken.

use std::path::Path;

use kubectl_vllm_host::facts::ModelFact;
use kubectl_vllm_manifest::patch::{self, TextOp};
use kubectl_vllm_manifest::yaml::{self, Value};
use serde_json::json;

/// The value of `key` in a mapping (the last occurrence, as parsers keep).
fn get<'a>(value: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    match value {
        Some(Value::Map(entries)) => entries
            .iter()
            .rev()
            .find(|e| e.key == key)
            .map(|e| &e.value.value),
        _ => None,
    }
}

/// `text` with `row` in `facts.models`, and whether a row was replaced.
pub fn with_row(text: &str, row: &ModelFact) -> Result<(String, bool), String> {
    let value = serde_json::to_value(row).expect("a row serializes");
    let stream = yaml::parse(text);
    if let Some(e) = stream.errors.first() {
        return Err(format!("the config is not valid YAML: {}", e.message));
    }
    let root = stream.documents.first().map(|d| &d.root.value);
    let facts = get(root, "facts");
    let models = get(facts, "models");
    let (base, op, replaced) = match (root, facts, models) {
        (_, _, Some(Value::Seq(items))) => {
            let same = items.iter().position(|item| {
                get(Some(&item.value), "id")
                    .is_some_and(|id| matches!(id, Value::String(s) if *s == row.id))
            });
            match same {
                Some(i) => (
                    text.to_string(),
                    TextOp::Replace(format!("/facts/models/{i}"), value),
                    true,
                ),
                None => (
                    text.to_string(),
                    TextOp::Add("/facts/models/-".into(), value),
                    false,
                ),
            }
        }
        (_, _, Some(_)) => return Err("the config's `facts.models` is not a list".into()),
        (_, Some(Value::Map(_)), None) => (
            text.to_string(),
            TextOp::Add("/facts/models".into(), json!([value])),
            false,
        ),
        (_, Some(Value::Null), None) => (
            text.to_string(),
            TextOp::Replace("/facts".into(), json!({"models": [value]})),
            false,
        ),
        (_, Some(_), None) => return Err("the config's `facts` is not a mapping".into()),
        (Some(Value::Map(_)), None, None) => (
            text.to_string(),
            TextOp::Add("/facts".into(), json!({"models": [value]})),
            false,
        ),
        (None | Some(Value::Null), None, None) => {
            // No document, or only comments: the section is started as a new mapping.
            let mut base = text.to_string();
            if !base.is_empty() && !base.ends_with('\n') {
                base.push('\n');
            }
            base.push_str(&patch::block(
                &json!({"facts": {"models": [value]}}),
                0,
                "\n",
            ));
            base.push('\n');
            return Ok((base, false));
        }
        (Some(_), None, None) => return Err("the config is not a mapping".into()),
    };
    patch::apply(&base, 0, &[op])
        .map(|t| (t, replaced))
        .map_err(|e| format!("cannot write the row: {e}"))
}

/// Writes `row` into the config at `path` (created if missing); refuses, leaving the file as it
/// was, when the result would not load as a config. Returns what was done (`added`, `replaced`).
pub fn write_row(path: &Path, row: &ModelFact) -> Result<&'static str, String> {
    let old = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read `{}`: {e}", path.display())),
    };
    let (text, replaced) = with_row(old.as_deref().unwrap_or(""), row)
        .map_err(|e| format!("`{}`: {e}", path.display()))?;
    let check = path.with_file_name(format!(
        ".{}.add-model-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("config"),
        std::process::id()
    ));
    std::fs::write(&check, &text)
        .map_err(|e| format!("cannot write `{}`: {e}", check.display()))?;
    let loaded = kubectl_vllm_engine::config::load(&check);
    if let Err(e) = loaded {
        let _ = std::fs::remove_file(&check);
        return Err(format!(
            "`{}` with the row would not load as a config ({}); nothing written",
            path.display(),
            e.message
        ));
    }
    std::fs::rename(&check, path).map_err(|e| {
        let _ = std::fs::remove_file(&check);
        format!("cannot write `{}`: {e}", path.display())
    })?;
    Ok(if replaced { "replaced" } else { "added" })
}
