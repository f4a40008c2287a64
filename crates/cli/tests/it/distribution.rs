//! What ships around the binary: the krew manifest and its release scripts, and the command
//! lines the README, the pre-commit hooks and the GitHub Actions example tell users to run.

use std::path::Path;
use std::process::Command;

use clap::Parser as _;
use serde_json::Value;

use kubectl_vllm_manifest::{Input, LoadOptions, Manifests};

use super::cli::{stderr, stdout, temp_dir};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-vllm");

/// The single object in a YAML file.
fn object(path: &Path) -> Value {
    let m = Manifests::load(&[Input::Path(path.to_path_buf())], &LoadOptions::default());
    assert!(m.errors.is_empty(), "{:?}", m.errors);
    assert_eq!(m.objects.len(), 1);
    m.objects[0].json.clone()
}

/// krew's os/arch pairs and the Rust target each archive is built for.
fn platforms(manifest: &Value) -> Vec<(String, String, String)> {
    manifest["spec"]["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let labels = &p["selector"]["matchLabels"];
            let uri = p["uri"].as_str().unwrap();
            let target = uri
                .rsplit('/')
                .next()
                .unwrap()
                .trim_start_matches("kubectl-vllm-")
                .trim_end_matches(".tar.gz")
                .split_once('-')
                .unwrap()
                .1
                .to_string();
            (
                labels["os"].as_str().unwrap().to_string(),
                labels["arch"].as_str().unwrap().to_string(),
                target,
            )
        })
        .collect()
}

