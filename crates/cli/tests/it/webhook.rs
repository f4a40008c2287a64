//! `kubectl vllm webhook`: the real binary serving real HTTPS on loopback, spoken to as the API
//! server speaks to it (AdmissionReview v1 bodies from fixtures/webhook/, made by its make.py the
//! way the API server hands objects to webhooks; the certificate verified for the Service's DNS
//! name against the caBundle `webhook cert` wrote).

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use kubectl_vllm_webhook::client::{Client, Reply};

use super::cli::{command, run, run_stdin, stderr, stdout, temp_dir};

/// The name the API server verifies the certificate for.
const SERVICE_NAME: &str = "kubectl-vllm-webhook.kubectl-vllm.svc";

/// A running `webhook serve`.
struct Served {
    child: Child,
    address: SocketAddr,
    ca: Vec<u8>,
    dir: PathBuf,
    log: Arc<Mutex<String>>,
}

/// Writes a CA and serving certificate into `dir` with `webhook cert`.
fn certificate(dir: &Path) -> Vec<u8> {
    let o = run(&["webhook", "cert", "--out-dir", &dir.display().to_string()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("kubectl-vllm-webhook.kubectl-vllm.svc"),
        "{}",
        stdout(&o)
    );
    std::fs::read(dir.join("ca.crt")).unwrap()
}

fn serve(name: &str, args: &[&str]) -> Served {
    let dir = temp_dir(&format!("webhook-{name}"));
    let ca = certificate(&dir);
    serve_in(dir, ca, args)
}

fn serve_in(dir: PathBuf, ca: Vec<u8>, args: &[&str]) -> Served {
    // Tests end their servers by killing them; no delay unless the test sets one.
    let delay: &[&str] = if args.contains(&"--shutdown-delay") {
        &[]
    } else {
        &["--shutdown-delay", "0s"]
    };
    let mut child = command()
        .args(["webhook", "serve", "--listen", "127.0.0.1:0"])
        .args(delay)
        .arg("--tls-cert")
        .arg(dir.join("tls.crt"))
        .arg("--tls-key")
        .arg(dir.join("tls.key"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = BufReader::new(child.stderr.take().unwrap());
    let written = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("listening on https://") {
                let _ = tx.send(
                    rest.split_whitespace()
                        .next()
                        .unwrap()
                        .parse::<SocketAddr>(),
                );
            }
            let mut log = written.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    let Ok(address) = rx.recv_timeout(Duration::from_mins(2)) else {
        let _ = child.kill();
        panic!("the webhook did not start:\n{}", log.lock().unwrap());
    };
    let address = address.unwrap();
    Served {
        child,
        address,
        ca,
        dir,
        log,
    }
}

impl Served {
    fn client(&self) -> Client {
        Client::connect(self.address, SERVICE_NAME, &self.ca).unwrap()
    }

    fn review(&self, path: &str, body: &[u8]) -> Reply {
        self.client().post(path, "application/json", body).unwrap()
    }

    /// The `response` of a review of fixture `name` (fixtures/webhook/NAME.json).
    fn answer(&self, path: &str, name: &str) -> Value {
        let reply = self.review(path, &fixture(name));
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.content_type, "application/json");
        let review = reply.json();
        assert_eq!(review["apiVersion"], "admission.k8s.io/v1", "{review:#}");
        assert_eq!(review["kind"], "AdmissionReview");
        let sent: Value = serde_json::from_slice(&fixture(name)).unwrap();
        assert_eq!(review["response"]["uid"], sent["request"]["uid"]);
        review["response"].clone()
    }

    /// Asserts that `/metrics` has the line `kubectl_vllm_webhook_requests_total{endpoint="ENDPOINT",
    /// outcome="OUTCOME"} COUNT`.
    fn assert_requests(&self, endpoint: &str, outcome: &str, count: u64) {
        let metrics = self.client().get("/metrics").unwrap().text();
        let line = format!(
            "kubectl_vllm_webhook_requests_total{{endpoint=\"{endpoint}\",outcome=\"{outcome}\"}} {count}"
        );
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} not in:\n{metrics}"
        );
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        while self.client().get("/readyz").unwrap().status != 200 {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "never ready:\n{}",
                self.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        super::repo()
            .join("fixtures/webhook")
            .join(format!("{name}.json")),
    )
    .unwrap()
}

fn warnings(response: &Value) -> Vec<String> {
    response["warnings"]
        .as_array()
        .map(|w| w.iter().map(|w| w.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// A review of `object` as the API server sends a CREATE.
fn create_review(object: &Value) -> Vec<u8> {
    let (group, version) = match object["apiVersion"].as_str().unwrap().rsplit_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (
            String::new(),
            object["apiVersion"].as_str().unwrap().to_string(),
        ),
    };
    let kind = object["kind"].as_str().unwrap();
    let gvk = json!({"group": group, "version": version, "kind": kind});
    let gvr = json!({"group": group, "version": version, "resource": format!("{}s", kind.to_lowercase())});
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "00000000-0000-4000-8000-000000000001", "kind": gvk, "resource": gvr,
            "requestKind": gvk, "requestResource": gvr,
            "name": object["metadata"]["name"], "namespace": object["metadata"].get("namespace").cloned().unwrap_or(json!("default")),
            "operation": "CREATE", "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": object, "oldObject": null, "dryRun": false,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}
        }
    }))
    .unwrap()
}

