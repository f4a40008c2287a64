//! `kubectl vllm init`: a complete vLLM deployment for a model and an accelerator, decided from
//! the fact tables ([`plan`]: the GPU count, the context, the image, or a refusal with its reason)
//! and written as commented YAML ([`render`]) that lints clean as printed: every choice a field
//! report took days to find (storage class and binding mode, disk size, tolerations, the driver
//! path, the entrypoint, shared memory, probes sized for the model) is made and explained.

pub mod plan;
pub mod render;

use std::io::Write;
use std::path::{Path, PathBuf};

use kubectl_vllm_host::FactTables;

pub use plan::{Plan, Refusal, Request, Storage, Target};
pub use render::Object;

/// `kubectl vllm init` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// Model: an id or alias of the model table (`kubectl vllm facts`).
    #[arg(long)]
    pub model: String,
    /// Accelerator: an id of the accelerator table (GKE's label values, e.g. `nvidia-l4`), its
    /// name or its GPU feature discovery product name.
    #[arg(long, value_name = "TYPE")]
    pub accelerator: String,
    /// GPUs per replica (default: the smallest count the node comes in that holds the weights
    /// and one sequence of the context's KV cache).
    #[arg(long, value_name = "N")]
    pub gpus: Option<u32>,
    /// The cluster's provider.
    #[arg(long, value_enum, default_value_t = Target::Gke)]
    pub provider: Target,
    /// Where the weights come from.
    #[arg(long, value_enum, default_value_t = Storage::Pvc)]
    pub storage: Storage,
    /// The Cloud Storage folder holding the model's files (`gs://BUCKET/PATH`; GKE: copied to the
    /// disk with `--storage pvc`, mounted with `gcsfuse`).
    #[arg(long, value_name = "gs://...")]
    pub bucket: Option<String>,
    /// Namespace of the objects (default: none written, the current context's).
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: Option<String>,
    /// Name of the Deployment, Service and ServiceAccount (default: `vllm-` and the model's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Replicas.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub replicas: u32,
    /// Context length (default: the model's, at most 32768).
    #[arg(long, value_name = "N")]
    pub max_model_len: Option<u32>,
    /// vLLM image (default: the tables' pinned release).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Write one file per object into DIR (created; existing files are not overwritten) instead of
    /// printing the set.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Config file whose fact tables apply (default: the nearest `.kubectl-vllm.yaml` upward).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// How `init` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Printed or written.
    Success,
    /// Refused, or a config or file error (exit 2).
    Error,
}

impl Status {
    /// Whether it ended well.
    #[must_use]
    pub fn is_success(self) -> bool {
        self == Self::Success
    }
}

/// A DNS-1123 name from a model id: `vllm-gemma-3-27b-it`.
#[must_use]
pub fn default_name(model_id: &str) -> String {
    let short = model_id
        .rsplit('/')
        .next()
        .unwrap_or(model_id)
        .to_ascii_lowercase();
    let mut name: String = format!("vllm-{short}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    name.truncate(50);
    name.trim_end_matches('-').to_string()
}

/// The set for `args` against `tables`: the plan and its objects.
pub fn generate(tables: &FactTables, args: &InitArgs) -> Result<(Plan, Vec<Object>), Refusal> {
    let request = Request {
        model: args.model.clone(),
        accelerator: args.accelerator.clone(),
        gpus: args.gpus,
        provider: args.provider,
        storage: args.storage,
        bucket: args.bucket.clone(),
        replicas: args.replicas,
        max_model_len: args.max_model_len,
        image: args.image.clone(),
    };
    let plan = plan::plan(tables, &request)?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| default_name(&plan.model.id));
    let valid = |s: &str| {
        !s.is_empty()
            && s.len() <= 50
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-')
    };
    if !valid(&name) {
        return Err(Refusal(format!(
            "--name `{name}` is not a DNS-1123 label of at most 50 characters (lowercase letters, digits, `-`)"
        )));
    }
    if name == "vllm" {
        return Err(Refusal(
            "--name vllm: a Service named `vllm` injects VLLM_PORT, which vLLM misreads (net-service-named-vllm); choose another name".into(),
        ));
    }
    if let Some(ns) = &args.namespace
        && !valid(ns)
    {
        return Err(Refusal(format!(
            "--namespace `{ns}` is not a DNS-1123 label"
        )));
    }
    let objects = render::objects(&plan, &name, args.namespace.as_deref());
    Ok((plan, objects))
}

/// The objects as one YAML stream.
#[must_use]
pub fn stream(objects: &[Object]) -> String {
    objects
        .iter()
        .map(|o| o.text.as_str())
        .collect::<Vec<_>>()
        .join("---\n")
}

/// Runs `kubectl vllm init`.
pub fn run(args: &InitArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Status {
    let mut tables = FactTables::builtin();
    let config = args.config.clone().or_else(|| {
        std::env::current_dir()
            .ok()
            .and_then(|cwd| kubectl_vllm_engine::config::discover(&cwd))
    });
    if let Some(path) = &config {
        match kubectl_vllm_engine::config::load(path) {
            Ok(loaded) => tables.apply(&loaded.config.facts),
            Err(e) => {
                let _ = writeln!(stderr, "error: {}", e.message);
                return Status::Error;
            }
        }
    }
    let (plan, objects) = match generate(&tables, args) {
        Ok(generated) => generated,
        Err(refusal) => {
            let _ = writeln!(stderr, "error: {refusal}");
            return Status::Error;
        }
    };
    if plan.gpus_chosen {
        let _ = writeln!(
            stderr,
            "note: {} × {}: the fewest GPUs that hold {} ({} MiB of weights) and a {}-token context",
            plan.gpus, plan.accelerator.name, plan.model.id, plan.model.weights_mib, plan.context
        );
    }
    match &args.output_dir {
        None => {
            let _ = stdout.write_all(stream(&objects).as_bytes());
            Status::Success
        }
        Some(dir) => match write_files(dir, &objects) {
            Ok(written) => {
                for path in written {
                    let _ = writeln!(stderr, "wrote {}", path.display());
                }
                Status::Success
            }
            Err(message) => {
                let _ = writeln!(stderr, "error: {message}");
                Status::Error
            }
        },
    }
}

/// Writes one file per object; refuses before writing any if one exists.
fn write_files(dir: &Path, objects: &[Object]) -> Result<Vec<PathBuf>, String> {
    let paths: Vec<PathBuf> = objects.iter().map(|o| dir.join(o.file)).collect();
    if let Some(existing) = paths.iter().find(|p| p.exists()) {
        return Err(format!("`{}` exists; nothing written", existing.display()));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    for (path, object) in paths.iter().zip(objects) {
        std::fs::write(path, &object.text)
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    Ok(paths)
}
