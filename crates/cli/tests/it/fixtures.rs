//! Every fixture fires exactly the rules its `# expect:` markers name, on exactly those lines; a
//! finding without a marker fails as surely as a marker without a finding. A marker may pin the
//! severity of a case, `# expect: shm-missing[error]`, and give a reason after ` -- ` (the
//! real-world corpus says why each finding is real). A finding with no location (the run's
//! `provider-unknown`) is expected by `# expect-unlocated: provider-unknown` anywhere in the set.
//!
//! Sets: each file under `fixtures/rules/<rule>/` alone (with `<name>.kubectl-vllm.yaml` as its
//! config when present), each directory under `fixtures/rules/<rule>/` as one multi-file set, each
//! directory under `fixtures/field-report/<variant>/` as one set, and each file or directory of
//! `fixtures/real-world/` as one set (its config, when present, beside it as
//! `<name>.kubectl-vllm.yaml`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use kubectl_vllm::config::{self, Config};
use kubectl_vllm::lint::Linter;
use kubectl_vllm_host::{ArtifactCache, Limits};
use kubectl_vllm_manifest::{Input, LoadOptions};

/// One lint set: a file alone, or a directory.
pub struct Set {
    /// Name, relative to `fixtures/`.
    pub name: String,
    /// Its files.
    pub inputs: Vec<PathBuf>,
    /// Its config.
    pub config: Config,
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        })
        .filter(|p| {
            let name = p.to_string_lossy();
            !name.ends_with(".kubectl-vllm.yaml") && !name.ends_with(".fixed.yaml")
        })
        .collect();
    files.sort();
    files
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Every fixture set.
pub fn sets() -> Vec<Set> {
    let root = super::repo().join("fixtures");
    let mut sets = Vec::new();
    for rule_dir in subdirs(&root.join("rules")) {
        // A subdirectory is one multi-file set (its config: `<dir>.kubectl-vllm.yaml` beside it).
        for set_dir in subdirs(&rule_dir) {
            let config_path = set_dir.with_extension("kubectl-vllm.yaml");
            let config = if config_path.is_file() {
                config::load(&config_path).unwrap().config
            } else {
                Config::default()
            };
            sets.push(Set {
                name: set_dir.strip_prefix(&root).unwrap().display().to_string(),
                inputs: yaml_files(&set_dir),
                config,
            });
        }
        for file in yaml_files(&rule_dir) {
            let config_path = file.with_extension("kubectl-vllm.yaml");
            let config = if config_path.is_file() {
                config::load(&config_path).unwrap().config
            } else {
                Config::default()
            };
            sets.push(Set {
                name: file.strip_prefix(&root).unwrap().display().to_string(),
                inputs: vec![file],
                config,
            });
        }
    }
    for variant in subdirs(&root.join("field-report")) {
        for set in subdirs(&variant) {
            sets.push(Set {
                name: set.strip_prefix(&root).unwrap().display().to_string(),
                inputs: yaml_files(&set),
                config: Config::default(),
            });
        }
    }
    let real_world = root.join("real-world");
    let units = subdirs(&real_world)
        .into_iter()
        .map(|dir| (yaml_files(&dir), dir))
        .chain(
            yaml_files(&real_world)
                .into_iter()
                .map(|f| (vec![f.clone()], f)),
        );
    for (inputs, unit) in units {
        let config_path = unit.with_extension("kubectl-vllm.yaml");
        let config = if config_path.is_file() {
            config::load(&config_path).unwrap().config
        } else {
            Config::default()
        };
        sets.push(Set {
            name: unit.strip_prefix(&root).unwrap().display().to_string(),
            inputs,
            config,
        });
    }
    sets
}

/// A marker: `(file, line, rule)`.
type Marker = (String, usize, String);

/// Every `# expect: a, b[warning]` marker, with the severity when the marker gives one.
fn markers(files: &[PathBuf]) -> (BTreeSet<Marker>, Vec<(Marker, String)>) {
    let mut out = BTreeSet::new();
    let mut severities = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        for (i, line) in text.lines().enumerate() {
            if let Some((_, rules)) = line.split_once("# expect-unlocated:") {
                for rule in rules.split(" -- ").next().unwrap_or_default().split(',') {
                    out.insert((String::new(), 0, rule.trim().to_string()));
                }
                continue;
            }
            if let Some((_, rules)) = line.split_once("# expect:") {
                let rules = rules.split(" -- ").next().unwrap_or_default();
                for rule in rules.split(',') {
                    let rule = rule.trim();
                    let (id, severity) = match rule.split_once('[') {
                        Some((id, rest)) => (id, Some(rest.trim_end_matches(']'))),
                        None => (rule, None),
                    };
                    let marker = (file.display().to_string(), i + 1, id.to_string());
                    if let Some(severity) = severity {
                        severities.push((marker.clone(), severity.to_string()));
                    }
                    out.insert(marker);
                }
            }
        }
    }
    (out, severities)
}

/// A linter with the default policies and the test binary's artifact cache.
pub fn linter() -> Linter {
    let mut linter = Linter::new(
        ArtifactCache::new(Some(super::cache_dir())),
        Limits::default(),
        &config::Loaded::default(),
        &[],
        true,
    )
    .unwrap();
    let schemas = kubectl_vllm_schema::Schemas::for_version(kubectl_vllm_schema::DEFAULT_VERSION);
    linter.set_schemas(Some(schemas.unwrap()));
    linter
}

#[test]
fn every_fixture_fires_exactly_its_markers() {
    let mut linter = linter();
    let mut failures = Vec::new();
    let mut marked_rules = BTreeSet::new();
    let mut clean_rule_dirs = BTreeSet::new();
    let sets = sets();
    assert!(sets.len() > 20, "fixtures not found");
    for set in &sets {
        let inputs: Vec<Input> = set.inputs.iter().map(|p| Input::Path(p.clone())).collect();
        let (_, report) =
            kubectl_vllm::lint_paths(&mut linter, &inputs, &LoadOptions::default(), &set.config);
        let found: BTreeSet<(String, usize, String)> = report
            .findings
            .iter()
            .map(|f| (f.file.clone(), f.line.unwrap_or(0), f.rule.clone()))
            .collect();
        let (expected, severities) = markers(&set.inputs);
        for ((file, line, rule), severity) in &severities {
            let actual = report
                .findings
                .iter()
                .find(|f| &f.file == file && f.line == Some(*line) && &f.rule == rule)
                .map(|f| f.severity.as_str());
            if actual.is_some_and(|a| a != severity) {
                failures.push(format!(
                    "{}: {rule} on line {line} is {}, expected {severity}",
                    set.name,
                    actual.unwrap()
                ));
            }
        }
        for missing in expected.difference(&found) {
            failures.push(format!(
                "{}: expected {} on line {} of {}",
                set.name, missing.2, missing.1, missing.0
            ));
        }
        for extra in found.difference(&expected) {
            let finding = report
                .findings
                .iter()
                .find(|f| f.rule == extra.2 && f.line.unwrap_or(0) == extra.1)
                .unwrap();
            failures.push(format!(
                "{}: unexpected {} on line {} of {}: {}",
                set.name, extra.2, extra.1, extra.0, finding.message
            ));
        }
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
    let exempt = ["policy-error"];
    for rule in linter.rules() {
        if exempt.contains(&rule.id.as_str()) {
            continue;
        }
        assert!(
            marked_rules.contains(&rule.id),
            "no bad fixture marks `{}`",
            rule.id
        );
        assert!(
            clean_rule_dirs.contains(&rule.id),
            "no good fixture in fixtures/rules/{}/",
            rule.id
        );
    }
}
