//! Every fixture fires exactly the rules its `# expect:` markers name, on exactly those lines, and
//! every rule has a bad and a good fixture; the runner is `kubectl_vllm_engine::testing`, the one
//! `kubectl vllm policy test` uses. Sets: see that module (the layout of `fixtures/`).

use std::collections::BTreeSet;

use kubectl_vllm_engine::Linter;
use kubectl_vllm_engine::config::Loaded;
use kubectl_vllm_engine::testing::{self, Set};
use kubectl_vllm_host::{ArtifactCache, Limits};

/// Every fixture set of the repository.
pub fn sets() -> Vec<Set> {
    let sets = Set::discover(&super::repo().join("fixtures"));
    assert!(sets.len() > 20, "fixtures not found");
    sets
}

/// A linter with the default policies, the newest schemas and the test binary's artifact cache.
pub fn linter() -> Linter {
    let mut linter = Linter::new(
        ArtifactCache::new(Some(super::cache_dir())),
        Limits::default(),
        &Loaded::default(),
        &[],
        true,
    )
    .unwrap();
    let schemas =
        kubectl_vllm_engine::schemas::load(kubectl_vllm_engine::schemas::DEFAULT_VERSION, &[]);
    linter.set_schemas(Some(schemas.unwrap()));
    linter
}

#[test]
fn every_fixture_fires_exactly_its_markers() {
    let mut linter = linter();
    let mut failures = Vec::new();
    let mut marked_rules = BTreeSet::new();
    let mut clean_rule_dirs = BTreeSet::new();
    for set in &sets() {
        let checked = testing::check_markers(&mut linter, set);
        failures.extend(checked.failures);
        let expected = &checked.markers.expected;
        marked_rules.extend(expected.iter().map(|m| m.2.clone()));
        if expected.is_empty() && set.name.starts_with("rules/") {
            clean_rule_dirs.insert(set.name.split('/').nth(1).unwrap().to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every rule has a bad fixture (a marker) and a good one (a clean file in its directory).
    // policy-error needs a misbehaving policy: crates/host/tests/sandbox.rs and the CLI tests.
    for rule in linter.registry().iter().filter(|r| r.id != "policy-error") {
        let id = rule.id.to_string();
        assert!(marked_rules.contains(&id), "no bad fixture marks `{id}`");
        assert!(
            clean_rule_dirs.contains(&id),
            "no good fixture in fixtures/rules/{id}/"
        );
    }
}

/// The registry decides which of a policy's rules run, from what the rules declare.
#[test]
fn requirements_decide_which_rules_run() {
    use kubectl_vllm_core::Provider;
    let linter = linter();
    let registry = linter.registry();
    let run = |provider| registry.runnable("gpu", provider, true, |_| true);
    let gke_rules = |rules: &[String]| rules.iter().filter(|r| r.starts_with("gke-")).count();
    assert!(gke_rules(&run(Provider::Gke)) >= 5);
    // Under another known provider GKE's rules do not run; unknown runs them, to say they skipped.
    assert_eq!(gke_rules(&run(Provider::Eks)), 0);
    assert_eq!(gke_rules(&run(Provider::Generic)), 0);
    assert_eq!(
        gke_rules(&run(Provider::Unknown)),
        gke_rules(&run(Provider::Gke))
    );
    assert!(run(Provider::Eks).contains(&"gpu-res-req-ne-limit".to_string()));
    let selected = registry.runnable("gpu", Provider::Gke, false, |id| {
        id == "taint-not-tolerated"
    });
    assert_eq!(selected, ["taint-not-tolerated"]);
}
