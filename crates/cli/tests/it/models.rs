//! `facts add-model`: a model the table lacks, read from its Hugging Face directory, gets the
//! memory checks instead of `model-unknown`; the config keeps its comments.

use super::cli::{command, json, rules_of, stderr, stdout, temp_dir};

/// A Deployment serving `acme/qwen3-30b-a3b` on one L4.
const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: qwen-moe
  namespace: ml
spec:
  selector:
    matchLabels: {app: qwen-moe}
  template:
    metadata:
      labels: {app: qwen-moe}
    spec:
      nodeSelector:
        cloud.google.com/gke-accelerator: nvidia-l4
      containers:
      - name: vllm
        image: vllm/vllm-openai:v0.10.2
        command: ["vllm", "serve"]
        args: ["acme/qwen3-30b-a3b", "--max-model-len=8192"]
        resources:
          limits:
            nvidia.com/gpu: "1"
"#;

#[test]
fn a_model_added_from_its_directory_gets_the_memory_checks() {
    let dir = temp_dir("add-model");
    let model = dir.join("qwen3-30b-a3b");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::copy(
        super::repo().join("fixtures/models/Qwen__Qwen3-30B-A3B/config.json"),
        model.join("config.json"),
    )
    .unwrap();
    // The real checkpoint's size (16 shards, 61,064,245,248 bytes of tensors); the shards
    // themselves are not here.
    std::fs::write(
        model.join("model.safetensors.index.json"),
        r#"{"metadata": {"total_size": 61064245248}, "weight_map": {"lm_head.weight": "model-00016-of-00016.safetensors"}}"#,
    )
    .unwrap();
    std::fs::write(dir.join("deploy.yaml"), DEPLOYMENT).unwrap();
    let config = dir.join("team.yaml");
    let original = "# the team's config\nrules:\n  rollout-strategy-gpu: off  # one replica\n";
    std::fs::write(&config, original).unwrap();
    let lint = || {
        command()
            .args(["lint", "--provider", "gke", "-o", "json", "--config"])
            .arg(&config)
            .arg(dir.join("deploy.yaml"))
            .output()
            .unwrap()
    };
    let before = rules_of(&json(&lint()));
    assert!(before.contains(&"model-unknown".to_string()), "{before:?}");
    assert!(
        !before.contains(&"model-weights-exceed-gpu-mem".to_string()),
        "{before:?}"
    );

    let added = command()
        .args([
            "facts",
            "add-model",
            "--id",
            "acme/qwen3-30b-a3b",
            "--config",
        ])
        .arg(&config)
        .arg(&model)
        .output()
        .unwrap();
    assert_eq!(added.status.code(), Some(0), "{}", stderr(&added));
    assert!(
        stdout(&added).starts_with(
            "acme/qwen3-30b-a3b (Qwen3MoeForCausalLM, qwen3_moe): 58236 MiB of bfloat16 weights, 48 layers, 32 attention heads, 4 KV heads of size 128, context 40960 tokens"
        ),
        "{}",
        stdout(&added)
    );
    // What it could not know is said.
    let said = stderr(&added);
    assert!(
        said.contains("note: the shards are not in the directory"),
        "{said}"
    );
    assert!(said.contains("added `acme/qwen3-30b-a3b` in `"), "{said}");
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.starts_with(original), "{written}");

    let after = json(&lint());
    let rules = rules_of(&after);
    assert!(!rules.contains(&"model-unknown".to_string()), "{rules:?}");
    let weights = after["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "model-weights-exceed-gpu-mem")
        .unwrap_or_else(|| panic!("{rules:?}"));
    assert!(
        weights["message"]
            .as_str()
            .unwrap()
            .starts_with("each L4 must hold 58236 MiB of acme/qwen3-30b-a3b (TP 1 × PP 1)"),
        "{weights}"
    );
    // `facts` lists the row as written.
    let facts = command()
        .args(["facts", "-o", "json", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let tables = json(&facts);
    let row = tables["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "acme/qwen3-30b-a3b")
        .unwrap();
    assert_eq!(row["architecture"], "Qwen3MoeForCausalLM");
    assert_eq!(row["weights-mib"], 58236);

    // A directory with no config is a clear error, exit 2, the config untouched.
    let missing = command()
        .args(["facts", "add-model", "--config"])
        .arg(&config)
        .arg(dir.join("nowhere"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).starts_with("error: cannot read `"),
        "{}",
        stderr(&missing)
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), written);
}
