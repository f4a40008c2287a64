//! Report formats checked against their published schemas and against each other.

use std::path::Path;

use serde_json::Value;

use super::cli::{MISSING_LD, json, run, run_stdin, stderr, stdout};

/// A validator for the JSON Schema in `path` (offline: every `$ref` in these is local).
fn validator(path: &Path) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn assert_valid(validator: &jsonschema::Validator, instance: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// Inputs with every kind of finding: located, sub-spans, multi-line, a List, an input error.
const INPUTS: &[&str] = &[
    "-R",
    "fixtures/field-report/as-written",
    "fixtures/rules/shm-missing",
    "fixtures/rules/runtime-duplicate-keys",
];

#[test]
fn json_report_validates_against_its_published_schema() {
    let validator = validator(&super::repo().join("schema/report.schema.json"));
    let o = run(&[&["lint", "-o", "json", "--show-suppressed"][..], INPUTS].concat());
    let report = json(&o);
    assert!(report["summary"]["errors"].as_u64().unwrap() > 0);
    assert_valid(&validator, &report);
    // Unlocated findings (null line, resource, policy) and suppressed ones are valid too.
    let o = run(&[
        "lint",
        "-o",
        "json",
        "--show-suppressed",
        "no/such/file.yaml",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_valid(&validator, &json(&o));
    let suppressed = MISSING_LD.replace(
        "  name: p\n",
        "  name: p\n  annotations:\n    ignore.kubectl-vllm/runtime-ld-library-path-gke: \"custom image\"\n",
    );
    let o = run_stdin(
        &["lint", "-", "-o", "json", "--show-suppressed"],
        &suppressed,
    );
    let report = json(&o);
    assert_eq!(
        report["suppressed"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    assert_valid(&validator, &report);
}

/// One finding as the text output locates it: rule, file, line, column and, for a single-line
/// span, the underline's end column.
#[derive(Debug, PartialEq, Eq)]
struct TextLocation {
    rule: String,
    file: String,
    line: u64,
    column: u64,
    end_column: Option<u64>,
}

/// Parses the text report: a `severity[rule]` header per finding, then miette's `╭─[file:line:col]`
/// and the source lines with their `·` underline.
fn text_locations(text: &str) -> Vec<Option<TextLocation>> {
    let mut found: Vec<Option<TextLocation>> = Vec::new();
    let mut rule: Option<String> = None;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(header) = ["error[", "warning[", "info["]
            .iter()
            .find_map(|p| line.strip_prefix(p))
        {
            // A header right after another: the previous finding had no location.
            if rule.is_some() {
                found.push(None);
            }
            rule = Some(header.trim_end_matches(']').to_string());
            continue;
        }
        let Some(at) = line
            .split_once("╭─[")
            .map(|(_, at)| at.trim_end_matches(']'))
        else {
            continue;
        };
        let mut parts = at.rsplitn(3, ':');
        let column: u64 = parts.next().unwrap().parse().unwrap();
        let line_no: u64 = parts.next().unwrap().parse().unwrap();
        let file = parts.next().unwrap().to_string();
        // The underline is on the `·` line after the source line numbered `line_no`.
        let mut end_column = None;
        while let Some(next) = lines.peek() {
            if next.trim_start().starts_with('╰') {
                break;
            }
            let next = lines.next().unwrap();
            let Some((gutter, source)) = next.split_once(" │ ") else {
                continue;
            };
            if gutter.trim() != line_no.to_string() {
                continue;
            }
            let underline = lines.next().unwrap_or_default();
            let offset = gutter.chars().count() + 3;
            let marks: String = underline.chars().skip(offset).collect();
            let start = marks.chars().take_while(|c| *c == ' ').count() as u64;
            let width = marks
                .chars()
                .skip(start as usize)
                .take_while(|c| "─┬".contains(*c))
                .count() as u64;
            // Multi-line spans are drawn with corner glyphs instead; only straight underlines count.
            if start + 1 == column && width > 0 && source.chars().count() as u64 >= start + width {
                end_column = Some(column + width);
            }
            break;
        }
        found.push(Some(TextLocation {
            rule: rule.take().expect("a location follows a header"),
            file,
            line: line_no,
            column,
            end_column,
        }));
    }
    if rule.is_some() {
        found.push(None);
    }
    found
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema_and_matches_the_text_locations() {
    let validator = validator(&super::repo().join("crates/cli/tests/data/sarif-schema-2.1.0.json"));
    let o = run(&[&["lint", "-o", "sarif"][..], INPUTS].concat());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let log = json(&o);
    assert_valid(&validator, &log);
    // The schema bites: a level SARIF does not have is rejected.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken));
    let run_ = &log["runs"][0];
    let results = run_["results"].as_array().unwrap();
    let rules = run_["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(results.len() > 40, "{}", results.len());

    // Every result names a described rule; every rule has what code scanning shows.
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(
            result["partialFingerprints"]["kubectlVllm/v1"]
                .as_str()
                .unwrap()
                .len()
                == 32
        );
    }
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        for key in [
            "name",
            "shortDescription",
            "fullDescription",
            "help",
            "helpUri",
        ] {
            assert!(!rule[key].is_null(), "{id} has no {key}");
        }
        assert_eq!(
            rule["helpUri"],
            format!("https://github.com/kubectl-vllm/kubectl-vllm/blob/main/docs/rules/{id}.md")
        );
        assert!(super::repo().join(format!("docs/rules/{id}.md")).is_file());
    }

    // Same findings, same order, same places as the text output.
    let text = stdout(&run(&[&["lint"][..], INPUTS].concat()));
    let located = text_locations(&text);
    assert_eq!(located.len(), results.len(), "{text}");
    let mut underlines = 0;
    for (result, text) in results.iter().zip(&located) {
        let physical = &result["locations"][0]["physicalLocation"];
        let Some(text) = text else {
            assert!(physical["region"].is_null(), "{result}");
            continue;
        };
        let region = &physical["region"];
        assert_eq!(result["ruleId"], text.rule.as_str());
        assert_eq!(physical["artifactLocation"]["uri"], text.file.as_str());
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(region["startLine"], text.line, "{}", text.rule);
        assert_eq!(region["startColumn"], text.column, "{}", text.rule);
        if let Some(end_column) = text.end_column {
            assert_eq!(region["endLine"], text.line, "{}", text.rule);
            assert_eq!(region["endColumn"], end_column, "{}", text.rule);
            underlines += 1;
        }
    }
    assert!(
        underlines > 20,
        "only {underlines} single-line underlines compared"
    );
}

#[test]
fn sarif_docs_url_comes_from_the_config_and_suppressions_are_kept() {
    let dir = super::cli::temp_dir("sarif-docs");
    std::fs::write(
        dir.join(".kubectl-vllm.yaml"),
        "docs-url: https://docs.example.com/rules/\n",
    )
    .unwrap();
    let manifest = MISSING_LD.replace(
        "  name: p\n",
        "  name: p\n  annotations:\n    ignore.kubectl-vllm/runtime-ld-library-path-gke: \"custom image\"\n",
    ) + "---\n" + MISSING_LD.replace("name: p", "name: q").as_str();
    std::fs::write(dir.join("pods.yaml"), manifest).unwrap();
    let o = super::cli::command()
        .current_dir(&dir)
        .args(["lint", "pods.yaml", "-o", "sarif", "--show-suppressed"])
        .output()
        .unwrap();
    let log = json(&o);
    let run_ = &log["runs"][0];
    assert_eq!(
        run_["tool"]["driver"]["rules"][0]["helpUri"],
        "https://docs.example.com/rules/runtime-ld-library-path-gke.md"
    );
    let results = run_["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{log}");
    assert!(results[0]["suppressions"].is_null());
    assert_eq!(results[1]["suppressions"][0]["kind"], "inSource");
    // The two pods differ only in name: distinct fingerprints.
    assert_ne!(
        results[0]["partialFingerprints"],
        results[1]["partialFingerprints"]
    );
    assert_valid(
        &validator(&super::repo().join("crates/cli/tests/data/sarif-schema-2.1.0.json")),
        &log,
    );
    let _ = std::fs::remove_dir_all(&dir);
}