#[test]
fn reviews_are_answered_warned_denied_and_mutated_over_https() {
    let server = serve("answers", &["--offline", "--mode", "enforce", "--mutate"]);
    // CREATE of the field report's gemma-27b Deployment, defaulted by the API server: denied for
    // its error, its warnings listed.
    let created = server.answer("/validate?timeout=10s", "deployment-create");
    assert_eq!(created["allowed"], false, "{created:#}");
    assert_eq!(created["status"]["code"], 403);
    assert_eq!(
        created["status"]["message"],
        "shm-missing: container `vllm-container` runs tensor/pipeline parallelism (4 × 1) with the 64 MiB default /dev/shm: NCCL will fail (spec.template.spec.containers[0].volumeMounts)"
    );
    let warned = warnings(&created);
    assert!(
        warned.iter().any(|w| w.starts_with(
            "warning probe-missing-readiness: container `vllm-container` has no readinessProbe"
        ) && w.ends_with("(spec.template.spec.containers[0])")),
        "{warned:#?}"
    );
    assert_eq!(warned.len(), 3, "{warned:#?}");
    // A dry run is answered the same way.
    let dry = server.answer("/validate?timeout=10s", "deployment-create-dry-run");
    assert_eq!(dry["status"], created["status"]);
    assert_eq!(dry["warnings"], created["warnings"]);
    // UPDATE: only what the update added denies; what the old object had too is a warning.
    let updated = server.answer("/validate", "deployment-update");
    assert_eq!(updated["allowed"], false);
    let message = updated["status"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("vllm-tp-heads: google/gemma-3-27b-it has 32 attention heads")
            && !message.contains("shm-missing"),
        "{message}"
    );
    assert!(
        warnings(&updated).iter().any(
            |w| w.starts_with("error shm-missing:") && w.ends_with("[also before this update]")
        ),
        "{updated:#}"
    );
    // The deployment controller's own update of an old object is never denied.
    let touched = server.answer("/validate", "deployment-update-unchanged");
    assert_eq!(touched["allowed"], true, "{touched:#}");
    // A Pod its ReplicaSet makes: its owner was admitted; warned, not denied.
    let pod = server.answer("/validate", "pod-from-replicaset");
    assert_eq!(pod["allowed"], true, "{pod:#}");
    assert!(
        warnings(&pod)
            .iter()
            .any(|w| w.starts_with("error shm-missing:")
                && w.ends_with("[not denied: made by ReplicaSet vllm-gemma-27b-6b7f9c5d8]")),
        "{pod:#}"
    );
    assert!(
        !warnings(&pod).iter().any(|w| w.contains("schema")),
        "the generated name is valid: {pod:#}"
    );
    // Mutation: the safe fixes as a base64 JSON Patch that applies to the object as sent; the
    // patched object is admitted.
    let mutated = server.answer("/mutate?timeout=10s", "deployment-create");
    assert_eq!(mutated["allowed"], true);
    assert_eq!(mutated["patchType"], "JSONPatch");
    let patch: Vec<Value> = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(mutated["patch"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let fixed: Vec<String> = warnings(&mutated);
    assert!(
        fixed.contains(
            &"kubectl-vllm fixed shm-missing: mount a 8Gi Memory emptyDir at /dev/shm".to_string()
        ),
        "{fixed:#?}"
    );
    let sent: Value = serde_json::from_slice(&fixture("deployment-create")).unwrap();
    let patched = kubectl_vllm_webhook::check::applies(&sent["request"]["object"], &patch).unwrap();
    let mut review = sent.clone();
    review["request"]["object"] = patched;
    let reply = server.review("/validate", &serde_json::to_vec(&review).unwrap());
    let after = &reply.json()["response"];
    assert_eq!(after["allowed"], true, "{after:#}");
    assert!(
        !warnings(after)
            .iter()
            .any(|w| w.contains("shm-missing") || w.contains("probe-missing-readiness")),
        "{after:#}"
    );
    // The metrics count all of it.
    let metrics = server.client().get("/metrics").unwrap();
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .content_type
            .starts_with("text/plain; version=0.0.4")
    );
    let text = metrics.text();
    for line in [
        "kubectl_vllm_webhook_requests_total{endpoint=\"validate\",outcome=\"denied\"} 3",
        "kubectl_vllm_webhook_requests_total{endpoint=\"mutate\",outcome=\"allowed\"} 1",
        "kubectl_vllm_webhook_findings_total{rule=\"shm-missing\",severity=\"error\"} 5",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
    }
    assert!(
        text.contains(
            "kubectl_vllm_webhook_request_duration_seconds_count{endpoint=\"validate\"} 6"
        ),
        "{text}"
    );
    // Warn mode admits the same object with its error as a warning.
    drop(server);
    let server = serve("warn", &["--offline"]);
    let warned = server.answer("/validate", "deployment-create");
    assert_eq!(warned["allowed"], true);
    assert!(
        warnings(&warned)
            .iter()
            .any(|w| w.starts_with("error shm-missing:")),
        "{warned:#}"
    );
    assert_eq!(
        server
            .review("/mutate", &fixture("deployment-create"))
            .status,
        404,
        "no mutation without --mutate"
    );
}

#[test]
fn bad_requests_are_400_and_the_server_goes_on() {
    let server = serve("bad", &["--offline", "--max-request-bytes", "65536"]);
    let mut client = server.client();
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "application/json",
            b"{not json".to_vec(),
            "the body is not JSON",
        ),
        (
            "text/plain",
            fixture("deployment-create"),
            "Content-Type must be application/json",
        ),
        (
            "application/json",
            br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}}"#
                .to_vec(),
            "expected an admission.k8s.io/v1 AdmissionReview",
        ),
        (
            "application/json",
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_vec(),
            "no request",
        ),
        (
            "application/json",
            vec![b' '; 70_000],
            "larger than 65536 bytes",
        ),
    ];
    for (content_type, body, says) in cases {
        let reply = client.post("/validate", content_type, &body).unwrap();
        assert_eq!(reply.status, 400, "{says}: {}", reply.text());
        assert!(reply.text().contains(says), "{says}: {}", reply.text());
        // A new connection each time: the server may close one after an oversized body.
        client = server.client();
    }
    assert_eq!(client.get("/validate").unwrap().status, 405);
    assert_eq!(server.client().get("/nope").unwrap().status, 404);
    assert_eq!(server.client().get("/livez").unwrap().status, 200);
    server.wait_ready();
    let answer = server.answer("/validate", "deployment-create");
    assert_eq!(answer["allowed"], true, "the server still answers");
    server.assert_requests("validate", "invalid", 5);
}

