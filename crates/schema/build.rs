//! Compacts the vendored Kubernetes schemas for embedding: every schema `description` removed
//! (nothing reads them, and they are three quarters of the bytes), whitespace dropped, and the
//! ranges of `int32`/`int64` integers made explicit (`src/ranges.rs`). The
//! vendored files stay byte for byte as published (`kubernetes/PROVENANCE.md`).

use std::path::Path;

use serde_json::Value;

#[path = "src/ranges.rs"]
mod ranges;

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for version in ["1.35", "1.36", "1.37"] {
        let source = format!("kubernetes/v{version}/_definitions.json");
        println!("cargo::rerun-if-changed={source}");
        println!("cargo::rerun-if-changed=src/ranges.rs");
        let text = std::fs::read_to_string(&source).expect("the vendored schema is readable");
        let mut schema: Value = serde_json::from_str(&text).expect("the vendored schema is JSON");
        strip_descriptions(&mut schema, false);
        ranges::add_integer_ranges(&mut schema);
        let compact = serde_json::to_string(&schema).expect("JSON serializes");
        std::fs::write(Path::new(&out).join(format!("v{version}.json")), compact)
            .expect("OUT_DIR is writable");
    }
}

/// Removes the `description` keyword of every schema. Under `properties` the keys are field
/// names, and a field may be called `description` (PriorityClass has one): those stay.
fn strip_descriptions(value: &mut Value, field_names: bool) {
    match value {
        Value::Object(map) => {
            if !field_names {
                map.remove("description");
            }
            for (key, child) in map.iter_mut() {
                strip_descriptions(child, key == "properties" && !field_names);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| strip_descriptions(i, false)),
        _ => {}
    }
}
