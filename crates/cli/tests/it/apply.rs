//! `apply`, `diff` and `lint --cluster` against the API double: the real binary and the real
//! kube-rs client over HTTP. `cluster_*` tests at the end run the same against a real cluster
//! when `KUBECONFIG` points at one (`cargo test -- --ignored cluster_`).

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};

use kubectl_vllm_apidouble::ApiDouble;

use super::cli::{command, stderr, stdout, temp_dir};

const SET: &str = "fixtures/field-report/correct/gemma-1b";

/// An L4 node of pool `pool`, with GKE's GPU taint and `extra` taints.
pub(super) fn l4_node(name: &str, pool: &str, extra: &[Value]) -> Value {
    let mut taints =
        vec![json!({"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"})];
    taints.extend(extra.iter().cloned());
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {
            "cloud.google.com/gke-nodepool": pool,
            "cloud.google.com/gke-accelerator": "nvidia-l4",
            "kubernetes.io/hostname": name}},
        "spec": {"providerID": format!("gce://project/zone/{name}"), "taints": taints},
        "status": {"allocatable": {"cpu": "7910m", "memory": "27Gi", "nvidia.com/gpu": "1"}}
    })
}

/// A double with namespace `ml`, one L4 node (and `extra` taints on it) and GKE's default
/// storage class.
fn cluster(extra_taints: &[Value]) -> ApiDouble {
    let double = bare_cluster(extra_taints);
    double.seed(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}}),
        "kubectl-create",
    );
    double
}

/// The same without namespace `ml`.
pub(super) fn bare_cluster(extra_taints: &[Value]) -> ApiDouble {
    let double = ApiDouble::start();
    double.require_token("t0ken");
    double.seed(l4_node("gke-l4-1", "l4-pool", extra_taints), "kubelet");
    double.seed(
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
               "metadata": {"name": "standard-rwo", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
               "provisioner": "pd.csi.storage.gke.io", "parameters": {"type": "pd-balanced"},
               "volumeBindingMode": "WaitForFirstConsumer"}),
        "addon-manager",
    );
    double
}

fn kubeconfig(double: &ApiDouble, name: &str) -> (PathBuf, PathBuf) {
    let dir = temp_dir(name);
    let path = double.kubeconfig(&dir, "ml", "t0ken");
    (dir, path)
}

fn vllm(kubeconfig: &Path, args: &[&str]) -> Output {
    command()
        .arg(args[0])
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(&args[1..])
        .env_remove("KUBECONFIG")
        .output()
        .unwrap()
}

fn patches(double: &ApiDouble) -> Vec<kubectl_vllm_apidouble::Request> {
    double
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect()
}

/// The correct gemma-1b set with an LD_LIBRARY_PATH that lacks the driver directory (a safe fix
/// puts it first).
fn set_without_driver_dir(dir: &Path) -> PathBuf {
    let set = dir.join("gemma-1b");
    std::fs::create_dir_all(&set).unwrap();
    for entry in std::fs::read_dir(super::repo().join(SET)).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace(
            "          value: /usr/local/nvidia/lib64:/usr/local/cuda/lib64\n",
            "          value: /usr/local/cuda/lib64\n",
        );
        std::fs::write(set.join(path.file_name().unwrap()), text).unwrap();
    }
    set
}

