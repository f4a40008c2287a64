//! The reader on real configs (fixtures/models: copied from public repositories, see its
//! README), on safetensors headers written here, and the config writer.

use std::path::{Path, PathBuf};

use kubectl_vllm_host::FactTables;
use kubectl_vllm_host::facts::ModelFact;

use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/models")
        .join(name)
}

fn row(name: &str) -> Read {
    let id = name.replacen("__", "/", 1);
    read(&fixture(name), Some(&id), Some(1000), false).unwrap()
}

/// (fixture, heads, KV heads, head size, layers, full-attention layers, window, vision heads,
/// context, dtype, architecture)
type Expected = (
    &'static str,
    u32,
    u32,
    u32,
    u32,
    Option<u32>,
    u32,
    u32,
    u32,
    &'static str,
    &'static str,
);

#[test]
fn real_configs_of_six_families_read_as_vllm_reads_them() {
    let expected: &[Expected] = &[
        (
            "meta-llama__Llama-3.1-8B",
            32,
            8,
            128,
            32,
            None,
            0,
            0,
            131_072,
            "bfloat16",
            "LlamaForCausalLM",
        ),
        (
            "meta-llama__Llama-3.2-1B-Instruct",
            32,
            8,
            64,
            16,
            None,
            0,
            0,
            131_072,
            "bfloat16",
            "LlamaForCausalLM",
        ),
        (
            "Qwen__Qwen3-8B",
            32,
            8,
            128,
            36,
            None,
            0,
            0,
            40_960,
            "bfloat16",
            "Qwen3ForCausalLM",
        ),
        // Mixture of experts: the same attention numbers; the experts are in the weights.
        (
            "Qwen__Qwen3-30B-A3B",
            32,
            4,
            128,
            48,
            None,
            0,
            0,
            40_960,
            "bfloat16",
            "Qwen3MoeForCausalLM",
        ),
        // `sliding_window: 131072` with `use_sliding_window: false`: no window.
        (
            "Qwen__Qwen2.5-7B-Instruct",
            28,
            4,
            128,
            28,
            None,
            0,
            0,
            32_768,
            "bfloat16",
            "Qwen2ForCausalLM",
        ),
        // Multimodal: the language model under text_config, the vision tower's heads beside it;
        // Gemma 3's RoPE factor is already in its 128k (vLLM skips it); one global layer in six.
        (
            "google__gemma-3-27b-it",
            32,
            16,
            128,
            62,
            Some(10),
            1024,
            16,
            131_072,
            "bfloat16",
            "Gemma3ForConditionalGeneration",
        ),
        // The 4B's text_config has no head counts: transformers' Gemma3TextConfig defaults.
        (
            "google__gemma-3-4b-it",
            8,
            4,
            256,
            34,
            Some(5),
            1024,
            16,
            131_072,
            "bfloat16",
            "Gemma3ForConditionalGeneration",
        ),
        // layer_types: alternating full and 128-token windows; YaRN 4096 × 32; MXFP4 experts.
        (
            "openai__gpt-oss-20b",
            64,
            8,
            64,
            24,
            Some(12),
            128,
            0,
            131_072,
            "mxfp4",
            "GptOssForCausalLM",
        ),
        (
            "openai__gpt-oss-120b",
            64,
            8,
            64,
            36,
            Some(18),
            128,
            0,
            131_072,
            "mxfp4",
            "GptOssForCausalLM",
        ),
        // Latent attention: 512 + 64 values per token and layer; YaRN 4096 × 40; FP8 blocks.
        (
            "deepseek-ai__DeepSeek-V3",
            128,
            1,
            288,
            61,
            None,
            0,
            0,
            163_840,
            "fp8",
            "DeepseekV3ForCausalLM",
        ),
        (
            "deepseek-ai__DeepSeek-R1",
            128,
            1,
            288,
            61,
            None,
            0,
            0,
            163_840,
            "fp8",
            "DeepseekV3ForCausalLM",
        ),
        (
            "deepseek-ai__DeepSeek-V2-Lite",
            16,
            1,
            288,
            27,
            None,
            0,
            0,
            163_840,
            "bfloat16",
            "DeepseekV2ForCausalLM",
        ),
        (
            "mistralai__Mixtral-8x7B-v0.1",
            32,
            8,
            128,
            32,
            None,
            0,
            0,
            32_768,
            "bfloat16",
            "MixtralForCausalLM",
        ),
    ];
    for &(name, heads, kv, head, layers, full, window, vision, context, dtype, class) in expected {
        let Read { row, .. } = row(name);
        let got = (
            row.attention_heads,
            row.kv_heads,
            row.head_dim,
            row.layers,
            row.full_attention_layers,
            row.sliding_window,
            row.vision_heads,
            row.max_context,
            row.dtype.as_str(),
            row.architecture.as_str(),
        );
        assert_eq!(
            got,
            (
                heads, kv, head, layers, full, window, vision, context, dtype, class
            ),
            "{name}"
        );
    }
}

