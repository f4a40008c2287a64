//! The schemas a run validates against: Kubernetes' own for a version, plus the CRDs and JSON
//! Schemas the user adds with `--schema`.

use std::path::PathBuf;

pub use kubectl_vllm_schema::{DEFAULT_VERSION, Schemas};

/// Starts parsing what every lint run needs and does not depend on its inputs (the built-in fact
/// tables; the schema definitions of Kubernetes `schema_version`, when validating) on a thread of
/// its own, so that it overlaps loading the policies and reading the inputs. Later uses wait for
/// it or find it done; nothing changes but when the work happens.
pub fn prewarm(schema_version: Option<&str>) {
    let version = schema_version.map(str::to_string);
    // Detached: a run that ends early (a usage error) does not wait for it.
    let _ = std::thread::Builder::new()
        .name("prewarm".into())
        .spawn(move || {
            if let Some(version) = version {
                kubectl_vllm_schema::prewarm(&version);
            }
            let _ = kubectl_vllm_host::FactTables::builtin();
        });
}

/// The schemas of Kubernetes `version` plus the JSON Schemas and CRDs under `paths`.
pub fn load(version: &str, paths: &[PathBuf]) -> Result<Schemas, String> {
    let mut schemas = Schemas::for_version(version).map_err(|e| e.to_string())?;
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| matches!(e, "json" | "yaml" | "yml"))
                })
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read the schema {}: {e}", file.display()))?;
        let documents: Vec<serde_json::Value> = if file.extension().is_some_and(|e| e == "json") {
            vec![serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?]
        } else {
            let stream = kubectl_vllm_manifest::yaml::parse(&text);
            if let Some(error) = stream.errors.first() {
                return Err(format!(
                    "{}: invalid YAML: {}",
                    file.display(),
                    error.message
                ));
            }
            stream.documents.iter().map(|d| d.root.to_json()).collect()
        };
        // `kubectl get crd -o yaml` writes a List.
        let documents = documents.into_iter().flat_map(|d| {
            if d["kind"] == "List" {
                d["items"].as_array().cloned().unwrap_or_default()
            } else {
                vec![d]
            }
        });
        for document in documents.filter(|d| !d.is_null()) {
            schemas
                .add(&document)
                .map_err(|e| format!("{}: {e}", file.display()))?;
        }
    }
    Ok(schemas)
}
