//! The binary, as users and kubectl run it: inputs, exit codes, formats, config, policies.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-vllm");

pub(super) fn command() -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(super::repo())
        .env("KUBECTL_VLLM_CACHE_DIR", super::cache_dir())
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("COLUMNS");
    command
}

pub(super) fn run(args: &[&str]) -> Output {
    command().args(args).output().unwrap()
}

pub(super) fn run_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = command()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub(super) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(super) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(super) fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

pub(super) fn rules_of(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

pub(super) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kubectl-vllm-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A GPU pod without LD_LIBRARY_PATH: one `runtime-ld-library-path-gke` error.
pub(super) const MISSING_LD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  nodeSelector: {cloud.google.com/gke-accelerator: nvidia-l4}\n  tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]\n  containers:\n  - name: vllm\n    image: vllm/vllm-openai:v0.10.2\n    resources: {requests: {cpu: \"3\", memory: 16Gi}, limits: {cpu: \"3\", memory: 16Gi, nvidia.com/gpu: 1}}\n    readinessProbe: {httpGet: {path: /health, port: 8000}}\n    volumeMounts: [{name: dshm, mountPath: /dev/shm}]\n  volumes: [{name: dshm, emptyDir: {medium: Memory, sizeLimit: 2Gi}}]\n";

#[test]
fn no_input_is_a_usage_error() {
    let o = run(&["lint"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no input"), "{}", stderr(&o));
    let o = run(&["lint", "--no-such-flag", "x.yaml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn version_names_the_contract_the_wit_file_declares() {
    let package = |path: &str| -> String {
        let text = std::fs::read_to_string(super::repo().join(path)).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("package "))
            .and_then(|l| l.strip_suffix(';'))
            .unwrap_or_else(|| panic!("{path} has no package line"))
            .to_string()
    };
    let current = package("wit/policy.wit");
    let o = run(&["version"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!(
            "kubectl-vllm {} (policy contract {current})\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    // The previous release's contract is kept beside it, a minor version older.
    let previous = package("wit/v0.1/policy.wit");
    assert_eq!(previous, "kubectl-vllm:policy@0.1.0");
    assert!(current > previous, "{current} is not newer than {previous}");
}

#[test]
fn a_policy_built_for_contract_0_2_0_loads_and_reports_what_it_did() {
    // fixtures/contract/README.md says how the 0.2.0 component was built.
    let access = |extra: &[&str]| -> Vec<Value> {
        let mut args = vec![
            "lint",
            "-R",
            "fixtures/rules",
            "-o",
            "json",
            "--provider",
            "gke",
        ];
        args.extend_from_slice(extra);
        let o = run(&args);
        // Exit 2: the input-error fixture; every other file is linted.
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let report = json(&o);
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["policy"] == "access")
            .cloned()
            .collect()
    };
    let built_in = access(&[]);
    let old = access(&[
        "--no-default-policies",
        "--policy",
        "fixtures/contract/policy-access-0.2.0.wasm",
    ]);
    assert!(built_in.len() >= 5, "{built_in:?}");
    assert_eq!(old, built_in);
}

#[test]
fn the_field_report_as_written_fails_the_gate_and_the_corrected_one_passes() {
    let o = run(&["lint", "-R", "fixtures/field-report/as-written"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    // The report's `:latest` images are read as the newest release, which has the driver
    // directory again: the floating tag is the warning, not LD_LIBRARY_PATH.
    assert!(out.contains("error[shm-missing]"), "{out}");
    assert!(out.contains("error[runtime-duplicate-keys]"), "{out}");
    assert!(out.contains("warning[image-tag-floating]"), "{out}");
    // The four deployments share identical ServiceAccount and StorageClass copies: six
    // duplicate-object infos.
    assert!(
        out.contains("Found 4 errors, 24 warnings and 21 infos in 20 files (20 objects)."),
        "{out}"
    );
    let o = run(&["lint", "-R", "fixtures/field-report/correct"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // Infos only: gpt-oss-20b keeps the report's tensor parallelism 4 (vllm-tp-oversized), and
    // the report's PVC sizes are generous (pvc-size-waste ×3).
    // Linted together the variants collide once: gemma-1b and its preloaded-PV variant define
    // the same Deployment (duplicate-object, a warning across directories); the rest are
    // identical shared copies (infos).
    assert!(
        stdout(&o).contains("Found 0 errors, 1 warning and 12 infos in 24 files (25 objects)."),
        "{}",
        stdout(&o)
    );
}

#[test]
fn stdin_is_named_by_stdin_filename() {
    let o = run_stdin(
        &[
            "lint",
            "-",
            "--stdin-filename",
            "deploy/pod.yaml",
            "-o",
            "json",
        ],
        MISSING_LD,
    );
    assert_eq!(o.status.code(), Some(1));
    let report = json(&o);
    assert_eq!(report["findings"][0]["file"], "deploy/pod.yaml");
    assert_eq!(report["findings"][0]["line"], 9);
}

#[test]
fn directories_recurse_only_with_r_and_f_repeats() {
    let dir = temp_dir("recursive");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("a.yaml"), MISSING_LD).unwrap();
    std::fs::write(dir.join("sub/b.yml"), MISSING_LD).unwrap();
    std::fs::write(dir.join("notes.txt"), "not yaml: [").unwrap();
    let d = dir.display().to_string();
    let files = |o: &Output| json(o)["summary"]["files"].as_u64().unwrap();
    assert_eq!(files(&run(&["lint", &d, "-o", "json"])), 1);
    assert_eq!(files(&run(&["lint", &d, "-R", "-o", "json"])), 2);
    let a = format!("{d}/a.yaml");
    let b = format!("{d}/sub/b.yml");
    assert_eq!(files(&run(&["lint", "-f", &a, "-f", &b, "-o", "json"])), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn invalid_yaml_is_located_exit_2_and_the_rest_is_still_linted() {
    let dir = temp_dir("invalid");
    std::fs::write(
        dir.join("broken.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: [x\n",
    )
    .unwrap();
    std::fs::write(dir.join("pod.yaml"), MISSING_LD).unwrap();
    let missing = dir.join("missing.yaml").display().to_string();
    let o = run(&[
        "lint",
        &dir.display().to_string(),
        &missing,
        "-o",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let report = json(&o);
    let rules = rules_of(&report);
    assert_eq!(
        rules.iter().filter(|r| *r == "input-error").count(),
        2,
        "{report:#}"
    );
    assert!(rules.contains(&"runtime-ld-library-path-gke".to_string()));
    let broken = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"].as_str().unwrap().ends_with("broken.yaml"))
        .unwrap();
    assert_eq!(broken["line"], 3);
    assert!(
        broken["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid YAML"),
        "{broken}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn json_report_matches_the_contract() {
    let o = run_stdin(
        &["lint", "-", "--stdin-filename", "pod.yaml", "-o", "json"],
        MISSING_LD,
    );
    let expected = serde_json::json!({
        "version": 1,
        "findings": [{
            "rule": "runtime-ld-library-path-gke",
            "severity": "error",
            "message": "container `vllm` requests GPUs on GKE, but its LD_LIBRARY_PATH lacks /usr/local/nvidia/lib64 (`vllm/vllm-openai:v0.10.2`: vLLM 0.10.2, CUDA 12.8, whose own LD_LIBRARY_PATH lacks it): vLLM will not find the NVIDIA driver (GKE, from nodeSelector cloud.google.com/gke-accelerator at pod.yaml:6)",
            "help": "add `LD_LIBRARY_PATH: /usr/local/nvidia/lib64:/usr/local/cuda/lib64` to env",
            "file": "pod.yaml",
            "line": 9, "column": 5, "end_line": 9, "end_column": 9,
            "document": 0,
            "pointer": "/spec/containers/0",
            "resource": {"apiVersion": "v1", "kind": "Pod", "namespace": "default", "name": "p"},
            "policy": "runtime",
            "fix": {"title": "add LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/local/cuda/lib64", "applicability": "unsafe"}
        }],
        "summary": {"files": 1, "documents": 1, "errors": 1, "warnings": 0, "infos": 0, "suppressed": 0}
    });
    assert_eq!(json(&o), expected);
}

#[test]
fn fail_on_sets_the_threshold_and_never_hides_exit_2() {
    let info_only = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  nodeSelector: {cloud.google.com/gke-accelerator: nvidia-l4}\n  containers:\n  - name: c\n    image: busybox\n    resources: {limits: {nvidia.com/gpu: 1}}\n";
    let code = |args: &[&str]| run_stdin(args, info_only).status.code();
    assert_eq!(code(&["lint", "-"]), Some(0));
    assert_eq!(code(&["lint", "-", "--fail-on", "warning"]), Some(0));
    assert_eq!(code(&["lint", "-", "--fail-on", "info"]), Some(1));
    assert_eq!(code(&["lint", "-", "--fail-on", "none"]), Some(0));
    assert_eq!(
        run_stdin(&["lint", "-", "--fail-on", "none"], "a: [")
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn secret_values_are_never_printed() {
    let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: hf}\nstringData:\n  hf_api_token: hunter2-secret\n  hf_api_token: hunter3-secret\n";
    for format in ["text", "json"] {
        let o = run_stdin(&["lint", "-", "-o", format], secret);
        assert_eq!(o.status.code(), Some(1));
        let out = stdout(&o);
        assert!(out.contains("runtime-duplicate-keys"), "{out}");
        assert!(
            !out.contains("hunter"),
            "{format} output leaks a secret:\n{out}"
        );
        if format == "text" {
            assert!(out.contains("hf_api_token: <redacted>"), "{out}");
        }
    }
}

#[test]
fn text_output_has_no_colour_off_a_terminal() {
    let o = run_stdin(&["lint", "-"], MISSING_LD);
    let out = stdout(&o);
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(out.contains("error[runtime-ld-library-path-gke]"));
    assert!(out.contains("<stdin>:9:5"), "{out}");
    assert!(
        out.contains(
            "fix (unsafe): add LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/local/cuda/lib64"
        ),
        "{out}"
    );
}

/// `--color`, then FORCE_COLOR, then NO_COLOR, then the terminal (cargo's and ruff's order);
/// `COLUMNS` sets the wrap column and lines break at spaces only, never inside a path.
#[test]
fn color_and_width_follow_the_flag_and_the_environment() {
    let coloured = |o: &Output| stdout(o).contains('\u{1b}');
    let lint = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec![
            "lint",
            "-",
            "--stdin-filename",
            "deploy/very-long-directory-name/with-a-long-file-name-too.yaml",
        ];
        args.extend_from_slice(extra);
        let mut child = command();
        child
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        for (k, v) in env {
            child.env(k, v);
        }
        let mut child = child.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(MISSING_LD.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    assert!(coloured(&lint(&["--color", "always"], &[])));
    assert!(coloured(&lint(&["--color=always"], &[("NO_COLOR", "1")])));
    assert!(coloured(&lint(
        &[],
        &[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]
    )));
    assert!(!coloured(&lint(&[], &[("FORCE_COLOR", "0")])));
    assert!(!coloured(&lint(
        &["--color", "never"],
        &[("FORCE_COLOR", "1")]
    )));
    let o = lint(&["--color", "sometimes"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let widest = |o: &Output| {
        stdout(o)
            .lines()
            // The wrapped message lines (not source lines or the summary); a word too long for
            // the line overflows it rather than being split.
            .filter(|l| l.starts_with("  × ") || l.starts_with("  │ "))
            .filter(|l| l.split_whitespace().all(|w| w.chars().count() < 40))
            .map(|l| l.chars().count())
            .max()
            .unwrap()
    };
    let narrow = lint(&[], &[("COLUMNS", "60")]);
    let wide = lint(&[], &[("COLUMNS", "200")]);
    assert!(widest(&narrow) <= 60, "{}", stdout(&narrow));
    assert!(widest(&wide) > 100, "{}", stdout(&wide));
    for o in [&narrow, &wide, &lint(&[], &[])] {
        assert!(
            stdout(o).contains("deploy/very-long-directory-name/with-a-long-file-name-too.yaml"),
            "a path was split: {}",
            stdout(o)
        );
    }
}

/// On a terminal, a run longer than a second shows a spinner line naming the phase, erased
/// before the report. `script` (util-linux) gives the run a real pseudo-terminal; a policy that
/// loops until its deadline makes the run last.
#[test]
fn a_long_run_on_a_terminal_shows_a_spinner_that_erases_itself() {
    if which("script").is_none() {
        eprintln!("SKIPPED: no `script` (util-linux) to run the binary on a pseudo-terminal");
        return;
    }
    let dir = temp_dir("spinner");
    let file = dir.join("loop.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: spin\n  annotations: {chaos.kubectl-vllm.dev/mode: loop}\n",
    )
    .unwrap();
    let line = format!(
        "{BIN} lint {} --policy {} --color never",
        file.display(),
        kubectl_vllm_builtin::TEST_POLICY_CHAOS
    );
    let o = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(super::repo())
        .env("KUBECTL_VLLM_CACHE_DIR", super::cache_dir())
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(
        out.contains("linting 1 file (1 object) with 7 policies…"),
        "{out:?}"
    );
    let clear = "\r\x1b[2K";
    let after = out.rsplit(clear).next().unwrap();
    assert!(
        after.contains("policy-error"),
        "the report follows the erased line: {out:?}"
    );
    assert!(!after.contains("policies…"), "{out:?}");
    // Off a terminal: no spinner.
    let o = run(&[
        "lint",
        &file.display().to_string(),
        "--policy",
        kubectl_vllm_builtin::TEST_POLICY_CHAOS,
    ]);
    assert!(
        !stderr(&o).contains('\u{1b}') && !stderr(&o).contains("linting"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_misbehaving_policy_is_named_and_the_run_goes_on() {
    let objects = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: spin\n  annotations: {chaos.kubectl-vllm.dev/mode: trap}\n---\n".to_string()
        + "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n  annotations: {chaos.kubectl-vllm.dev/mode: report}\n---\n"
        + MISSING_LD;
    let o = run_stdin(
        &[
            "lint",
            "-",
            "-o",
            "json",
            "--policy",
            kubectl_vllm_builtin::TEST_POLICY_CHAOS,
        ],
        &objects,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let report = json(&o);
    let findings = report["findings"].as_array().unwrap();
    let error = findings
        .iter()
        .find(|f| f["rule"] == "policy-error")
        .unwrap();
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("policy `chaos` trapped"), "{message}");
    assert!(message.contains("ConfigMap default/spin"), "{message}");
    assert_eq!(error["line"], 1);
    let rules = rules_of(&report);
    assert!(rules.contains(&"chaos-report".to_string()), "{rules:?}");
    assert!(
        rules.contains(&"runtime-ld-library-path-gke".to_string()),
        "{rules:?}"
    );
}

#[test]
fn a_policy_that_fails_to_load_is_reported() {
    let dir = temp_dir("badpolicy");
    let junk = dir.join("junk.wasm");
    std::fs::write(&junk, b"\0asm junk").unwrap();
    let o = run_stdin(
        &[
            "lint",
            "-",
            "-o",
            "json",
            "--policy",
            &junk.display().to_string(),
        ],
        MISSING_LD,
    );
    assert_eq!(o.status.code(), Some(2));
    let report = json(&o);
    assert!(rules_of(&report).contains(&"policy-error".to_string()));
    assert!(rules_of(&report).contains(&"runtime-ld-library-path-gke".to_string()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rules_lists_every_rule_and_explain_prints_its_documentation() {
    let o = run(&["rules", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let rows = json(&o);
    let ids: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in [
        "gpu-res-req-ne-limit",
        "pvc-size-too-small",
        "runtime-duplicate-keys",
        "input-error",
    ] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    let o = run(&["rules"]);
    assert!(stdout(&o).contains("gke-accel-value-invalid"));
    let o = run(&["explain", "gpu-res-req-ne-limit"]);
    assert_eq!(o.status.code(), Some(0));
    let doc = stdout(&o);
    assert!(
        doc.starts_with("# gpu-res-req-ne-limit\n\n## What it does\n"),
        "{doc}"
    );
    assert!(doc.contains("## Fix safety"));
    let o = run(&["explain", "runtime-duplicate-keys"]);
    assert!(stdout(&o).contains("two `env:` blocks"));
    let o = run(&["explain", "vllm-entrypoint-deprecated-module"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("in the catalogue but no loaded policy implements it yet"));
    assert_eq!(run(&["explain", "nope"]).status.code(), Some(2));
}

fn with_config(name: &str, config: &str) -> (PathBuf, String) {
    let dir = temp_dir(name);
    std::fs::write(dir.join(".kubectl-vllm.yaml"), config).unwrap();
    std::fs::write(dir.join("pod.yaml"), MISSING_LD).unwrap();
    (dir.clone(), dir.join("pod.yaml").display().to_string())
}

pub(super) fn run_in(dir: &Path, args: &[&str]) -> Output {
    command().current_dir(dir).args(args).output().unwrap()
}

#[test]
fn config_is_discovered_and_overrides_severities() {
    let (dir, pod) = with_config(
        "config-off",
        "rules:\n  runtime-ld-library-path-gke: warning\n",
    );
    let o = run_in(&dir, &["lint", &pod, "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o)["findings"][0]["severity"], "warning");
    std::fs::write(
        dir.join(".kubectl-vllm.yaml"),
        "rules: {runtime-ld-library-path-gke: off}\n",
    )
    .unwrap();
    let o = run_in(&dir, &["lint", &pod, "-o", "json"]);
    assert_eq!(json(&o)["findings"].as_array().unwrap().len(), 0);
    std::fs::write(
        dir.join(".kubectl-vllm.yaml"),
        "ignores:\n- {rules: [runtime-ld-library-path-gke], kind: Pod, name: p, reason: vendored}\n",
    )
    .unwrap();
    let o = run_in(&dir, &["lint", &pod, "-o", "json"]);
    assert_eq!(json(&o)["summary"]["suppressed"], 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_errors_are_located_and_exit_2() {
    let (dir, pod) = with_config("config-bad", "");
    let cases = [
        (
            "rules:\n  shm-size: error\ncluster:\n  autopilott: true\n",
            2,
            ".kubectl-vllm.yaml:4:3: unknown field `autopilott`",
        ),
        (
            "rules:\n  shm-sise: error\n",
            2,
            ":2:3: unknown rule `shm-sise`",
        ),
        (
            "rules:\n  vllm-entrypoint-deprecated-module: error\n",
            1,
            "warning: config names rule `vllm-entrypoint-deprecated-module`, which no loaded policy implements yet",
        ),
        ("rules: [\n", 2, "invalid config"),
    ];
    for (config, code, message) in cases {
        std::fs::write(dir.join(".kubectl-vllm.yaml"), config).unwrap();
        let o = run_in(&dir, &["lint", &pod]);
        assert_eq!(o.status.code(), Some(code), "{config}");
        assert!(stderr(&o).contains(message), "{config}: {}", stderr(&o));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn kubectl_discovers_the_plugin_on_path() {
    if Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_err()
    {
        eprintln!("SKIPPED kubectl_discovers_the_plugin_on_path: kubectl is not on PATH");
        return;
    }
    let dir = temp_dir("plugin");
    let plugin = dir.join("kubectl-vllm");
    std::fs::copy(BIN, &plugin).unwrap();
    std::fs::copy(
        super::repo().join("plugin/kubectl_complete-vllm"),
        dir.join("kubectl_complete-vllm"),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let kubectl = |args: &[&str]| {
        Command::new("kubectl")
            .args(args)
            .current_dir(super::repo())
            .env("PATH", &path)
            .env("KUBECTL_VLLM_CACHE_DIR", super::cache_dir())
            .output()
            .unwrap()
    };
    let o = kubectl(&["plugin", "list"]);
    assert!(
        stdout(&o).contains("kubectl-vllm"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    // The layout the README installs (`cargo install --root`: the binary and the completion
    // hook, no cargo `.d` files) is clean: `plugin list` warns about nothing and exits 0.
    let kubectl_dir = which("kubectl").and_then(|k| k.parent().map(Path::to_path_buf));
    let clean_path = format!(
        "{}:{}",
        dir.display(),
        kubectl_dir.unwrap_or_default().display()
    );
    let o = Command::new("kubectl")
        .args(["plugin", "list"])
        .env("PATH", &clean_path)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "kubectl plugin list: {}{}",
        stdout(&o),
        stderr(&o)
    );
    let o = kubectl(&["vllm", "version"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("kubectl-vllm "));
    // Flags after the plugin name reach it unchanged (kubectl rejects its own flags before it).
    let o = kubectl(&[
        "vllm",
        "lint",
        "-o",
        "json",
        "--select",
        "runtime-",
        "fixtures/field-report/as-written/gpt-oss-120b",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report = json(&o);
    assert!(rules_of(&report).iter().all(|r| r.starts_with("runtime-")));
    assert!(rules_of(&report).contains(&"runtime-duplicate-keys".to_string()));
    // The completion hook offers every command but `completion` (kubectl has its own), with
    // its description, as cobra's protocol allows.
    let commands: Vec<String> = <kubectl_vllm::Cli as clap::CommandFactory>::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|name| name != "completion")
        .collect();
    let complete = |words: &[&str]| {
        let o = kubectl(&[&["__complete", "vllm"], words].concat());
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = stdout(&o);
        let (candidates, directive) = out
            .trim_end()
            .rsplit_once('\n')
            .unwrap_or(("", out.trim_end()));
        let values: Vec<String> = candidates
            .lines()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect();
        (values, directive.to_string())
    };
    assert_eq!(complete(&[""]), (commands, ":4".to_string()));
    let (rules, _) = complete(&["explain", "gpu"]);
    assert!(
        rules.contains(&"gpu-res-req-ne-limit".to_string()),
        "{rules:?}"
    );
    assert!(rules.iter().all(|r| r.starts_with("gpu")), "{rules:?}");
    // Flags, their values, rule ids after `--select a,`, and file names where a path goes.
    let (flags, directive) = complete(&["lint", "--fa"]);
    assert_eq!(
        (flags, directive.as_str()),
        (vec!["--fail-on".to_string()], ":4")
    );
    let (flags, _) = complete(&["apply", "--"]);
    for flag in [
        "--dry-run",
        "--request-timeout",
        "--color",
        "--unsafe-fixes",
        "--help",
    ] {
        assert!(flags.contains(&flag.to_string()), "{flag}: {flags:?}");
    }
    assert_eq!(
        complete(&["lint", "--fail-on", ""]).0,
        ["error", "warning", "info", "none"]
    );
    assert_eq!(complete(&["lint", "-o", "s"]).0, ["sarif"]);
    assert_eq!(
        complete(&["apply", "--dry-run="]).0,
        ["--dry-run=none", "--dry-run=client", "--dry-run=server"]
    );
    let (values, _) = complete(&["lint", "--select", "shm-missing,shm-s"]);
    assert_eq!(values, ["shm-missing,shm-size"]);
    assert_eq!(complete(&["lint", "--provider", "e"]).0, ["eks"]);
    assert_eq!(complete(&["lint", "-f", ""]).1, ":0");
    assert_eq!(
        complete(&["lint", "--color", ""]).0,
        ["auto", "always", "never"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn list_items_keep_the_list_document_and_an_items_pointer() {
    let list = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: first}}\n---\napiVersion: v1\nkind: List\nitems:\n- {}",
        MISSING_LD.replace('\n', "\n  ")
    );
    let o = run_stdin(&["lint", "-", "-o", "json"], &list);
    let report = json(&o);
    let finding = &report["findings"][0];
    assert_eq!(finding["document"], 1, "{report:#}");
    assert_eq!(finding["pointer"], "/items/0/spec/containers/0");
    assert_eq!(finding["line"], 16);
    assert_eq!(report["summary"]["documents"], 2);
}

#[test]
fn a_sub_span_points_inside_a_scalar() {
    let object = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\n  annotations: {chaos.kubectl-vllm.dev/mode: sub-span}\ndata:\n  script: |\n    echo début\n    vllm serve x --flag y\n";
    let o = run_stdin(
        &[
            "lint",
            "-",
            "-o",
            "json",
            "--no-default-policies",
            "--policy",
            kubectl_vllm_builtin::TEST_POLICY_CHAOS,
        ],
        object,
    );
    let report = json(&o);
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "chaos-report", "{report:#}");
    assert_eq!(
        (finding["line"].clone(), finding["column"].clone()),
        (9.into(), 18.into())
    );
    assert_eq!(
        (finding["end_line"].clone(), finding["end_column"].clone()),
        (9.into(), 24.into())
    );
}

#[test]
fn facts_shows_the_tables_with_the_config_applied() {
    let (dir, _) = with_config(
        "facts",
        "facts:\n  models:\n  - {id: acme/llama, aliases: [llama], weights-mib: 100, repository-mib: 100, attention-heads: 8, kv-heads: 8, max-context: 4096, source: me}\n  accelerators:\n  - {label: nvidia-l4, name: L4, memory-mib: 1, compute-capability: 89, gpus-per-node: [1], source: override}\n",
    );
    let o = run_in(&dir, &["facts", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let facts = json(&o);
    let models = facts["models"].as_array().unwrap();
    assert!(models.iter().any(|m| m["id"] == "acme/llama"));
    assert!(models.iter().any(|m| m["id"] == "openai/gpt-oss-120b"));
    let l4 = facts["accelerators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "nvidia-l4")
        .unwrap();
    assert_eq!(l4["memory-mib"], 1);
    assert!(
        models
            .iter()
            .all(|m| !m["source"].as_str().unwrap().is_empty())
    );
    let o = run_in(&dir, &["facts"]);
    assert!(stdout(&o).contains("acme/llama"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_references_are_not_reported_while_input_failed() {
    let pvc = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: m}\nspec:\n  storageClassName: nowhere\n  resources: {requests: {storage: 1Gi}}\n";
    let o = run_stdin(&["lint", "-", "-o", "json"], pvc);
    assert!(rules_of(&json(&o)).contains(&"sc-not-found".to_string()));
    let o = run_stdin(
        &["lint", "-", "-o", "json"],
        &format!("{pvc}---\nbroken: [\n"),
    );
    assert_eq!(o.status.code(), Some(2));
    let rules = rules_of(&json(&o));
    assert!(rules.contains(&"input-error".to_string()), "{rules:?}");
    assert!(!rules.contains(&"sc-not-found".to_string()), "{rules:?}");
}

/// A GPU pod missing LD_LIBRARY_PATH (an unsafe fix: the image's own value is not known) and its
/// toleration (a safe one), in a CRLF multi-document file with comments between and inside
/// documents and flow-style mappings.
const FIX_ME: &str = "# leading comment\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata: {name: untouched}  # keep\r\n---\r\n# the pod\r\napiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: p  # inline\r\nspec:\r\n  nodeSelector: {cloud.google.com/gke-accelerator: nvidia-l4}\r\n  containers:\r\n  - name: vllm\r\n    image: vllm/vllm-openai:v0.10.2\r\n    resources: {requests: {cpu: \"3\", memory: 16Gi}, limits: {cpu: \"3\", memory: 16Gi, nvidia.com/gpu: 1}}\r\n    readinessProbe: {httpGet: {path: /health, port: 8000}}\r\n    volumeMounts: [{name: dshm, mountPath: /dev/shm}]\r\n  volumes: [{name: dshm, emptyDir: {medium: Memory, sizeLimit: 2Gi}}]\r\n";

#[test]
fn fix_prints_fixed_manifests_keeping_comments_crlf_and_other_documents() {
    let o = run_stdin(&["fix", "-", "--unsafe-fixes"], FIX_ME);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let fixed = stdout(&o);
    assert!(fixed.starts_with("# leading comment\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata: {name: untouched}  # keep\r\n---\r\n# the pod\r\n"), "{fixed}");
    assert!(fixed.contains("  name: p  # inline\r\n"), "{fixed}");
    assert!(fixed.contains("    env:\r\n    - name: LD_LIBRARY_PATH\r\n      value: /usr/local/nvidia/lib64:/usr/local/cuda/lib64\r\n"), "{fixed}");
    assert!(
        fixed.contains("  tolerations:\r\n  - key: nvidia.com/gpu\r\n"),
        "{fixed}"
    );
    assert!(
        !fixed.replace("\r\n", "").contains('\n'),
        "mixed line endings:\n{fixed:?}"
    );
    assert!(stderr(&o).contains("fixed <stdin>"), "{}", stderr(&o));
    // Fixing the output again changes nothing.
    let again = run_stdin(&["fix", "-", "--unsafe-fixes"], &fixed);
    assert_eq!(stdout(&again), fixed);
    // Lint counts what fix would do.
    let o = run_stdin(&["lint", "-"], FIX_ME);
    assert!(
        stdout(&o).contains("1 fixable with `kubectl vllm fix` (1 more with `--unsafe-fixes`)."),
        "{}",
        stdout(&o)
    );
}

#[test]
fn fix_diff_and_write() {
    let dir = temp_dir("fix-write");
    let file = dir.join("pod.yaml");
    std::fs::write(&file, FIX_ME).unwrap();
    let name = file.display().to_string();
    let o = run(&["fix", &name, "--diff", "--unsafe-fixes"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "--diff exits 1 when there are changes"
    );
    assert!(
        stdout(&o).contains("+    - name: LD_LIBRARY_PATH\r\n"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        FIX_ME,
        "--diff writes nothing"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    let o = run(&[
        "fix",
        &name,
        "--write",
        "--unsafe-fixes",
        "--exit-non-zero-on-fix",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains("LD_LIBRARY_PATH"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }
    let o = run(&[
        "fix",
        &name,
        "--write",
        "--unsafe-fixes",
        "--exit-non-zero-on-fix",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "nothing left to change: {}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("0 file(s) rewritten"));
    // Stdin can only be fixed to stdout.
    let o = run_stdin(&["fix", "-", "--write"], FIX_ME);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("stdin can only be fixed to stdout"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fix_write_refuses_read_only_files() {
    let dir = temp_dir("fix-readonly");
    let file = dir.join("pod.yaml");
    std::fs::write(&file, FIX_ME).unwrap();
    let mut permissions = std::fs::metadata(&file).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&file, permissions).unwrap();
    let o = run(&["fix", &file.display().to_string(), "--write"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("read-only"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), FIX_ME);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fix_write_refuses_files_changed_since_they_were_read() {
    let dir = temp_dir("fix-concurrent");
    let file = dir.join("pod.yaml");
    std::fs::write(&file, FIX_ME).unwrap();
    let name = file.display().to_string();
    let outcome = kubectl_vllm_engine::fix::Outcome {
        texts: vec![(
            name.clone(),
            FIX_ME.to_string(),
            format!("{FIX_ME}# fixed\r\n"),
        )],
        kinds: vec![kubectl_vllm_engine::fix::TextKind::Read],
        applied: Vec::new(),
        remaining: kubectl_vllm_engine::Report::default(),
        manifests: kubectl_vllm_manifest::Manifests::default(),
    };
    std::fs::write(&file, "# someone else's edit\r\n").unwrap();
    let error = kubectl_vllm_engine::fix::write_files(&outcome, "<stdin>").unwrap_err();
    assert!(error.contains("changed on disk"), "{error}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "# someone else's edit\r\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fix_leaves_no_error_in_the_field_report() {
    let dir = temp_dir("fix-report");
    for model in ["gemma-1b", "gemma-27b", "gpt-oss-20b", "gpt-oss-120b"] {
        let from = super::repo()
            .join("fixtures/field-report/as-written")
            .join(model);
        std::fs::create_dir_all(dir.join(model)).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.join(model).join(path.file_name().unwrap())).unwrap();
        }
    }
    let d = dir.display().to_string();
    let o = run(&["fix", "-R", &d, "--write", "--unsafe-fixes", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let errors: Vec<String> = json(&o)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    // The headline bug: the ignored first `env:` block is merged into the kept one.
    let fixed = std::fs::read_to_string(dir.join("gpt-oss-120b/vllm-deployment-gpt-oss-120b.yaml"))
        .unwrap();
    assert_eq!(fixed.matches("env:").count(), 1, "{fixed}");
    let env = &fixed[fixed.find("env:").unwrap()..fixed.find("ports:").unwrap()];
    for name in ["LD_LIBRARY_PATH", "VLLM_LOGGING_LEVEL", "HF_HUB_OFFLINE"] {
        assert!(env.contains(name), "{env}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn select_ignore_and_exit_zero() {
    let dir = "fixtures/field-report/as-written/gpt-oss-120b";
    let all = json(&run(&["lint", dir, "-o", "json"]));
    let selected = run(&[
        "lint", dir, "-o", "json", "--select", "gke-,shm", "--ignore", "shm-size",
    ]);
    let rules = rules_of(&json(&selected));
    assert!(!rules.is_empty());
    assert!(
        rules
            .iter()
            .all(|r| (r.starts_with("gke-") || r.starts_with("shm")) && r != "shm-size"),
        "{rules:?}"
    );
    let expected: Vec<String> = rules_of(&all)
        .into_iter()
        .filter(|r| (r.starts_with("gke-") || r.starts_with("shm")) && r != "shm-size")
        .collect();
    assert_eq!(rules, expected);
    // A finding at error level normally fails the run; --exit-zero does not hide exit 2.
    assert_eq!(run(&["lint", dir]).status.code(), Some(1));
    assert_eq!(run(&["lint", dir, "--exit-zero"]).status.code(), Some(0));
    assert_eq!(
        run(&["lint", "no/such/dir", "--exit-zero"]).status.code(),
        Some(2)
    );
    let excluded = json(&run(&[
        "lint",
        "-R",
        "fixtures/field-report/as-written",
        "--exclude",
        "**/gpt-oss-*/**",
        "-o",
        "json",
    ]));
    assert_eq!(excluded["summary"]["files"], 10);
    let typo = run(&["lint", dir, "--select", "gpu-tolerashun"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        stderr(&typo).contains("`gpu-tolerashun` in --select/--ignore is no rule id or prefix")
    );
}

#[test]
fn github_output_and_step_summary() {
    let dir = temp_dir("github-summary");
    let summary = dir.join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let out = command()
        .args([
            "lint",
            "-o",
            "github",
            "-R",
            "fixtures/field-report/as-written",
        ])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(
            "::error file=fixtures/field-report/as-written/gpt-oss-120b/vllm-deployment-gpt-oss-120b.yaml,line=39,col=9,endLine=39,endColumn=12,title=kubectl-vllm runtime-duplicate-keys::"
        ),
        "{text}"
    );
    assert!(text.lines().filter(|l| l.starts_with("::warning ")).count() <= 10);
    assert!(text.contains("more not annotated"), "{text}");
    let table = std::fs::read_to_string(&summary).unwrap();
    assert!(
        table.starts_with("earlier step\n### kubectl vllm lint"),
        "{table}"
    );
    let rows = table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Severity"))
        .count();
    let findings = rules_of(&json(&run(&[
        "lint",
        "-o",
        "json",
        "-R",
        "fixtures/field-report/as-written",
    ])))
    .len();
    assert_eq!(rows, findings);
}

#[test]
fn suppressions_by_annotation_and_by_config_path_glob() {
    // Object annotation honoured (and counted); empty reason warned; pod template warned.
    let good = json(&run(&[
        "lint",
        "-o",
        "json",
        "fixtures/rules/suppression-without-reason/good.yaml",
    ]));
    assert_eq!(rules_of(&good), Vec::<String>::new());
    assert_eq!(good["summary"]["suppressed"], 2);
    assert!(
        good.get("suppressed").is_none(),
        "listed only with --show-suppressed"
    );
    let listed = json(&run(&[
        "lint",
        "-o",
        "json",
        "--show-suppressed",
        "fixtures/rules/suppression-without-reason/good.yaml",
    ]));
    let why: Vec<&str> = listed["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["suppressed_by"].as_str().unwrap())
        .collect();
    assert_eq!(
        why,
        [
            "annotation ignore.kubectl-vllm/image-tag-floating: dev cluster; always wants the newest vLLM",
            "annotation kubectl-vllm/ignore-all: vendored upstream example, linted upstream"
        ]
    );
    let blank = json(&run(&[
        "lint",
        "-o",
        "json",
        "fixtures/rules/suppression-without-reason/bad.yaml",
    ]));
    assert_eq!(
        rules_of(&blank),
        ["suppression-without-reason", "suppression-without-reason"]
    );
    assert_eq!(blank["summary"]["suppressed"], 2);
    let template = json(&run(&[
        "lint",
        "-o",
        "json",
        "fixtures/rules/suppression-on-pod-template/bad.yaml",
    ]));
    assert_eq!(
        rules_of(&template),
        [
            "suppression-on-pod-template",
            "image-tag-floating",
            "suppression-on-pod-template",
            "image-tag-floating"
        ]
    );
    assert_eq!(template["findings"][0]["fix"]["applicability"], "safe");

    // Config ignore by path glob: only the matching file is silenced.
    let dir = temp_dir("ignore-glob");
    std::fs::create_dir_all(dir.join("vendor")).unwrap();
    // Another name: the same Pod in two directories would be a duplicate-object info.
    let vendored = MISSING_LD.replace("name: p\n", "name: vendored\n");
    std::fs::write(dir.join("vendor/pod.yaml"), vendored).unwrap();
    std::fs::write(dir.join("pod.yaml"), MISSING_LD).unwrap();
    // Hidden entries (workflows, the config itself) are not manifests.
    std::fs::create_dir_all(dir.join(".github")).unwrap();
    std::fs::write(dir.join(".github/ci.yaml"), "on: push\n").unwrap();
    std::fs::write(
        dir.join(".kubectl-vllm.yaml"),
        "ignores:\n- path: \"**/vendor/**\"\n  rules: [runtime-ld-library-path-gke]\n  reason: vendored upstream manifests\n",
    )
    .unwrap();
    let out = command()
        .current_dir(&dir)
        .args(["lint", "-R", "-o", "json", "."])
        .output()
        .unwrap();
    let report = json(&out);
    let files: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules_of(&report),
        ["runtime-ld-library-path-gke"],
        "{files:?}"
    );
    assert!(
        files[0].ends_with("pod.yaml") && !files[0].contains("vendor"),
        "{files:?}"
    );
    assert_eq!(report["summary"]["suppressed"], 1);
    let listed = command()
        .current_dir(&dir)
        .args(["lint", "-R", "-o", "json", "--show-suppressed", "."])
        .output()
        .unwrap();
    assert_eq!(
        json(&listed)["suppressed"][0]["suppressed_by"],
        "config ignore: vendored upstream manifests"
    );
}

#[test]
fn junit_parses_with_one_suite_per_file_and_one_case_per_object() {
    let args = [
        "-R",
        "fixtures/field-report/as-written",
        "no/such/file.yaml",
    ];
    let out = run(&[&["lint", "-o", "junit"][..], &args[..]].concat());
    assert_eq!(out.status.code(), Some(2));
    let xml = stdout(&out);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    // The same report written with --report next to another stdout format.
    let dir = temp_dir("junit-report");
    let path = dir.join("report.xml");
    let target = format!("junit={}", path.display());
    let json_out = run(&[&["lint", "-o", "json", "--report", &target][..], &args[..]].concat());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), xml);
    let report = json(&json_out);
    let findings = report["findings"].as_array().unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    // 20 files read plus the unreadable path.
    assert_eq!(suites.len(), 21);
    let cases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, 20 + 1);
    assert_eq!(root.attribute("tests"), Some("21"));
    // A case fails when its object has an error (the default --fail-on).
    let mut failing: Vec<(String, String)> = findings
        .iter()
        .filter(|f| f["severity"] == "error" && !f["resource"].is_null())
        .map(|f| (f["file"].to_string(), f["resource"]["name"].to_string()))
        .collect();
    failing.sort();
    failing.dedup();
    let failures = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count();
    let errors = doc
        .descendants()
        .filter(|n| n.has_tag_name("error"))
        .count();
    assert_eq!(failures, failing.len());
    assert_eq!(errors, 1, "the unreadable path");
    assert_eq!(
        root.attribute("failures"),
        Some(failures.to_string().as_str())
    );
    // Every finding's rule and line appear in its case.
    for f in findings.iter().filter(|f| !f["line"].is_null()) {
        let needle = format!(
            "{}:{}:{}: {}[{}]",
            f["file"].as_str().unwrap(),
            f["line"],
            f["column"],
            f["severity"].as_str().unwrap(),
            f["rule"].as_str().unwrap()
        );
        assert!(
            doc.descendants()
                .any(|n| n.text().is_some_and(|t| t.contains(&needle))),
            "{needle}"
        );
    }
}

#[test]
fn helm_charts_are_skipped_with_one_info_line() {
    let dir = temp_dir("helm");
    std::fs::create_dir_all(dir.join("chart/templates")).unwrap();
    std::fs::write(
        dir.join("chart/Chart.yaml"),
        "apiVersion: v2\nname: vllm\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("chart/templates/deployment.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n{{- if .Values.x }}\n",
    )
    .unwrap();
    std::fs::write(dir.join("pod.yaml"), MISSING_LD).unwrap();
    let out = command()
        .current_dir(&dir)
        .args(["lint", "-R", "-o", "json", "."])
        .output()
        .unwrap();
    assert_eq!(rules_of(&json(&out)), ["runtime-ld-library-path-gke"]);
    let notes: Vec<String> = stderr(&out)
        .lines()
        .filter(|l| l.starts_with("info: skipped Helm chart `./chart`"))
        .map(String::from)
        .collect();
    assert_eq!(notes.len(), 1, "{}", stderr(&out));
    assert!(notes[0].contains("kubectl vllm lint --helm-chart ./chart"));
    assert!(notes[0].contains("helm template ./chart | kubectl vllm lint -"));
}

#[test]
fn baseline_hides_recorded_findings_but_not_new_ones() {
    let dir = temp_dir("baseline");
    let source = super::repo().join("fixtures/field-report/as-written/gemma-1b");
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    let at = |args: &[&str]| command().current_dir(&dir).args(args).output().unwrap();
    let write = at(&[
        "lint",
        ".",
        "--write-baseline",
        ".kubectl-vllm-baseline.json",
    ]);
    assert_eq!(write.status.code(), Some(0), "{}", stderr(&write));
    let before = json(&at(&["lint", ".", "-o", "json"]));
    let quiet = at(&[
        "lint",
        ".",
        "-o",
        "json",
        "--baseline",
        ".kubectl-vllm-baseline.json",
    ]);
    assert_eq!(quiet.status.code(), Some(0));
    let quiet = json(&quiet);
    assert_eq!(rules_of(&quiet), Vec::<String>::new());
    assert_eq!(
        quiet["summary"]["suppressed"],
        before["findings"].as_array().unwrap().len()
    );
    // Lines move and a new object arrives: only the new finding shows.
    let deployment = dir.join("vllm-deployment.yaml");
    let text = std::fs::read_to_string(&deployment).unwrap();
    std::fs::write(
        &deployment,
        format!("# moved\n# down\n{text}---\n{MISSING_LD}"),
    )
    .unwrap();
    let after = at(&[
        "lint",
        ".",
        "-o",
        "json",
        "--baseline",
        ".kubectl-vllm-baseline.json",
    ]);
    assert_eq!(after.status.code(), Some(1));
    let after = json(&after);
    assert_eq!(rules_of(&after), ["runtime-ld-library-path-gke"]);
    assert_eq!(after["findings"][0]["resource"]["name"], "p");
    let bad = at(&["lint", ".", "--baseline", "missing.json"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("cannot read the baseline missing.json"));
}

#[test]
fn completion_scripts_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F _kubectl__vllm"),
        ("zsh", "#compdef kubectl-vllm"),
        ("fish", "complete -c kubectl-vllm"),
    ] {
        let out = run(&["completion", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(
            script.contains("select") && script.contains("baseline"),
            "{shell}"
        );
    }
    assert_eq!(run(&["completion", "tcsh"]).status.code(), Some(2));
}

/// The repository's own pre-commit hook, run by the real pre-commit on a scratch repository:
/// a bad manifest blocks the commit, the fixed one passes. Needs `pre-commit` and `git` on PATH
/// (`.ci/run` installs pre-commit from PyPI when Python is there).
/// A git repository in a temporary directory with pre-commit set up to run this checkout's
/// hooks (`hooks`: the `.pre-commit-config.yaml` entries under `hooks:`) and the binary on PATH;
/// `None` (the test says SKIPPED) without pre-commit, git or a git checkout.
pub(super) struct PreCommit {
    pub dir: PathBuf,
    path: String,
}

impl PreCommit {
    pub(super) fn new(name: &str, hooks: &str) -> Option<Self> {
        let found = |tool: &str| {
            Command::new(tool)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if !found("pre-commit") || !found("git") {
            eprintln!("SKIPPED: pre-commit or git is not on PATH (pip install pre-commit)");
            return None;
        }
        let repo = super::repo();
        let head = Command::new("git")
            .current_dir(&repo)
            .args(["rev-parse", "HEAD"])
            .output()
            .unwrap();
        if !head.status.success() {
            eprintln!("SKIPPED: the source tree is not a git checkout");
            return None;
        }
        let rev = stdout(&head).trim().to_string();
        let dir = temp_dir(name);
        let bin_dir = Path::new(BIN).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let sandbox = Self { dir, path };
        assert!(sandbox.sh(&["git", "init", "-q"]).status.success());
        std::fs::write(
            sandbox.dir.join(".pre-commit-config.yaml"),
            format!(
                "repos:\n- repo: {}\n  rev: {rev}\n  hooks:\n{hooks}",
                repo.display()
            ),
        )
        .unwrap();
        std::fs::write(sandbox.dir.join(".gitignore"), ".pre-commit-home/\n").unwrap();
        let install = sandbox.sh(&["pre-commit", "install"]);
        assert!(install.status.success(), "{}", stderr(&install));
        Some(sandbox)
    }

    /// Runs `args` in the repository, as a user's shell would.
    pub(super) fn sh(&self, args: &[&str]) -> Output {
        Command::new(args[0])
            .args(&args[1..])
            .current_dir(&self.dir)
            .env("PATH", &self.path)
            .env("PRE_COMMIT_HOME", self.dir.join(".pre-commit-home"))
            .env("KUBECTL_VLLM_CACHE_DIR", super::cache_dir())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap()
    }

    /// `git add -A && git commit -qm MESSAGE`: stdout and stderr of the commit, and whether it
    /// went in.
    pub(super) fn commit(&self, message: &str) -> (bool, String) {
        assert!(self.sh(&["git", "add", "-A"]).status.success());
        let o = self.sh(&["git", "commit", "-qm", message]);
        (o.status.success(), format!("{}{}", stdout(&o), stderr(&o)))
    }
}

#[test]
fn pre_commit_hook_blocks_a_bad_manifest_then_allows_the_fix() {
    let Some(repo) = PreCommit::new("pre-commit", "  - id: kubectl-vllm-lint\n") else {
        return;
    };
    std::fs::write(repo.dir.join("pod.yaml"), MISSING_LD).unwrap();
    let (committed, said) = repo.commit("bad");
    assert!(!committed, "the bad manifest was committed");
    assert!(said.contains("runtime-ld-library-path-gke"), "{said}");
    // The image's own LD_LIBRARY_PATH is not known, so the repair is an unsafe fix: the user
    // accepts it explicitly.
    let fixed = repo.sh(&[
        "kubectl-vllm",
        "fix",
        "--write",
        "--unsafe-fixes",
        "pod.yaml",
    ]);
    assert_eq!(fixed.status.code(), Some(0), "{}", stderr(&fixed));
    let (committed, said) = repo.commit("good");
    assert!(committed, "{said}");
}

#[test]
fn config_init_writes_a_starter_that_lint_accepts_and_never_overwrites() {
    let dir = temp_dir("config-init");
    let at = |args: &[&str]| command().current_dir(&dir).args(args).output().unwrap();
    let first = at(&["config", "init"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let written = std::fs::read_to_string(dir.join(".kubectl-vllm.yaml")).unwrap();
    assert!(written.contains("# Severity overrides"));
    std::fs::write(dir.join("pod.yaml"), MISSING_LD).unwrap();
    // The starter is picked up (and valid): lint runs as with no config.
    assert_eq!(at(&["lint", "pod.yaml"]).status.code(), Some(1));
    std::fs::write(dir.join(".kubectl-vllm.yaml"), "mine: 1\n").unwrap();
    let again = at(&["config", "init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("cannot create .kubectl-vllm.yaml"));
    assert_eq!(
        std::fs::read_to_string(dir.join(".kubectl-vllm.yaml")).unwrap(),
        "mine: 1\n"
    );
}

#[test]
fn related_files_serve_lookups_but_are_not_reported() {
    let dir = "fixtures/field-report/as-written/gemma-1b";
    let file = "fixtures/field-report/as-written/gemma-1b/vllm-deployment.yaml";
    let key = |f: &Value| {
        format!(
            "{}:{}:{}",
            f["rule"].as_str().unwrap(),
            f["line"],
            f["column"]
        )
    };
    let whole = json(&run(&["lint", "-o", "json", dir]));
    let mut expected: Vec<String> = whole["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["file"] == file)
        .map(key)
        .collect();
    // The directory holds the file itself too: it is read once, and reported.
    let related = json(&run(&["lint", "-o", "json", file, "--related", dir]));
    let mut got: Vec<String> = related["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(key)
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    assert!(
        got.iter().any(|k| k.starts_with("pvc-rwo-multi-replica:")),
        "needs the PVC"
    );
    assert_eq!(related["summary"]["files"], 1);
    assert_eq!(related["summary"]["documents"], 1);
    // fix prints (and would write) only the reported file.
    let fixed = run(&["fix", file, "--related", dir]);
    assert!(!stdout(&fixed).contains("# Source:"), "{}", stdout(&fixed));
    assert!(stdout(&fixed).contains("kind: Deployment"));

    // A related directory whose only manifest is the input itself holds nothing missing: the
    // same findings, no "no manifests found" input error.
    let alone = temp_dir("related-alone");
    std::fs::write(alone.join("pod.yaml"), MISSING_LD).unwrap();
    let input = alone.join("pod.yaml").display().to_string();
    let by_itself = run(&["lint", "-o", "json", &input]);
    let with_related = run(&[
        "lint",
        "-o",
        "json",
        &input,
        "--related",
        &alone.display().to_string(),
    ]);
    assert_eq!(
        with_related.status.code(),
        by_itself.status.code(),
        "{}",
        stderr(&with_related)
    );
    assert!(
        !stderr(&with_related).contains("no manifests found"),
        "{}",
        stderr(&with_related)
    );
    assert_eq!(
        json(&with_related)["findings"],
        json(&by_itself)["findings"]
    );
}

/// No input passes green: a directory or stdin that yields no manifest is exit 2 with the reason
/// on stderr (what `-R`, the excludes or a Helm chart explain), for `lint` and `apply`'s client
/// dry run alike; a file named explicitly but excluded stays exit 0 with a note.
#[test]
fn an_input_without_manifests_is_an_error_never_a_clean_run() {
    let dir = std::env::temp_dir().join(format!("kubectl-vllm-empty-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("nested/deeper")).unwrap();
    std::fs::create_dir_all(dir.join("none")).unwrap();
    std::fs::create_dir_all(dir.join("chart/templates")).unwrap();
    std::fs::write(
        dir.join("chart/Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    )
    .unwrap();
    let pod = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";
    std::fs::write(dir.join("nested/deeper/a.yaml"), pod).unwrap();
    let path = |p: &str| dir.join(p).display().to_string();
    let (nested, none, chart) = (path("nested"), path("none"), path("chart"));
    let cases = [
        (
            vec!["lint", "--provider", "generic", nested.as_str()],
            "its subdirectories hold 1 manifest file; read them with `-R`",
        ),
        (
            vec!["lint", none.as_str()],
            "it holds no `.yaml`, `.yml` or `.json` file",
        ),
        (vec!["lint", chart.as_str()], "it is a Helm chart"),
        (
            vec!["lint", "-R", "--exclude", "**/a.yaml", nested.as_str()],
            "its only manifest file matched an `exclude` pattern",
        ),
        (
            vec!["apply", "--dry-run=client", none.as_str()],
            "no manifests found",
        ),
    ];
    for (args, why) in &cases {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(
            err.contains("error: no manifests found") && err.contains(why),
            "{args:?}: {err}"
        );
    }
    // JSON on stdout, the cause on stderr too.
    let o = run(&["lint", "-o", "json", &none]);
    assert_eq!(rules_of(&json(&o)), ["input-error"]);
    assert!(
        stderr(&o).contains("error: no manifests found in"),
        "{}",
        stderr(&o)
    );
    // Empty stdin, as a failed `helm template ... |` gives it.
    for text in ["", "\n# nothing\n---\n"] {
        let o = run_stdin(&["lint", "-"], text);
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
        assert!(
            stderr(&o).contains("no manifests found on stdin"),
            "{}",
            stderr(&o)
        );
    }
    // With -R the nested manifest is found; a file named explicitly but excluded is a note.
    let o = run(&["lint", "-R", "--provider", "generic", &nested]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let file = path("nested/deeper/a.yaml");
    let o = run(&["lint", "--exclude", "**/a.yaml", &file]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("matches an `exclude` pattern; not read"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The first run compiles nothing: the build embedded the policies' machine code and no cache is
/// written. Where that code does not fit (another CPU; `KUBECTL_VLLM_PRECOMPILED=off` stands in for
/// one) long work is never silent: the first run says it compiles the policies, the next (cached)
/// run says nothing. Cluster flags without `--cluster` are a warning, not silently dropped.
#[test]
fn compiling_and_ignored_cluster_flags_are_said() {
    let cache = std::env::temp_dir().join(format!("kubectl-vllm-first-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let lint = |precompiled: &str, extra: &[&str]| {
        command()
            .env("KUBECTL_VLLM_CACHE_DIR", &cache)
            .env("KUBECTL_VLLM_PRECOMPILED", precompiled)
            .args([
                "lint",
                "--provider",
                "generic",
                "fixtures/rules/shm-size/good.yaml",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let embedded = lint("on", &[]);
    assert_eq!(embedded.status.code(), Some(0), "{}", stderr(&embedded));
    assert!(
        !stderr(&embedded).contains("compiling"),
        "{}",
        stderr(&embedded)
    );
    assert!(
        !cache.exists(),
        "nothing was compiled, so nothing was cached"
    );
    let first = lint("off", &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("compiling 6 policies (first run; cached for the next ones)"),
        "{}",
        stderr(&first)
    );
    assert_eq!(stdout(&first), stdout(&embedded));
    let second = lint("off", &["--context", "prod"]);
    assert!(
        !stderr(&second).contains("compiling"),
        "{}",
        stderr(&second)
    );
    assert!(
        stderr(&second)
            .contains("warning: --context and --kubeconfig are ignored without --cluster"),
        "{}",
        stderr(&second)
    );
    let off = command()
        .env("KUBECTL_VLLM_CACHE_DIR", "off")
        .env("KUBECTL_VLLM_PRECOMPILED", "off")
        .args(["rules"])
        .output()
        .unwrap();
    assert!(
        stderr(&off).contains("(the artifact cache is off)"),
        "{}",
        stderr(&off)
    );
    let _ = std::fs::remove_dir_all(&cache);
}

/// `explain` forgives case and suggests the rules a prefix or part of an id could mean; `-o
/// github` promises a job summary only when `GITHUB_STEP_SUMMARY` is set.
#[test]
fn explain_suggests_and_github_promises_only_what_it_writes() {
    let o = run(&["explain", "Shm-Size"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("# shm-size\n"), "{}", stdout(&o));
    let o = run(&["explain", "shm"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `shm-missing`, `shm-size`?"),
        "{}",
        stderr(&o)
    );
    let github = |summary: Option<&Path>| {
        let mut command = command();
        command.args([
            "lint",
            "-R",
            "-o",
            "github",
            "fixtures/field-report/as-written",
        ]);
        match summary {
            Some(path) => command.env("GITHUB_STEP_SUMMARY", path),
            None => command.env_remove("GITHUB_STEP_SUMMARY"),
        };
        stdout(&command.output().unwrap())
    };
    let without = github(None);
    assert!(without.contains("more not annotated"), "{without}");
    assert!(!without.contains("the job summary lists"), "{without}");
    let path = std::env::temp_dir().join(format!("kubectl-vllm-summary-{}.md", std::process::id()));
    let with = github(Some(&path));
    assert!(
        with.contains("the job summary lists every finding"),
        "{with}"
    );
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("| warning |")
    );
    let _ = std::fs::remove_file(&path);
}

/// Copies of one object: differing in one directory an error, differing across directories a
/// warning (overlays applied together: the later wins), identical an info; the first is named.
#[test]
fn duplicate_objects_across_directories_are_warnings() {
    let dir = std::env::temp_dir().join(format!("kubectl-vllm-dup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["base", "overlay"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let service = |port: u16| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: vllm\nspec:\n  selector: {{app: vllm}}\n  ports: [{{port: {port}}}]\n"
        )
    };
    std::fs::write(dir.join("base/service.yaml"), service(8000)).unwrap();
    std::fs::write(dir.join("overlay/service.yaml"), service(80)).unwrap();
    let o = run(&[
        "lint",
        "-R",
        "-o",
        "json",
        "--provider",
        "generic",
        &dir.display().to_string(),
    ]);
    let report = json(&o);
    let findings: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "duplicate-object")
        .collect();
    assert_eq!(findings.len(), 1, "{report}");
    let finding = findings[0];
    assert_eq!(finding["severity"], "warning");
    assert!(
        finding["file"]
            .as_str()
            .unwrap()
            .ends_with("overlay/service.yaml")
    );
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("base/service.yaml:4") && message.contains("`spec.ports`"),
        "{message}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `config init` writes the starter (never over a file), and the starter is a config `lint`
/// accepts; its sections are checked one by one in the engine's config tests.
#[test]
fn config_init_writes_a_starter_lint_accepts() {
    let dir = std::env::temp_dir().join(format!("kubectl-vllm-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(".kubectl-vllm.yaml").display().to_string();
    let o = run(&["config", "init", &path]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("# cluster:")
    );
    let o = run(&["config", "init", &path]);
    assert_eq!(o.status.code(), Some(2), "never overwrites");
    let o = run(&[
        "lint",
        "--config",
        &path,
        "--provider",
        "generic",
        "fixtures/rules/shm-size/good.yaml",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `rules` is a table: every column starts where its header does, however long the longest id.
#[test]
fn the_rules_table_stays_aligned() {
    let o = run(&["rules"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    let mut lines = out.lines();
    let header = lines.next().unwrap();
    let columns: Vec<usize> = ["SEVERITY", "FIX", "POLICY", "SUMMARY"]
        .iter()
        .map(|h| header.find(&format!(" {h}")).unwrap() + 1)
        .collect();
    for line in lines {
        let chars: Vec<char> = line.chars().collect();
        for &at in &columns {
            assert!(
                chars[at - 1] == ' ' && chars[at] != ' ',
                "misaligned at {at}: {line}"
            );
        }
    }
}

/// `--help` groups the flags under headings and ends with kubectl-style examples.
#[test]
fn help_has_headings_and_examples() {
    for (command, headings) in [
        ("lint", &["Input:", "Policies:", "Report:", "Cluster:"][..]),
        ("fix", &["Input:", "Report:", "Fix:"][..]),
        ("apply", &["Input:", "Cluster:", "Apply:"][..]),
        ("diff", &["Input:", "Cluster:", "Diff:"][..]),
    ] {
        let o = run(&[command, "--help"]);
        assert_eq!(o.status.code(), Some(0));
        let help = stdout(&o);
        for heading in headings {
            assert!(
                help.lines().any(|l| l == *heading),
                "{command}: no {heading}\n{help}"
            );
        }
        let examples = help.split("\nExamples:\n").nth(1).unwrap_or_default();
        assert!(
            examples.contains(&format!("kubectl vllm {command} ")),
            "{command}: no examples\n{help}"
        );
    }
}

/// `lint --cluster` of a correct fixture, with a kubeconfig (written into `dir`) whose server is
/// `http://127.0.0.1:PORT`.
fn lint_cluster_at(dir: &Path, port: u16, extra: &[&str]) -> Output {
    let kubeconfig = dir.join("config");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"http://127.0.0.1:{port}\"}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
        ),
    )
    .unwrap();
    let kubeconfig = kubeconfig.display().to_string();
    let mut args = vec!["lint", "--cluster", "--kubeconfig", &kubeconfig];
    args.extend_from_slice(extra);
    args.push("fixtures/rules/shm-size/good.yaml");
    run(&args)
}

/// A kubeconfig pointing at something that is no API server (a proxy's HTML 404): the error
/// names the server, the request and the status, and says what to check.
#[test]
fn a_404_without_a_kubernetes_status_names_the_request() {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let body = "<html><body>404 page not found</body></html>";
            let _ = write!(
                &stream,
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let dir = temp_dir("not-an-api-server");
    let o = lint_cluster_at(&dir, port, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!("the server at http://127.0.0.1:{port}"))
            && e.contains("answered GET /api/v1/nodes without a Kubernetes Status"),
        "{e}"
    );
    assert!(
        e.contains("(404 Not Found)")
            && e.contains("is the kubeconfig's server address an API server"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A server that accepts and never answers is cut off by `--request-timeout`, with an error that
/// names it, instead of a long silence.
#[test]
fn a_hanging_server_is_cut_off_by_request_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream); // accepted, never answered
        }
    });
    let dir = temp_dir("hang");
    let started = std::time::Instant::now();
    let o = lint_cluster_at(&dir, port, &["--request-timeout", "1s"]);
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(took < std::time::Duration::from_secs(15), "took {took:?}");
    assert!(
        stderr(&o).contains(&format!("127.0.0.1:{port}")),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The first `name` on `PATH`.
fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}