#[test]
fn a_looping_policy_is_cut_at_the_deadline_while_other_reviews_are_answered() {
    let server = serve(
        "loop",
        &[
            "--offline",
            "--policy",
            kubectl_vllm_builtin::TEST_POLICY_CHAOS,
            "--deadline",
            "1s",
            "--policy-timeout",
            "3s",
            "--concurrency",
            "2",
        ],
    );
    server.wait_ready();
    let chaos = |mode: &str| {
        let mut review: Value = serde_json::from_slice(&fixture("deployment-create")).unwrap();
        review["request"]["object"]["metadata"]["annotations"]["chaos.kubectl-vllm.dev/mode"] =
            json!(mode);
        serde_json::to_vec(&review).unwrap()
    };
    let looping = chaos("loop");
    let address = (server.address, server.ca.clone());
    let spinner = std::thread::spawn(move || {
        let start = Instant::now();
        let reply = Client::connect(address.0, SERVICE_NAME, &address.1)
            .unwrap()
            .post("/validate", "application/json", &looping)
            .unwrap();
        (start.elapsed(), reply)
    });
    std::thread::sleep(Duration::from_millis(100));
    // Meanwhile, on the other linter: ordinary reviews, each well within its deadline.
    let mut client = server.client();
    for _ in 0..5 {
        let start = Instant::now();
        let reply = client
            .post(
                "/validate",
                "application/json",
                &fixture("deployment-create"),
            )
            .unwrap();
        let took = start.elapsed();
        assert!(
            took < Duration::from_millis(900),
            "a review took {took:?} beside the loop"
        );
        assert_eq!(reply.json()["response"]["allowed"], true);
        assert!(!reply.text().contains("did not check"), "{}", reply.text());
    }
    let (took, reply) = spinner.join().unwrap();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(1800),
        "the looping review was answered after {took:?}"
    );
    let response = &reply.json()["response"];
    assert_eq!(response["allowed"], true, "fail open: {response:#}");
    assert!(
        warnings(response)[0].starts_with("kubectl-vllm did not check this object: the policies did not finish within the deadline"),
        "{response:#}"
    );
    // The loop ends at the sandbox's per-call limit; the trapped instance is replaced and the
    // policy answers the next review.
    std::thread::sleep(Duration::from_millis(2500));
    let reported = server.review("/validate", &chaos("report"));
    assert!(
        reported.text().contains("chaos-report"),
        "{}",
        reported.text()
    );
    // A policy that traps: a policy error, admitted with a warning that names it.
    let trapped = server.review("/validate", &chaos("trap"));
    let response = &trapped.json()["response"];
    assert_eq!(response["allowed"], true, "{response:#}");
    assert!(
        warnings(response).iter().any(|w| w
            .starts_with("kubectl-vllm could not check: policy-error:")
            && w.contains("chaos")),
        "{response:#}"
    );
    server.assert_requests("validate", "unchecked", 2);
}

