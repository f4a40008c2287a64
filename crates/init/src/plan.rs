//! What to deploy, decided from the fact tables before a line is written: the model and
//! accelerator rows, the GPU count (the smallest the accelerator comes in whose memory holds the
//! weights and one sequence of the context's KV cache, and that divides the attention heads), the
//! context, the image, and every refusal with its reason.

use kubectl_vllm_host::facts::{AcceleratorFact, FactTables, ModelFact};
use kubectl_vllm_host::{Provider, images};

/// The image written when `--image` is not given: the release the field report's corrected
/// deployments run (vLLM 0.10.2, CUDA 12.8; it needs GKE's driver path set).
pub const DEFAULT_IMAGE: &str = "vllm/vllm-openai:v0.10.2";

/// The context written when `--max-model-len` is not given and the model's is longer: long
/// enough for chat and RAG, short enough that one sequence's KV cache stays small.
pub const DEFAULT_CONTEXT: u32 = 32_768;

/// `--gpu-memory-utilization` as written (vLLM's default).
pub const UTILIZATION: f64 = 0.9;

/// What vLLM cannot give to weights or KV cache (CUDA context, activations, graphs), MiB: the
/// model policy's usual overhead.
pub const OVERHEAD_MIB: u64 = 2048;

/// Where the weights come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Storage {
    /// A disk (PersistentVolumeClaim) the weights are written to once: copied from `--bucket`
    /// by an init container, or downloaded by vLLM from Hugging Face into it.
    Pvc,
    /// A disk loaded with the weights beforehand, bound by a PersistentVolume (GKE).
    PreloadedPv,
    /// The bucket mounted read-only through the Cloud Storage FUSE CSI driver (GKE).
    Gcsfuse,
    /// Downloaded from Hugging Face at every start into the pod's own ephemeral storage.
    HfDownload,
}

impl Storage {
    /// The flag value.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Pvc => "pvc",
            Self::PreloadedPv => "preloaded-pv",
            Self::Gcsfuse => "gcsfuse",
            Self::HfDownload => "hf-download",
        }
    }
}

/// The providers `init` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// Google Kubernetes Engine (Standard).
    Gke,
    /// Amazon EKS.
    Eks,
    /// Azure AKS.
    Aks,
    /// Any cluster with the NVIDIA GPU Operator (GPU feature discovery's labels).
    Generic,
}

impl Target {
    /// The provider of the fact tables.
    #[must_use]
    pub fn provider(self) -> Provider {
        match self {
            Self::Gke => Provider::Gke,
            Self::Eks => Provider::Eks,
            Self::Aks => Provider::Aks,
            Self::Generic => Provider::Generic,
        }
    }

    /// The flag value.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Gke => "gke",
            Self::Eks => "eks",
            Self::Aks => "aks",
            Self::Generic => "generic",
        }
    }
}

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct Request {
    /// Model id or alias.
    pub model: String,
    /// Accelerator id or alias.
    pub accelerator: String,
    /// GPUs per replica (`None`: the smallest that fits).
    pub gpus: Option<u32>,
    /// The provider.
    pub provider: Target,
    /// The storage.
    pub storage: Storage,
    /// `gs://bucket/path` holding the model's files.
    pub bucket: Option<String>,
    /// Replicas.
    pub replicas: u32,
    /// `--max-model-len`.
    pub max_model_len: Option<u32>,
    /// The image.
    pub image: Option<String>,
}

/// How the node is selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `cloud.google.com/gke-accelerator` (and the count GKE offers).
    Gke(String),
    /// `node.kubernetes.io/instance-type`, from the instance-type table.
    InstanceType(String),
    /// GPU feature discovery's `nvidia.com/gpu.product`.
    Product(String),
}

/// The decided deployment.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The model row.
    pub model: ModelFact,
    /// The accelerator row.
    pub accelerator: AcceleratorFact,
    /// GPUs per replica (= tensor parallelism).
    pub gpus: u32,
    /// Whether `gpus` was chosen here (not `--gpus`).
    pub gpus_chosen: bool,
    /// `--max-model-len`.
    pub context: u32,
    /// The image.
    pub image: String,
    /// Whether the image needs `LD_LIBRARY_PATH` to name GKE's driver directory.
    pub driver_path: bool,
    /// `--dtype=half` for a bfloat16 checkpoint on a GPU without bfloat16.
    pub half: bool,
    /// How the node is selected.
    pub selector: Selector,
    /// The request.
    pub request: Request,
}

/// A request `init` refuses, with the reason (exit 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn find_model<'a>(tables: &'a FactTables, name: &str) -> Option<&'a ModelFact> {
    let name = name.to_ascii_lowercase();
    tables.models.iter().find(|m| {
        m.id.to_ascii_lowercase() == name
            || m.aliases.iter().any(|a| a.to_ascii_lowercase() == name)
    })
}

