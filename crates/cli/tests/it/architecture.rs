//! Standing rules of the code base's shape: the CLI stays arguments and commands (under 2,600
//! lines: raised from 2,500 when `init`, `lsp` and `facts add-model` arrived, each a crate of its
//! own that the CLI only dispatches to); no crate has a module cycle (a module using its parent's items while the parent uses
//! it); the engine links no command line, cluster client or async runtime of its own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn the_cli_is_arguments_and_commands() {
    let lines: usize = rust_files(&super::repo().join("crates/cli/src"))
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap().lines().count())
        .sum();
    assert!(
        lines < 2_600,
        "crates/cli/src has {lines} lines; the engine, emitters and cluster crates take the rest"
    );
}

/// The identifiers a file names after `crate::`, including inside `use crate::{a, b::c}`.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in text.match_indices("crate::") {
        if text[..at].ends_with('$') {
            continue; // `$crate::` in a macro: a path in the crate that expands it
        }
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: split at commas outside nested braces.
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.insert(ident(group[start..i].trim()));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(ident(group[start..i].trim()));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.remove("");
    out
}

/// Names the root file defines itself (`struct`, `enum`, `trait`, `fn`, `type`, `const`,
/// `static`), and the module each name it re-exports (`pub use m::X`, `pub use m::{X, Y}`)
/// comes from.
fn root_names(
    root: &str,
    modules: &BTreeSet<String>,
) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut defined = BTreeSet::new();
    let mut reexported = BTreeMap::new();
    for line in root.lines() {
        let line = line.trim_start();
        let line = line
            .strip_prefix("pub(crate) ")
            .or_else(|| line.strip_prefix("pub "))
            .unwrap_or(line);
        for keyword in [
            "struct ",
            "enum ",
            "trait ",
            "fn ",
            "type ",
            "const ",
            "static ",
            "async fn ",
        ] {
            if let Some(rest) = line.strip_prefix(keyword) {
                defined.insert(ident(rest));
            }
        }
        if let Some(rest) = line.strip_prefix("use ") {
            let path = rest.trim_end_matches(';');
            let module = ident(
                path.trim_start_matches("crate::")
                    .trim_start_matches("self::"),
            );
            if !modules.contains(&module) {
                continue;
            }
            let names = match path.rsplit_once("::{") {
                Some((_, group)) => group.trim_end_matches('}').to_string(),
                None => path.rsplit("::").next().unwrap_or_default().to_string(),
            };
            for name in names.split(',') {
                let name = name.trim().rsplit(" as ").next().unwrap_or_default().trim();
                reexported.insert(ident(name), module.clone());
            }
        }
    }
    (defined, reexported)
}

/// The module graph of one crate at the level of its top modules (`src/x.rs`, `src/x/`, and
/// modules written inline in the root), with the root (`lib.rs`/`main.rs`) as `crate`. A module
/// depends on the root when it names an item the root defines; a name the root re-exports is a
/// dependency on the module it comes from. The root depends on a module when it names a path
/// through it or re-exports from it (not for `mod x;` alone).
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let roots = ["lib.rs", "main.rs"];
    let module_of = |file: &Path| -> String {
        let relative = file.strip_prefix(src).unwrap();
        let first = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        if roots.contains(&first.as_ref()) {
            "crate".to_string()
        } else {
            first.trim_end_matches(".rs").to_string()
        }
    };
    let files = rust_files(src);
    let root_text: String = roots
        .iter()
        .filter_map(|r| std::fs::read_to_string(src.join(r)).ok())
        .collect();
    let mut modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    for line in root_text.lines() {
        let line = line.trim_start().trim_start_matches("pub ");
        if let Some(rest) = line.strip_prefix("mod ")
            && rest.trim_end().ends_with('{')
        {
            modules.insert(rest.trim_end_matches('{').trim().to_string());
        }
    }
    let (defined, reexported) = root_names(&root_text, &modules);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = module_of(file);
        let text = std::fs::read_to_string(file).unwrap();
        let edges = graph.entry(from.clone()).or_default();
        for name in crate_paths(&text) {
            let to = if modules.contains(&name) {
                name
            } else if let Some(module) = reexported.get(&name) {
                module.clone()
            } else if defined.contains(&name) {
                "crate".to_string()
            } else {
                continue; // a macro or an item of a dependency re-exported by name
            };
            if to != from {
                edges.insert(to);
            }
        }
        if from == "crate" {
            for module in modules.iter().filter(|m| *m != "crate") {
                if text.contains(&format!("{module}::")) {
                    edges.insert(module.clone());
                }
            }
        }
    }
    graph
}

/// A cycle of `graph`, if it has one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_a_module_cycle() {
    let repo = super::repo();
    let mut crates: Vec<PathBuf> = ["crates", "policies"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(repo.join(dir)).unwrap().flatten())
        .map(|e| e.path().join("src"))
        .filter(|src| src.is_dir())
        .collect();
    crates.sort();
    assert!(crates.len() > 10, "crates not found");
    let cycles: Vec<String> = crates
        .iter()
        .filter_map(|src| {
            cycle(&module_graph(src)).map(|c| format!("{}: {}", src.display(), c.join(" -> ")))
        })
        .collect();
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_cycle_check_sees_cycles() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("crate".to_string(), BTreeSet::from(["args".to_string()])),
        ("args".to_string(), BTreeSet::from(["crate".to_string()])),
    ]
    .into();
    assert_eq!(
        cycle(&graph),
        Some(vec!["args".into(), "crate".into(), "args".into()])
    );
    assert_eq!(
        crate_paths("use crate::{a::B, c, d::{e, f}};\nlet x = crate::g::h();"),
        BTreeSet::from(["a".into(), "c".into(), "d".into(), "g".into()])
    );
}

/// `cargo tree` of the engine's normal dependencies, one package name per line.
fn engine_tree(extra: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "--locked",
            "--offline",
            "-p",
            "kubectl-vllm-engine",
            "-e",
            "normal",
        ])
        .args(extra)
        .current_dir(super::repo())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_engine_links_no_command_line_cluster_client_or_async_runtime() {
    let tree = engine_tree(&["--prefix", "none", "--format", "{p}"]);
    let names: BTreeSet<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for banned in [
        "clap",
        "clap_builder",
        "kube",
        "kube-client",
        "hyper",
        "miette-derive-fancy",
    ] {
        assert!(!names.contains(banned), "the engine depends on {banned}");
    }
    // tokio is there only because wasmtime-wasi (the sandbox's WASI p2) depends on it
    // unconditionally; nothing of ours does.
    let users = engine_tree(&[
        "-i", "tokio", "--prefix", "none", "--format", "{p}", "--depth", "1",
    ]);
    let users: Vec<&str> = users
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        users,
        ["wasmtime-wasi"],
        "tokio reaches the engine through {users:?}"
    );
    let fancy = engine_tree(&["-i", "miette", "-e", "features", "--prefix", "none"]);
    assert!(
        !fancy.contains("fancy"),
        "the engine renders for terminals (miette's fancy feature):\n{fancy}"
    );
}
