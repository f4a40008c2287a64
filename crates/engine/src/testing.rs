//! The fixture runner: what the repository's own tests run over `fixtures/`, and what
//! `kubectl vllm policy test` runs over a policy's fixtures.
//!
//! A fixture is a manifest whose lines carry `# expect: rule-a, rule-b[warning] -- why` markers:
//! exactly those rules must fire on exactly that line (at that severity, when given), and nothing
//! else may fire. `# expect-unlocated: rule` anywhere in the set expects a finding without a
//! location (the run's `provider-unknown`). Every check returns the problems it found, as lines
//! naming the set; an empty list is a pass.
//!
//! Layout of a fixture directory (`Set::discover`): each file under `rules/<rule>/` alone (with
//! `<name>.kubectl-vllm.yaml` as its config when present), each directory under `rules/<rule>/`
//! as one multi-file set, each directory under `field-report/<variant>/`, and each file or
//! directory of `real-world/` (config beside it as `<name>.kubectl-vllm.yaml`). A file's golden
//! fixed text is `<name>.fixed.yaml`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use kubectl_vllm_core::FixAvailability;
use kubectl_vllm_manifest::{Input, LoadOptions, Manifests};

use crate::config::{self, Config};
use crate::lint::Linter;
use crate::report::{Finding, Report};
use crate::{edit, fix};

/// One lint set: a file alone, or a directory.
#[derive(Debug, Clone)]
pub struct Set {
    /// Name, relative to the fixture root.
    pub name: String,
    /// Its files.
    pub inputs: Vec<PathBuf>,
    /// Its config.
    pub config: Config,
}

/// A marker: `(file, line, rule)`; line 0 and an empty file for `# expect-unlocated:`.
pub type Marker = (String, usize, String);

/// Every marker of a set, and the severities some of them pin.
#[derive(Debug, Default)]
pub struct Markers {
    /// The expected findings.
    pub expected: BTreeSet<Marker>,
    /// `rule[severity]` markers.
    pub severities: Vec<(Marker, String)>,
}

