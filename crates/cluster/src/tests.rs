//! The crate end to end: connecting, reading facts, planning and applying through the real
//! kube-rs client against the API double.

use serde_json::json;

use kubectl_vllm_apidouble::ApiDouble;

use super::*;

async fn connected(double: &ApiDouble, dir: &str) -> Connection {
    let dir =
        std::env::temp_dir().join(format!("kubectl-vllm-cluster-{dir}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = Target {
        request_timeout: None,
        kubeconfig: Some(double.kubeconfig(&dir, "ml", "t0ken")),
        context: None,
    };
    connect(&target).await.unwrap()
}

fn deployment(replicas: u32) -> serde_json::Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "vllm"},
           "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.10.2"}]}}}})
}

#[tokio::test]
async fn facts_plan_apply_conflict_and_dry_run_through_the_real_client() {
    let double = ApiDouble::start();
    double.require_token("t0ken");
    double.seed(
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": {
            "cloud.google.com/gke-nodepool": "l4", "cloud.google.com/gke-accelerator": "nvidia-l4"}},
            "spec": {"providerID": "gce://p/z/n1", "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]},
            "status": {"allocatable": {"nvidia.com/gpu": "1"}}}),
        "kubelet",
    );
    double.seed(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}}),
        "kubectl",
    );
    let connection = connected(&double, "facts").await;
    assert_eq!(connection.namespace, "ml");
    let facts = read_facts(&connection).await.unwrap();
    let pools = facts.node_pools.unwrap();
    assert_eq!((pools[0].name.as_str(), pools[0].gpus_per_node), ("l4", 1));
    assert_eq!(
        facts.provider,
        Some(kubectl_vllm_host::facts::Provider::Gke)
    );

    let objects = [
        deployment(1),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "weights"}, "spec": {}}),
        json!({"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "metadata": {"name": "big"}, "spec": {}}),
    ];
    let planned = plan(&connection, &objects, &connection.namespace, &[])
        .await
        .unwrap();
    let order: Vec<&str> = planned.iter().map(|p| p.reference.as_str()).collect();
    assert_eq!(
        order,
        [
            "persistentvolumeclaim/weights",
            "deployment.apps/vllm",
            "leaderworkerset.leaderworkerset.x-k8s.io/big"
        ]
    );
    let options = ApplyOptions {
        field_manager: "kubectl-vllm".into(),
        force_conflicts: false,
        dry_run: false,
    };
    let report = apply_all(&connection, &planned, &options).await;
    assert!(report.failed.is_none(), "{:?}", report.failed);
    assert_eq!(report.applied[1].outcome, Outcome::Created);
    assert_eq!(
        double.object("deployments.apps", "ml", "vllm").unwrap()["spec"]["replicas"],
        1
    );
    let again = apply_all(&connection, &planned, &options).await;
    assert_eq!(again.applied[1].outcome, Outcome::Unchanged);

    // Another manager owns replicas: a conflict names it, force takes the field.
    double.seed(
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "vllm", "namespace": "ml"}, "spec": {"replicas": 3}}),
        "kubectl-client-side-apply",
    );
    let report = apply_all(&connection, &planned[1..2], &options).await;
    let (what, error) = report.failed.unwrap();
    assert_eq!(what, "deployment.apps/vllm");
    let ClusterError::Api {
        code: 409,
        conflicts,
        ..
    } = &error
    else {
        panic!("{error}")
    };
    assert_eq!(
        conflicts,
        &[(
            "kubectl-client-side-apply".to_string(),
            ".spec.replicas".to_string()
        )]
    );
    let forced = ApplyOptions {
        force_conflicts: true,
        ..options.clone()
    };
    let report = apply_all(&connection, &planned[1..2], &forced).await;
    assert!(report.failed.is_none());
    assert_eq!(
        double.object("deployments.apps", "ml", "vllm").unwrap()["spec"]["replicas"],
        1
    );

    // Dry run: sent with dryRun=All, nothing stored.
    let changed = plan(&connection, &[deployment(2)], "ml", &[])
        .await
        .unwrap();
    let dry = ApplyOptions {
        dry_run: true,
        ..options
    };
    let report = apply_all(&connection, &changed, &dry).await;
    assert_eq!(report.applied[0].object["spec"]["replicas"], 2);
    assert_eq!(
        double.object("deployments.apps", "ml", "vllm").unwrap()["spec"]["replicas"],
        1
    );
    let last = double.requests().pop().unwrap();
    assert_eq!(last.method, "PATCH");
    assert_eq!(last.query.get("dryRun").map(String::as_str), Some("All"));

    // Unknown kinds fail before anything is sent.
    let unknown =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
    let error = plan(&connection, &[unknown], "ml", &[]).await.unwrap_err();
    assert!(
        error.to_string().contains("no matches for kind \"Widget\""),
        "{error}"
    );
}

#[tokio::test]
async fn the_provider_comes_from_the_nodes_and_openshift_from_its_api_group() {
    use kubectl_vllm_host::facts::Provider;
    let double = ApiDouble::start();
    double.require_token("t0ken");
    double.seed(
        kubectl_vllm_apidouble::eks_l4_node("ip-10-0-1-2", 4),
        "kubelet",
    );
    let connection = connected(&double, "provider").await;
    let facts = read_facts(&connection).await.unwrap();
    assert_eq!(facts.provider, Some(Provider::Eks));
    assert!(facts.warnings.is_empty(), "{:?}", facts.warnings);
    let pools = facts.node_pools.unwrap();
    assert_eq!((pools[0].name.as_str(), pools[0].gpus_per_node), ("gpu", 4));
    // The same nodes under OpenShift, which serves config.openshift.io on every cloud.
    double.serve_group("config.openshift.io");
    let facts = read_facts(&connection).await.unwrap();
    assert_eq!(facts.provider, Some(Provider::Openshift));
    // Nodes that name no cloud leave the provider unknown.
    let bare = ApiDouble::start();
    bare.require_token("t0ken");
    bare.seed(
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "metal-1"},
            "status": {"allocatable": {"nvidia.com/gpu": "8"}}}),
        "kubelet",
    );
    let facts = read_facts(&connected(&bare, "provider-bare").await)
        .await
        .unwrap();
    assert_eq!(facts.provider, None);
}

#[tokio::test]
async fn credentials_permissions_and_reachability_are_told_apart() {
    let double = ApiDouble::start();
    double.require_token("other");
    let connection = connected(&double, "auth").await;
    let error = read_facts(&connection).await.unwrap_err();
    assert!(
        matches!(error, ClusterError::Unauthorized { .. }),
        "{error}"
    );

    let double = ApiDouble::start();
    double.forbid("list", "nodes");
    let connection = connected(&double, "forbidden").await;
    let facts = read_facts(&connection).await.unwrap();
    assert!(facts.node_pools.is_none());
    assert!(
        facts.warnings[0].contains("cannot list resource \"nodes\""),
        "{:?}",
        facts.warnings
    );

    let url = double.url();
    drop(double);
    let dir =
        std::env::temp_dir().join(format!("kubectl-vllm-cluster-gone-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kubeconfig");
    std::fs::write(&path, format!("apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{{name: c, cluster: {{server: \"{url}\"}}}}]\ncontexts: [{{name: c, context: {{cluster: c, user: u}}}}]\nusers: [{{name: u, user: {{token: x}}}}]\n")).unwrap();
    let connection = connect(&Target {
        request_timeout: None,
        kubeconfig: Some(path),
        context: None,
    })
    .await
    .unwrap();
    let error = read_facts(&connection).await.unwrap_err();
    assert!(matches!(error, ClusterError::Unreachable { .. }), "{error}");
}
