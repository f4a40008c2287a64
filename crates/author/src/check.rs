//! `kubectl vllm policy test`: a policy against its fixtures, with the checks the repository's
//! own tests run on the built-in policies (`kubectl_vllm_engine::testing`).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use kubectl_vllm_engine::Linter;
use kubectl_vllm_engine::config::Loaded;
use kubectl_vllm_engine::testing::{self, Set};
use kubectl_vllm_host::{ArtifactCache, Limits};

use crate::compile;
use crate::status::{AuthorError, Status};

/// One set's results.
struct Row {
    name: String,
    expected: usize,
    found: usize,
    golden: bool,
    failures: Vec<String>,
}

/// Tests the policy at `path` (a crate, built first, or a `.wasm`) against `fixtures`.
pub fn run(
    path: &Path,
    fixtures: Option<&Path>,
    bless: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<Status, AuthorError> {
    let (wasm, default_fixtures) = if path.is_dir() {
        let built = compile::build(path, stderr)?;
        (built.path, path.join("fixtures"))
    } else if path.is_file() {
        (path.to_path_buf(), PathBuf::from("fixtures"))
    } else {
        return Err(format!("{}: no such policy crate or component", path.display()).into());
    };
    let fixtures = fixtures.map_or(default_fixtures, Path::to_path_buf);
    let mut linter = Linter::new(
        ArtifactCache::from_env(),
        Limits::default(),
        &Loaded::default(),
        std::slice::from_ref(&wasm),
        false,
    )
    .map_err(|e| e.to_string())?;
    if let Some((_, error)) = linter.load_errors().first() {
        return Err(error.to_string().into());
    }
    let policy_rules: BTreeSet<String> = linter
        .registry()
        .iter()
        .filter(|rule| rule.policy().is_some())
        .map(|rule| rule.id.to_string())
        .collect();
    let sets = Set::discover(&fixtures);
    if sets.is_empty() {
        return Err(format!(
            "no fixtures under {}: a fixture is fixtures/rules/<rule>/<name>.yaml with `# expect: <rule>` markers",
            fixtures.join("rules").display()
        )
        .into());
    }
    let mut rows = Vec::new();
    let mut expected_rules = BTreeSet::new();
    for set in &sets {
        let markers = testing::check_markers(&mut linter, set);
        let fixes = testing::check_fixes(&mut linter, set);
        let golden = testing::check_golden(&mut linter, set, bless);
        let (text_edits, _) = testing::check_text_edits(&mut linter, set);
        expected_rules.extend(
            markers
                .markers
                .expected
                .iter()
                .map(|(_, _, rule)| rule.clone()),
        );
        rows.push(Row {
            name: set.name.clone(),
            expected: markers.markers.expected.len(),
            found: markers.report.findings.len(),
            golden: golden.golden,
            failures: [
                markers.failures,
                fixes.failures,
                golden.failures,
                text_edits,
            ]
            .concat(),
        });
    }
    let untested: Vec<String> = policy_rules
        .difference(&expected_rules)
        .map(|rule| format!("{rule}: no fixture expects a finding of it"))
        .collect();
    print_table(&rows, &untested, &wasm, stdout);
    let failed = rows.iter().any(|r| !r.failures.is_empty()) || !untested.is_empty();
    Ok(if failed {
        Status::Failed
    } else {
        Status::Passed
    })
}

fn print_table(rows: &[Row], untested: &[String], wasm: &Path, stdout: &mut dyn Write) {
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(7);
    let _ = writeln!(stdout, "{}", wasm.display());
    let _ = writeln!(
        stdout,
        "{:<width$}  {:>8}  {:>5}  {:>6}  result",
        "fixture", "expected", "found", "golden"
    );
    for row in rows {
        let _ = writeln!(
            stdout,
            "{:<width$}  {:>8}  {:>5}  {:>6}  {}",
            row.name,
            row.expected,
            row.found,
            if row.golden { "yes" } else { "-" },
            if row.failures.is_empty() {
                "PASS"
            } else {
                "FAIL"
            }
        );
    }
    let failures: Vec<&String> = rows
        .iter()
        .flat_map(|r| &r.failures)
        .chain(untested)
        .collect();
    for failure in &failures {
        let _ = writeln!(stdout, "  FAIL {failure}");
    }
    let passed = rows.iter().filter(|r| r.failures.is_empty()).count();
    let _ = writeln!(
        stdout,
        "{passed} of {} fixtures passed{}",
        rows.len(),
        if untested.is_empty() {
            String::new()
        } else {
            format!("; {} rules without a fixture", untested.len())
        }
    );
}