fn find_accelerator<'a>(tables: &'a FactTables, name: &str) -> Option<&'a AcceleratorFact> {
    let name = name.to_ascii_lowercase();
    tables.accelerators.iter().find(|a| {
        a.id == name
            || a.name.to_ascii_lowercase() == name
            || a.typos.iter().any(|t| t.to_ascii_lowercase() == name)
            || a.gfd_products
                .iter()
                .any(|p| p.to_ascii_lowercase() == name)
    })
}

/// GPU counts one node of this accelerator comes in on the provider, with the node selector for
/// each: GKE's machine shapes, the provider's instance types, or powers of two up to 8.
fn counts(tables: &FactTables, gpu: &AcceleratorFact, target: Target) -> Vec<(u32, Selector)> {
    match target {
        Target::Gke => gpu
            .gpus_per_node
            .iter()
            .map(|&n| (n, Selector::Gke(gpu.id.clone())))
            .collect(),
        Target::Eks | Target::Aks => {
            let mut out: Vec<(u32, Selector)> = Vec::new();
            for row in &tables.instance_types {
                if row.provider == target.provider()
                    && row.accelerator == gpu.id
                    && !out.iter().any(|(n, _)| *n == row.gpus)
                {
                    out.push((row.gpus, Selector::InstanceType(row.instance_type.clone())));
                }
            }
            out.sort_by_key(|(n, _)| *n);
            out
        }
        Target::Generic => match gpu.gfd_products.first() {
            Some(product) => [1, 2, 4, 8]
                .into_iter()
                .map(|n| (n, Selector::Product(product.clone())))
                .collect(),
            None => Vec::new(),
        },
    }
}

/// Bytes of KV cache one GPU holds for one sequence of `tokens` (bf16 K and V), as the model
/// policy estimates it (`policies/model/src/common.rs`, `fit::kv_bytes_per_gpu`).
#[must_use]
pub fn kv_bytes_per_gpu(model: &ModelFact, tokens: u64, tp: u64) -> u64 {
    let kv_heads = (u64::from(model.kv_heads) / tp.max(1)).max(1);
    let per_layer_token = 2 * 2 * u64::from(model.head_dim) * kv_heads;
    let full = u64::from(
        model
            .full_attention_layers
            .unwrap_or(model.layers)
            .min(model.layers),
    );
    let windowed = u64::from(model.layers) - full;
    let window = if model.sliding_window == 0 {
        tokens
    } else {
        tokens.min(u64::from(model.sliding_window))
    };
    per_layer_token * (full * tokens + windowed * window)
}

