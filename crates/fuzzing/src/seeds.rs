//! Seed inputs for each target, taken from the repository's fixtures (so the corpus follows the
//! fixtures), and the regression inputs kept in `fuzz/regressions/<target>/`.

use std::path::{Path, PathBuf};

/// The repository root.
#[must_use]
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn manifests() -> Vec<Vec<u8>> {
    let mut paths = Vec::new();
    files(&root().join("fixtures"), &mut paths);
    paths
        .iter()
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        })
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

/// Quantities written the ways Kubernetes' tests and our fixtures write them.
const QUANTITIES: &[&str] = &[
    "0",
    "1",
    "50Gi",
    "53687091200",
    "5e10",
    "50G",
    "0.5Ti",
    "1e3",
    "100m",
    "lots",
    "1.5",
    "2000m",
    "3.001n",
    "0.000000000001Ki",
    "9Ei",
    "1.3E+6",
    ".",
    "-.",
    "1.G",
    "100.035Ki",
    "-3.01e-",
    "16Gi",
    "1e2147483647",
    "1e-99999999",
    ".e-10",
    "0.00000012345",
    "9223372036854775807Ki",
];

/// The seeds of `target`.
#[must_use]
pub fn of(target: &str) -> Vec<Vec<u8>> {
    match target {
        "yaml_load" => manifests(),
        "quantity" => QUANTITIES.iter().map(|q| q.as_bytes().to_vec()).collect(),
        "vllm_args" => command_lines(),
        "patch" => manifests()
            .into_iter()
            .filter(|m| m.len() < 8_192)
            .enumerate()
            .map(|(i, text)| {
                let spec = [
                    (i % 4) as u8,
                    (i * 7) as u8,
                    (i * 3) as u8,
                    0,
                    5,
                    1,
                    2,
                    9,
                    4,
                    3,
                    2,
                    1,
                ];
                [&spec[..], &[0], &text].concat()
            })
            .collect(),
        "admission_review" => {
            let mut paths = Vec::new();
            files(&root().join("fixtures/webhook"), &mut paths);
            paths
                .iter()
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .filter_map(|p| std::fs::read(p).ok())
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Every container command line of the fixtures: a `sh -c` script as it is, other commands as
/// their words joined by U+001F (the separator [`crate::vllm_args`] splits on).
fn command_lines() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for text in manifests() {
        let mut set = kubectl_vllm_manifest::Manifests::default();
        set.add_text(
            "seed.yaml",
            String::from_utf8_lossy(&text).into_owned(),
            &kubectl_vllm_manifest::LoadOptions::default(),
        );
        for object in &set.objects {
            let kind = object.reference.kind.as_str();
            for spec in kubectl_vllm_sdk::k8s::pod_specs(kind, &object.json) {
                for container in spec.spec["containers"].as_array().into_iter().flatten() {
                    let words: Vec<&str> = ["command", "args"]
                        .iter()
                        .flat_map(|f| container[f].as_array().into_iter().flatten())
                        .filter_map(serde_json::Value::as_str)
                        .collect();
                    if words.len() >= 3 && matches!(words[1], "-c" | "-ec" | "-xc") {
                        out.push(words[2..].join("\u{1f}").into_bytes());
                    } else if !words.is_empty() {
                        out.push(words.join("\u{1f}").into_bytes());
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The inputs that once failed `target`, kept as regression tests.
#[must_use]
pub fn regressions(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut paths = Vec::new();
    files(&root().join("fuzz/regressions").join(target), &mut paths);
    paths
        .into_iter()
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .filter_map(|p| std::fs::read(&p).ok().map(|bytes| (p, bytes)))
        .collect()
}