#[test]
fn policy_errors_deny_with_deny_on_policy_error() {
    let server = serve(
        "deny-errors",
        &[
            "--offline",
            "--policy",
            kubectl_vllm_builtin::TEST_POLICY_CHAOS,
            "--deny-on-policy-error",
        ],
    );
    let mut review: Value = serde_json::from_slice(&fixture("deployment-create")).unwrap();
    review["request"]["object"]["metadata"]["annotations"]["chaos.kubectl-vllm.dev/mode"] =
        json!("trap");
    let reply = server.review("/validate", &serde_json::to_vec(&review).unwrap());
    let response = &reply.json()["response"];
    assert_eq!(response["allowed"], false, "{response:#}");
    assert!(
        response["status"]["message"]
            .as_str()
            .unwrap()
            .contains("policy `chaos` trapped"),
        "{response:#}"
    );
}

#[test]
fn a_renewed_certificate_is_served_without_a_restart() {
    let server = serve("reload", &["--offline", "--tls-reload-interval", "100ms"]);
    assert_eq!(server.client().get("/livez").unwrap().status, 200);
    let renewed = temp_dir("webhook-reload-renewed");
    let new_ca = certificate(&renewed);
    // As the kubelet swaps a Secret's files: the key first (the old pair keeps being served
    // while the two do not match), then the certificate.
    std::fs::copy(renewed.join("tls.key"), server.dir.join("tls.key")).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        Client::connect(server.address, SERVICE_NAME, &server.ca).is_ok(),
        "the old pair is still served"
    );
    std::fs::copy(renewed.join("tls.crt"), server.dir.join("tls.crt")).unwrap();
    let start = Instant::now();
    while Client::connect(server.address, SERVICE_NAME, &new_ca).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{}",
            server.log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        Client::connect(server.address, SERVICE_NAME, &server.ca).is_err(),
        "the old CA no longer verifies"
    );
    let log = server.log.lock().unwrap().clone();
    assert!(
        log.contains("warning: TLS certificate not reloaded, the old one is served"),
        "{log}"
    );
    assert!(log.contains("info: TLS certificate reloaded"), "{log}");
    let _ = std::fs::remove_dir_all(&renewed);
}