/// Whether `n` GPUs of `gpu` hold the model's weights and one `context`-token sequence, with
/// the usual overhead, and divide its attention (and vision) heads.
fn fits(model: &ModelFact, gpu: &AcceleratorFact, n: u32, context: u32) -> Result<(), String> {
    if !model.attention_heads.is_multiple_of(n)
        || (model.vision_heads > 0 && !model.vision_heads.is_multiple_of(n))
    {
        return Err(format!(
            "{n} does not divide its {} attention heads{}",
            model.attention_heads,
            if model.vision_heads > 0 {
                format!(" and {} vision heads", model.vision_heads)
            } else {
                String::new()
            }
        ));
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let budget = (gpu.memory_mib as f64 * UTILIZATION) as u64;
    let weights = model.weights_mib.div_ceil(u64::from(n));
    let left = budget.saturating_sub(weights).saturating_sub(OVERHEAD_MIB) << 20;
    if left == 0 {
        return Err(format!(
            "{weights} MiB of weights per GPU leave nothing of {budget} MiB"
        ));
    }
    let kv = kv_bytes_per_gpu(model, u64::from(context), u64::from(n));
    if kv > left {
        return Err(format!(
            "one {context}-token sequence needs {} MiB of KV cache per GPU, {} MiB are left",
            kv >> 20,
            left >> 20
        ));
    }
    Ok(())
}

/// Decides the deployment, or refuses it with the reason.
pub fn plan(tables: &FactTables, request: &Request) -> Result<Plan, Refusal> {
    let refuse = |why: String| Err(Refusal(why));
    let Some(model) = find_model(tables, &request.model) else {
        return refuse(format!(
            "`{}` is not in the model table (`kubectl vllm facts` lists it; `kubectl vllm facts add-model DIR` adds a model from its files)",
            request.model
        ));
    };
    let Some(gpu) = find_accelerator(tables, &request.accelerator) else {
        return refuse(format!(
            "`{}` is not in the accelerator table (`kubectl vllm facts` lists its ids, GKE's label values)",
            request.accelerator
        ));
    };
    let provider = request.provider.name();
    match (request.storage, request.provider) {
        (Storage::Gcsfuse | Storage::PreloadedPv, t) if t != Target::Gke => {
            return refuse(format!(
                "--storage {} is written for GKE only (Cloud Storage FUSE, a Compute Engine disk); on {provider} use --storage pvc or hf-download",
                request.storage.name()
            ));
        }
        (Storage::Gcsfuse, _) if request.bucket.is_none() => {
            return refuse(
                "--storage gcsfuse needs --bucket gs://BUCKET/PATH (where the model's files are)"
                    .into(),
            );
        }
        _ => {}
    }
    if let Some(bucket) = &request.bucket {
        if !bucket.starts_with("gs://") || bucket.len() <= 5 {
            return refuse(format!(
                "--bucket `{bucket}` is not a gs://BUCKET/PATH address"
            ));
        }
        if request.provider != Target::Gke {
            return refuse(format!(
                "--bucket (Cloud Storage) is written for GKE only; on {provider} the weights come from Hugging Face (leave --bucket out)"
            ));
        }
        if request.storage == Storage::HfDownload || request.storage == Storage::PreloadedPv {
            return refuse(format!(
                "--bucket goes with --storage pvc or gcsfuse, not {}",
                request.storage.name()
            ));
        }
    }
    if request.replicas == 0 {
        return refuse("--replicas must be at least 1".into());
    }
    if request.replicas > 1 && matches!(request.storage, Storage::Pvc | Storage::PreloadedPv) {
        return refuse(format!(
            "{} replicas cannot share one ReadWriteOnce disk (--storage {}): use --storage {} or one replica",
            request.replicas,
            request.storage.name(),
            if request.provider == Target::Gke {
                "gcsfuse or hf-download"
            } else {
                "hf-download"
            }
        ));
    }
    // Can this GPU run the checkpoint at all?
    let cc = gpu.compute_capability;
    let bf16 = gpu.bf16.unwrap_or(cc >= 80);
    if cc < model.min_compute_capability {
        let why = match model.dtype.as_str() {
            "mxfp4" => "MXFP4 weights need compute capability 8.0 (Ampere) or newer".to_string(),
            _ if model.model_type.starts_with("gemma") => {
                "Gemma 2 and 3 run in bfloat16 only (vLLM refuses float16), which needs Ampere or newer".to_string()
            }
            _ => format!("it needs compute capability {}.{}", model.min_compute_capability / 10, model.min_compute_capability % 10),
        };
        return refuse(format!(
            "{} cannot run on {} (compute capability {}.{}): {why}",
            model.id,
            gpu.name,
            cc / 10,
            cc % 10
        ));
    }
    let half = model.dtype == "bfloat16" && !bf16;
    let context = match request.max_model_len {
        Some(n) if n > model.max_context => {
            return refuse(format!(
                "--max-model-len {n} exceeds {}'s maximum context of {} tokens",
                model.id, model.max_context
            ));
        }
        Some(0) => return refuse("--max-model-len must be at least 1".into()),
        Some(n) => n,
        None => model.max_context.min(DEFAULT_CONTEXT),
    };
    let offered = counts(tables, gpu, request.provider);
    if offered.is_empty() {
        return refuse(format!(
            "{} is not offered on {provider} in the tables (no {} for it)",
            gpu.name,
            match request.provider {
                Target::Gke => "GKE machine shape",
                Target::Eks | Target::Aks => "instance type",
                Target::Generic => "GPU feature discovery product name",
            }
        ));
    }
    let (gpus, selector, chosen) = if let Some(n) = request.gpus {
        let Some((_, selector)) = offered.iter().find(|(c, _)| *c == n) else {
            return refuse(format!(
                "{} comes in {} GPUs per node on {provider}, not {n}",
                gpu.name,
                offered
                    .iter()
                    .map(|(c, _)| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        if let Err(why) = fits(model, gpu, n, context) {
            return refuse(format!(
                "{n} × {} cannot serve {}: {why}",
                gpu.name, model.id
            ));
        }
        (n, selector.clone(), false)
    } else {
        let mut reasons = Vec::new();
        let mut found = None;
        for (n, selector) in &offered {
            match fits(model, gpu, *n, context) {
                Ok(()) => {
                    found = Some((*n, selector.clone()));
                    break;
                }
                Err(why) => reasons.push(format!("{n}: {why}")),
            }
        }
        let Some((n, selector)) = found else {
            return refuse(format!(
                "{} does not fit {} with a {context}-token context in any count the node comes in on {provider} ({})",
                model.id,
                gpu.name,
                reasons.join("; ")
            ));
        };
        (n, selector, true)
    };
    let image = request
        .image
        .clone()
        .unwrap_or_else(|| DEFAULT_IMAGE.to_string());
    let found = images::lookup(&tables.images, &image);
    if !model.min_vllm.is_empty()
        && let Some(version) = found.as_ref().and_then(|l| l.vllm_version.clone())
        && images::tag_version(&version) < images::tag_version(&model.min_vllm)
    {
        return refuse(format!(
            "{image} is vLLM {version}; {} needs {} or newer (--image)",
            model.id, model.min_vllm
        ));
    }
    let driver_path = request.provider == Target::Gke
        && found.as_ref().and_then(|l| l.fact.driver_dir()) != Some(true);
    Ok(Plan {
        model: model.clone(),
        accelerator: gpu.clone(),
        gpus,
        gpus_chosen: chosen,
        context,
        image,
        driver_path,
        half,
        selector,
        request: request.clone(),
    })
}
