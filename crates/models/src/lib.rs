//! `kubectl vllm facts add-model DIR|config.json`: a Hugging Face model directory, read offline
//! as a user has it locally, becomes a row of the model table in `.kubectl-vllm.yaml`, so that a
//! model the built-in table lacks gets the memory, parallelism and context checks instead of
//! `model-unknown`.
//!
//! - [`config`]: `config.json` as vLLM reads it (multimodal `text_config`, class defaults,
//!   sliding-window layers, latent attention, the context length vLLM derives, the dtype).
//! - [`weights`]: the bytes vLLM loads, exactly (the index's `total_size`, else the safetensors
//!   headers), and the repository around them.
//! - [`write`]: the row written into the config file, its comments and formatting kept.

pub mod config;
pub mod weights;
pub mod write;

use std::io::Write;
use std::path::{Path, PathBuf};

use kubectl_vllm_host::FactTables;
use kubectl_vllm_host::facts::ModelFact;
use serde_json::Value;

/// `kubectl vllm facts` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum FactsCommand {
    /// Read a Hugging Face model directory (offline: `config.json`, the safetensors index or
    /// headers, `tokenizer_config.json`) and write its row into `.kubectl-vllm.yaml`'s
    /// `facts.models`, replacing a row with the same id.
    AddModel(AddModel),
}

/// `facts add-model` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct AddModel {
    /// The model directory, or its `config.json`.
    pub path: PathBuf,
    /// The id manifests name it by (`--model`), as `ORG/NAME`. Default: from a Hugging Face
    /// cache path (`models--ORG--NAME/snapshots/…`) or the config's `_name_or_path`.
    #[arg(long, value_name = "ORG/NAME")]
    pub id: Option<String>,
    /// Size of the weights in MiB, when the directory has neither the weights nor their index.
    #[arg(long, value_name = "MIB")]
    pub weights_mib: Option<u64>,
    /// The Hugging Face repository is gated (it needs a token to download).
    #[arg(long)]
    pub gated: bool,
    /// Config file to write (default: the nearest `.kubectl-vllm.yaml` upward, else a new one
    /// in the working directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the row; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the row as JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Done.
    Success,
    /// The model could not be read or the config not written (exit 2).
    Error,
}

impl Status {
    /// Whether it ended well.
    #[must_use]
    pub fn is_success(self) -> bool {
        self == Self::Success
    }
}

