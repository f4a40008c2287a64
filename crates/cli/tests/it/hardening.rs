//! Hostile policies and hostile input: each is stopped and named as an error at its place, exit
//! 2, while the rest of the run is still reported, within a time bound and a memory bound.

use std::io::Write;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use super::cli::{MISSING_LD, command, json, rules_of, stderr, stdout, temp_dir};

/// The most the binary may take of resident memory on any of these runs (its peak, `VmHWM`).
const MEMORY_BOUND_KIB: u64 = 768 << 10;

/// Runs the binary with `stdin`, watching its peak resident memory until it exits.
fn watched(args: &[&str], stdin: &str) -> (Output, Duration, u64) {
    let started = Instant::now();
    let mut child = command()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut input = child.stdin.take().unwrap();
    let text = stdin.to_string();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        if let Some(hwm) = std::fs::read_to_string(&status).ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        }) {
            peak = peak.max(hwm);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    writer.join().unwrap();
    let output = child.wait_with_output().unwrap();
    (output, started.elapsed(), peak)
}

fn hostile_object(mode: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {mode}\n  annotations: {{hostile.kubectl-vllm.dev/mode: {mode}}}\n---\n"
    )
}

/// The policy-error findings' messages of a JSON report.
fn policy_errors(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "policy-error")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