#[test]
fn sigterm_fails_readiness_drains_and_exits_0() {
    let dir = temp_dir("webhook-term");
    let ca = certificate(&dir);
    let mut server = serve_in(dir, ca, &["--offline", "--shutdown-delay", "1s"]);
    server.wait_ready();
    let mut kept = server.client();
    let o = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .output()
        .unwrap();
    assert!(o.status.success());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.client().get("/readyz").unwrap().status, 503);
    // Reviews are still answered during the delay.
    assert_eq!(
        kept.post(
            "/validate",
            "application/json",
            &fixture("deployment-create")
        )
        .unwrap()
        .status,
        200
    );
    let start = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "still running");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "{status:?}\n{}",
        server.log.lock().unwrap()
    );
    assert!(server.log.lock().unwrap().contains("shutting down"));
}

#[test]
fn the_install_manifests_are_safe_by_default_and_lint_clean() {
    let dir = temp_dir("webhook-manifests");
    let ca = certificate(&dir);
    let ca_path = dir.join("ca.crt").display().to_string();
    let o = run(&["webhook", "manifests", "--ca-bundle", &ca_path]);
    assert!(o.status.success(), "{}", stderr(&o));
    let yaml = stdout(&o);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&ca);
    for expected in [
        "failurePolicy: Ignore",
        "timeoutSeconds: 10",
        "sideEffects: None",
        "admissionReviewVersions: [v1]",
        "kubectl-vllm.dev/admission: enabled",
        "values: [kubectl-vllm, kube-system]",
        "replicas: 2",
        "kind: PodDisruptionBudget",
        &format!("caBundle: {encoded}"),
        "- --mode=warn",
    ] {
        assert!(yaml.contains(expected), "{expected} not in:\n{yaml}");
    }
    assert!(!yaml.contains("MutatingWebhookConfiguration"));
    let o = run_stdin(&["lint", "-", "--fail-on", "warning"], &yaml);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let o = run(&[
        "webhook",
        "manifests",
        "--cert-manager",
        "--mutate",
        "--mode",
        "enforce",
        "--failure-policy",
        "Fail",
        "-n",
        "platform",
    ]);
    let yaml = stdout(&o);
    for expected in [
        "cert-manager.io/inject-ca-from: platform/kubectl-vllm-webhook",
        "kind: Certificate",
        "kind: MutatingWebhookConfiguration",
        "failurePolicy: Fail",
        "- --mutate",
        "- --mode=enforce",
    ] {
        assert!(yaml.contains(expected), "{expected} not in:\n{yaml}");
    }
    assert!(!yaml.contains("caBundle"));
    let o = run_stdin(&["lint", "-", "--fail-on", "warning"], &yaml);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let o = run(&["webhook", "manifests"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--ca-bundle"), "{}", stderr(&o));
    let o = run(&["webhook", "manifests", "--ca-bundle", "Cargo.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no PEM certificate"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The kinds the install manifests send to the webhook.
const REVIEWED: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "Job",
    "LeaderWorkerSet",
    "Pod",
    "PersistentVolumeClaim",
    "Service",
];

/// Rules that read the YAML text rather than the object: the API server decodes the manifest
/// before admission, so what they find is gone by then (a duplicate key keeps its last value).
const TEXT_ONLY: &[&str] = &["runtime-duplicate-keys"];

/// `lint` on a file holding one object and the webhook reviewing that object give the same
/// findings: rule, severity, field and message, for every reviewed object of the field report
/// and of the real-world manifests.
#[test]
fn lint_and_the_webhook_agree_on_every_object() {
    let server = serve("parity", &["--offline", "--warn-on", "info"]);
    let root = super::repo();
    let dir = temp_dir("webhook-parity");
    let mut files: Vec<PathBuf> = Vec::new();
    for corpus in ["fixtures/field-report", "fixtures/real-world"] {
        let mut stack = vec![root.join(corpus)];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(path);
            }
        }
    }
    files.sort();
    let (mut compared, mut findings) = (0, 0);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let manifests = kubectl_vllm_manifest::Manifests::load(
            &[kubectl_vllm_manifest::Input::from(
                file.display().to_string().as_str(),
            )],
            &kubectl_vllm_manifest::LoadOptions::default(),
        );
        for object in &manifests.objects {
            if !REVIEWED.contains(&object.reference.kind.as_str()) || !object.id().item.is_root() {
                continue;
            }
            let Some(document) = manifests.document_text(object) else {
                continue;
            };
            let alone = dir.join(format!("object-{compared}.yaml"));
            std::fs::write(&alone, document).unwrap();
            let o = run(&["lint", "-o", "json", &alone.display().to_string()]);
            let report: Value =
                serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
            let name = alone.display().to_string();
            let mut expected: Vec<String> = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| !TEXT_ONLY.contains(&f["rule"].as_str().unwrap()))
                .map(|f| {
                    let pointer =
                        kubectl_vllm_core::Pointer::parse(f["pointer"].as_str().unwrap_or(""))
                            .unwrap();
                    let message = f["message"].as_str().unwrap();
                    let message = kubectl_vllm_webhook::check::without_locations(message, &name);
                    let field = if pointer.is_root() {
                        String::new()
                    } else {
                        format!(" ({})", kubectl_vllm_webhook::check::field_path(&pointer))
                    };
                    format!(
                        "{} {}: {message}{field}",
                        f["severity"].as_str().unwrap(),
                        f["rule"].as_str().unwrap()
                    )
                })
                .collect();
            let mut json_object = object.json.clone();
            if json_object["metadata"].get("namespace").is_none() {
                json_object["metadata"]["namespace"] = json!("default");
            }
            let reply = server.review("/validate", &create_review(&json_object));
            let response = &reply.json()["response"];
            let mut got = warnings(response);
            assert!(
                got.len() < 20,
                "{}: too many findings to compare",
                file.display()
            );
            // Errors first, then warnings, then infos.
            let rank = |w: &String| {
                ["error ", "warning ", "info "]
                    .iter()
                    .position(|s| w.starts_with(s))
            };
            assert!(
                got.windows(2).all(|p| rank(&p[0]) <= rank(&p[1])),
                "{got:#?}"
            );
            expected.sort();
            got.sort();
            let clip = |l: &String| l.chars().take(250).collect::<String>();
            let expected: Vec<String> = expected.iter().map(clip).collect();
            let got: Vec<String> = got.iter().map(clip).collect();
            assert_eq!(
                got,
                expected,
                "{} ({} {}): the webhook and lint differ\n{text}",
                file.display(),
                object.reference.kind,
                object.reference.name
            );
            compared += 1;
            findings += expected.len();
        }
    }
    assert!(
        compared >= 40 && findings >= 100,
        "compared {compared} objects, {findings} findings"
    );
    eprintln!(
        "parity: {compared} objects, {findings} findings, the same from lint and the webhook"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The field report's gemma-1b Deployment in namespace `ml`, its token from Secret `secret`.
fn gemma_in_ml(secret: &str) -> Value {
    let path = super::repo().join("fixtures/field-report/correct/gemma-1b/deployment.yaml");
    let manifests = kubectl_vllm_manifest::Manifests::load(
        &[kubectl_vllm_manifest::Input::from(
            path.display().to_string().as_str(),
        )],
        &kubectl_vllm_manifest::LoadOptions::default(),
    );
    let mut object = manifests.objects[0].json.clone();
    object["metadata"]["namespace"] = json!("ml");
    let env = object
        .pointer_mut("/spec/template/spec/containers/0/env")
        .and_then(Value::as_array_mut)
        .unwrap();
    env.push(json!({"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret, "key": "token"}}}));
    object
}

/// `rule` lines among the warnings of a review of `object`.
fn lines_of(server: &Served, object: &Value, rule: &str) -> Vec<String> {
    let reply = server.review("/validate", &create_review(object));
    assert_eq!(reply.status, 200, "{}", reply.text());
    warnings(&reply.json()["response"])
        .into_iter()
        .filter(|w| w.split_whitespace().nth(1) == Some(&format!("{rule}:")))
        .collect()
}

/// Live facts over the real kube-rs client against the API double: nodes and storage classes
/// from reflectors (one LIST and a WATCH each, ready only after both listed, changes seen
/// without a restart), referenced objects by GET; a Secret the cluster lacks is an error for
/// `lint --cluster` but only `info` at admission, where it may come later in the same apply.
#[test]
fn live_facts_come_from_watches_and_absence_is_not_an_error_at_admission() {
    let spot = json!({"key": "cloud.google.com/gke-spot", "value": "true", "effect": "NoSchedule"});
    let double = super::apply::bare_cluster(&[spot]);
    double.seed(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}}),
        "kubectl-create",
    );
    double.seed(
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hf", "namespace": "ml"}, "data": {"token": "c2VjcmV0"}}),
        "kubectl-create",
    );
    let dir = temp_dir("webhook-live-kubeconfig");
    let kubeconfig = double.kubeconfig(&dir, "ml", "t0ken");
    let server = serve(
        "live",
        &[
            "--kubeconfig",
            &kubeconfig.display().to_string(),
            "--warn-on",
            "info",
        ],
    );
    server.wait_ready();
    let log = server.log.lock().unwrap().clone();
    assert!(log.contains("live cluster facts"), "{log}");
    let watched: Vec<String> = double
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && !r.path.contains("/namespaces/"))
        .map(kubectl_vllm_apidouble::Request::line)
        .collect();
    for list in [
        "GET /api/v1/nodes",
        "GET /apis/storage.k8s.io/v1/storageclasses",
    ] {
        assert!(watched.iter().any(|l| l == list), "{list} in {watched:#?}");
    }
    // The live L4 pool is Spot, which the Deployment does not tolerate: an error, as for
    // `lint --cluster`, where the config's profile (offline) knows no such taint.
    let missing = gemma_in_ml("hf-missing");
    let tainted = lines_of(&server, &missing, "taint-not-tolerated");
    assert_eq!(tainted.len(), 1, "{tainted:#?}");
    assert!(tainted[0].starts_with("error "), "{tainted:#?}");
    // The Secret is neither in the review nor in the cluster: info at admission...
    let secret = lines_of(&server, &missing, "hf-secret-ref-missing");
    assert_eq!(secret.len(), 1, "{secret:#?}");
    assert!(
        secret[0]
            .starts_with("info hf-secret-ref-missing: Secret `hf-missing` is not in the input set"),
        "{secret:#?}"
    );
    assert!(
        double
            .requests()
            .iter()
            .any(|r| r.line() == "GET /api/v1/namespaces/ml/secrets/hf-missing"),
        "the webhook asked the cluster"
    );
    // ...and an error for `lint --cluster`.
    let file = dir.join("gemma.yaml");
    std::fs::write(&file, serde_json::to_string(&missing).unwrap()).unwrap();
    let o = command()
        .args(["lint", "--cluster", "--kubeconfig"])
        .arg(&kubeconfig)
        .arg(&file)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("error[hf-secret-ref-missing]"),
        "{}",
        stdout(&o)
    );
    // A Secret the cluster has is read once (metadata only) and then answered from the cache.
    let present = gemma_in_ml("hf");
    assert!(lines_of(&server, &present, "hf-secret-ref-missing").is_empty());
    assert!(lines_of(&server, &present, "hf-secret-ref-missing").is_empty());
    let reads = double
        .requests()
        .iter()
        .filter(|r| r.line() == "GET /api/v1/namespaces/ml/secrets/hf")
        .count();
    assert_eq!(reads, 1);
    // The pool leaves Spot: the watch carries the change and the error goes, with no restart.
    double.seed(super::apply::l4_node("gke-l4-1", "l4-pool", &[]), "kubelet");
    let start = Instant::now();
    while !lines_of(&server, &present, "taint-not-tolerated").is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the node change never arrived"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Nodes the webhook may not list: it says so and stays unready (no traffic reaches it), rather