/// Runs a `facts` subcommand.
pub fn run(command: &FactsCommand, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Status {
    match command {
        FactsCommand::AddModel(args) => match add_model(args, stdout, stderr) {
            Ok(()) => Status::Success,
            Err(message) => {
                let _ = writeln!(stderr, "error: {message}");
                Status::Error
            }
        },
    }
}

/// A model row read from a directory, and what the reader had to assume.
#[derive(Debug, Clone)]
pub struct Read {
    /// The row.
    pub row: ModelFact,
    /// Said to the user.
    pub notes: Vec<String>,
}

/// Reads the model at `path` (a directory or its `config.json`) into a row.
pub fn read(
    path: &Path,
    id: Option<&str>,
    weights_mib: Option<u64>,
    gated: bool,
) -> Result<Read, String> {
    let (dir, config_path) = if path.is_dir() {
        (path.to_path_buf(), path.join("config.json"))
    } else {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        (dir.to_path_buf(), path.to_path_buf())
    };
    let text = std::fs::read_to_string(&config_path)
        .map_err(|e| format!("cannot read `{}`: {e}", config_path.display()))?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| format!("`{}` is not JSON: {e}", config_path.display()))?;
    let tokenizer_max = std::fs::read_to_string(dir.join("tokenizer_config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|t| t.get("model_max_length").and_then(Value::as_f64))
        .filter(|n| *n >= 1.0 && *n < 1e12)
        .map(|n| {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = n as u64; // in 1..1e12, checked above
            n
        });
    let arch = config::architecture(&json, tokenizer_max)
        .map_err(|e| format!("`{}`: {e}", config_path.display()))?;
    let id = model_id(&dir, &json, id)?;
    let mut notes = arch.notes.clone();
    let mut sources = vec!["config.json".to_string()];
    let weights = weights::weights(&dir).map_err(|e| e.to_string())?;
    let (weights_bytes, parameters, present) = match (weights, weights_mib) {
        (_, Some(mib)) => {
            notes.push(format!("weights: {mib} MiB, as --weights-mib says"));
            (mib << 20, None, false)
        }
        (Some(w), None) => {
            sources.push(w.source.clone());
            notes.extend(w.notes);
            (w.bytes, w.parameters, w.present)
        }
        (None, None) => {
            return Err(format!(
                "`{}` has neither the weights (*.safetensors, *.bin) nor model.safetensors.index.json: give their size with --weights-mib",
                dir.display()
            ));
        }
    };
    let weights_mib = weights_bytes.div_ceil(1 << 20);
    let (repository_mib, extra_folders) = if present {
        let (bytes, extra) = weights::repository(&dir);
        (bytes.div_ceil(1 << 20).max(weights_mib), extra)
    } else {
        notes.push(
            "the weight files are not in the directory: the repository is counted as the weights alone (set repository-mib if it holds more)"
                .into(),
        );
        (weights_mib, Vec::new())
    };
    if !gated {
        notes.push("gated: no (whether the hub repository is gated is not in its files; pass --gated if it is)".into());
    }
    let name = id.rsplit('/').next().unwrap_or(&id).to_string();
    let aliases = [name.clone(), name.to_ascii_lowercase()]
        .into_iter()
        .filter(|a| *a != id)
        .collect::<std::collections::BTreeSet<_>>();
    let builtin = FactTables::builtin();
    let mut kept = Vec::new();
    for alias in aliases {
        match builtin
            .models
            .iter()
            .find(|m| m.id != id && (m.id == alias || m.aliases.contains(&alias)))
        {
            Some(other) => notes.push(format!(
                "alias `{alias}` left out: the built-in row `{}` has it",
                other.id
            )),
            None => kept.push(alias),
        }
    }
    let row = ModelFact {
        id,
        aliases: kept,
        weights_mib,
        repository_mib,
        extra_folders,
        attention_heads: arch.attention_heads,
        vision_heads: arch.vision_heads,
        kv_heads: arch.kv_heads,
        layers: arch.layers,
        full_attention_layers: arch.full_attention_layers,
        sliding_window: arch.sliding_window,
        head_dim: arch.head_dim,
        max_context: arch.max_context,
        min_compute_capability: config::min_compute_capability(&arch.dtype, &arch.model_type),
        dtype: arch.dtype,
        model_type: arch.model_type,
        architecture: arch.architecture,
        parameters: parameters.unwrap_or(0),
        min_vllm: String::new(),
        gated,
        source: format!(
            "{} ({}; kubectl vllm facts add-model)",
            dir.display(),
            sources.join(", ")
        ),
    };
    Ok(Read { row, notes })
}

/// The id manifests name the model by: `--id`, else a Hugging Face cache path's
/// (`…/models--ORG--NAME/snapshots/REV`), else the config's `_name_or_path` when it is `ORG/NAME`.
fn model_id(dir: &Path, config: &Value, id: Option<&str>) -> Result<String, String> {
    let valid = |s: &str| {
        let mut parts = s.split('/');
        matches!((parts.next(), parts.next(), parts.next()), (Some(o), Some(n), None) if !o.is_empty() && !n.is_empty())
            && !s.chars().any(char::is_whitespace)
    };
    if let Some(id) = id {
        return if valid(id) {
            Ok(id.to_string())
        } else {
            Err(format!(
                "--id `{id}` is not ORG/NAME (the id manifests give `--model`)"
            ))
        };
    }
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let cached = absolute.ancestors().find_map(|a| {
        let name = a.file_name()?.to_str()?;
        let (org, model) = name.strip_prefix("models--")?.split_once("--")?;
        Some(format!("{org}/{model}"))
    });
    if let Some(id) = cached.filter(|i| valid(i)) {
        return Ok(id);
    }
    if let Some(named) = config.get("_name_or_path").and_then(Value::as_str)
        && valid(named)
        && !named.starts_with('.')
    {
        return Ok(named.to_string());
    }
    Err(format!(
        "`{}` does not say which model it is: give --id ORG/NAME (the id manifests give `--model`)",
        dir.display()
    ))
}

fn add_model(
    args: &AddModel,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<(), String> {
    let Read { row, notes } = read(&args.path, args.id.as_deref(), args.weights_mib, args.gated)?;
    if args.json {
        let _ = writeln!(
            stdout,
            "{}",
            serde_json::to_string_pretty(&row).expect("a row serializes")
        );
    } else {
        let _ = writeln!(stdout, "{}", summary(&row));
    }
    for note in &notes {
        let _ = writeln!(stderr, "note: {note}");
    }
    if args.dry_run {
        return Ok(());
    }
    let path = if let Some(path) = &args.config {
        path.clone()
    } else {
        let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
        kubectl_vllm_engine::config::discover(&cwd)
            .unwrap_or_else(|| PathBuf::from(kubectl_vllm_engine::config::FILE_NAME))
    };
    let action = write::write_row(&path, &row)?;
    let _ = writeln!(
        stderr,
        "{action} `{}` in `{}` (facts.models); `kubectl vllm facts` lists it",
        row.id,
        path.display()
    );
    Ok(())
}

/// One paragraph: what the row says.
#[must_use]
pub fn summary(row: &ModelFact) -> String {
    let attention = match row.full_attention_layers {
        Some(full) if row.sliding_window > 0 => format!(
            "{} layers ({full} full attention, the others a {}-token window)",
            row.layers, row.sliding_window
        ),
        _ => format!("{} layers", row.layers),
    };
    let parameters = if row.parameters > 0 {
        #[allow(clippy::cast_precision_loss)]
        let billions = row.parameters as f64 / 1e9;
        format!(", {billions:.2} B parameters")
    } else {
        String::new()
    };
    let vision = if row.vision_heads > 0 {
        format!(", vision tower with {} heads", row.vision_heads)
    } else {
        String::new()
    };
    format!(
        "{} ({}, {}): {} MiB of {} weights{parameters}, {attention}, {} attention heads, {} KV heads of size {}{vision}, context {} tokens",
        row.id,
        if row.architecture.is_empty() {
            "?"
        } else {
            &row.architecture
        },
        row.model_type,
        row.weights_mib,
        row.dtype,
        row.attention_heads,
        row.kv_heads,
        row.head_dim,
        row.max_context,
    )
}

#[cfg(test)]
mod tests;
