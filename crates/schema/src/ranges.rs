//! Integer ranges from OpenAPI formats: a schema saying `type: integer, format: int32` (or
//! `int64`) gets the `minimum` and `maximum` of that type, so `replicas: 99999999999999999999`
//! fails as the API server's decoder fails it, instead of passing as "an integer". Used by
//! `build.rs` for the embedded definitions and at run time for CRDs and added schemas (one copy:
//! `build.rs` includes this file).

use serde_json::Value;

/// The bounds of an OpenAPI integer format.
pub(crate) fn bounds(format: &str) -> Option<(i64, i64)> {
    match format {
        "int32" => Some((i64::from(i32::MIN), i64::from(i32::MAX))),
        "int64" => Some((i64::MIN, i64::MAX)),
        _ => None,
    }
}

/// Adds `minimum`/`maximum` to every integer schema with an `int32`/`int64` format that does not
/// set a tighter one. Under `properties` the keys are field names (a field may be called
/// `format`), and those are walked as schemas, never read as keywords.
pub(crate) fn add_integer_ranges(value: &mut Value) {
    walk(value, false);
}

fn walk(value: &mut Value, field_names: bool) {
    match value {
        Value::Object(map) => {
            if !field_names {
                let integer = match map.get("type") {
                    Some(Value::String(t)) => t == "integer",
                    Some(Value::Array(types)) => types.iter().any(|t| t == "integer"),
                    _ => false,
                };
                if integer
                    && let Some((min, max)) =
                        map.get("format").and_then(Value::as_str).and_then(bounds)
                {
                    map.entry("minimum").or_insert(Value::from(min));
                    map.entry("maximum").or_insert(Value::from(max));
                }
            }
            for (key, child) in map.iter_mut() {
                walk(child, key == "properties" && !field_names);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| walk(i, false)),
        _ => {}
    }
}