/// than answering with facts it does not have.
#[test]
fn a_webhook_that_cannot_watch_nodes_stays_unready_and_says_why() {
    let double = super::apply::bare_cluster(&[]);
    double.forbid("list", "nodes");
    let dir = temp_dir("webhook-forbidden-kubeconfig");
    let kubeconfig = double.kubeconfig(&dir, "ml", "t0ken");
    let server = serve(
        "forbidden",
        &["--kubeconfig", &kubeconfig.display().to_string()],
    );
    let start = Instant::now();
    while !server
        .log
        .lock()
        .unwrap()
        .contains("warning: watching nodes:")
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{}",
            server.log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = server.log.lock().unwrap().clone();
    assert!(log.contains("forbidden"), "{log}");
    let ready = server.client().get("/readyz").unwrap();
    assert_eq!(ready.status, 503, "{}", ready.text());
    assert!(ready.text().contains("not listed yet"), "{}", ready.text());
    assert_eq!(server.client().get("/livez").unwrap().status, 200);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `kubectl` with `args`, its output.
fn kubectl(args: &[&str]) -> std::process::Output {
    std::process::Command::new("kubectl")
        .args(args)
        .output()
        .unwrap()
}

/// What the cluster test installed, removed again (the webhook configuration first, so that
/// nothing else is reviewed by a webhook that is going away).
struct Installed {
    manifests: PathBuf,
    target: String,
}

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = kubectl(&[
            "delete",
            "-f",
            &self.manifests.display().to_string(),
            "--wait=false",
        ]);
        let _ = kubectl(&["delete", "namespace", &self.target, "--wait=false"]);
    }
}