#[test]
fn rows_read_from_configs_agree_with_the_built_in_rows_of_the_same_models() {
    let builtin = FactTables::builtin();
    for (fixture, id) in [
        ("google__gemma-3-27b-it", "google/gemma-3-27b-it"),
        ("openai__gpt-oss-20b", "openai/gpt-oss-20b"),
        ("openai__gpt-oss-120b", "openai/gpt-oss-120b"),
        ("Qwen__Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B-Instruct"),
        ("Qwen__Qwen3-8B", "Qwen/Qwen3-8B"),
        // The base model's config: the Instruct model has the same architecture.
        (
            "meta-llama__Llama-3.1-8B",
            "meta-llama/Llama-3.1-8B-Instruct",
        ),
    ] {
        let Read { row, .. } = row(fixture);
        let table = builtin.models.iter().find(|m| m.id == id).unwrap();
        let numbers = |m: &ModelFact| {
            (
                m.attention_heads,
                m.vision_heads,
                m.kv_heads,
                m.layers,
                // `None` is every layer, as the host reads it.
                m.full_attention_layers.unwrap_or(m.layers).min(m.layers),
                m.sliding_window,
                m.head_dim,
                m.max_context,
                m.dtype.clone(),
                m.min_compute_capability,
            )
        };
        assert_eq!(numbers(&row), numbers(table), "{fixture} against {id}");
    }
    // The index's total_size is the weights, exactly: 13,761,264,768 bytes.
    let read = read(
        &fixture("openai__gpt-oss-20b"),
        Some("openai/gpt-oss-20b"),
        None,
        false,
    )
    .unwrap();
    assert_eq!(read.row.weights_mib, 13_761_264_768u64.div_ceil(1 << 20));
    assert!(
        read.row.source.contains("model.safetensors.index.json"),
        "{}",
        read.row.source
    );
}

#[test]
fn what_the_config_leaves_out_is_said() {
    let Read { notes, .. } = row("google__gemma-3-4b-it");
    for field in [
        "num_attention_heads",
        "num_key_value_heads",
        "head_dim",
        "max_position_embeddings",
    ] {
        assert!(
            notes
                .iter()
                .any(|n| n.contains(&format!("`{field}` is not in the config"))
                    && n.contains("gemma3_text")),
            "{field}: {notes:?}"
        );
    }
    let Read { notes, .. } = row("deepseek-ai__DeepSeek-V3");
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("latent attention: the KV cache holds 576 values")),
        "{notes:?}"
    );
    // A config without heads for a class without known defaults is refused, naming the field.
    let error = config::architecture(
        &serde_json::json!({"model_type": "acme", "num_hidden_layers": 2}),
        None,
    )
    .unwrap_err();
    assert!(
        error.0.contains("`num_attention_heads`") && error.0.contains("acme"),
        "{error}"
    );
    // A window on layers the config does not name: all counted as full attention, and said.
    let arch = config::architecture(
        &serde_json::json!({"model_type": "acme", "num_hidden_layers": 4, "num_attention_heads": 8,
            "hidden_size": 512, "sliding_window": 256, "max_position_embeddings": 4096}),
        Some(2048),
    )
    .unwrap();
    assert_eq!(
        (
            arch.full_attention_layers,
            arch.sliding_window,
            arch.head_dim,
            arch.kv_heads
        ),
        (None, 0, 64, 8)
    );
    assert_eq!(arch.max_context, 2048, "the tokenizer's bound");
    assert!(
        arch.notes
            .iter()
            .any(|n| n.contains("every layer is counted as full attention")),
        "{:?}",
        arch.notes
    );
}

/// A safetensors file: its header (tensor name, dtype, shape) and zeroed data.
fn safetensors(path: &Path, tensors: &[(&str, &str, &[u64], u64)]) {
    let mut header = serde_json::Map::new();
    header.insert("__metadata__".into(), serde_json::json!({"format": "pt"}));
    let mut offset = 0;
    for (name, dtype, shape, bytes_per) in tensors {
        let bytes = shape.iter().product::<u64>() * bytes_per;
        header.insert(
            (*name).into(),
            serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + bytes]}),
        );
        offset += bytes;
    }
    let text = serde_json::to_vec(&header).unwrap();
    let mut file = (text.len() as u64).to_le_bytes().to_vec();
    file.extend(text);
    file.resize(file.len() + usize::try_from(offset).unwrap(), 0);
    std::fs::write(path, file).unwrap();
}

