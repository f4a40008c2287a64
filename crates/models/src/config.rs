//! A Hugging Face `config.json` read as vLLM reads it: the numbers the memory, parallelism and
//! context checks need. Multimodal configs keep the language model under `text_config` (Gemma 3,
//! Llama 4, Mistral 3) and its vision tower under `vision_config`; a sparse `text_config` leaves
//! fields to the transformers class's defaults, which [`DEFAULTS`] holds for the classes known to
//! ship sparse configs. Mixture-of-experts configs need nothing more here (their weights are
//! counted from the checkpoint); multi-head latent attention (DeepSeek V2/V3, Kimi K2) caches one
//! latent vector per token and layer, which [`Architecture`] expresses in the table's terms.

use serde_json::{Map, Value};

/// What the checks need of a model's architecture, and how each number was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Architecture {
    /// `architectures[0]`.
    pub architecture: String,
    /// The language model's `model_type` (`gemma3_text` under a `gemma3` config).
    pub model_type: String,
    /// Attention heads.
    pub attention_heads: u32,
    /// Key/value heads as the KV cache holds them (1 for latent attention: one latent per token).
    pub kv_heads: u32,
    /// Head dimension as the KV cache holds it (for latent attention, half the latent width, so
    /// that the table's 2 × head_dim × kv_heads is the latent's width).
    pub head_dim: u32,
    /// Transformer layers.
    pub layers: u32,
    /// Layers attending over the whole context (`None`: all of them).
    pub full_attention_layers: Option<u32>,
    /// Sliding window of the other layers (0: none).
    pub sliding_window: u32,
    /// Vision-tower attention heads (0: no vision tower).
    pub vision_heads: u32,
    /// The longest context vLLM derives (`max_model_len`'s default).
    pub max_context: u32,
    /// Weights dtype: the quantization method, else `torch_dtype`/`dtype`.
    pub dtype: String,
    /// What was not in the config and where its value came from; said to the user.
    pub notes: Vec<String>,
}

/// Why a config cannot become a row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Defaults of transformers config classes whose published configs leave fields out (Gemma 3's
/// `text_config` has no head counts for the 4B). Source: transformers
/// `models/gemma3/configuration_gemma3.py` (`Gemma3TextConfig.__init__`), `gemma2/
/// configuration_gemma2.py`.
pub const DEFAULTS: &[(&str, &[(&str, u64)])] = &[
    (
        "gemma3_text",
        &[
            ("num_hidden_layers", 26),
            ("num_attention_heads", 8),
            ("num_key_value_heads", 4),
            ("head_dim", 256),
            ("sliding_window", 4096),
            ("sliding_window_pattern", 6),
            ("max_position_embeddings", 131_072),
        ],
    ),
    (
        "gemma2",
        &[
            ("num_hidden_layers", 26),
            ("num_attention_heads", 8),
            ("num_key_value_heads", 4),
            ("head_dim", 256),
            ("sliding_window", 4096),
            ("sliding_window_pattern", 2),
            ("max_position_embeddings", 8192),
        ],
    ),
];

/// The keys vLLM reads a model's length from; it takes the smallest present
/// (`vllm/config/model.py`, `_get_and_verify_max_len`).
const LENGTH_KEYS: &[&str] = &[
    "max_position_embeddings",
    "n_positions",
    "max_seq_len",
    "seq_length",
    "model_max_length",
    "max_sequence_length",
    "max_seq_length",
    "seq_len",
];

/// vLLM's length when a config names none.
const DEFAULT_LENGTH: u64 = 2048;

struct Fields<'a> {
    text: &'a Map<String, Value>,
    defaults: &'a [(&'static str, u64)],
    notes: Vec<String>,
}

impl Fields<'_> {
    fn number(&self, key: &str) -> Option<u64> {
        self.text.get(key).and_then(Value::as_u64)
    }

    /// `key`, else the class default (noted), else `None`.
    fn number_or_default(&mut self, key: &str, model_type: &str) -> Option<u64> {
        if let Some(n) = self.number(key) {
            return Some(n);
        }
        let (_, n) = self.defaults.iter().find(|(k, _)| *k == key)?;
        self.notes.push(format!(
            "`{key}` is not in the config: {n}, the default of transformers' `{model_type}` config class"
        ));
        Some(*n)
    }

    /// The first of `keys` present, else the default of the first.
    fn required(&mut self, keys: &[&str], model_type: &str) -> Result<u64, ConfigError> {
        keys.iter()
            .find_map(|k| self.number(k))
            .or_else(|| self.number_or_default(keys[0], model_type))
            .ok_or_else(|| {
                ConfigError(format!(
                    "the config has no `{}` (nor a default kubectl-vllm knows for model_type `{model_type}`)",
                    keys[0]
                ))
            })
    }
}

fn small(n: u64, what: &str) -> Result<u32, ConfigError> {
    u32::try_from(n).map_err(|_| ConfigError(format!("`{what}` is {n}, more than any model has")))
}

