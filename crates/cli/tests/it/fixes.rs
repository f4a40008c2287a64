//! Every fix of every fixture: applied to its object it loads, and removes its own finding;
//! applying all fixes again and again converges within a few passes, after which there is nothing
//! left to fix (fixing twice changes nothing).
//!
//! Fixes are applied to the objects' JSON here (the contract's semantics); `kubectl vllm fix`
//! applies the same operations to the source text.

use serde_json::Value;

use kubectl_vllm::config::Config;
use kubectl_vllm::lint::Linter;
use kubectl_vllm::report::{Finding, Report};
use kubectl_vllm_host::patch;
use kubectl_vllm_manifest::{Input, LoadOptions, Manifests};

use super::fixtures::{linter, sets};

/// Lints objects given as JSON documents (one per document, in order).
fn lint_objects(linter: &mut Linter, objects: &[Value], config: &Config) -> Report {
    let text = objects
        .iter()
        .map(|o| serde_json::to_string_pretty(o).unwrap())
        .collect::<Vec<_>>()
        .join("\n---\n");
    let mut manifests = Manifests::default();
    manifests.add_text("objects.json", text, &LoadOptions::default());
    linter.lint(&manifests, config)
}

fn fixable(report: &Report) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| {
            f.patch.is_some()
                && f.fix
                    .as_ref()
                    .is_some_and(|x| x.applicability != "display-only")
        })
        .collect()
}

#[test]
fn every_fix_removes_its_finding_and_fixing_converges() {
    let mut linter = linter();
    let mut failures = Vec::new();
    let mut fixed_rules = std::collections::BTreeSet::new();
    for set in sets() {
        let inputs: Vec<Input> = set.inputs.iter().map(|p| Input::Path(p.clone())).collect();
        let manifests = Manifests::load(&inputs, &LoadOptions::default());
        if !manifests.errors.is_empty() {
            continue; // input-error fixtures have nothing to fix
        }
        let objects: Vec<Value> = manifests.objects.iter().map(|o| o.json.clone()).collect();
        let base = lint_objects(&mut linter, &objects, &set.config);

        // Each fix on its own removes its finding.
        for finding in fixable(&base) {
            let index = finding.document.unwrap();
            let mut fixed = objects.clone();
            if let Err(e) = patch::apply(&mut fixed[index], finding.patch.as_ref().unwrap()) {
                failures.push(format!(
                    "{}: the {} fix does not apply: {e}",
                    set.name, finding.rule
                ));
                continue;
            }
            let after = lint_objects(&mut linter, &fixed, &set.config);
            if let Some(e) = after.findings.iter().find(|f| f.rule == "input-error") {
                failures.push(format!(
                    "{}: the {} fix breaks the object: {}",
                    set.name, finding.rule, e.message
                ));
            }
            let same = |f: &&Finding| {
                f.rule == finding.rule
                    && f.document == finding.document
                    && f.pointer == finding.pointer
            };
            if after.findings.iter().any(|f| same(&f)) {
                failures.push(format!(
                    "{}: the {} fix ({}) leaves its finding at {}",
                    set.name,
                    finding.rule,
                    finding.fix.as_ref().unwrap().title,
                    finding.pointer.as_deref().unwrap_or("")
                ));
            }
            fixed_rules.insert(finding.rule.clone());
        }

        // Fixing everything converges.
        let mut current = objects.clone();
        let mut passes = 0;
        loop {
            let report = lint_objects(&mut linter, &current, &set.config);
            let todo = fixable(&report);
            if todo.is_empty() {
                break;
            }
            passes += 1;
            if passes > 4 {
                let left: Vec<&str> = todo.iter().map(|f| f.rule.as_str()).collect();
                failures.push(format!(
                    "{}: fixes do not converge; still fixable: {left:?}",
                    set.name
                ));
                break;
            }
            for finding in todo {
                let index = finding.document.unwrap();
                let mut candidate = current[index].clone();
                // A fix that no longer applies after an earlier one conflicts with it: skip it,
                // as `kubectl vllm fix` does, and let the next pass decide.
                if patch::apply(&mut candidate, finding.patch.as_ref().unwrap()).is_ok() {
                    current[index] = candidate;
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} fix problems:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Every rule that declares a fix had one exercised.
    for rule in linter.rules() {
        if rule.fix != "none" {
            assert!(
                fixed_rules.contains(&rule.id),
                "no fixture exercises the fix of `{}`",
                rule.id
            );
        }
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
    assert!(too_small(&lint_objects(
        &mut linter,
        &set("gemma-3-27b-it"),
        &config
    )));
    assert!(!too_small(&lint_objects(
        &mut linter,
        &set("gemma-3-1b-it"),
        &config
    )));
    assert!(too_small(&lint_objects(
        &mut linter,
        &set("gemma-3-27b-it"),
        &config
    )));
}