impl Set {
    /// Every set under `root`, in the layout the module documents.
    ///
    /// # Panics
    /// When a directory cannot be read or a config does not load: a broken fixture tree.
    #[must_use]
    pub fn discover(root: &Path) -> Vec<Self> {
        let mut sets = Vec::new();
        let name = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
        for rule_dir in subdirs(&root.join("rules")) {
            for set_dir in subdirs(&rule_dir) {
                sets.push(Self {
                    name: name(&set_dir),
                    inputs: yaml_files(&set_dir),
                    config: config_beside(&set_dir),
                });
            }
            for file in yaml_files(&rule_dir) {
                sets.push(Self {
                    name: name(&file),
                    config: config_beside(&file),
                    inputs: vec![file],
                });
            }
        }
        for variant in subdirs(&root.join("field-report")) {
            for set in subdirs(&variant) {
                sets.push(Self {
                    name: name(&set),
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
            sets.push(Self {
                name: name(&unit),
                config: config_beside(&unit),
                inputs,
            });
        }
        sets
    }

    /// The set's inputs, loaded.
    #[must_use]
    pub fn load(&self) -> Manifests {
        let inputs: Vec<Input> = self.inputs.iter().cloned().map(Input::Path).collect();
        Manifests::load(&inputs, &LoadOptions::default())
    }

    /// Reads the set's `# expect:` markers.
    ///
    /// # Panics
    /// When an input cannot be read.
    #[must_use]
    pub fn markers(&self) -> Markers {
        let mut markers = Markers::default();
        for file in &self.inputs {
            let text = std::fs::read_to_string(file).expect("a fixture is readable");
            for (i, line) in text.lines().enumerate() {
                if let Some((_, rules)) = line.split_once("# expect-unlocated:") {
                    for rule in rules.split(" -- ").next().unwrap_or_default().split(',') {
                        markers
                            .expected
                            .insert((String::new(), 0, rule.trim().to_string()));
                    }
                    continue;
                }
                let Some((_, rules)) = line.split_once("# expect:") else {
                    continue;
                };
                for rule in rules.split(" -- ").next().unwrap_or_default().split(',') {
                    let rule = rule.trim();
                    let (id, severity) = match rule.split_once('[') {
                        Some((id, rest)) => (id, Some(rest.trim_end_matches(']'))),
                        None => (rule, None),
                    };
                    let marker = (file.display().to_string(), i + 1, id.to_string());
                    if let Some(severity) = severity {
                        markers
                            .severities
                            .push((marker.clone(), severity.to_string()));
                    }
                    markers.expected.insert(marker);
                }
            }
        }
        markers
    }
}

fn config_beside(path: &Path) -> Config {
    let config_path = path.with_extension("kubectl-vllm.yaml");
    if config_path.is_file() {
        config::load(&config_path)
            .unwrap_or_else(|e| panic!("{e}"))
            .config
    } else {
        Config::default()
    }
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = read_dir(dir)
        .into_iter()
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
    let mut dirs: Vec<PathBuf> = read_dir(dir).into_iter().filter(|p| p.is_dir()).collect();
    dirs.sort();
    dirs
}

fn read_dir(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

/// The line of a finding, 0 without a location (as unlocated markers are written).
fn line(f: &Finding) -> usize {
    f.region.map_or(0, |r| r.line)
}

/// What one set's lint run found against its markers.
pub struct Expectations {
    /// Mismatches: missing, unexpected, wrong severity, dishonest fixes.
    pub failures: Vec<String>,
    /// The markers, for coverage checks across sets.
    pub markers: Markers,
    /// The report.
    pub report: Report,
}

/// Lints `set` and compares the findings with its markers both ways; also checks fix honesty:
/// a rule that declares `Always` fixes must attach one to every finding, one that declares none
/// may attach none, and no fix may be safer than its rule declares (the host refuses a policy's
/// dishonest fixes outright; this holds the engine's own rules to the same).
pub fn check_markers(linter: &mut Linter, set: &Set) -> Expectations {
    let manifests = set.load();
    let report = linter.lint(&manifests, &set.config);
    let markers = set.markers();
    let mut failures = Vec::new();
    let found: BTreeSet<Marker> = report
        .findings
        .iter()
        .map(|f| (f.file.clone(), line(f), f.rule.to_string()))
        .collect();
    for ((file, at, rule), severity) in &markers.severities {
        let actual = report
            .findings
            .iter()
            .find(|f| &f.file == file && line(f) == *at && f.rule == rule.as_str())
            .map(|f| f.severity.as_str());
        if let Some(actual) = actual.filter(|a| a != severity) {
            failures.push(format!(
                "{}: {rule} on line {at} is {actual}, expected {severity}",
                set.name
            ));
        }
    }
    for (file, at, rule) in markers.expected.difference(&found) {
        failures.push(format!(
            "{}: expected {rule} on line {at} of {file}",
            set.name
        ));
    }
    for (file, at, rule) in found.difference(&markers.expected) {
        let message = report
            .findings
            .iter()
            .find(|f| f.rule == rule.as_str() && line(f) == *at)
            .map_or("", |f| f.message.as_str());
        failures.push(format!(
            "{}: unexpected {rule} on line {at} of {file}: {message}",
            set.name
        ));
    }
    failures.extend(honesty(linter, set, &report));
    Expectations {
        failures,
        markers,
        report,
    }
}

/// Fixes as their rules declare them: `Always` means every finding, `None` none, and a fix may
/// be less safe than declared (`fix_as`), never safer.
fn honesty(linter: &Linter, set: &Set, report: &Report) -> Vec<String> {
    let mut failures = Vec::new();
    for finding in &report.findings {
        let Some(rule) = linter.registry().get(finding.rule.as_str()) else {
            continue;
        };
        let at = line(finding);
        match (rule.fix, &finding.fix) {
            (FixAvailability::Always(_), None) => failures.push(format!(
                "{}: {} on line {at} declares a fix for every finding but offered none",
                set.name, finding.rule
            )),
            (FixAvailability::None, Some(_)) => failures.push(format!(
                "{}: {} on line {at} declares no fix but offered one",
                set.name, finding.rule
            )),
            (FixAvailability::Always(a) | FixAvailability::Sometimes(a), Some(fix))
                if fix.applicability < a =>
            {
                failures.push(format!(
                    "{}: {} on line {at} declares {a} fixes but offered a safer, {} one",
                    set.name, finding.rule, fix.applicability
                ));
            }
            _ => {}
        }
    }
    failures
}

/// The findings whose fixes can be applied (safe or unsafe).
#[must_use]
pub fn fixable(report: &Report) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.fix_applies(true))
        .collect()
}

/// Lints objects given as JSON (one `---` document each, in order).
pub fn lint_objects(linter: &mut Linter, objects: &[Value], config: &Config) -> Report {
    let text = objects
        .iter()
        .map(|o| serde_json::to_string_pretty(o).expect("JSON serializes"))
        .collect::<Vec<_>>()
        .join("\n---\n");
    let mut manifests = Manifests::default();
    manifests.add_text("objects.json", text, &LoadOptions::default());
    linter.lint(&manifests, config)
}

/// What fixing a set on its objects' JSON showed.
#[derive(Default)]
pub struct FixCheck {
    /// Problems.
    pub failures: Vec<String>,
    /// Rules whose fixes were applied.
    pub fixed_rules: BTreeSet<String>,
}

/// Each fix of `set`, applied alone to its object's JSON, loads and removes its own finding; then
/// applying every fix, pass after pass, converges within four passes.
pub fn check_fixes(linter: &mut Linter, set: &Set) -> FixCheck {
    let mut out = FixCheck::default();
    let manifests = set.load();
    if !manifests.errors.is_empty() {
        return out; // input-error fixtures have nothing to fix
    }
    let objects: Vec<Value> = manifests.objects.iter().map(|o| o.json.clone()).collect();
    let base = lint_objects(linter, &objects, &set.config);
    for finding in fixable(&base) {
        let (Some(object), Some(fix)) = (&finding.object, &finding.fix) else {
            continue;
        };
        let index = object.document;
        let mut fixed = objects.clone();
        if let Err(e) = edit::apply(&mut fixed[index], &fix.edits) {
            out.failures.push(format!(
                "{}: the {} fix does not apply: {e}",
                set.name, finding.rule
            ));
            continue;
        }
        let after = lint_objects(linter, &fixed, &set.config);
        if let Some(e) = after.findings.iter().find(|f| f.rule == "input-error") {
            out.failures.push(format!(
                "{}: the {} fix breaks the object: {}",
                set.name, finding.rule, e.message
            ));
        }
        let same = |f: &Finding| {
            f.rule == finding.rule
                && f.document() == finding.document()
                && f.pointer == finding.pointer
        };
        if after.findings.iter().any(same) {
            out.failures.push(format!(
                "{}: the {} fix ({}) leaves its finding at {}",
                set.name,
                finding.rule,
                fix.title,
                finding.pointer.clone().unwrap_or_default()
            ));
        }
        out.fixed_rules.insert(finding.rule.to_string());
    }
    let mut current = objects;
    for pass in 0.. {
        let report = lint_objects(linter, &current, &set.config);
        let todo = fixable(&report);
        if todo.is_empty() {
            break;
        }
        if pass == 4 {
            let left: Vec<&str> = todo.iter().map(|f| f.rule.as_str()).collect();
            out.failures.push(format!(
                "{}: fixes do not converge; still fixable: {left:?}",
                set.name
            ));
            break;
        }
        for finding in todo {
            let (Some(object), Some(fix)) = (&finding.object, &finding.fix) else {
                continue;
            };
            let mut candidate = current[object.document].clone();
            // A fix that no longer applies after an earlier one conflicts with it: skip it, as
            // `kubectl vllm fix` does, and let the next pass decide.
            if edit::apply(&mut candidate, &fix.edits).is_ok() {
                current[object.document] = candidate;
            }
        }
    }
    out
}

/// What fixing a single-file set's text showed.
#[derive(Default)]
pub struct GoldenCheck {
    /// Problems.
    pub failures: Vec<String>,
    /// Whether the set has (or, blessing, got) a golden file.
    pub golden: bool,
    /// Rules whose fixes were applied to the text.
    pub text_fixed: BTreeSet<String>,
}

/// A single-file set fixed in its text (safe and unsafe fixes) equals `<name>.fixed.yaml` byte
/// for byte; comments survive, the result loads, nothing is left to fix, and fixing the result
/// again changes nothing. `bless` rewrites the golden file.
///
/// # Panics
/// When blessing cannot write the golden file.
pub fn check_golden(linter: &mut Linter, set: &Set, bless: bool) -> GoldenCheck {
    let mut out = GoldenCheck::default();
    let [path] = set.inputs.as_slice() else {
        return out;
    };
    let options = LoadOptions::default();
    let manifests = Manifests::load(&[Input::Path(path.clone())], &options);
    if !manifests.errors.is_empty() {
        return out;
    }
    let outcome = fix::fix(
        linter,
        &manifests,
        &set.config,
        &options,
        true,
        fix::FixTarget::Rendered,
    );
    let (_, original, fixed) = &outcome.texts[0];
    for applied in &outcome.applied {
        match &applied.skipped {
            None => {
                out.text_fixed.insert(applied.rule.to_string());
            }
            Some(why) => out
                .failures
                .push(format!("{}: {} not applied: {why}", set.name, applied.rule)),
        }
    }
    let golden_path = path.with_extension("fixed.yaml");
    if original == fixed {
        if golden_path.exists() {
            out.failures.push(format!(
                "{}: nothing to fix, but {} exists",
                set.name,
                golden_path.display()
            ));
        }
        return out;
    }
    out.golden = true;
    if bless {
        std::fs::write(&golden_path, fixed).expect("the golden file is writable");
    }
    match std::fs::read_to_string(&golden_path) {
        Ok(golden) if &golden == fixed => {}
        Ok(_) => out.failures.push(format!(
            "{}: fixed text differs from {}",
            set.name,
            golden_path.display()
        )),
        Err(_) => out.failures.push(format!(
            "{}: no golden file {}",
            set.name,
            golden_path.display()
        )),
    }
    out.failures
        .extend(lost_comments(&set.name, original, fixed));
    if let Some(e) = outcome.manifests.errors.first() {
        out.failures.push(format!(
            "{}: fixed text does not load: {}",
            set.name, e.message
        ));
    }
    if let Some(left) = fixable(&outcome.remaining).first() {
        out.failures.push(format!(
            "{}: {} is still fixable after fixing",
            set.name, left.rule
        ));
    }
    let again = fix::fix(
        linter,
        &outcome.manifests,
        &set.config,
        &options,
        true,
        fix::FixTarget::Rendered,
    );
    if again.texts[0].2 != *fixed {
        out.failures.push(format!(
            "{}: fixing the fixed text changes it again",
            set.name
        ));
    }
    out
}

/// A comment survives unless the fix removed the (code) line it was on.
fn lost_comments(set: &str, original: &str, fixed: &str) -> Vec<String> {
    let diff = similar::TextDiff::from_lines(original, fixed);
    let deleted: Vec<&str> = diff
        .iter_all_changes()
        .filter(|c| c.tag() == similar::ChangeTag::Delete)
        .map(|c| c.value().trim_end())
        .collect();
    let mut failures = Vec::new();
    for line in original.lines() {
        let Some(at) = line.find('#') else { continue };
        let standalone = line[..at].trim().is_empty();
        if (standalone || !deleted.contains(&line.trim_end())) && !fixed.contains(line[at..].trim())
        {
            failures.push(format!("{set}: comment `{}` lost", line[at..].trim()));
        }
    }
    failures
}

/// Each fix on its own: the text edit of `kubectl vllm fix` means exactly what the fix's edits
/// mean for the object's JSON. Returns the problems and how many fixes were compared.
pub fn check_text_edits(linter: &mut Linter, set: &Set) -> (Vec<String>, usize) {
    let options = LoadOptions::default();
    let manifests = set.load();
    let mut failures = Vec::new();
    let mut compared = 0;
    if !manifests.errors.is_empty() {
        return (failures, compared);
    }
    let report = linter.lint(&manifests, &set.config);
    for finding in fixable(&report) {
        let (Some(region), Some(object), Some(fix)) =
            (finding.region, &finding.object, &finding.fix)
        else {
            continue;
        };
        let original = &manifests.files[region.file].source.text;
        let Ok(text) = fix::apply_fix(original, finding) else {
            continue; // anchored targets are display-only; the golden check covers the rest
        };
        let mut reloaded = Manifests::default();
        reloaded.add_text("fixed.yaml", text, &options);
        let at = finding.document_pointer().unwrap_or_default();
        let object_of = |m: &Manifests, file: usize| {
            m.object_at(file, object.document, &at)
                .map(|i| m.objects[i].json.clone())
        };
        let Some(mut expected) = object_of(&manifests, region.file) else {
            continue;
        };
        if let Err(e) = edit::apply(&mut expected, &fix.edits) {
            failures.push(format!(
                "{} ({}): the {} fix does not apply to its object: {e}",
                set.name, finding.file, finding.rule
            ));
            continue;
        }
        compared += 1;
        if object_of(&reloaded, 0).as_ref() != Some(&expected) {
            failures.push(format!(
                "{} ({}): the text edit of {} differs from its JSON edits",
                set.name, finding.file, finding.rule
            ));
        }
    }
    (failures, compared)
}