fn temp(tag: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("kubectl-vllm-models-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn weights_are_counted_from_safetensors_headers_and_the_cache_path_names_the_model() {
    // As the Hugging Face cache lays a download out.
    let dir = temp("headers").join("hub/models--acme--tiny-llama/snapshots/0123abcd");
    std::fs::create_dir_all(dir.join("original")).unwrap();
    std::fs::copy(
        fixture("meta-llama__Llama-3.2-1B-Instruct/config.json"),
        dir.join("config.json"),
    )
    .unwrap();
    safetensors(
        &dir.join("model-00001-of-00002.safetensors"),
        &[("embed", "BF16", &[1000, 64], 2), ("norm", "F32", &[64], 4)],
    );
    safetensors(
        &dir.join("model-00002-of-00002.safetensors"),
        &[("lm_head", "BF16", &[1000, 64], 2)],
    );
    safetensors(
        &dir.join("original/consolidated.safetensors"),
        &[("all", "BF16", &[4000, 64], 2)],
    );
    let read = read(&dir, None, None, false).unwrap();
    assert_eq!(read.row.id, "acme/tiny-llama");
    assert_eq!(read.row.aliases, ["tiny-llama"]);
    assert_eq!(read.row.parameters, 1000 * 64 * 2 + 64);
    assert_eq!(read.row.weights_mib, 1, "256,256 bytes of tensors");
    assert_eq!(read.row.extra_folders, ["original/"]);
    assert!(
        read.row.source.contains("safetensors headers"),
        "{}",
        read.row.source
    );
    // Packed integer tensors: bytes counted, parameters not, and said.
    safetensors(
        &dir.join("model-00002-of-00002.safetensors"),
        &[("blocks", "U8", &[1000, 16], 1)],
    );
    let read = super::read(&dir, None, None, false).unwrap();
    assert_eq!(read.row.parameters, 0);
    assert!(
        read.notes
            .iter()
            .any(|n| n.contains("integer tensors (U8)")),
        "{:?}",
        read.notes
    );
    // A file that is not safetensors is a located error, not a guess.
    std::fs::write(
        dir.join("model-00002-of-00002.safetensors"),
        b"\xff\xff\xff\xff\xff\xff\xff\x7fgarbage",
    )
    .unwrap();
    let error = super::read(&dir, None, None, false).unwrap_err();
    assert!(
        error.contains("model-00002-of-00002.safetensors` is not a safetensors file"),
        "{error}"
    );
    // No weights, no index, no --weights-mib: refused, saying what to give.
    let bare = temp("bare");
    std::fs::copy(
        fixture("Qwen__Qwen3-8B/config.json"),
        bare.join("config.json"),
    )
    .unwrap();
    let error = super::read(
        &bare.join("config.json"),
        Some("Qwen/Qwen3-8B"),
        None,
        false,
    )
    .unwrap_err();
    assert!(error.contains("--weights-mib"), "{error}");
    let error = super::read(&bare, None, Some(1), false).unwrap_err();
    assert!(error.contains("give --id ORG/NAME"), "{error}");
}

#[test]
fn the_row_is_written_keeping_the_config_and_replaced_by_id() {
    let Read { row, .. } = row("openai__gpt-oss-20b");
    let original = "# team config\nrules:\n  image-tag-floating: off  # pinned by digest\n";
    let (once, replaced) = write::with_row(original, &row).unwrap();
    assert!(!replaced);
    assert!(once.starts_with(original), "{once}");
    let parsed: FactTables = {
        let stream = kubectl_vllm_manifest::yaml::parse(&once);
        let json = stream.documents[0].root.to_json();
        serde_json::from_value(json["facts"].clone()).unwrap()
    };
    assert_eq!(parsed.models, std::slice::from_ref(&row));
    // Written again with other numbers: replaced in place, nothing else moves.
    let mut changed = row.clone();
    changed.weights_mib = 7;
    let (twice, replaced) = write::with_row(&once, &changed).unwrap();
    assert!(replaced);
    assert!(twice.starts_with(original));
    assert_eq!(twice.replace("weights-mib: 7", "weights-mib: 1000"), once);
    // A second model goes after the first; an empty or comment-only file gets the section.
    let (two, _) = write::with_row(&twice, &super::tests::row("Qwen__Qwen3-8B").row).unwrap();
    assert!(two.starts_with(&twice[..twice.len() - 1]), "{two}");
    for text in ["", "# nothing yet\n", "# no newline"] {
        let (out, _) = write::with_row(text, &row).unwrap();
        assert!(
            out.starts_with(text) && out.contains("  - id: openai/gpt-oss-20b\n"),
            "{out}"
        );
    }
    let error = write::with_row("facts: [1]\n", &row).unwrap_err();
    assert!(error.contains("`facts` is not a mapping"), "{error}");
}

#[test]
fn a_config_the_row_would_break_is_left_as_it_was() {
    let dir = temp("write");
    let path = dir.join(".kubectl-vllm.yaml");
    // A config that does not load already (an unknown section): refused, the file unchanged.
    std::fs::write(&path, "bogus-section: 1\n").unwrap();
    let error = write::write_row(&path, &row("Qwen__Qwen3-8B").row).unwrap_err();
    assert!(error.contains("would not load as a config"), "{error}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "bogus-section: 1\n"
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary file left"
    );
    // A missing one is created, and loads with the row in it.
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        write::write_row(&path, &row("Qwen__Qwen3-8B").row).unwrap(),
        "added"
    );
    let loaded = kubectl_vllm_engine::config::load(&path).unwrap();
    assert_eq!(loaded.config.facts.models[0].id, "Qwen/Qwen3-8B");
}