/// One hostile evaluation per mode: named, exit 2, the built-in policies' finding on the other
/// object still reported, within the time and memory bounds.
#[test]
fn every_hostile_policy_is_stopped_named_and_the_run_goes_on() {
    let policy = kubectl_vllm_builtin::TEST_POLICY_HOSTILE;
    for (mode, says) in [
        ("huge-output", "exceeded its memory limit of 64 MiB"),
        (
            "flood",
            "50000 findings and skips for one object (at most 10000)",
        ),
        ("long-message", "a message of 1048576 bytes (at most 16384)"),
        ("recursion", "trapped"),
        ("bad-pointer", "returned malformed output"),
        ("bad-escape", "returned malformed output"),
        ("foreign-patch", "would make the object another object"),
        ("bad-json-patch", "value is not JSON"),
        ("deep-patch", "value is not JSON"),
        ("spin", "exceeded its time limit of 500ms"),
    ] {
        let input = hostile_object(mode) + MISSING_LD;
        let args = [
            "lint",
            "-",
            "-o",
            "json",
            "--policy",
            policy,
            "--policy-timeout",
            "500ms",
        ];
        let (o, took, peak) = watched(&args, &input);
        assert_eq!(o.status.code(), Some(2), "{mode}: {}", stderr(&o));
        let report = json(&o);
        let errors = policy_errors(&report);
        assert_eq!(errors.len(), 1, "{mode}: {errors:?}");
        assert!(
            errors[0].contains("policy `hostile`"),
            "{mode}: {}",
            errors[0]
        );
        assert!(errors[0].contains(says), "{mode}: {}", errors[0]);
        assert!(
            errors[0].contains(&format!("ConfigMap default/{mode}")),
            "{mode}: {}",
            errors[0]
        );
        assert!(
            rules_of(&report).contains(&"runtime-ld-library-path-gke".to_string()),
            "{mode}: the other policies' findings are missing"
        );
        assert!(took < Duration::from_secs(20), "{mode} took {took:?}");
        assert!(peak < MEMORY_BOUND_KIB, "{mode}: peak RSS {peak} KiB");
        eprintln!("{mode}: {took:?}, peak RSS {} MiB", peak >> 10);
    }
    // The control: the same policy, well behaved, reports.
    let o = super::cli::run_stdin(
        &["lint", "-", "-o", "json", "--policy", policy],
        &hostile_object("report"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(rules_of(&json(&o)).contains(&"hostile-one".to_string()));
}

/// Replaces every occurrence of `from` with `to` (same length) in `bytes`.
fn patched(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = bytes.to_vec();
    let mut found = 0;
    let mut i = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            found += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    assert!(
        found > 0,
        "{:?} not in the component",
        String::from_utf8_lossy(from)
    );
    out
}

/// Components that lie in their metadata or their types fail to load, named; the defaults run.
#[test]
fn lying_metadata_and_contracts_beyond_the_allow_list_are_refused_at_load() {
    let dir = temp_dir("liars");
    let wasm = std::fs::read(kubectl_vllm_builtin::TEST_POLICY_HOSTILE).unwrap();
    let liars = [
        // Two rules with one id.
        (
            "duplicate-ids.wasm",
            patched(&wasm, b"hostile-two", b"hostile-one"),
            "rule id `hostile-one` is declared twice",
        ),
        // A severity enum with a case the contract does not have (`fatal` for `error`).
        (
            "unknown-severity.wasm",
            patched(&wasm, b"\x05error\x07warning", b"\x05fatal\x07warning"),
            "failed to load: its exports do not match the contract",
        ),
    ];
    let forbidden = std::fs::read(kubectl_vllm_builtin::TEST_POLICY_FORBIDDEN).unwrap();
    let mut cases: Vec<(String, String)> = Vec::new();
    for (name, bytes, says) in liars {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        cases.push((path.display().to_string(), says.to_string()));
    }
    let path = dir.join("forbidden.wasm");
    std::fs::write(&path, forbidden).unwrap();
    cases.push((
        path.display().to_string(),
        "which a policy may not use".to_string(),
    ));
    for (path, says) in &cases {
        let (o, took, peak) = watched(&["lint", "-", "-o", "json", "--policy", path], MISSING_LD);
        assert_eq!(o.status.code(), Some(2), "{path}: {}", stderr(&o));
        let report = json(&o);
        let errors = policy_errors(&report);
        assert_eq!(errors.len(), 1, "{path}: {errors:?}");
        assert!(
            errors[0].contains(&format!("policy `{path}`")),
            "{}",
            errors[0]
        );
        assert!(errors[0].contains(says.as_str()), "{path}: {}", errors[0]);
        assert!(rules_of(&report).contains(&"runtime-ld-library-path-gke".to_string()));
        assert!(
            took < Duration::from_secs(20) && peak < MEMORY_BOUND_KIB,
            "{took:?} {peak}"
        );
    }
    // Every interface outside the allow-list is named, clocks and random included.
    let (o, _, _) = watched(
        &["lint", "-", "-o", "json", "--policy", &cases[2].0],
        MISSING_LD,
    );
    let message = &policy_errors(&json(&o))[0];
    for import in [
        "wasi:filesystem/preopens",
        "wasi:sockets/",
        "wasi:clocks/wall-clock",
        "wasi:clocks/monotonic-clock",
        "wasi:random/random",
    ] {
        assert!(message.contains(import), "{import} not named: {message}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Input past each bound is a located `input-error` (also on stderr), found before the file is
/// read whole; what is within the bounds is still linted.
#[test]
fn input_past_a_limit_is_a_located_error_and_the_rest_is_linted() {
    let dir = temp_dir("limits");
    // 200 MB, sparse: refused from its size, in well under a second, without reading it.
    let big = dir.join("bundle.yaml");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(200 << 20)
        .unwrap();
    let good = dir.join("pod.yaml");
    std::fs::write(&good, MISSING_LD).unwrap();
    let started = Instant::now();
    let o = command()
        .args([
            "lint",
            "-o",
            "json",
            &big.display().to_string(),
            &good.display().to_string(),
        ])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(took < Duration::from_secs(2), "{took:?}");
    let report = json(&o);
    let error = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "input-error")
        .unwrap();
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("it is 200.0 MiB, over the 64.0 MiB"),
        "{message}"
    );
    assert!(message.contains("--limit file-bytes=256Mi"), "{message}");
    assert!(stderr(&o).contains("bundle.yaml"), "{}", stderr(&o));
    assert!(rules_of(&report).contains(&"runtime-ld-library-path-gke".to_string()));
    // Raised, it is read (and is not YAML: NUL bytes).
    let o = command()
        .args([
            "lint",
            "-o",
            "json",
            "--limit",
            "file-bytes=256Mi",
            &big.display().to_string(),
        ])
        .output()
        .unwrap();
    assert!(!stdout(&o).contains("file-bytes"), "{}", stdout(&o));

    let config_map =
        |i: usize| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n---\n");
    let five: String = (0..5).map(config_map).collect();
    let deep = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata: {}1{}\n",
        "[".repeat(40),
        "]".repeat(40)
    );
    let long = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: long\ndata:\n  k: {}\n",
        "x".repeat(4096)
    );
    for (input, limit, line, says) in [
        (
            five.clone(),
            "documents=3",
            15,
            "more than 3 documents in one file",
        ),
        (
            five.clone(),
            "objects=4",
            21,
            "the run holds 5 objects, more than 4: this one and every later one (1 in all)",
        ),
        (deep.clone(), "depth=32", 5, "nest more than 32 levels deep"),
        (
            long.clone(),
            "scalar-bytes=1Ki",
            6,
            "a scalar of 4.0 KiB exceeds the 1.0 KiB",
        ),
        (five.clone(), "file-bytes=64", 0, "it holds more than 64 B"),
    ] {
        let o = super::cli::run_stdin(&["lint", "-", "-o", "json", "--limit", limit], &input);
        assert_eq!(o.status.code(), Some(2), "{limit}: {}", stderr(&o));
        let report = json(&o);
        let errors: Vec<&serde_json::Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "input-error")
            .collect();
        assert_eq!(errors.len(), 1, "{limit}: {errors:?}");
        let message = errors[0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{limit}: {message}");
        assert!(
            message.contains(&format!("--limit {}=", limit.split('=').next().unwrap())),
            "{message}"
        );
        if line > 0 {
            assert_eq!(errors[0]["line"], line, "{limit}: {message}");
        }
        assert!(stderr(&o).contains(says), "{limit}: {}", stderr(&o));
    }
    // The defaults hold all of these.
    for input in [five, deep, long] {
        let o = super::cli::run_stdin(&["lint", "-", "-o", "json"], &input);
        assert_ne!(o.status.code(), Some(2), "{}", stdout(&o));
    }
    // A typo in a limit is a usage error.
    let o = command()
        .args(["lint", "--limit", "bytes=1", "x.yaml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown limit `bytes`"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `lint` and `fix` read no environment variable, file or network address a manifest names,
/// and a kustomization with a remote base is refused before kustomize could fetch it.
#[test]
fn nothing_a_manifest_names_is_read_fetched_or_run() {
    let dir = temp_dir("names");
    let secret_file = dir.join("secret.txt");
    std::fs::write(&secret_file, "marker-file-91c2").unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let manifest = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: vllm\n    image: 127.0.0.1:{port}/vllm/vllm-openai:v0.10.1\n    command: [\"sh\", \"-c\", \"vllm serve $(MODEL) --download-dir {file} && cat {file} && curl http://127.0.0.1:{port}/\"]\n    env:\n    - name: MODEL\n      value: $(KUBECTL_VLLM_TEST_SECRET)\n    - name: HF_HOME\n      value: http://127.0.0.1:{port}/hub\n    volumeMounts: [{{name: data, mountPath: /data}}]\n  volumes:\n  - name: data\n    hostPath: {{path: {file}}}\n",
        file = secret_file.display()
    );
    let path = dir.join("pod.yaml");
    std::fs::write(&path, &manifest).unwrap();
    for args in [
        vec!["lint", "-o", "json"],
        vec!["lint"],
        vec!["fix", "--diff", "--unsafe-fixes"],
    ] {
        let o = command()
            .args(&args)
            .arg(&path)
            .env("KUBECTL_VLLM_TEST_SECRET", "marker-env-7f3a")
            .output()
            .unwrap();
        let all = stdout(&o) + &stderr(&o);
        assert!(
            !all.contains("marker-env-7f3a"),
            "{args:?} read the environment: {all}"
        );
        assert!(
            !all.contains("marker-file-91c2"),
            "{args:?} read the file: {all}"
        );
    }
    assert!(
        listener.accept().is_err(),
        "a run connected to an address the manifest names"
    );

    let kustomization = dir.join("overlay");
    std::fs::create_dir_all(kustomization.join("local")).unwrap();
    std::fs::write(
        kustomization.join("local/kustomization.yaml"),
        "resources:\n- github.com/kubernetes-sigs/kustomize//examples/multibases?ref=v3.3.1\n",
    )
    .unwrap();
    std::fs::write(
        kustomization.join("kustomization.yaml"),
        "resources:\n- local\n",
    )
    .unwrap();
    let o = command()
        .args([
            "lint",
            "-o",
            "json",
            "-k",
            &kustomization.display().to_string(),
        ])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let report = json(&o);
    let message = report["findings"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(message.contains("uses the remote base `github.com/kubernetes-sigs/kustomize//examples/multibases?ref=v3.3.1`"), "{message}");
    assert!(message.contains("local"), "{message}");
    assert!(
        message.contains("never fetches over the network"),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
