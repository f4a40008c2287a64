//! Fixes, through `kubectl_vllm_engine::testing`: every fix applied alone removes its finding and
//! fixing converges (on the objects' JSON, the contract's semantics); every single-file rule
//! fixture fixed in its text matches its golden `<name>.fixed.yaml`, keeps its comments and
//! converges; each text edit means what its JSON edits mean. Every rule that declares a fix has
//! one exercised both ways.

use kubectl_vllm_core::{FixAvailability, RuleMeta};
use kubectl_vllm_engine::Report;
use kubectl_vllm_engine::config::Config;
use kubectl_vllm_engine::rules::RuntimeDuplicateKeys;
use kubectl_vllm_engine::testing;

use super::fixtures::{linter, sets};

fn assert_none(failures: &[String], what: &str) {
    assert!(
        failures.is_empty(),
        "{} {what}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Ids of the rules that declare a fix.
fn fixing_rules(linter: &kubectl_vllm_engine::Linter) -> Vec<String> {
    linter
        .registry()
        .iter()
        .filter(|r| r.fix != FixAvailability::None)
        .map(|r| r.id.to_string())
        .collect()
}

#[test]
fn every_fix_removes_its_finding_and_fixing_converges() {
    let mut linter = linter();
    let mut failures = Vec::new();
    let mut fixed_rules = std::collections::BTreeSet::new();
    for set in sets() {
        let checked = testing::check_fixes(&mut linter, &set);
        failures.extend(checked.failures);
        fixed_rules.extend(checked.fixed_rules);
    }
    assert_none(&failures, "fix problems");
    // A key written twice exists only in the text, never in an object's JSON: that fix is
    // checked on text below.
    let text_only = <RuntimeDuplicateKeys as RuleMeta>::ID;
    for id in fixing_rules(&linter)
        .into_iter()
        .filter(|id| id != text_only)
    {
        assert!(
            fixed_rules.contains(&id),
            "no fixture exercises the fix of `{id}`"
        );
    }
}

/// Policies may keep inventory lookups for the life of an instance; the host must therefore never
/// carry an instance from one input set to the next. Two sets with the same object names but a
/// different model must get different answers from the same linter.
#[test]
fn nothing_leaks_from_one_input_set_to_the_next() {
    let mut linter = linter();
    let set = |model: &str| {
        vec![
            serde_json::json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": "models", "namespace": "default"},
                "spec": {"resources": {"requests": {"storage": "20Gi"}}}}),
            serde_json::json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "vllm", "namespace": "default"},
                "spec": {"containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.10.2",
                    "args": [format!("--model=/models/{model}")],
                    "volumeMounts": [{"name": "m", "mountPath": "/models"}]}],
                    "volumes": [{"name": "m", "persistentVolumeClaim": {"claimName": "models"}}]}}),
        ]
    };
    let too_small = |report: &Report| {
        report
            .findings
            .iter()
            .any(|f| f.rule == "pvc-size-too-small")
    };
    let config = Config::default();
    assert!(too_small(&testing::lint_objects(
        &mut linter,
        &set("gemma-3-27b-it"),
        &config
    )));
    assert!(!too_small(&testing::lint_objects(
        &mut linter,
        &set("gemma-3-1b-it"),
        &config
    )));
    assert!(too_small(&testing::lint_objects(
        &mut linter,
        &set("gemma-3-27b-it"),
        &config
    )));
}

#[test]
fn text_fixes_match_their_golden_files_and_converge() {
    let mut linter = linter();
    let bless = std::env::var_os("KUBECTL_VLLM_BLESS").is_some();
    let mut failures = Vec::new();
    let mut goldens = 0;
    let mut text_fixed = std::collections::BTreeSet::new();
    for set in sets()
        .iter()
        .filter(|s| s.inputs.len() == 1 && s.name.starts_with("rules/"))
    {
        let checked = testing::check_golden(&mut linter, set, bless);
        failures.extend(checked.failures);
        goldens += usize::from(checked.golden);
        text_fixed.extend(checked.text_fixed);
    }
    assert_none(&failures, "problems");
    assert!(goldens >= 30, "only {goldens} golden files");
    for id in fixing_rules(&linter) {
        assert!(
            text_fixed.contains(&id),
            "no golden fixture applies the fix of `{id}` to text"
        );
    }
}

/// Each fix on its own, in every fixture set (field report included): the text edit of
/// `kubectl vllm fix` must mean exactly what the fix's edits mean for the object.
#[test]
fn text_edits_mean_what_their_json_edits_mean() {
    let mut linter = linter();
    let mut failures = Vec::new();
    let mut compared = 0;
    for set in sets() {
        let (problems, n) = testing::check_text_edits(&mut linter, &set);
        failures.extend(problems);
        compared += n;
    }
    assert_none(&failures, "problems");
    assert!(compared >= 100, "only {compared} fixes compared");
}
