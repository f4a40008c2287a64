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
fn l4_node(name: &str, pool: &str, extra: &[Value]) -> Value {
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

/// A double with one L4 node (and `extra` taints on it) and GKE's default storage class.
fn cluster(extra_taints: &[Value]) -> ApiDouble {
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

/// The correct gemma-1b set without LD_LIBRARY_PATH (a safe fix adds it back).
fn set_missing_ld_library_path(dir: &Path) -> PathBuf {
    let set = dir.join("gemma-1b");
    std::fs::create_dir_all(&set).unwrap();
    for entry in std::fs::read_dir(super::repo().join(SET)).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace(
            "        - name: LD_LIBRARY_PATH\n          value: /usr/local/nvidia/lib64:/usr/local/cuda/lib64\n",
            "",
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
    // The facts took one LIST of nodes and one of storage classes.
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
    let double = cluster(&[]);
    let (dir, config) = kubeconfig(&double, "apply-order");
    let fixable = set_missing_ld_library_path(&dir);
    let o = vllm(&config, &["apply", "-f", fixable.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("fixed "), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "storageclass.storage.k8s.io/vllm-models serverside-applied\n\
         serviceaccount/vllm-sa serverside-applied\n\
         persistentvolumeclaim/vllm-gemma-1b-models serverside-applied\n\
         deployment.apps/vllm-gemma-1b serverside-applied\n\
         service/vllm-gemma-1b serverside-applied\n"
    );
    let sent = patches(&double);
    let paths: Vec<String> = sent.iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/apis/storage.k8s.io/v1/storageclasses/vllm-models",
            "/api/v1/namespaces/ml/serviceaccounts/vllm-sa",
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
    let env = &sent[3].body.as_ref().unwrap()["spec"]["template"]["spec"]["containers"][0]["env"];
    assert!(env.to_string().contains("/usr/local/nvidia/lib64"), "{env}");
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
    assert!(stdout(&o).starts_with("storageclass.storage.k8s.io/vllm-models\n"));
    let o = vllm(&config, &["apply", "-f", fixable.to_str().unwrap()]);
    assert!(
        stdout(&o).contains("deployment.apps/vllm-gemma-1b unchanged"),
        "{}",
        stdout(&o)
    );
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
        err.contains("service/vllm-gemma-1b: Service.core \"vllm-gemma-1b\" is invalid"),
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
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn client_dry_run_prints_manifests_that_lint_passes() {
    let dir = temp_dir("client-dry-run");
    let set = set_missing_ld_library_path(&dir);
    let o = command()
        .args(["apply", "--dry-run=client", "-f", set.to_str().unwrap()])
        .env("KUBECONFIG", dir.join("no-such-kubeconfig"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let printed = stdout(&o);
    assert!(printed.contains("LD_LIBRARY_PATH"), "{printed}");
    assert_eq!(
        printed.matches("\nkind: ").count() + usize::from(printed.starts_with("kind: ")),
        5
    );
    let o = super::cli::run_stdin(&["lint", "-"], &printed);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(dir);
}
