//! Micro-benchmarks of the steps one lint run repeats per document: loading YAML with spans, a
//! JSON Pointer to its span, one policy evaluation, the whole rule set on one deployment set, and
//! applying a fix. `cargo bench -p kubectl-vllm-bench` runs them (see BENCHMARKS.md).

use std::sync::{Arc, OnceLock};

use kubectl_vllm_bench::corpus::{self, Spec};
use kubectl_vllm_core::Pointer;
use kubectl_vllm_engine::config::{Config, Loaded};
use kubectl_vllm_engine::lint::Linter;
use kubectl_vllm_host::{
    ArtifactCache, Cluster, ClusterProfile, Evaluation, FactTables, Host, Inventory, Limits,
    ObjectRef, Provider, ProviderSource, Resolved, Shared,
};
use kubectl_vllm_manifest::{LoadOptions, Manifests};

fn main() {
    divan::main();
}

/// The corpus as one YAML stream of about `documents` documents.
fn stream(documents: usize) -> String {
    corpus::documents(&Spec {
        documents,
        namespaces: 1,
        seed: 1,
    })
    .join("---\n")
}

fn load(text: &str) -> Manifests {
    let mut manifests = Manifests::default();
    manifests.add_text("corpus.yaml", text.to_string(), &LoadOptions::default());
    assert!(manifests.errors.is_empty(), "the corpus loads");
    manifests
}

/// A linter with the embedded policies, compiled once into a cache under `target/`.
fn linter() -> Linter {
    let cache = std::env::temp_dir().join("kubectl-vllm-bench-cache");
    let mut linter = Linter::new(
        ArtifactCache::new(Some(cache)),
        Limits::default(),
        &Loaded::default(),
        &[],
        true,
    )
    .expect("the embedded policies load");
    linter.set_jobs(Some(1));
    linter
}

/// GKE, so that provider-specific rules run too.
fn gke_config() -> Config {
    Config {
        provider: Some(kubectl_vllm_host::ProviderSetting::Gke),
        ..Config::default()
    }
}

#[divan::bench(args = [5, 100, 1000])]
fn load_with_spans(bencher: divan::Bencher, documents: usize) {
    let text = stream(documents);
    bencher
        .counter(divan::counter::BytesCount::of_str(&text))
        .bench(|| load(divan::black_box(&text)));
}

#[divan::bench]
fn pointer_to_span(bencher: divan::Bencher) {
    let manifests = load(&stream(5));
    let deployment = manifests
        .objects
        .iter()
        .find(|o| o.reference.kind == "Deployment")
        .expect("a Deployment");
    let pointer =
        Pointer::parse("/spec/template/spec/containers/0/resources/limits/nvidia.com~1gpu")
            .expect("a pointer");
    assert!(manifests.locate(deployment, &pointer).is_some());
    bencher.bench(|| manifests.locate(divan::black_box(deployment), divan::black_box(&pointer)));
}

/// Each embedded policy evaluating one Deployment (its rules all selected, provider GKE).
#[divan::bench(args = ["gpu", "vllm", "model", "runtime", "storage", "access"])]
fn one_evaluation(bencher: divan::Bencher, name: &str) {
    static HOST: OnceLock<Host> = OnceLock::new();
    let host = HOST.get_or_init(|| {
        let cache = std::env::temp_dir().join("kubectl-vllm-bench-cache");
        Host::new(ArtifactCache::new(Some(cache)), Limits::default()).expect("an engine")
    });
    let manifests = load(&stream(5));
    let mut inventory = Inventory::default();
    for object in &manifests.objects {
        let r = &object.reference;
        let reference = ObjectRef {
            api_version: r.api_version.clone(),
            kind: r.kind.clone(),
            namespace: r.namespace.clone(),
            name: r.name.clone(),
        };
        inventory.insert(reference, &object.json);
    }
    let deployment = (0..inventory.len())
        .filter_map(|i| inventory.entry(i))
        .find(|e| e.reference.kind == "Deployment")
        .expect("a Deployment")
        .clone();
    let provider = Resolved {
        provider: Provider::Gke,
        source: ProviderSource::Flag,
        ..Resolved::default()
    };
    let shared = Arc::new(Shared {
        inventory,
        facts: Arc::new(FactTables::builtin()),
        cluster: Cluster::from_profile(&ClusterProfile::default(), provider),
    });
    let builtin = kubectl_vllm_builtin::POLICIES
        .iter()
        .find(|p| p.name == name)
        .expect("an embedded policy");
    let mut policy = host
        .load_precompiled(name, builtin.wasm, builtin.precompiled.as_ref(), shared)
        .expect("the policy loads");
    let evaluation = Evaluation {
        object_ref: deployment.reference,
        object: deployment.json,
        rules: policy.info.rules.iter().map(|r| r.id.clone()).collect(),
    };
    policy.evaluate(&evaluation).expect("it evaluates");
    bencher.bench_local(|| policy.evaluate(divan::black_box(&evaluation)));
}

/// The whole rule set (policies, engine rules, schema validation) on one deployment set: the
/// StorageClass and a Deployment, Service, PVC, ServiceAccount and ConfigMap.
#[divan::bench]
fn rule_set_on_one_set(bencher: divan::Bencher) {
    let mut linter = linter();
    let schemas =
        kubectl_vllm_engine::schemas::load(kubectl_vllm_engine::schemas::DEFAULT_VERSION, &[]);
    linter.set_schemas(Some(schemas.expect("the embedded schemas load")));
    let manifests = load(&stream(6));
    let config = gke_config();
    linter.lint(&manifests, &config);
    bencher.bench_local(|| linter.lint(divan::black_box(&manifests), &config));
}

/// Applying one fix to the text of a 1,000-document file (the patch keeps everything else).
#[divan::bench]
fn fix_application(bencher: divan::Bencher) {
    let mut linter = linter();
    let text = stream(1000);
    let manifests = load(&text);
    let report = linter.lint(&manifests, &gke_config());
    let finding = report
        .findings
        .iter()
        .find(|f| f.fix.is_some())
        .expect("the corpus has a fixable finding")
        .clone();
    kubectl_vllm_engine::fix::apply_fix(&text, &finding).expect("the fix applies");
    bencher.bench_local(|| kubectl_vllm_engine::fix::apply_fix(divan::black_box(&text), &finding));
}