/// Installs the webhook in the cluster KUBECONFIG names (enforce mode, a self-signed CA from
/// `webhook cert`) and sees the API server deny the field report's gemma-27b Deployment.
/// KUBECTL_VLLM_WEBHOOK_IMAGE names an image built from the Dockerfile that the cluster can
/// pull.
#[test]
#[ignore = "needs cluster"]
fn cluster_webhook_denies_a_broken_deployment() {
    assert!(
        std::env::var_os("KUBECONFIG").is_some(),
        "the `cluster_*` tests need KUBECONFIG pointing at a cluster"
    );
    let image = std::env::var("KUBECTL_VLLM_WEBHOOK_IMAGE").expect(
        "KUBECTL_VLLM_WEBHOOK_IMAGE: an image built from the Dockerfile that the cluster can pull",
    );
    let id = std::process::id();
    let (namespace, target) = (
        format!("kubectl-vllm-wh-{id}"),
        format!("kubectl-vllm-wh-target-{id}"),
    );
    let dir = temp_dir("webhook-cluster");
    let out = dir.display().to_string();
    let o = run(&["webhook", "cert", "-n", &namespace, "--out-dir", &out]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "webhook",
        "manifests",
        "-n",
        &namespace,
        "--ca-bundle",
        &format!("{out}/ca.crt"),
        "--mode",
        "enforce",
        "--image",
        &image,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let manifests = dir.join("manifests.yaml");
    std::fs::write(&manifests, &o.stdout).unwrap();
    let installed = Installed {
        manifests: manifests.clone(),
        target: target.clone(),
    };
    for args in [
        vec!["create", "namespace", namespace.as_str()],
        vec![
            "create",
            "secret",
            "tls",
            "kubectl-vllm-webhook-tls",
            "-n",
            &namespace,
            "--cert",
            &format!("{out}/tls.crt"),
            "--key",
            &format!("{out}/tls.key"),
        ],
        vec!["apply", "-f", &format!("{out}/manifests.yaml")],
        vec![
            "rollout",
            "status",
            "deployment/kubectl-vllm-webhook",
            "-n",
            &namespace,
            "--timeout=300s",
        ],
        vec!["create", "namespace", target.as_str()],
        vec![
            "label",
            "namespace",
            target.as_str(),
            "kubectl-vllm.dev/admission=enabled",
        ],
    ] {
        let o = kubectl(&args);
        assert!(
            o.status.success(),
            "kubectl {}: {}",
            args.join(" "),
            stderr(&o)
        );
    }
    let deployment = super::repo()
        .join("fixtures/field-report/as-written/gemma-27b/vllm-deployment-gemma-27b.yaml");
    let deployment = deployment.display().to_string();
    // The Service's endpoints may lag the rollout by a moment; Ignore admits meanwhile.
    let start = Instant::now();
    let denied = loop {
        let o = kubectl(&[
            "apply",
            "--dry-run=server",
            "-n",
            &target,
            "-f",
            &deployment,
        ]);
        if !o.status.success() {
            break stderr(&o);
        }
        assert!(
            start.elapsed() < Duration::from_mins(1),
            "never denied: {}",
            stdout(&o)
        );
        std::thread::sleep(Duration::from_secs(2));
    };
    assert!(
        denied.contains("admission webhook \"validate.kubectl-vllm.dev\" denied the request"),
        "{denied}"
    );
    assert!(
        denied.contains("shm-missing: container `vllm-container`"),
        "{denied}"
    );
    drop(installed);
    let _ = std::fs::remove_dir_all(&dir);
}
