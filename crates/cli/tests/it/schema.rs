//! Schema validation through the binary: located findings with suggestions, every error of an
//! object, version selection, CRDs and JSON Schemas added with `--schema`.

use serde_json::Value;

use super::cli::{command, json, run, run_stdin, stderr, temp_dir};

/// (rule, line, help) of every finding.
fn findings(report: &Value) -> Vec<(String, u64, Option<String>)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["help"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn every_error_of_an_object_is_reported_at_its_field_with_suggestions() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: vllm\nspec:\n  nodeSelecter: {cloud.google.com/gke-accelerator: nvidia-l4}\n  tolerration: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]\n  restartPolicy: Sometimes\n  containers:\n  - name: vllm\n    image: vllm/vllm-openai:v0.10.2\n    volumeMount: []\n    resources: {limits: {memory: 16GB}}\n";
    let o = run_stdin(&["lint", "-", "-o", "json", "--select", "schema-"], pod);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let found = findings(&json(&o));
    assert_eq!(
        found,
        [
            (
                "schema-unknown-field".into(),
                6,
                Some("did you mean `nodeSelector`?".into())
            ),
            (
                "schema-unknown-field".into(),
                7,
                Some("did you mean `tolerations`?".into())
            ),
            ("schema-enum".into(), 8, None),
            (
                "schema-unknown-field".into(),
                12,
                Some("did you mean `volumeMounts`?".into())
            ),
            (
                "schema-quantity".into(),
                13,
                Some(
                    "write a number with an optional suffix: `500m`, `2`, `16Gi`, `1.5G`, `1e3`"
                        .into()
                )
            ),
        ]
    );
    // The text output points at the field and carries the suggestion.
    let o = run_stdin(&["lint", "-", "--select", "schema-unknown-field"], pod);
    let text = super::cli::stdout(&o);
    assert!(
        text.contains("unknown field `tolerration` in `spec`"),
        "{text}"
    );
    assert!(text.contains("did you mean `tolerations`?"), "{text}");
}

#[test]
fn the_kubernetes_version_selects_the_schemas() {
    // `workloadRef` exists in Kubernetes 1.35's PodSpec and is gone by 1.37.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  workloadRef: {name: w, podGroup: g}\n  containers:\n  - name: c\n    image: busybox:1.37\n";
    let lint = |version: &str| {
        let o = run_stdin(
            &[
                "lint",
                "-",
                "-o",
                "json",
                "--select",
                "schema-",
                "--kubernetes-version",
                version,
            ],
            pod,
        );
        findings(&json(&o))
    };
    assert_eq!(lint("1.35"), []);
    assert_eq!(lint("v1.35.4"), []);
    assert_eq!(lint("1.37"), [("schema-unknown-field".into(), 6, None)]);
    // The default is the newest.
    let o = run_stdin(&["lint", "-", "-o", "json", "--select", "schema-"], pod);
    assert_eq!(findings(&json(&o)).len(), 1);
    // The config can pin it; the flag wins.
    let dir = temp_dir("schema-version");
    std::fs::write(
        dir.join(".kubectl-vllm.yaml"),
        "kubernetes-version: \"1.35\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("pod.yaml"), pod).unwrap();
    let in_dir = |args: &[&str]| {
        let o = command().current_dir(&dir).args(args).output().unwrap();
        findings(&json(&o)).len()
    };
    assert_eq!(
        in_dir(&["lint", "pod.yaml", "-o", "json", "--select", "schema-"]),
        0
    );
    assert_eq!(
        in_dir(&[
            "lint",
            "pod.yaml",
            "-o",
            "json",
            "--select",
            "schema-",
            "--kubernetes-version",
            "1.37"
        ]),
        1
    );
    let o = run(&[
        "lint",
        "fixtures/rules/schema-type/good.yaml",
        "--kubernetes-version",
        "1.20",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no schemas for Kubernetes 1.20: this build has 1.35, 1.36, 1.37"),
        "{}",
        stderr(&o)
    );
    let o = run_stdin(&["lint", "-", "-o", "json", "--no-schema"], pod);
    assert!(!super::cli::stdout(&o).contains("schema-"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn crds_and_json_schemas_are_added_with_the_schema_flag() {
    let dir = temp_dir("schema-crd");
    let monitor = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: vllm\nspec:\n  endpoints:\n  - port: http\n    interval: 30s\n    intervall: 15s\n";
    std::fs::write(dir.join("monitor.yaml"), monitor).unwrap();
    let schemas = dir.join("schemas");
    std::fs::create_dir_all(&schemas).unwrap();
    std::fs::write(
        schemas.join("servicemonitors.yaml"),
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: servicemonitors.monitoring.coreos.com\nspec:\n  group: monitoring.coreos.com\n  scope: Namespaced\n  names: {kind: ServiceMonitor, plural: servicemonitors}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            properties:\n              endpoints:\n                type: array\n                items:\n                  type: object\n                  properties:\n                    port: {type: string}\n                    interval: {type: string, pattern: '^[0-9]+[smh]$'}\n",
    )
    .unwrap();
    let path = dir.join("monitor.yaml");
    let path = path.to_str().unwrap();
    // Without the CRD: one info, fields unchecked.
    let o = run(&["lint", path, "-o", "json"]);
    assert_eq!(
        findings(&json(&o)),
        [(
            "schema-unknown-kind".into(),
            2,
            Some("add its CRD or JSON Schema with `--schema PATH`".into())
        )]
    );
    // With it: the typo is found (the API server would prune it).
    let o = run(&[
        "lint",
        path,
        "-o",
        "json",
        "--schema",
        schemas.to_str().unwrap(),
    ]);
    assert_eq!(
        findings(&json(&o)),
        [(
            "schema-unknown-field".into(),
            9,
            Some("did you mean `interval`?".into())
        )]
    );
    // A JSON Schema naming its kind works the same; a pattern breaks as schema-value.
    let bad_interval = monitor
        .replace("    intervall: 15s\n", "")
        .replace("30s", "30 seconds");
    std::fs::write(dir.join("monitor.yaml"), bad_interval).unwrap();
    std::fs::write(
        schemas.join("servicemonitor.json"),
        r#"{"x-kubernetes-group-version-kind": [{"group": "monitoring.coreos.com", "version": "v1", "kind": "ServiceMonitor"}],
            "type": "object", "properties": {"spec": {"type": "object", "properties": {"endpoints": {"type": "array",
            "items": {"type": "object", "properties": {"port": {"type": "string"}, "interval": {"type": "string", "pattern": "^[0-9]+[smh]$"}}}}}}}}"#,
    )
    .unwrap();
    let o = run(&[
        "lint",
        path,
        "-o",
        "json",
        "--schema",
        schemas.join("servicemonitor.json").to_str().unwrap(),
    ]);
    assert_eq!(findings(&json(&o)), [("schema-value".into(), 8, None)]);
    // A schema that names no kind is an error.
    std::fs::write(schemas.join("nothing.json"), "{\"type\": \"object\"}").unwrap();
    let o = run(&[
        "lint",
        path,
        "--schema",
        schemas.join("nothing.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("x-kubernetes-group-version-kind"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(dir);
}
