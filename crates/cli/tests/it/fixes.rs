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

/// Every single-file rule fixture with fixable findings is fixed in its text (safe and unsafe
/// fixes) and compared byte for byte with `<name>.fixed.yaml`; comments survive, parsing still
/// works, and fixing the golden output again changes nothing. `KUBECTL_VLLM_BLESS=1` rewrites the
/// golden files.
#[test]
fn text_fixes_match_their_golden_files_and_converge() {
    let mut linter = linter();
    let bless = std::env::var_os("KUBECTL_VLLM_BLESS").is_some();
    let mut failures = Vec::new();
    let mut goldens = 0;
    let mut text_fixed: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for set in sets() {
        if set.inputs.len() != 1 || !set.name.starts_with("rules/") {
            continue;
        }
        let path = &set.inputs[0];
        let options = LoadOptions::default();
        let manifests = Manifests::load(&[Input::Path(path.clone())], &options);
        if !manifests.errors.is_empty() {
            continue;
        }
        let outcome = kubectl_vllm::fix::fix(&mut linter, &manifests, &set.config, &options, true);
        let (_, original, fixed) = &outcome.texts[0];
        for applied in &outcome.applied {
            match &applied.skipped {
                None => {
                    text_fixed.insert(applied.rule.clone());
                }
                Some(why) => {
                    failures.push(format!("{}: {} not applied: {why}", set.name, applied.rule));
                }
            }
        }
        let golden_path = path.with_extension("fixed.yaml");
        if original == fixed {
            if golden_path.exists() {
                failures.push(format!(
                    "{}: nothing to fix, but {} exists",
                    set.name,
                    golden_path.display()
                ));
            }
            continue;
        }
        goldens += 1;
        if bless {
            std::fs::write(&golden_path, fixed).unwrap();
        }
        match std::fs::read_to_string(&golden_path) {
            Ok(golden) if &golden == fixed => {}
            Ok(_) => failures.push(format!(
                "{}: fixed text differs from {}",
                set.name,
                golden_path.display()
            )),
            Err(_) => failures.push(format!(
                "{}: no golden file {}",
                set.name,
                golden_path.display()
            )),
        }
        // A comment survives unless the fix removed the (code) line it was on.
        let diff = similar::TextDiff::from_lines(original, fixed);
        let deleted: Vec<&str> = diff
            .iter_all_changes()
            .filter(|c| c.tag() == similar::ChangeTag::Delete)
            .map(|c| c.value().trim_end())
            .collect();
        for line in original.lines() {
            let Some(at) = line.find('#') else { continue };
            let standalone = line[..at].trim().is_empty();
            if (standalone || !deleted.contains(&line.trim_end()))
                && !fixed.contains(line[at..].trim())
            {
                failures.push(format!(
                    "{}: comment `{}` lost",
                    set.name,
                    line[at..].trim()
                ));
            }
        }
        if let Some(e) = outcome.manifests.errors.first() {
            failures.push(format!(
                "{}: fixed text does not load: {}",
                set.name, e.message
            ));
        }
        if let Some(left) = fixable(&outcome.remaining).first() {
            failures.push(format!(
                "{}: {} is still fixable after fixing",
                set.name, left.rule
            ));
        }
        let again =
            kubectl_vllm::fix::fix(&mut linter, &outcome.manifests, &set.config, &options, true);
        if again.texts[0].2 != *fixed {
            failures.push(format!(
                "{}: fixing the fixed text changes it again",
                set.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(goldens >= 30, "only {goldens} golden files");
    for rule in linter.rules() {
        if rule.fix != "none" {
            assert!(
                text_fixed.contains(&rule.id),
                "no golden fixture applies the fix of `{}` to text",
                rule.id
            );
        }
    }
}

/// Each fix on its own, in every fixture set (field report included): the text edit of
/// `kubectl vllm fix` must mean exactly what the fix's JSON Patch means for the object.
#[test]
fn text_edits_mean_what_their_json_patches_mean() {
    let mut linter = linter();
    let options = LoadOptions::default();
    let mut failures = Vec::new();
    let mut compared = 0;
    for set in sets() {
        let inputs: Vec<Input> = set.inputs.iter().cloned().map(Input::Path).collect();
        let manifests = Manifests::load(&inputs, &options);
        if !manifests.errors.is_empty() {
            continue;
        }
        for finding in fixable(&linter.lint(&manifests, &set.config)) {
            let (Some(file), Some(document)) = (finding.file_index, finding.document) else {
                continue;
            };
            let original = &manifests.files[file].source.text;
            let Ok(text) = kubectl_vllm::fix::apply_fix(original, document, finding) else {
                continue; // anchored targets are display-only; the golden test covers the rest
            };
            let mut reloaded = Manifests::default();
            reloaded.add_text("fixed.yaml", text, &options);
            let pointer = finding.pointer.as_deref().unwrap_or("");
            let object_of = |m: &Manifests, file: usize| {
                m.object_at(file, document, pointer)
                    .map(|i| m.objects[i].json.clone())
            };
            let mut expected = object_of(&manifests, file).unwrap();
            patch::apply(&mut expected, finding.patch.as_ref().unwrap()).unwrap();
            compared += 1;
            if object_of(&reloaded, 0).as_ref() != Some(&expected) {
                failures.push(format!(
                    "{} ({}): the text edit of {} differs from its JSON Patch",
                    set.name, finding.file, finding.rule
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared >= 100, "only {compared} fixes compared");
}