/// Reads `config` (a parsed `config.json`); `tokenizer_max` is `tokenizer_config.json`'s
/// `model_max_length`, which vLLM also bounds the length by.
pub fn architecture(
    config: &Value,
    tokenizer_max: Option<u64>,
) -> Result<Architecture, ConfigError> {
    let root = config
        .as_object()
        .ok_or_else(|| ConfigError("config.json is not a JSON object".into()))?;
    let text = root
        .get("text_config")
        .and_then(Value::as_object)
        .unwrap_or(root);
    let string = |map: &Map<String, Value>, key: &str| {
        map.get(key).and_then(Value::as_str).map(str::to_string)
    };
    let model_type = string(text, "model_type")
        .or_else(|| string(root, "model_type"))
        .ok_or_else(|| ConfigError("the config has no `model_type`".into()))?;
    let architecture = root
        .get("architectures")
        .and_then(|a| a.get(0))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let defaults = DEFAULTS
        .iter()
        .find(|(t, _)| *t == model_type)
        .map_or(&[][..], |(_, d)| *d);
    let mut fields = Fields {
        text,
        defaults,
        notes: Vec::new(),
    };
    let heads = fields.required(&["num_attention_heads", "n_head", "num_heads"], &model_type)?;
    if heads == 0 {
        return Err(ConfigError("`num_attention_heads` is 0".into()));
    }
    let layers = fields.required(&["num_hidden_layers", "n_layer", "num_layers"], &model_type)?;
    let (kv_heads, head_dim) = if let Some(rank) = fields.number("kv_lora_rank") {
        // Multi-head latent attention: one latent of kv_lora_rank + qk_rope_head_dim values
        // per token and layer, the same for every tensor-parallel rank.
        let width = rank + fields.number("qk_rope_head_dim").unwrap_or(0);
        fields.notes.push(format!(
            "latent attention: the KV cache holds {width} values per token and layer (kv_lora_rank {rank} + qk_rope_head_dim), written as 1 KV head of head size {}",
            width.div_ceil(2)
        ));
        (1, width.div_ceil(2))
    } else {
        let kv = match fields.number("num_key_value_heads") {
            Some(kv) => kv,
            None => match fields.number_or_default("num_key_value_heads", &model_type) {
                Some(kv) => kv,
                None if fields.text.get("multi_query").and_then(Value::as_bool) == Some(true) => 1,
                None => heads,
            },
        };
        let head_dim = match fields.number("head_dim") {
            Some(d) => d,
            None => {
                if let Some(d) = fields.number_or_default("head_dim", &model_type) {
                    d
                } else {
                    let hidden =
                        fields.required(&["hidden_size", "n_embd", "d_model"], &model_type)?;
                    hidden / heads
                }
            }
        };
        (kv, head_dim)
    };
    let (full_attention_layers, sliding_window) =
        attention_layers(&mut fields, &model_type, layers);
    let vision_heads = root
        .get("vision_config")
        .and_then(|v| v.get("num_attention_heads").or_else(|| v.get("num_heads")))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let max_context = max_context(&mut fields, &model_type, tokenizer_max);
    let dtype = dtype(root, text, &mut fields.notes);
    Ok(Architecture {
        architecture,
        model_type,
        attention_heads: small(heads, "num_attention_heads")?,
        kv_heads: small(kv_heads, "num_key_value_heads")?,
        head_dim: small(head_dim, "head_dim")?,
        layers: small(layers, "num_hidden_layers")?,
        full_attention_layers: full_attention_layers
            .map(|n| small(n, "layer_types"))
            .transpose()?,
        sliding_window: small(sliding_window, "sliding_window")?,
        vision_heads: small(vision_heads, "vision_config.num_attention_heads")?,
        max_context: small(max_context, "max_position_embeddings")?,
        dtype,
        notes: fields.notes,
    })
}

/// Which layers attend over the whole context, and the others' window: from `layer_types`
/// (gpt-oss, newer Gemma and Qwen configs), else the class's pattern (Gemma 2 and 3: one global
/// layer every `sliding_window_pattern`), else Qwen's `use_sliding_window`/`max_window_layers`,
/// else Mistral's window on every layer. A window on layers the config does not name is counted
/// as full attention (the larger KV cache), and said.
fn attention_layers(fields: &mut Fields<'_>, model_type: &str, layers: u64) -> (Option<u64>, u64) {
    let window = fields.number("sliding_window").unwrap_or(0);
    if let Some(types) = fields.text.get("layer_types").and_then(Value::as_array) {
        let full = types
            .iter()
            .filter(|t| t.as_str() != Some("sliding_attention"))
            .count() as u64;
        return if full == types.len() as u64 || window == 0 {
            (None, 0)
        } else {
            (Some(full), window)
        };
    }
    if fields
        .text
        .get("use_sliding_window")
        .and_then(Value::as_bool)
        == Some(false)
    {
        return (None, 0);
    }
    let window = match fields.text.get("sliding_window") {
        Some(Value::Null) => return (None, 0),
        Some(w) => w.as_u64().unwrap_or(0),
        None => fields
            .number_or_default("sliding_window", model_type)
            .unwrap_or(0),
    };
    if window == 0 {
        return (None, 0);
    }
    if let Some(pattern) = fields.number("sliding_window_pattern").or_else(|| {
        fields
            .defaults
            .iter()
            .find(|(k, _)| *k == "sliding_window_pattern")
            .map(|(_, n)| *n)
    }) && pattern > 0
    {
        // Layer i attends globally when (i + 1) is a multiple of the pattern.
        return (Some(layers / pattern), window);
    }
    if fields
        .text
        .get("use_sliding_window")
        .and_then(Value::as_bool)
        == Some(true)
    {
        // Qwen 2/3: layers from `max_window_layers` on use the window.
        let full = fields
            .number("max_window_layers")
            .unwrap_or(layers)
            .min(layers);
        return (Some(full), window);
    }
    if model_type.starts_with("mistral") || model_type.starts_with("mixtral") {
        return (Some(0), window);
    }
    fields.notes.push(format!(
        "`sliding_window` is {window} but the config does not say which layers use it: every layer is counted as full attention (the larger KV cache)"
    ));
    (None, 0)
}