#[test]
fn live_taints_change_the_verdict_and_nothing_is_patched() {
    // With the config's profile the set is clean; the live L4 pool is Spot, which the
    // Deployment does not tolerate.
    let spot = json!({"key": "cloud.google.com/gke-spot", "value": "true", "effect": "NoSchedule"});
    let double = cluster(&[spot]);
    let (dir, config) = kubeconfig(&double, "apply-spot");
    let o = vllm(&config, &["apply", "-f", SET]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("taint-not-tolerated"), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing was sent"), "{}", stderr(&o));
    assert!(patches(&double).is_empty());
    // The facts took one LIST of nodes, the API groups (OpenShift runs on every cloud's nodes)
    // and one LIST of storage classes.
    let lists: Vec<String> = double
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with('s') && !r.path.contains("/namespaces/"))
        .map(kubectl_vllm_apidouble::Request::line)
        .collect();
    assert_eq!(
        lists,
        [
            "GET /api/v1/nodes",
            "GET /apis",
            "GET /apis/storage.k8s.io/v1/storageclasses"
        ]
    );
    // `lint --cluster` reaches the same verdict without applying.
    let o = vllm(&config, &["lint", "--cluster", SET]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("taint-not-tolerated"));
    let o = command().args(["lint", SET]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn apply_sends_the_fixed_set_in_dependency_order() {
    // The namespace does not exist yet: the set creates it, so it must go first.
    let double = bare_cluster(&[]);
    let (dir, config) = kubeconfig(&double, "apply-order");
    let fixable = set_without_driver_dir(&dir);
    std::fs::write(
        fixable.join("zz-extras.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: vllm-env}\ndata: {VLLM_LOGGING_LEVEL: INFO}\n---\n\
         apiVersion: v1\nkind: Secret\nmetadata: {name: hf-token}\nstringData: {token: hf_secret_value}\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {name: ml}\n",
    )
    .unwrap();
    // Without fixes the driver-less LD_LIBRARY_PATH is an error: refused, nothing sent.
    let report = dir.join("lint.json");
    let o = vllm(
        &config,
        &[
            "apply",
            "-f",
            fixable.to_str().unwrap(),
            "--no-fix",
            "--report",
            &format!("json={}", report.display()),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(patches(&double).is_empty());
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(
        written["findings"]
            .to_string()
            .contains("runtime-ld-library-path-gke"),
        "{written}"
    );
    let o = vllm(&config, &["apply", "-f", fixable.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("fixed "), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "namespace/ml serverside-applied\n\
         storageclass.storage.k8s.io/vllm-models serverside-applied\n\
         serviceaccount/vllm-sa serverside-applied\n\
         secret/hf-token serverside-applied\n\
         configmap/vllm-env serverside-applied\n\
         persistentvolumeclaim/vllm-gemma-1b-models serverside-applied\n\
         deployment.apps/vllm-gemma-1b serverside-applied\n\
         service/vllm-gemma-1b serverside-applied\n"
    );
    let sent = patches(&double);
    let paths: Vec<String> = sent.iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/api/v1/namespaces/ml",
            "/apis/storage.k8s.io/v1/storageclasses/vllm-models",
            "/api/v1/namespaces/ml/serviceaccounts/vllm-sa",
            "/api/v1/namespaces/ml/secrets/hf-token",
            "/api/v1/namespaces/ml/configmaps/vllm-env",
            "/api/v1/namespaces/ml/persistentvolumeclaims/vllm-gemma-1b-models",
            "/apis/apps/v1/namespaces/ml/deployments/vllm-gemma-1b",
            "/api/v1/namespaces/ml/services/vllm-gemma-1b",
        ]
    );
    for request in &sent {
        assert_eq!(request.query["fieldManager"], "kubectl-vllm");
        assert!(request.headers["content-type"].starts_with("application/apply-patch"));
        assert!(!request.query.contains_key("dryRun"));
    }
    // The fix is in the PATCH body, and the object stored.
    let env = &sent[6].body.as_ref().unwrap()["spec"]["template"]["spec"]["containers"][0]["env"];
    assert!(
        env.to_string()
            .contains("/usr/local/nvidia/lib64:/usr/local/cuda/lib64"),
        "{env}"
    );
    // The Secret is sent as written (the value reports never show), and printed redacted.
    assert_eq!(
        sent[3].body.as_ref().unwrap()["stringData"]["token"],
        "hf_secret_value"
    );
    assert!(
        double
            .object("deployments.apps", "ml", "vllm-gemma-1b")
            .is_some()
    );
    // Applying again changes nothing.
    let o = vllm(
        &config,
        &["apply", "-f", fixable.to_str().unwrap(), "-o", "name"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("namespace/ml\nstorageclass.storage.k8s.io/vllm-models\n"));
    let o = vllm(
        &config,
        &["apply", "-f", fixable.to_str().unwrap(), "-o", "yaml"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("apiVersion: v1\nkind: List\n"),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("hf_secret_value"), "{}", stdout(&o));
    let o = vllm(&config, &["apply", "-f", fixable.to_str().unwrap()]);
    assert!(
        stdout(&o).contains("deployment.apps/vllm-gemma-1b unchanged"),
        "{}",
        stdout(&o)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_eks_cluster_decides_the_provider_and_its_gpus_the_model_fit() {
    // EKS nodes labelled by GPU feature discovery: 4 × L4 per node.
    let double = ApiDouble::start();
    double.require_token("t0ken");
    double.seed(
        kubectl_vllm_apidouble::eks_l4_node("ip-10-0-1-2", 4),
        "kubelet",
    );
    let (dir, config) = kubeconfig(&double, "eks");
    let manifest = dir.join("vllm.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: llama}\nspec:\n  strategy: {type: Recreate}\n  selector: {matchLabels: {app: llama}}\n  template:\n    metadata: {labels: {app: llama}}\n    spec:\n      nodeSelector: {nvidia.com/gpu.product: NVIDIA-L4}\n      containers:\n      - name: vllm\n        image: vllm/vllm-openai:v0.12.0\n        args: [meta-llama/Llama-3.1-70B-Instruct, --max-model-len=8192, --tensor-parallel-size=8]\n        env: [{name: HF_TOKEN, valueFrom: {secretKeyRef: {name: hf, key: token, optional: true}}}]\n        resources:\n          limits: {cpu: \"16\", memory: 160Gi, nvidia.com/gpu: 8}\n        readinessProbe: {httpGet: {path: /health, port: 8000}}\n        volumeMounts: [{name: dshm, mountPath: /dev/shm}]\n      volumes: [{name: dshm, emptyDir: {medium: Memory, sizeLimit: 8Gi}}]\n",
    )
    .unwrap();
    let lint_live = || {
        let o = vllm(
            &config,
            &[
                "lint",
                "--cluster",
                "-o",
                "json",
                manifest.to_str().unwrap(),
            ],
        );
        (o.status.code(), super::cli::json(&o))
    };
    let (_, report) = lint_live();
    let rules = super::cli::rules_of(&report);
    // 8 GPUs on a node with 4: the node shape is the error; nothing GKE-specific runs and the
    // provider is not in doubt.
    assert!(
        rules.contains(&"res-exceeds-node-shape".to_string()),
        "{report:#}"
    );
    assert!(
        rules
            .iter()
            .all(|r| !r.starts_with("gke-") && r != "provider-unknown"),
        "{rules:?}"
    );
    // With 4 GPUs (tensor parallelism 4) the 70B model's 16-bit weights need about 33 GiB on each
    // 22 GiB L4: the live GPU product decides the error.
    let four = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("--tensor-parallel-size=8", "--tensor-parallel-size=4")
        .replace("nvidia.com/gpu: 8", "nvidia.com/gpu: 4");
    std::fs::write(&manifest, four).unwrap();
    let (code, report) = lint_live();
    let weights: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "model-weights-exceed-gpu-mem")
        .collect();
    assert_eq!(weights.len(), 1, "{report:#}");
    assert_eq!(weights[0]["severity"], "error");
    assert!(
        weights[0]["message"].as_str().unwrap().contains("L4"),
        "{report:#}"
    );
    assert_eq!(code, Some(1));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn conflicts_are_reported_then_forced() {
    let double = cluster(&[]);
    let (dir, config) = kubeconfig(&double, "apply-conflict");
    let mut live: Value = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "vllm-gemma-1b", "namespace": "ml"}, "spec": {"replicas": 3}});
    double.seed(live.clone(), "kubectl-client-side-apply");
    let o = vllm(&config, &["apply", "-f", SET]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("deployment.apps/vllm-gemma-1b: Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas (409 Conflict)"), "{err}");
    assert!(
        err.contains("field .spec.replicas is owned by \"kubectl-client-side-apply\""),
        "{err}"
    );
    assert!(err.contains("--force-conflicts"), "{err}");
    assert!(
        err.contains("not applied (2): deployment.apps/vllm-gemma-1b, service/vllm-gemma-1b"),
        "{err}"
    );
    let o = vllm(&config, &["apply", "-f", SET, "--force-conflicts"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let forced = patches(&double).pop().unwrap();
    assert_eq!(forced.query["force"], "true");
    live = double
        .object("deployments.apps", "ml", "vllm-gemma-1b")
        .unwrap();
    assert_eq!(live["spec"]["replicas"], 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn server_dry_run_sends_dry_run_all_and_stores_nothing() {
    let double = cluster(&[]);
    let (dir, config) = kubeconfig(&double, "apply-dry-run");
    let o = vllm(
        &config,
        &["apply", "-f", SET, "--dry-run=server", "-o", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().unwrap().len(), 5);
    assert!(list["items"][0]["metadata"].get("managedFields").is_none());
    let sent = patches(&double);
    assert_eq!(sent.len(), 5);
    assert!(
        sent.iter()
            .all(|r| r.query.get("dryRun").map(String::as_str) == Some("All"))
    );
    assert!(
        double
            .object("deployments.apps", "ml", "vllm-gemma-1b")
            .is_none()
    );
    let o = vllm(&config, &["apply", "-f", SET, "--dry-run=server"]);
    assert!(
        stdout(&o).contains("deployment.apps/vllm-gemma-1b serverside-applied (server dry run)")
    );
    // Against existing objects a dry run keeps their resourceVersion whatever it would change:
    // it never claims `unchanged`.
    let o = vllm(&config, &["apply", "-f", SET]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let changed = dir.join("changed.yaml");
    let text = std::fs::read_to_string(super::repo().join(SET).join("deployment.yaml")).unwrap();
    std::fs::write(
        &changed,
        text.replace("--max-model-len=8192", "--max-model-len=4096"),
    )
    .unwrap();
    let o = vllm(
        &config,
        &["apply", "-f", changed.to_str().unwrap(), "--dry-run=server"],
    );
    assert_eq!(
        stdout(&o),
        "deployment.apps/vllm-gemma-1b serverside-applied (server dry run)\n",
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_403_names_verb_and_resource_and_a_partial_failure_lists_what_was_applied() {
    let double = cluster(&[]);
    let (dir, config) = kubeconfig(&double, "apply-403");
    double.forbid("patch", "deployments");
    let o = vllm(&config, &["apply", "-f", SET]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("error: deployment.apps/vllm-gemma-1b: permission denied (403 Forbidden): deployments.apps \"vllm-gemma-1b\" is forbidden: User \"system:serviceaccount:ci:deployer\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"ml\""),
        "{err}"
    );
    assert!(
        err.contains("applied (3): storageclass.storage.k8s.io/vllm-models, serviceaccount/vllm-sa, persistentvolumeclaim/vllm-gemma-1b-models"),
        "{err}"
    );
    assert!(double.object("services", "ml", "vllm-gemma-1b").is_none());

    // A policy webhook's 403 is a rejection, not a missing permission.
    let double = cluster(&[]);
    let (_, config) = kubeconfig(&double, "apply-webhook");
    double.deny_by_webhook(
        "deployments",
        "vllm-gemma-1b",
        "validation.gatekeeper.sh",
        403,
        "[gpu-quota] team ml may not request nvidia.com/gpu",
    );
    let o = vllm(&config, &["apply", "-f", SET]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("deployment.apps/vllm-gemma-1b: admission webhook \"validation.gatekeeper.sh\" denied the request: [gpu-quota] team ml may not request nvidia.com/gpu (403 Forbidden)"), "{err}");
    assert!(!err.contains("permission denied"), "{err}");

    // A rejected object (validation or a webhook) stops the run the same way.
    let double = cluster(&[]);
    let (_, config) = kubeconfig(&double, "apply-422");
    double.reject(
        "services",
        "vllm-gemma-1b",
        "spec.ports[0].port",
        "Invalid value: 0",
    );
    let o = vllm(&config, &["apply", "-f", SET]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("service/vllm-gemma-1b: Service \"vllm-gemma-1b\" is invalid"),
        "{err}"
    );
    assert!(
        err.contains("applied (4):") && err.contains("not applied (1): service/vllm-gemma-1b"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn forbidden_node_list_falls_back_to_the_profile_and_secrets_are_read_as_metadata() {
    let double = cluster(&[]);
    double.forbid("list", "nodes");
    double.seed(
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hf", "namespace": "ml"},
               "data": {"token": "c2VjcmV0"}}),
        "kubectl-create",
    );
    let (dir, config) = kubeconfig(&double, "lint-cluster");
    let pod = super::cli::MISSING_LD.replace(
        "    readinessProbe",
        "    env:\n    - name: LD_LIBRARY_PATH\n      value: /usr/local/nvidia/lib64:/usr/local/cuda/lib64\n    - name: HF_TOKEN\n      valueFrom: {secretKeyRef: {name: hf, key: token}}\n    readinessProbe",
    );
    let path = dir.join("pod.yaml");
    std::fs::write(&path, &pod).unwrap();
    let o = vllm(
        &config,
        &["lint", "--cluster", path.to_str().unwrap(), "-o", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("warning: cannot list nodes"),
        "{}",
        stderr(&o)
    );
    // Without the cluster the Secret is missing from the set.
    let o = command()
        .args(["lint", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        stdout(&o).contains("hf-secret-ref-missing"),
        "{}",
        stdout(&o)
    );
    // A ServiceAccount the set references but does not contain is read from the cluster, and
    // policies use it: the set has `vllm-sa` only in namespace `other`, an error until the
    // cluster shows one in `ml`.
    let without_sa = dir.join("without-sa");
    std::fs::create_dir_all(&without_sa).unwrap();
    for name in [
        "deployment.yaml",
        "persistent-volume-claim.yaml",
        "service.yaml",
        "storage-class.yaml",
    ] {
        std::fs::copy(super::repo().join(SET).join(name), without_sa.join(name)).unwrap();
    }
    std::fs::write(
        without_sa.join("sa-other.yaml"),
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: vllm-sa\n  namespace: other\n  annotations: {iam.gke.io/gcp-service-account: r@p.iam.gserviceaccount.com}\n",
    )
    .unwrap();
    let o = command()
        .args(["lint", "-n", "ml", without_sa.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(stdout(&o).contains("wi-namespace-match"), "{}", stdout(&o));
    double.seed(
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "vllm-sa", "namespace": "ml"}}),
        "kubectl-create",
    );
    let o = vllm(
        &config,
        &["lint", "--cluster", without_sa.to_str().unwrap()],
    );
    assert!(
        !stdout(&o).contains("wi-namespace-match"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(
        double
            .requests()
            .iter()
            .any(|r| r.line() == "GET /api/v1/namespaces/ml/serviceaccounts/vllm-sa")
    );
    let secret_reads: Vec<_> = double
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/secrets"))
        .collect();
    assert_eq!(secret_reads.len(), 1, "{secret_reads:?}");
    assert_eq!(secret_reads[0].path, "/api/v1/namespaces/ml/secrets/hf");
    assert!(secret_reads[0].headers["accept"].contains("as=PartialObjectMetadata"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn diff_exit_codes_follow_kubectl_diff() {
    let double = cluster(&[]);
    let (dir, config) = kubeconfig(&double, "diff");
    let o = vllm(&config, &["diff", "-f", SET]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("+++ merged/deployment.apps/vllm-gemma-1b"),
        "{}",
        stdout(&o)
    );
    assert!(patches(&double).iter().all(|r| r.query["dryRun"] == "All"));
    let o = vllm(&config, &["apply", "-f", SET]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = vllm(&config, &["diff", "-f", SET]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o), "");
    let changed = dir.join("changed.yaml");
    let text = std::fs::read_to_string(super::repo().join(SET).join("deployment.yaml")).unwrap();
    std::fs::write(
        &changed,
        text.replace("--max-model-len=8192", "--max-model-len=4096"),
    )
    .unwrap();
    let o = vllm(&config, &["diff", "-f", changed.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let diff = stdout(&o);
    assert!(
        diff.contains("-        - --max-model-len=8192\n+        - --max-model-len=4096"),
        "{diff}"
    );
    // A dry run stores nothing, so the resource version does not move.
    assert!(!diff.contains("resourceVersion"), "{diff}");
    drop(double);
    let o = vllm(&config, &["diff", "-f", SET]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot reach the cluster"),
        "{}",
        stderr(&o)
    );
    // As in kubectl, `-n` must agree with namespaces the manifests name.
    let named = dir.join("named.yaml");
    std::fs::write(
        &named,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: prod}\n",
    )
    .unwrap();
    let o = vllm(
        &config,
        &[
            "apply",
            "--dry-run=client",
            "-n",
            "ml",
            "-f",
            named.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("error: the namespace from the provided object \"prod\" does not match the namespace \"ml\". You must pass '--namespace=prod' to perform this operation."), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn client_dry_run_prints_manifests_that_lint_passes() {
    let dir = temp_dir("client-dry-run");
    let set = set_without_driver_dir(&dir);
    let o = command()
        .args(["apply", "--dry-run=client", "-f", set.to_str().unwrap()])
        .env("KUBECONFIG", dir.join("no-such-kubeconfig"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let printed = stdout(&o);
    assert!(
        printed.contains("/usr/local/nvidia/lib64:/usr/local/cuda/lib64"),
        "{printed}"
    );
    assert_eq!(
        printed.matches("\nkind: ").count() + usize::from(printed.starts_with("kind: ")),
        5
    );
    let o = super::cli::run_stdin(&["lint", "-"], &printed);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // The seed set itself, as the issue's acceptance names it.
    let o = command()
        .args(["apply", "--dry-run=client", "-f", SET])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = super::cli::run_stdin(&["lint", "-"], &stdout(&o));
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn wait_watches_the_rollout_and_names_why_a_pod_is_stuck() {
    let double = cluster(&[]);
    let (dir, config) = kubeconfig(&double, "apply-wait");
    // A controller that makes the Deployment available shortly after it is applied.
    let o = std::thread::scope(|scope| {
        scope.spawn(|| {
            // Generous: under load the apply itself (lint, fixes) can take a while.
            for _ in 0..2400 {
                if let Some(d) = double.object("deployments.apps", "ml", "vllm-gemma-1b") {
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    double.set_status(
                        "deployments.apps",
                        "ml",
                        "vllm-gemma-1b",
                        json!({"observedGeneration": d["metadata"]["generation"], "replicas": 1,
                               "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1}),
                    );
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        });
        vllm(&config, &["apply", "-f", SET, "--wait", "--timeout", "60s"])
    });
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("deployment.apps/vllm-gemma-1b: 0/1 available\n"),
        "{err}"
    );
    assert!(
        err.contains("deployment.apps/vllm-gemma-1b: 1/1 available\n"),
        "{err}"
    );
    assert!(
        double
            .requests()
            .iter()
            .any(|r| r.query.get("watch").is_some_and(|w| w == "true"))
    );

    // A pod the scheduler cannot place: the timeout says why, in the scheduler's words.
    let double = cluster(&[]);
    let (_, config) = kubeconfig(&double, "apply-wait-stuck");
    let message = "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.";
    double.seed(
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "vllm-gemma-1b-7c9f-x2x", "namespace": "ml", "labels": {"app": "vllm-gemma-1b"}},
               "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                          "reason": "Unschedulable", "message": message}]}}),
        "kube-scheduler",
    );
    double.seed(
        json!({"apiVersion": "v1", "kind": "Event",
               "metadata": {"name": "vllm-gemma-1b-7c9f-x2x.1", "namespace": "ml"},
               "involvedObject": {"kind": "Pod", "name": "vllm-gemma-1b-7c9f-x2x", "namespace": "ml"},
               "type": "Warning", "reason": "FailedScheduling", "message": message}),
        "kube-scheduler",
    );
    let o = vllm(&config, &["apply", "-f", SET, "--wait", "--timeout", "2s"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("error: timed out after 2s waiting for deployment.apps/vllm-gemma-1b (0/1 available): pod vllm-gemma-1b-7c9f-x2x Pending: FailedScheduling: {message}")),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn kubeconfig_lists_are_merged_and_context_selects() {
    let double = cluster(&[]);
    let (dir, path) = kubeconfig(&double, "kubeconfig-merge");
    // The first file's current context points nowhere; `--context double` picks the second's.
    let first = dir.join("first");
    std::fs::write(
        &first,
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\nclusters:\n- name: gone\n  cluster: {server: \"http://127.0.0.1:9\"}\ncontexts:\n- name: gone\n  context: {cluster: gone, user: nobody, namespace: elsewhere}\nusers:\n- name: nobody\n  user: {token: nothing}\n",
    )
    .unwrap();
    let list = format!("{}:{}", first.display(), path.display());
    let o = command()
        .args(["diff", "-f", SET, "--context", "double"])
        .env("KUBECONFIG", &list)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // The context's namespace applies to objects that set none.
    assert!(stdout(&o).contains("namespace: ml"), "{}", stdout(&o));
    let o = command()
        .args(["diff", "-f", SET])
        .env("KUBECONFIG", &list)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot reach the cluster at http://127.0.0.1:9"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A namespace on the real cluster of `KUBECONFIG`, deleted (with kubectl) when dropped.
struct RealNamespace(String);

impl RealNamespace {
    fn create(dir: &Path) -> Self {
        assert!(
            std::env::var_os("KUBECONFIG").is_some(),
            "the `cluster_*` tests need KUBECONFIG pointing at a cluster"
        );
        let name = format!("kubectl-vllm-test-{}", std::process::id());
        let path = dir.join("namespace.yaml");
        std::fs::write(
            &path,
            format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"),
        )
        .unwrap();
        let o = command()
            .args(["apply", "-f", path.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        Self(name)
    }
}

impl Drop for RealNamespace {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kubectl")
            .args(["delete", "namespace", &self.0, "--wait=false"])
            .output();
    }
}

/// A set any cluster accepts: no GPUs, no storage.
fn plain_set(dir: &Path, value: &str) -> PathBuf {
    let path = dir.join("plain.yaml");
    std::fs::write(
        &path,
        format!("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: vllm-test\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vllm-test\ndata:\n  MAX_MODEL_LEN: \"{value}\"\n"),
    )
    .unwrap();
    path
}

#[test]
#[ignore = "needs cluster"]
fn cluster_apply_dry_run_diff_and_conflicts() {
    let dir = temp_dir("real-cluster");
    let namespace = RealNamespace::create(&dir);
    let ns = namespace.0.as_str();
    let set = plain_set(&dir, "8192");
    let set = set.to_str().unwrap();
    let o = command()
        .args(["lint", "--cluster", "-n", ns, set])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let o = command()
        .args(["apply", "-n", ns, "-f", set, "--dry-run=server"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("configmap/vllm-test serverside-applied (server dry run)"));
    let o = command()
        .args(["diff", "-n", ns, "-f", set])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = command()
        .args(["apply", "-n", ns, "-f", set])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = command()
        .args(["diff", "-n", ns, "-f", set])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // kubectl's client-side apply takes the value; ours then conflicts until forced.
    let o = std::process::Command::new("kubectl")
        .args([
            "-n",
            ns,
            "patch",
            "configmap",
            "vllm-test",
            "--type=merge",
            "-p",
            r#"{"data":{"MAX_MODEL_LEN":"4096"}}"#,
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = command()
        .args(["apply", "-n", ns, "-f", set])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("conflict"), "{}", stderr(&o));
    let o = command()
        .args(["apply", "-n", ns, "-f", set, "--force-conflicts"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    drop(namespace);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn dry_runs_in_a_namespace_the_set_creates_and_crds_before_their_resources() {
    // The set creates namespace `ml`: a server dry run cannot validate what goes into it.
    let double = bare_cluster(&[]);
    let (dir, config) = kubeconfig(&double, "dry-run-new-namespace");
    let set = dir.join("set.yaml");
    std::fs::write(
        &set,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: vllm-env}\ndata: {A: b}\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {name: ml}\n",
    )
    .unwrap();
    let o = vllm(
        &config,
        &["apply", "-f", set.to_str().unwrap(), "--dry-run=server"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "namespace/ml serverside-applied (server dry run)\n\
         configmap/vllm-env not validated (server dry run): its namespace is created by this apply\n"
    );
    let o = vllm(&config, &["diff", "-f", set.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("+++ merged/configmap/vllm-env"),
        "{}",
        stdout(&o)
    );

    // A CustomResourceDefinition is applied in a run of its own before its resources.
    let crds = dir.join("crds.yaml");
    std::fs::write(
        &crds,
        "apiVersion: leaderworkerset.x-k8s.io/v1\nkind: LeaderWorkerSet\nmetadata: {name: big, namespace: default}\n\
         spec:\n  replicas: 1\n  leaderWorkerTemplate:\n    size: 2\n    workerTemplate:\n      spec:\n        tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]\n        containers: [{name: worker, image: busybox:1.37}]\n---\n\
         apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: leaderworkersets.leaderworkerset.x-k8s.io}\n\
         spec:\n  group: leaderworkerset.x-k8s.io\n  scope: Namespaced\n  names: {kind: LeaderWorkerSet, plural: leaderworkersets}\n\
         \x20 versions:\n  - name: v1\n    served: true\n    storage: true\n    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n",
    )
    .unwrap();
    let o = vllm(
        &config,
        &["apply", "-f", crds.to_str().unwrap(), "-o", "name"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "customresourcedefinition.apiextensions.k8s.io/leaderworkersets.leaderworkerset.x-k8s.io\n\
         leaderworkerset.leaderworkerset.x-k8s.io/big\n"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// kubectl sends every copy of an object in file order, so the last one silently wins. Ours
/// sends each object once, in dependency order, and refuses copies that differ.
#[test]
fn client_dry_run_sends_each_object_once_in_dependency_order() {
    let dir = temp_dir("client-dry-run-duplicates");
    let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: vllm-sa  # shared\n";
    std::fs::write(
        dir.join("a.yaml"),
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\ndata: {{a: b}}\n---\n{sa}"),
    )
    .unwrap();
    std::fs::write(
        dir.join("b.yaml"),
        format!("# the same account again\n{sa}"),
    )
    .unwrap();
    std::fs::write(
        dir.join("c.yaml"),
        "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: ml}}\n",
    )
    .unwrap();
    let d = dir.display().to_string();
    let o = command()
        .args(["apply", "--dry-run=client", "-f", &d])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let printed = stdout(&o);
    let kinds: Vec<&str> = printed
        .lines()
        .filter_map(|l| l.strip_prefix("kind: "))
        .collect();
    assert_eq!(
        kinds,
        ["Namespace", "ServiceAccount", "ConfigMap"],
        "{printed}"
    );
    assert!(printed.contains("name: vllm-sa  # shared"), "{printed}");
    // Copies that differ: refused, both named, nothing printed.
    std::fs::write(
        dir.join("b.yaml"),
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: vllm-sa\n  labels: {team: ml}\n",
    )
    .unwrap();
    let o = command()
        .args(["apply", "--dry-run=client", "-f", &d])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    let e = stderr(&o);
    assert!(
        e.contains(&format!(
            "error: ServiceAccount default/vllm-sa is defined twice with different content ({d}/a.yaml:9 and {d}/b.yaml:4; they differ in `metadata.labels`)"
        )),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
