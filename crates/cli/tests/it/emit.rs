//! Snapshots (insta) of every report format on fixture sets: the field report as written (every
//! kind of finding, fixes, List items, infos without a location), a Secret (values redacted in
//! the text), a suppression with its fix, and unreadable input (JUnit's error cases). File names
//! are given relative to the repository and the working directory is `/repo`, so the snapshots
//! do not depend on where the repository is checked out.

use std::path::Path;

use kubectl_vllm_emit::{Context, Format};
use kubectl_vllm_engine::config::Config;
use kubectl_vllm_manifest::{LoadOptions, Manifests};

use super::fixtures::linter;

const SETS: &[(&str, &[&str])] = &[
    (
        "field_report",
        &[
            "fixtures/field-report/as-written/gemma-1b",
            "fixtures/field-report/as-written/gemma-27b",
            "fixtures/field-report/as-written/gpt-oss-20b",
            "fixtures/field-report/as-written/gpt-oss-120b",
        ],
    ),
    (
        "secret",
        &["fixtures/rules/secret-value-placeholder/bad.yaml"],
    ),
    (
        "suppression",
        &["fixtures/rules/suppression-on-pod-template/bad.yaml"],
    ),
    ("input_error", &["fixtures/rules/input-error/bad.yaml"]),
];

/// The set's files, named relative to the repository, in a stable order.
fn load(paths: &[&str]) -> Manifests {
    let repo = super::repo();
    let mut files = Vec::new();
    for path in paths {
        let full = repo.join(path);
        if full.is_dir() {
            let mut found: Vec<_> = std::fs::read_dir(&full)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .filter(|n| !n.ends_with(".kubectl-vllm.yaml"))
                .collect();
            found.sort();
            files.extend(found.into_iter().map(|n| format!("{path}/{n}")));
        } else {
            files.push((*path).to_string());
        }
    }
    let mut manifests = Manifests::default();
    for name in files {
        let text = std::fs::read_to_string(repo.join(&name)).unwrap();
        manifests.add_text(&name, text, &LoadOptions::default());
    }
    manifests
}

#[test]
fn every_format_on_fixture_sets() {
    let mut linter = linter();
    let config = Config::default();
    for (name, paths) in SETS {
        let manifests = load(paths);
        let report = linter.lint(&manifests, &config);
        let cx = Context {
            manifests: &manifests,
            registry: linter.registry(),
            cwd: Path::new("/repo"),
            fail_on: Some(kubectl_vllm_engine::Severity::Error),
            docs_url: kubectl_vllm_emit::DEFAULT_DOCS_URL,
            style: kubectl_vllm_emit::Style::PLAIN,
            job_summary: false,
        };
        for format in [
            Format::Text,
            Format::Json,
            Format::Sarif,
            Format::Junit,
            Format::Github,
        ] {
            let rendered = format.emitter().emit(&report, &cx);
            insta::assert_snapshot!(format!("{name}.{}", format.name()), rendered);
        }
    }
}