/// `max_model_len` as vLLM derives it: the smallest length key, scaled by the RoPE factor unless
/// the scaling is one that already counts it (`su`, `longrope`, `llama3`) or the model is Gemma 3
/// (whose 128k is already scaled); YaRN scales `original_max_position_embeddings`. Bounded by the
/// tokenizer's `model_max_length`.
fn max_context(fields: &mut Fields<'_>, model_type: &str, tokenizer_max: Option<u64>) -> u64 {
    let mut length = LENGTH_KEYS
        .iter()
        .filter_map(|k| fields.number(k))
        .min()
        .or_else(|| fields.number_or_default("max_position_embeddings", model_type))
        .unwrap_or_else(|| {
            fields.notes.push(format!(
                "the config names no maximum length: {DEFAULT_LENGTH}, as vLLM assumes"
            ));
            DEFAULT_LENGTH
        });
    let scaling = fields
        .text
        .get("rope_scaling")
        .or_else(|| fields.text.get("rope_parameters"))
        .and_then(Value::as_object);
    if let Some(scaling) = scaling
        && !model_type.contains("gemma3")
    {
        let kind = scaling
            .get("rope_type")
            .or_else(|| scaling.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("default");
        if !matches!(kind, "su" | "longrope" | "llama3") {
            let factor = scaling.get("factor").and_then(Value::as_f64).unwrap_or(1.0);
            if kind == "yarn"
                && let Some(original) = scaling
                    .get("original_max_position_embeddings")
                    .and_then(Value::as_u64)
            {
                length = original;
            }
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let scaled = (length as f64 * factor) as u64;
            length = scaled;
        }
    }
    // Tokenizers without a bound write a sentinel (1e30); vLLM ignores what exceeds the model's.
    if let Some(bound) = tokenizer_max
        && bound < length
    {
        fields.notes.push(format!(
            "tokenizer_config.json's model_max_length ({bound}) bounds the context, as vLLM does"
        ));
        length = bound;
    }
    length
}

/// The checkpoint's dtype: a quantization method names it (`mxfp4`, `fp8`, `awq`, `gptq`...),
/// else `torch_dtype` (or transformers 4.56's `dtype`).
fn dtype(root: &Map<String, Value>, text: &Map<String, Value>, notes: &mut Vec<String>) -> String {
    let quantization = root
        .get("quantization_config")
        .or_else(|| text.get("quantization_config"))
        .and_then(|q| q.get("quant_method"))
        .and_then(Value::as_str);
    if let Some(method) = quantization {
        return method.to_ascii_lowercase();
    }
    let named = ["torch_dtype", "dtype"]
        .iter()
        .find_map(|k| text.get(*k).or_else(|| root.get(*k)))
        .and_then(Value::as_str);
    match named {
        Some("float16" | "half" | "fp16") => "float16".into(),
        Some("float32" | "float" | "fp32") => "float32".into(),
        Some(other) => other.to_ascii_lowercase(),
        None => {
            notes.push(
                "the config names no dtype (`torch_dtype`): bfloat16 assumed, the table's default"
                    .into(),
            );
            "bfloat16".into()
        }
    }
}

/// The lowest compute capability (× 10) that runs a checkpoint of this dtype and model type:
/// vLLM's `get_min_capability` of the quantization method (MXFP4 and FP8: 80, AWQ: 75, GPTQ:
/// 60), Ampere for Gemma 2 and 3 (float16 refused, bfloat16 needs it), else vLLM's floor, 70.
#[must_use]
pub fn min_compute_capability(dtype: &str, model_type: &str) -> u32 {
    match dtype {
        "mxfp4" | "fp8" => 80,
        "awq" => 75,
        "gptq" => 60,
        _ if model_type.starts_with("gemma2") || model_type.starts_with("gemma3") => 80,
        _ => 70,
    }
}
