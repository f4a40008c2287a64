//! Applies a policy's structured fix to an object's JSON (RFC 6902 `add`, `replace`, `remove`,
//! restricted as the contract says). Text-preserving fixes work on the source instead; this is the
//! semantic reference they are tested against, and what JSON inputs and dry runs use.

use serde_json::Value;

use crate::PatchOp;

/// Applies `operations` in order; on error the value may be partly patched.
///
/// # Errors
/// A pointer that does not parse or does not resolve as the operation requires, a value that is
/// not JSON, or `add` onto an existing key.
pub fn apply(target: &mut Value, operations: &[PatchOp]) -> Result<(), String> {
    for op in operations {
        match op {
            PatchOp::Replace(pv) => {
                let value = parse(&pv.value)?;
                let slot = target
                    .pointer_mut(&pv.path)
                    .ok_or_else(|| format!("replace: `{}` does not exist", pv.path))?;
                *slot = value;
            }
            PatchOp::Add(pv) => {
                let value = parse(&pv.value)?;
                let (parent, last) = split(&pv.path)?;
                match target.pointer_mut(&parent) {
                    Some(Value::Object(map)) => {
                        if map.contains_key(&last) {
                            return Err(format!("add: `{}` already exists", pv.path));
                        }
                        map.insert(last, value);
                    }
                    Some(Value::Array(items)) => {
                        if last == "-" {
                            items.push(value);
                        } else {
                            let i: usize = last
                                .parse()
                                .map_err(|_| format!("add: bad index in `{}`", pv.path))?;
                            if i > items.len() {
                                return Err(format!("add: index out of range in `{}`", pv.path));
                            }
                            items.insert(i, value);
                        }
                    }
                    _ => {
                        return Err(format!(
                            "add: the parent of `{}` is not a mapping or sequence",
                            pv.path
                        ));
                    }
                }
            }
            PatchOp::Remove(path) => {
                let (parent, last) = split(path)?;
                let removed = match target.pointer_mut(&parent) {
                    Some(Value::Object(map)) => map.remove(&last).is_some(),
                    Some(Value::Array(items)) => match last.parse::<usize>() {
                        Ok(i) if i < items.len() => {
                            items.remove(i);
                            true
                        }
                        _ => false,
                    },
                    _ => false,
                };
                if !removed {
                    return Err(format!("remove: `{path}` does not exist"));
                }
            }
        }
    }
    Ok(())
}

fn parse(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("value is not JSON: {e}"))
}

/// `"/a/b~1c"` → (`"/a"`, `"b/c"`).
fn split(path: &str) -> Result<(String, String), String> {
    let pointer = kubectl_vllm_core::Pointer::parse(path).map_err(|e| e.to_string())?;
    match (pointer.parent(), pointer.last()) {
        (Some(parent), Some(last)) => Ok((parent.as_str().to_string(), last.into_owned())),
        _ => Err(format!("`{path}` is not a JSON Pointer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::kubectl_vllm::policy::types::PathValue;
    use serde_json::json;

    fn pv(path: &str, value: &Value) -> PathValue {
        PathValue {
            path: path.into(),
            value: value.to_string(),
        }
    }

    #[test]
    fn add_replace_remove() {
        let mut v = json!({"a": {"x": 1}, "l": [1, 2], "k/s": 0});
        apply(
            &mut v,
            &[
                PatchOp::Replace(pv("/a/x", &json!(2))),
                PatchOp::Add(pv("/a/y", &json!("n"))),
                PatchOp::Add(pv("/l/-", &json!(3))),
                PatchOp::Add(pv("/l/0", &json!(0))),
                PatchOp::Remove("/k~1s".into()),
            ],
        )
        .unwrap();
        assert_eq!(v, json!({"a": {"x": 2, "y": "n"}, "l": [0, 1, 2, 3]}));
    }

    #[test]
    fn errors_are_reported() {
        let mut v = json!({"a": 1});
        assert!(apply(&mut v, &[PatchOp::Replace(pv("/b", &json!(1)))]).is_err());
        assert!(apply(&mut v, &[PatchOp::Add(pv("/a", &json!(1)))]).is_err());
        assert!(apply(&mut v, &[PatchOp::Remove("/z".into())]).is_err());
        assert!(apply(&mut v, &[PatchOp::Add(pv("/x/y", &json!(1)))]).is_err());
    }
}
