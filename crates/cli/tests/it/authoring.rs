//! Policy authoring end to end, from a directory outside the repository: `policy new`, `build`,
//! `test`, `inspect`, then the policy in `lint --policy`, in `fix`, and pinned in a config.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::cli::{command, json, rules_of, stderr, stdout, temp_dir};

/// `kubectl vllm ARGS` in `dir`, with a cargo environment as a user's shell has it: nothing of
/// the `cargo test` that runs us (RUSTFLAGS, wrappers, the outer target directory) leaks into the
/// policy's build. Its target directory is kept between test runs.
fn author(dir: &Path, args: &[&str]) -> Output {
    let mut command = command();
    command.current_dir(dir).env_clear();
    for keep in [
        "PATH",
        "HOME",
        "CARGO",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
        "TMPDIR",
        "CARGO_NET_OFFLINE",
    ] {
        if let Some(value) = std::env::var_os(keep) {
            command.env(keep, value);
        }
    }
    command
        .env("KUBECTL_VLLM_CACHE_DIR", super::cache_dir())
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("policy-authoring"),
        )
        .args(args)
        .output()
        .unwrap()
}

fn ok(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

/// A vLLM Deployment without the example rule's label, as a user's manifest (not a fixture).
const UNLABELLED: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: qwen # the model server\n  namespace: ml\nspec:\n  selector:\n    matchLabels: {app: qwen}\n  template:\n    metadata:\n      labels: {app: qwen}\n    spec:\n      containers:\n      - name: server\n        image: vllm/vllm-openai:v0.10.1\n        command: [vllm, serve, Qwen/Qwen2.5-7B-Instruct]\n";

#[test]
fn a_policy_written_outside_the_repository_builds_tests_lints_fixes_and_pins() {
    let work = temp_dir("authoring");
    ok(&author(&work, &["policy", "new", "acme-platform"]));
    let crate_dir = work.join("acme-platform");
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "src/lib.rs",
        "src/rules/workload_label.rs",
        "fixtures/rules/acme-platform-workload-label/bad.yaml",
        "fixtures/rules/acme-platform-workload-label/bad.fixed.yaml",
        "fixtures/rules/acme-platform-workload-label/good.yaml",
        "vendor/kubectl-vllm-sdk/wit/policy.wit",
        "vendor/kubectl-vllm-core/src/pointer.rs",
    ] {
        assert!(crate_dir.join(file).is_file(), "{file}");
    }

    // build: the component's path and sha256.
    let built = author(&crate_dir, &["policy", "build"]);
    ok(&built);
    let out = stdout(&built);
    let mut lines = out.lines();
    let wasm = PathBuf::from(lines.next().unwrap());
    let sha256 = lines
        .next()
        .unwrap()
        .strip_prefix("sha256 ")
        .unwrap()
        .to_string();
    assert!(
        wasm.ends_with("wasm32-wasip2/release/acme_platform.wasm"),
        "{out}"
    );
    let bytes = std::fs::read(&wasm).unwrap();
    assert_eq!(sha256, kubectl_vllm_host::cache::sha256_hex(&bytes));

    // test: unmodified, every fixture passes.
    let tested = author(&crate_dir, &["policy", "test"]);
    ok(&tested);
    let table = stdout(&tested);
    assert!(table.contains("2 of 2 fixtures passed"), "{table}");
    assert!(
        table.contains("bad.yaml") && table.contains("PASS"),
        "{table}"
    );

    // inspect: contract, rule, imports.
    let wasm_arg = wasm.display().to_string();
    let inspected = author(&work, &["policy", "inspect", &wasm_arg]);
    ok(&inspected);
    let text = stdout(&inspected);
    assert!(text.contains("kubectl-vllm:policy@0.2.2"), "{text}");
    // Built with the SDK: its instance serves one input set after another.
    assert!(
        text.contains(
            "instance  kept across input sets (exports kubectl-vllm:policy/lifecycle@0.2.2)"
        ),
        "{text}"
    );
    assert!(
        text.contains("acme-platform-workload-label  warning"),
        "{text}"
    );
    assert!(!text.contains("REFUSED"), "{text}");

    // lint --policy on a manifest of the user's: the example rule's finding, beside the defaults'.
    let manifest = work.join("qwen.yaml");
    std::fs::write(&manifest, UNLABELLED).unwrap();
    let linted = author(
        &work,
        &["lint", "qwen.yaml", "--policy", &wasm_arg, "-o", "json"],
    );
    let report = json(&linted);
    let rules = rules_of(&report);
    assert!(
        rules.contains(&"acme-platform-workload-label".to_string()),
        "{rules:?}"
    );
    assert!(
        rules.iter().any(|r| r != "acme-platform-workload-label"),
        "{rules:?}"
    );
    let explained = author(
        &work,
        &[
            "explain",
            "acme-platform-workload-label",
            "--policy",
            &wasm_arg,
        ],
    );
    ok(&explained);
    assert!(
        stdout(&explained).contains("## Fix safety"),
        "{}",
        stdout(&explained)
    );

    // fix applies the policy's fix, keeping the comment.
    let fixed = author(
        &work,
        &[
            "fix",
            "qwen.yaml",
            "--write",
            "--no-default-policies",
            "--policy",
            &wasm_arg,
        ],
    );
    ok(&fixed);
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("example.com/workload: inference"), "{text}");
    assert!(text.contains("# the model server"), "{text}");

    // Pinned in a config: loads; one byte changed: refused by hash, exit 2, both hashes named.
    std::fs::copy(&wasm, work.join("acme.wasm")).unwrap();
    std::fs::write(
        work.join(".kubectl-vllm.yaml"),
        format!("policies:\n- path: acme.wasm\n  sha256: \"{sha256}\"\n"),
    )
    .unwrap();
    std::fs::write(&manifest, UNLABELLED).unwrap();
    let pinned = author(
        &work,
        &["lint", "qwen.yaml", "--no-default-policies", "-o", "json"],
    );
    assert_eq!(pinned.status.code(), Some(0), "{}", stderr(&pinned));
    assert_eq!(rules_of(&json(&pinned)), ["acme-platform-workload-label"]);
    let mut tampered = bytes.clone();
    tampered[bytes.len() / 2] ^= 1;
    std::fs::write(work.join("acme.wasm"), &tampered).unwrap();
    let refused = author(&work, &["lint", "qwen.yaml", "--no-default-policies"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stdout(&refused));
    let actual = kubectl_vllm_host::cache::sha256_hex(&tampered);
    let err = stderr(&refused);
    assert!(err.contains(&format!("its sha256 is {actual}")), "{err}");
    assert!(err.contains(&format!("the config pins {sha256}")), "{err}");

    // A broken golden file fails `policy test` (exit 1), here run on the .wasm.
    let golden = crate_dir.join("fixtures/rules/acme-platform-workload-label/bad.fixed.yaml");
    let text = std::fs::read_to_string(&golden).unwrap();
    std::fs::write(&golden, text.replace("inference", "batch")).unwrap();
    let failing = author(&crate_dir, &["policy", "test", &wasm_arg]);
    assert_eq!(failing.status.code(), Some(1), "{}", stderr(&failing));
    let table = stdout(&failing);
    assert!(
        table.contains("FAIL") && table.contains("fixed text differs"),
        "{table}"
    );
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn a_component_importing_sockets_or_preopens_is_refused_by_inspect_and_by_lint() {
    let forbidden = kubectl_vllm_builtin::TEST_POLICY_FORBIDDEN;
    let o = command()
        .args(["policy", "inspect", forbidden])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let text = stdout(&o);
    for import in ["wasi:filesystem/preopens@", "wasi:sockets/tcp@"] {
        let line = text
            .lines()
            .find(|l| l.contains(import))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(line.ends_with("REFUSED"), "{line}");
    }
    assert!(
        stderr(&o).contains("which a policy may not use"),
        "{}",
        stderr(&o)
    );
    // lint: a policy-error naming the policy and the imports (exit 2); the defaults still report.
    let dir = temp_dir("forbidden");
    std::fs::write(dir.join("qwen.yaml"), UNLABELLED).unwrap();
    let o = command()
        .current_dir(&dir)
        .args(["lint", "qwen.yaml", "--policy", forbidden, "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let report = json(&o);
    let error = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "policy-error")
        .unwrap_or_else(|| panic!("{report}"));
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("policy_forbidden.wasm"), "{message}");
    assert!(message.contains("`wasi:sockets/tcp@"), "{message}");
    assert!(
        rules_of(&report).iter().any(|r| r.starts_with("probe-")),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn policy_new_refuses_bad_names_and_existing_work() {
    let dir = temp_dir("policy-new");
    let new = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kubectl-vllm"))
            .current_dir(&dir)
            .args(args)
            .output()
            .unwrap()
    };
    for name in ["Acme", "acme_platform", "gpu"] {
        let o = new(&["policy", "new", name]);
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
    }
    std::fs::create_dir_all(dir.join("taken")).unwrap();
    std::fs::write(dir.join("taken/keep.txt"), "mine").unwrap();
    let o = new(&["policy", "new", "acme", "--dir", "taken"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("taken/keep.txt")).unwrap(),
        "mine"
    );
    // build and test name what is missing.
    let o = new(&["policy", "build", "taken"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("has no Cargo.toml"), "{}", stderr(&o));
    let o = new(&["policy", "test", "nowhere.wasm"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no such policy crate or component"),
        "{}",
        stderr(&o)
    );
    // --sdk: a path dependency on that crate, nothing vendored.
    let sdk = super::repo().join("crates/sdk").display().to_string();
    let o = new(&["policy", "new", "acme", "--sdk", &sdk]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let manifest = std::fs::read_to_string(dir.join("acme/Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!("kubectl-vllm-sdk = {{ path = {sdk:?} }}")),
        "{manifest}"
    );
    assert!(!dir.join("acme/vendor").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_python_example_policy_reports_and_fixes_through_the_host() {
    let repo = super::repo();
    let build = Command::new(repo.join("examples/python-policy/build"))
        .output()
        .unwrap();
    if build.status.code() == Some(3) {
        eprintln!(
            "SKIPPED: the Python toolchain cannot be installed here: {}",
            stderr(&build)
        );
        return;
    }
    ok(&build);
    let wasm = stdout(&build).trim().to_string();
    // Compiling an 18 MB component in a debug build takes minutes: keep it between runs.
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-policy-cache");
    let run = |args: &[&str]| {
        command()
            .env("KUBECTL_VLLM_CACHE_DIR", &cache)
            .args(args)
            .output()
            .unwrap()
    };
    let fixtures = repo
        .join("examples/python-policy/fixtures")
        .display()
        .to_string();
    let tested = run(&["policy", "test", &wasm, "--fixtures", &fixtures]);
    ok(&tested);
    assert!(
        stdout(&tested).contains("2 of 2 fixtures passed"),
        "{}",
        stdout(&tested)
    );
    let bad = repo
        .join("examples/python-policy/fixtures/rules/py-example-revision-history/bad.yaml")
        .display()
        .to_string();
    let linted = run(&["lint", &bad, "--policy", &wasm, "-o", "json"]);
    assert!(
        rules_of(&json(&linted)).contains(&"py-example-revision-history".to_string()),
        "{}",
        stdout(&linted)
    );
    let fixed = run(&["fix", &bad, "--no-default-policies", "--policy", &wasm]);
    ok(&fixed);
    let text = stdout(&fixed);
    assert!(text.contains("  revisionHistoryLimit: 3"), "{text}");
    assert!(text.contains("# keep two"), "{text}");
}
