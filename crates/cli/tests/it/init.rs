//! `kubectl vllm init`: every set the tables allow lints clean, with no warning, on its provider;
//! impossible requests are refused with the reason; the field report's four deployments are kept
//! as golden files.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Stdio;

use kubectl_vllm_host::FactTables;
use kubectl_vllm_init::{InitArgs, Storage, Target};

use super::cli::{command, stderr, stdout, temp_dir};

fn args(model: &str, accelerator: &str, provider: Target, storage: Storage) -> InitArgs {
    InitArgs {
        model: model.into(),
        accelerator: accelerator.into(),
        gpus: None,
        provider,
        storage,
        bucket: None,
        namespace: None,
        name: None,
        replicas: 1,
        max_model_len: None,
        image: None,
        output_dir: None,
        config: None,
    }
}

/// The storages of a provider, with the bucket each needs.
fn storages(provider: Target) -> Vec<(Storage, Option<&'static str>)> {
    let mut out = vec![(Storage::Pvc, None), (Storage::HfDownload, None)];
    if provider == Target::Gke {
        out.extend([
            (Storage::Pvc, Some("gs://models/hf/model")),
            (Storage::Gcsfuse, Some("gs://models/hf/model")),
            (Storage::PreloadedPv, None),
        ]);
    }
    out
}