#[test]
fn krew_manifest_template_is_well_formed() {
    let manifest = object(&super::repo().join("plugin/vllm.yaml"));
    assert_eq!(
        manifest["apiVersion"],
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(manifest["kind"], "Plugin");
    // krew requires the manifest file to be named after the plugin: `kubectl vllm`.
    assert_eq!(manifest["metadata"]["name"], "vllm");
    let spec = &manifest["spec"];
    assert_eq!(spec["version"], "{{VERSION}}");
    for key in ["homepage", "shortDescription", "description", "caveats"] {
        assert!(spec[key].as_str().is_some_and(|s| !s.is_empty()), "{key}");
    }
    assert!(spec["shortDescription"].as_str().unwrap().len() <= 50);
    let platforms = platforms(&manifest);
    let pairs: Vec<(&str, &str)> = platforms
        .iter()
        .map(|(os, arch, _)| (os.as_str(), arch.as_str()))
        .collect();
    for pair in [
        ("linux", "amd64"),
        ("linux", "arm64"),
        ("darwin", "amd64"),
        ("darwin", "arm64"),
        ("windows", "amd64"),
    ] {
        assert!(pairs.contains(&pair), "{pair:?} missing");
    }
    for (platform, (os, _, target)) in spec["platforms"].as_array().unwrap().iter().zip(&platforms)
    {
        let exe = if os == "windows" {
            "kubectl-vllm.exe"
        } else {
            "kubectl-vllm"
        };
        assert_eq!(platform["bin"], exe);
        assert_eq!(platform["sha256"], "{{SHA256}}");
        assert_eq!(
            platform["uri"],
            format!(
                "{{{{BASE_URL}}}}/{{{{VERSION}}}}/kubectl-vllm-{{{{VERSION}}}}-{target}.tar.gz"
            )
        );
        let files: Vec<&str> = platform["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["from"].as_str().unwrap())
            .collect();
        assert!(
            files.contains(&exe) && files.contains(&"LICENSE"),
            "{files:?}"
        );
    }
}

fn script(name: &str, args: &[&str], dist: &Path) -> std::process::Output {
    Command::new("bash")
        .arg(super::repo().join("plugin").join(name))
        .args(args)
        .env("DIST_DIR", dist)
        .output()
        .unwrap()
}

#[test]
fn release_scripts_fill_the_manifest_from_the_archives() {
    let work = temp_dir("krew-release");
    let dist = work.join("dist");
    let template = object(&super::repo().join("plugin/vllm.yaml"));
    // The real binary for linux/amd64 (extracted and run below); a stand-in for the rest.
    let stand_in = work.join("stand-in");
    std::fs::write(&stand_in, "not a binary").unwrap();
    for (os, arch, target) in platforms(&template) {
        let binary = if (os.as_str(), arch.as_str()) == ("linux", "amd64") {
            BIN.to_string()
        } else {
            stand_in.display().to_string()
        };
        let o = script("package", &["v1.2.3", &target, &binary], &dist);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let o = script("release", &["v1.2.3", &dist.display().to_string()], &dist);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let filled = stdout(&o);
    assert!(!filled.contains("{{"), "{filled}");
    std::fs::write(work.join("vllm.yaml"), &filled).unwrap();
    let manifest = object(&work.join("vllm.yaml"));
    assert_eq!(manifest["spec"]["version"], "v1.2.3");
    for platform in manifest["spec"]["platforms"].as_array().unwrap() {
        let uri = platform["uri"].as_str().unwrap();
        let archive = uri.rsplit('/').next().unwrap();
        assert_eq!(
            uri,
            format!(
                "https://github.com/kubectl-vllm/kubectl-vllm/releases/download/v1.2.3/{archive}"
            )
        );
        let bytes = std::fs::read(dist.join(archive)).unwrap();
        assert_eq!(
            platform["sha256"].as_str().unwrap(),
            kubectl_vllm_host::cache::sha256_hex(&bytes),
            "{archive}"
        );
    }

    // Installed as krew does (extract, then link `bin`), the plugin runs.
    let linux = manifest["spec"]["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["selector"]["matchLabels"]["os"] == "linux")
        .unwrap();
    let archive = dist.join(linux["uri"].as_str().unwrap().rsplit('/').next().unwrap());
    let root = work.join("installed");
    std::fs::create_dir_all(&root).unwrap();
    let o = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for file in linux["files"].as_array().unwrap() {
        assert!(
            root.join(file["from"].as_str().unwrap()).is_file(),
            "{file}"
        );
    }
    let o = Command::new(root.join(linux["bin"].as_str().unwrap()))
        .arg("version")
        .output()
        .unwrap();
    assert!(stdout(&o).starts_with("kubectl-vllm "), "{}", stdout(&o));

    // A missing archive or a malformed version fails the release, naming it.
    std::fs::remove_file(&archive).unwrap();
    let o = script("release", &["v1.2.3", &dist.display().to_string()], &dist);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing archive"), "{}", stderr(&o));
    let o = script("release", &["1.2", &dist.display().to_string()], &dist);
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&work);
}

/// `kubectl vllm ...` / `kubectl-vllm ...` command lines in `text`: inline code spans and code
/// lines, with `\` continuations and a YAML folded block's flag lines joined; lines with
/// placeholders (`RULE`, `[`, `...`, `<`) or alternatives (`a|b`) are synopses, not commands.
fn command_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut pending: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(command) = pending.as_mut() {
            if trimmed.starts_with('-') && !trimmed.starts_with("- ") {
                command.push(' ');
                command.push_str(trimmed.trim_end_matches('\\').trim());
                continue;
            }
            lines.push(pending.take().unwrap());
        }
        // Inline code spans of prose; a line without any is a whole candidate (code, YAML).
        let code = line.contains('`');
        let candidates: Vec<&str> = if code {
            line.split('`').skip(1).step_by(2).collect()
        } else {
            vec![trimmed]
        };
        for candidate in candidates {
            let candidate = candidate.rsplit("| ").next().unwrap();
            let candidate = candidate.split(" #").next().unwrap().trim();
            let candidate = candidate
                .trim_start_matches("- ")
                .trim_start_matches("entry: ")
                .trim_end_matches('\\')
                .trim();
            let command = ["kubectl vllm ", "kubectl-vllm "]
                .iter()
                .find_map(|p| candidate.strip_prefix(p));
            if let Some(command) = command
                && !["RULE", "[", "...", "<", "PATH", "(", "FILE", "|"]
                    .iter()
                    .any(|p| command.contains(p))
            {
                if code {
                    lines.push(command.to_string());
                } else {
                    pending = Some(command.to_string());
                }
            }
        }
    }
    lines.extend(pending);
    lines.sort();
    lines.dedup();
    lines
}

#[test]
fn documented_command_lines_parse() {
    let repo = super::repo();
    let mut checked = 0;
    for file in [
        "README.md",
        ".pre-commit-hooks.yaml",
        "plugin/github-workflow.yaml",
    ] {
        let text = std::fs::read_to_string(repo.join(file)).unwrap();
        let commands = command_lines(&text);
        assert!(!commands.is_empty(), "no commands found in {file}");
        for command in commands {
            let argv = std::iter::once("kubectl-vllm").chain(command.split_whitespace());
            eprintln!("{file}: {command}");
            if let Err(e) = kubectl_vllm::Cli::try_parse_from(argv) {
                panic!("{file}: `{command}` does not parse:\n{e}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} command lines checked");
}
