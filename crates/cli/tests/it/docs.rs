//! `docs/rules/<id>.md` are generated from the rules' own doc comments (the text `kubectl vllm
//! explain` prints) and must be current: a stale, missing or orphaned page fails.
//! `KUBECTL_VLLM_BLESS=1` regenerates them.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::fixtures::linter;

#[test]
fn rule_pages_are_generated_and_current() {
    let dir = super::repo().join("docs/rules");
    let bless = std::env::var_os("KUBECTL_VLLM_BLESS").is_some();
    let linter = linter();
    let rules: Vec<_> = linter.registry().iter().collect();
    let mut expected: Vec<(String, String)> = rules
        .iter()
        .map(|r| (format!("{}.md", r.id), r.page()))
        .collect();
    let mut index = String::from(
        "# Rules\n\nGenerated from the rules' doc comments (`KUBECTL_VLLM_BLESS=1 cargo test -p kubectl-vllm --test it rule_pages`); `kubectl vllm explain RULE` prints the same text.\n\n| rule | severity | fix | policy | summary |\n|---|---|---|---|---|\n",
    );
    for r in &rules {
        let _ = writeln!(
            index,
            "| [`{id}`]({id}.md) | {} | {} | {} | {} |",
            r.severity.as_str(),
            r.applicability().map_or_else(
                || r.fix.as_str().to_string(),
                |a| format!("{} ({a})", r.fix.as_str())
            ),
            r.policy().unwrap_or("host"),
            r.summary.replace('|', "\\|"),
            id = r.id
        );
    }
    expected.push(("README.md".into(), index));
    if bless {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in &expected {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }
    let mut problems = Vec::new();
    for (name, text) in &expected {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(committed) if &committed == text => {}
            Ok(_) => problems.push(format!("docs/rules/{name} is stale")),
            Err(_) => problems.push(format!("docs/rules/{name} is missing")),
        }
    }
    let names: BTreeSet<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !names.contains(name.as_str()) {
            problems.push(format!("docs/rules/{name} belongs to no rule"));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\nregenerate: KUBECTL_VLLM_BLESS=1 cargo test -p kubectl-vllm --test it rule_pages",
        problems.join("\n")
    );
}

/// The documents the code and the rule pages cite are in the repository: `product.md` as
/// `docs/product.md`, and every `catalogue §N` names a section of `docs/catalogue.md`.
#[test]
fn cited_documents_and_sections_are_in_docs() {
    let repo = super::repo();
    let product = std::fs::read_to_string(repo.join("docs/product.md")).unwrap();
    for section in [
        "## Invocation",
        "## Exit codes",
        "## JSON report",
        "## Config file",
    ] {
        assert!(product.contains(section), "docs/product.md lacks {section}");
    }
    let catalogue = std::fs::read_to_string(repo.join("docs/catalogue.md")).unwrap();
    let headings: Vec<&str> = catalogue
        .lines()
        .filter_map(|l| l.strip_prefix("## ").or_else(|| l.strip_prefix("### ")))
        .collect();
    let mut cited = BTreeSet::new();
    let mut stack = vec![
        repo.join("crates"),
        repo.join("policies"),
        repo.join("docs"),
        repo.join("wit"),
    ];
    while let Some(dir) = stack.pop() {
        for path in std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()) {
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for (at, _) in text.match_indices("catalogue §") {
                let section: String = text[at + "catalogue §".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
                    .collect();
                // (This file's own `§N` and `§{section}` are no citations.)
                if section.starts_with(|c: char| c.is_ascii_digit()) {
                    cited.insert(section.trim_end_matches('.').to_string());
                }
            }
        }
    }
    assert!(cited.len() >= 5, "only {cited:?} cited");
    for section in &cited {
        assert!(
            headings
                .iter()
                .any(|h| h.starts_with(&format!("{section}. "))
                    || h.starts_with(&format!("{section} "))),
            "catalogue §{section} is cited but docs/catalogue.md has no such section"
        );
    }
}