/// Lints `text` on `provider`: the exit code, the findings at warning or error (rule, where and
/// message), and how many documents the report says it read.
fn lint(text: &str, provider: &str) -> (Option<i32>, Vec<(String, String)>, u64) {
    let mut child = command()
        .args(["lint", "-", "--provider", provider, "-o", "json", "-j", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let owned = text.to_string();
    let writer = std::thread::spawn(move || input.write_all(owned.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", stderr(&output)));
    let bad = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                format!("{} (line {}): {}", f["file"], f["line"], f["message"]),
            )
        })
        .collect();
    let documents = report["summary"]["documents"].as_u64().unwrap();
    (output.status.code(), bad, documents)
}

#[test]
fn every_set_the_tables_allow_lints_clean_and_the_rest_is_refused_with_a_reason() {
    let tables = FactTables::builtin();
    let mut accepted = 0;
    let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
    for provider in [Target::Gke, Target::Eks, Target::Aks, Target::Generic] {
        // Every set in its own namespace, names unique across the run: one lint per provider.
        let mut stream = String::new();
        let mut index = 0;
        let mut documents = 0;
        for model in &tables.models {
            for gpu in &tables.accelerators {
                for (storage, bucket) in storages(provider) {
                    let mut a = args(&model.id, &gpu.id, provider, storage);
                    a.bucket = bucket.map(Into::into);
                    index += 1;
                    a.name = Some(format!("vllm-{index}"));
                    a.namespace = Some(format!("ns-{index}"));
                    match kubectl_vllm_init::generate(&tables, &a) {
                        Ok((_, objects)) => {
                            accepted += 1;
                            documents += objects.len() as u64;
                            stream.push_str(&kubectl_vllm_init::stream(&objects));
                            stream.push_str("---\n");
                        }
                        Err(refusal) => {
                            let kind = refusal.0.split(':').next().unwrap_or("").to_string();
                            let kind = kind
                                .split_whitespace()
                                .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
                                .take(6)
                                .collect::<Vec<_>>()
                                .join(" ");
                            *refusals.entry(kind).or_default() += 1;
                        }
                    }
                }
            }
        }
        let (code, bad, read) = lint(&stream, provider.name());
        assert_eq!(
            read,
            documents,
            "{}: every generated object was linted",
            provider.name()
        );
        assert!(
            bad.is_empty(),
            "{}: {} warnings or errors, first: {:#?}",
            provider.name(),
            bad.len(),
            &bad[..bad.len().min(8)]
        );
        assert_eq!(code, Some(0), "{}", provider.name());
    }
    assert!(
        accepted > 300,
        "{accepted} sets accepted; refused: {refusals:#?}"
    );
    assert!(!refusals.is_empty());
}

#[test]
fn impossible_requests_are_refused_with_exit_2_and_the_reason() {
    for (argv, says) in [
        (
            &["--model", "gpt-oss-20b", "--accelerator", "nvidia-tesla-t4"][..],
            "openai/gpt-oss-20b cannot run on T4 (compute capability 7.5): MXFP4 weights need compute capability 8.0",
        ),
        (
            &[
                "--model",
                "gemma-3-27b-it",
                "--accelerator",
                "nvidia-l4",
                "--gpus",
                "3",
            ],
            "comes in 1, 2, 4, 8 GPUs per node on gke, not 3",
        ),
        (
            &[
                "--model",
                "gpt-oss-120b",
                "--accelerator",
                "nvidia-tesla-t4",
            ],
            "cannot run on T4",
        ),
        (
            &[
                "--model",
                "Llama-3.1-70B-Instruct",
                "--accelerator",
                "nvidia-l4",
                "--max-model-len",
                "131072",
            ],
            "does not fit L4 with a 131072-token context in any count the node comes in on gke",
        ),
        (
            &["--model", "no-such-model", "--accelerator", "nvidia-l4"],
            "is not in the model table",
        ),
        (
            &[
                "--model",
                "gemma-3-1b-it",
                "--accelerator",
                "nvidia-l4",
                "--storage",
                "gcsfuse",
                "--provider",
                "eks",
            ],
            "--storage gcsfuse is written for GKE only",
        ),
        (
            &[
                "--model",
                "gemma-3-1b-it",
                "--accelerator",
                "nvidia-l4",
                "--replicas",
                "2",
            ],
            "2 replicas cannot share one ReadWriteOnce disk",
        ),
        (
            &[
                "--model",
                "gemma-3-1b-it",
                "--accelerator",
                "nvidia-l4",
                "--name",
                "vllm",
            ],
            "net-service-named-vllm",
        ),
    ] {
        let o = command().arg("init").args(argv).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{argv:?}: {}", stdout(&o));
        assert!(stdout(&o).is_empty(), "{argv:?}");
        assert!(stderr(&o).contains(says), "{argv:?}: {}", stderr(&o));
    }
}

/// The field report's four deployments, as `init` writes them (`fixtures/init/<name>.yaml`;
/// `KUBECTL_VLLM_BLESS=1` rewrites them). Each lints clean on GKE.
#[test]
fn the_field_reports_four_deployments_are_golden() {
    let dir = super::repo().join("fixtures/init");
    for (name, argv) in [
        (
            "gemma-1b",
            &[
                "--model",
                "gemma-3-1b-it",
                "--accelerator",
                "nvidia-l4",
                "--bucket",
                "gs://ai-llm-models/hf/gemma-3-1b-it",
            ][..],
        ),
        (
            "gemma-27b",
            &[
                "--model",
                "gemma-3-27b-it",
                "--accelerator",
                "nvidia-tesla-a100",
                "--gpus",
                "4",
                "--bucket",
                "gs://ai-llm-models/hf/gemma-3-27b-it",
            ],
        ),
        (
            "gpt-oss-20b",
            &[
                "--model",
                "gpt-oss-20b",
                "--accelerator",
                "nvidia-l4",
                "--bucket",
                "gs://ai-llm-models/hf/gpt-oss-20b",
            ],
        ),
        (
            "gpt-oss-120b",
            &[
                "--model",
                "gpt-oss-120b",
                "--accelerator",
                "nvidia-a100-80gb",
                "--max-model-len",
                "131072",
                "--bucket",
                "gs://ai-llm-models/hf/gpt-oss-120b",
            ],
        ),
    ] {
        let o = command().arg("init").args(argv).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        let text = stdout(&o);
        let path = dir.join(format!("{name}.yaml"));
        if std::env::var_os("KUBECTL_VLLM_BLESS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        assert_eq!(
            std::fs::read_to_string(&path).unwrap_or_default(),
            text,
            "{name}: init's output changed (KUBECTL_VLLM_BLESS=1 rewrites fixtures/init/)"
        );
        let (code, bad, _) = lint(&text, "gke");
        assert!(bad.is_empty() && code == Some(0), "{name}: {bad:#?}");
    }
    // --output-dir: one file per object, never over an existing one.
    let out = temp_dir("init-out");
    let write = || {
        command()
            .args([
                "init",
                "--model",
                "gemma-3-1b-it",
                "--accelerator",
                "nvidia-l4",
                "--output-dir",
            ])
            .arg(&out)
            .output()
            .unwrap()
    };
    let first = write();
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "deployment.yaml",
            "persistent-volume-claim.yaml",
            "service-account.yaml",
            "service.yaml",
            "storage-class.yaml"
        ]
    );
    let again = write();
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("exists; nothing written"),
        "{}",
        stderr(&again)
    );
}
