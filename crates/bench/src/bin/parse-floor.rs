//! `parse-floor PATH...`: loads the inputs with kubectl-vllm's own loader (YAML with spans, JSON
//! per object, Kubernetes' scalar resolution) and nothing else: the floor a whole `lint` run is
//! measured against in `BENCHMARKS.md`.

use std::process::ExitCode;

use kubectl_vllm_manifest::{Input, LoadOptions, Manifests};

fn main() -> ExitCode {
    let inputs: Vec<Input> = std::env::args()
        .skip(1)
        .map(|a| Input::from(a.as_str()))
        .collect();
    if inputs.is_empty() {
        eprintln!("usage: parse-floor PATH...");
        return ExitCode::from(2);
    }
    let options = LoadOptions {
        recursive: true,
        ..LoadOptions::default()
    };
    let manifests = Manifests::load(&inputs, &options);
    println!(
        "{} objects in {} files, {} input errors",
        manifests.objects.len(),
        manifests.files.len(),
        manifests.errors.len()
    );
    if manifests.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
