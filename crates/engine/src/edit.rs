//! A fix's edits applied to an object's JSON (RFC 6902 `add`, `replace`, `remove`, restricted as
//! the contract says). `kubectl vllm fix` applies the same edits to the source text
//! ([`crate::fix`]); this is the semantic reference the text edits are tested against, and what
//! a JSON Patch for admission means.

use serde_json::Value;

use crate::report::Edit;

/// Applies `edits` in order; on error the value may be partly edited.
///
/// # Errors
/// A pointer that does not resolve as the edit requires, or `add` onto an existing key.
pub fn apply(target: &mut Value, edits: &[Edit]) -> Result<(), String> {
    for edit in edits {
        match edit {
            Edit::Replace(path, value) => {
                let slot = target
                    .pointer_mut(path.as_str())
                    .ok_or_else(|| format!("replace: `{path}` does not exist"))?;
                *slot = value.clone();
            }
            Edit::Add(path, value) => {
                let (parent, last) = split(path)?;
                match target.pointer_mut(parent.as_str()) {
                    Some(Value::Object(map)) => {
                        if map.contains_key(&last) {
                            return Err(format!("add: `{path}` already exists"));
                        }
                        map.insert(last, value.clone());
                    }
                    Some(Value::Array(items)) => {
                        if last == "-" {
                            items.push(value.clone());
                        } else {
                            let i: usize = last
                                .parse()
                                .map_err(|_| format!("add: bad index in `{path}`"))?;
                            if i > items.len() {
                                return Err(format!("add: index out of range in `{path}`"));
                            }
                            items.insert(i, value.clone());
                        }
                    }
                    _ => {
                        return Err(format!(
                            "add: the parent of `{path}` is not a mapping or sequence"
                        ));
                    }
                }
            }
            Edit::Remove(path) => {
                let (parent, last) = split(path)?;
                let removed = match target.pointer_mut(parent.as_str()) {
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
            // The object never held the ignored occurrence; only its text changes.
            Edit::DropShadowed(path) => {
                if target.pointer(path.as_str()).is_none() {
                    return Err(format!("drop: `{path}` does not exist"));
                }
            }
        }
    }
    Ok(())
}

/// `/a/b~1c` → (`/a`, `b/c`).
fn split(
    path: &kubectl_vllm_core::Pointer,
) -> Result<(kubectl_vllm_core::Pointer, String), String> {
    match (path.parent(), path.last()) {
        (Some(parent), Some(last)) => Ok((parent, last.into_owned())),
        _ => Err(format!("`{path}` names the whole object")),
    }
}

#[cfg(test)]
mod tests {
    use kubectl_vllm_core::Pointer;
    use serde_json::json;

    use super::*;

    fn p(path: &str) -> Pointer {
        Pointer::parse(path).unwrap()
    }

    #[test]
    fn add_replace_remove() {
        let mut v = json!({"a": {"x": 1}, "l": [1, 2], "k/s": 0});
        apply(
            &mut v,
            &[
                Edit::Replace(p("/a/x"), json!(2)),
                Edit::Add(p("/a/y"), json!("n")),
                Edit::Add(p("/l/-"), json!(3)),
                Edit::Add(p("/l/0"), json!(0)),
                Edit::Remove(p("/k~1s")),
            ],
        )
        .unwrap();
        assert_eq!(v, json!({"a": {"x": 2, "y": "n"}, "l": [0, 1, 2, 3]}));
    }

    #[test]
    fn errors_are_reported() {
        let mut v = json!({"a": 1});
        assert!(apply(&mut v, &[Edit::Replace(p("/b"), json!(1))]).is_err());
        assert!(apply(&mut v, &[Edit::Add(p("/a"), json!(1))]).is_err());
        assert!(apply(&mut v, &[Edit::Remove(p("/z"))]).is_err());
        assert!(apply(&mut v, &[Edit::Add(p("/x/y"), json!(1))]).is_err());
        assert!(apply(&mut v, &[Edit::Remove(Pointer::root())]).is_err());
    }
}
