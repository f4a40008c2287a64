//! The command line: every command's arguments, as clap parses them.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use kubectl_vllm_engine::Report;
use kubectl_vllm_engine::Severity;
use kubectl_vllm_engine::config::Selection;

use crate::ExitStatus;

/// Lint, fix and apply vLLM deployments on Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "kubectl-vllm", bin_name = "kubectl vllm", version, about, long_about = None)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
    /// Colour in the text report: `auto` (on a terminal, unless NO_COLOR is set; FORCE_COLOR
    /// turns it on anywhere), `always` or `never`.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set; FORCE_COLOR turns it on anywhere.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// `Some` when the choice overrides what the environment says.
    #[must_use]
    pub const fn forced(self) -> Option<bool> {
        match self {
            Self::Auto => None,
            Self::Always => Some(true),
            Self::Never => Some(false),
        }
    }
}

const LINT_EXAMPLES: &str = "Examples:
  # Lint a directory and its subdirectories, as a CI gate would (exit 1 on errors)
  kubectl vllm lint -R deploy/

  # A kustomize overlay: findings point at the base and overlay files
  kubectl vllm lint -k overlays/prod

  # A Helm chart with its values (or from stdin, reported as SARIF for code scanning)
  kubectl vllm lint --helm-chart ./chart --values prod.yaml
  helm template my-release ./chart | kubectl vllm lint - -o sarif > vllm.sarif

  # Against the live cluster's nodes and storage classes, on EKS
  kubectl vllm lint -f deploy.yaml --cluster --context prod --provider eks

  # Only the GPU-scheduling rules, and fail on warnings too
  kubectl vllm lint -R deploy/ --select gke-,gpu- --fail-on warning";

const FIX_EXAMPLES: &str = "Examples:
  # Show what would change
  kubectl vllm fix -R deploy/ --diff

  # Fix a kustomization's base and overlay files where the field is theirs
  kubectl vllm fix -k overlays/prod --write

  # Rewrite the files in place, including fixes that change behaviour or cost
  kubectl vllm fix -R deploy/ --write --unsafe-fixes";

const POST_RENDER_EXAMPLES: &str = "Examples:
  # Helm 3: stop `helm install` before anything reaches the cluster when an error is found
  helm install vllm ./chart --post-renderer kubectl-vllm --post-renderer-args post-render

  # Helm 3: install with the safe fixes applied
  helm install vllm ./chart --post-renderer kubectl-vllm --post-renderer-args post-render --post-renderer-args fix

  # Helm 4: the plugin in plugin/ (`helm plugin install plugin/`)
  helm install vllm ./chart --post-renderer kubectl-vllm";

const APPLY_EXAMPLES: &str = "Examples:
  # Lint, fix and server-side apply, then wait for the pods
  kubectl vllm apply -f deploy/ -R --wait

  # Print the final manifests without a cluster
  kubectl vllm apply -f deploy/ --dry-run=client";

const DIFF_EXAMPLES: &str = "Examples:
  # What apply would change in the cluster
  kubectl vllm diff -f deploy/ -R";

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read manifests, run every enabled policy, report findings.
    #[command(after_help = LINT_EXAMPLES)]
    Lint(LintArgs),
    /// Apply the safe fixes (and, with --unsafe-fixes, the unsafe ones); print the fixed
    /// manifests, a diff, or rewrite the files.
    #[command(after_help = FIX_EXAMPLES)]
    Fix(FixArgs),
    /// Lint with live cluster facts, fix, and server-side apply in dependency order; refuses
    /// (exit 1, nothing sent) while a finding at or above --fail-on remains.
    #[command(after_help = APPLY_EXAMPLES)]
    Apply(ApplyArgs),
    /// Show what `apply` would change: the fixed manifests against the live objects (a
    /// server-side dry run). Exit 0: no differences, 1: differences, 2: error.
    #[command(after_help = DIFF_EXAMPLES)]
    Diff(DiffArgs),
    /// List every rule: id, default severity, fix, policy, summary.
    Rules {
        /// Output format.
        #[arg(short = 'o', long, value_enum, default_value_t = RulesFormat::Text)]
        output: RulesFormat,
        /// Policy options.
        #[command(flatten)]
        policies: PolicyArgs,
    },
    /// Print a rule's documentation.
    Explain {
        /// The rule id, for example `gpu-res-req-ne-limit`.
        rule: String,
        /// Policy options.
        #[command(flatten)]
        policies: PolicyArgs,
    },
    /// Print the fact tables in effect (built-in rows plus the config's): models and accelerators;
    /// `facts add-model DIR` adds a model from its Hugging Face directory.
    #[command(args_conflicts_with_subcommands = true)]
    Facts {
        /// Add to the tables.
        #[command(subcommand)]
        command: Option<kubectl_vllm_models::FactsCommand>,
        /// Output format.
        #[arg(short = 'o', long, value_enum, default_value_t = RulesFormat::Text)]
        output: RulesFormat,
        /// Config file (default: the nearest `.kubectl-vllm.yaml` upward).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Write, build, test and inspect policies of your own (README: "Writing a policy").
    #[command(subcommand)]
    Policy(kubectl_vllm_author::PolicyCommand),
    /// Run as a Helm post-renderer: `post-render` lints the manifests on stdin and passes them
    /// through to stdout (`lint --pass-through -`); `post-render fix` prints them with the safe
    /// fixes applied (`fix -`). Other arguments are lint's.
    #[command(after_help = POST_RENDER_EXAMPLES)]
    PostRender {
        /// `lint` (default) or `fix`, then lint's or fix's flags.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        args: Vec<std::ffi::OsString>,
    },
    /// The same policies as an admission webhook (README: "Admission webhook").
    #[command(subcommand)]
    Webhook(kubectl_vllm_webhook::WebhookCommand),
    /// Print a complete, commented deployment for a model on an accelerator, sized from the fact
    /// tables (README: "Starting a deployment").
    Init(kubectl_vllm_init::InitArgs),
    /// Serve diagnostics, fixes and rule documentation to an editor (a Language Server on stdio).
    Lsp(kubectl_vllm_lsp::LspArgs),
    /// Print the version and the policy contract version.
    Version,
    /// Manage the config file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a shell completion script (`source <(kubectl-vllm completion bash)`). Under kubectl,
    /// completion comes from the `kubectl_complete-vllm` executable instead.
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a commented starter `.kubectl-vllm.yaml` (never overwrites one).
    Init {
        /// Where to write it.
        #[arg(default_value = kubectl_vllm_engine::config::FILE_NAME)]
        path: PathBuf,
    },
}

/// Where policies come from.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Policies")]
pub struct PolicyArgs {
    /// Config file (default: the nearest `.kubectl-vllm.yaml` upward from the working directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Extra policy component (`.wasm`) or directory of them; repeatable.
    #[arg(long = "policy", value_name = "PATH")]
    pub policies: Vec<PathBuf>,
    /// Do not load the embedded default policies.
    #[arg(long)]
    pub no_default_policies: bool,
    /// Read files and evaluate objects on N threads (default: one per core); the report is the same
    /// for any N.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Wall-clock time one policy may take on one object; a policy past it is stopped, named as
    /// a `policy-error`, and the run goes on.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = kubectl_vllm_core::parse_duration)]
    pub policy_timeout: Duration,
    /// Memory one policy instance may grow to (a quantity: `64Mi`, `256Mi`).
    #[arg(long, value_name = "SIZE", default_value = "64Mi", value_parser = parse_memory)]
    pub policy_memory: usize,
}

impl PolicyArgs {
    /// The sandbox limits these flags set.
    #[must_use]
    pub fn limits(&self) -> kubectl_vllm_host::Limits {
        kubectl_vllm_host::Limits {
            timeout: self.policy_timeout,
            memory_bytes: self.policy_memory,
        }
    }
}

/// A memory size of at least 1 MiB and at most 4 GiB (a 32-bit memory's reach).
fn parse_memory(text: &str) -> Result<usize, String> {
    let bytes = kubectl_vllm_core::Quantity::parse(text.trim())
        .map_err(|e| format!("`{text}`: {e}"))?
        .to_u64()
        .ok_or_else(|| format!("`{text}` is not a whole number of bytes"))?;
    if !(1 << 20..=4 << 30).contains(&bytes) {
        return Err(format!("`{text}` is outside 1Mi..4Gi"));
    }
    usize::try_from(bytes).map_err(|e| e.to_string())
}

/// One `--limit NAME=VALUE`, checked now so that a typo is a usage error.
fn parse_limit(text: &str) -> Result<String, String> {
    kubectl_vllm_manifest::InputLimits::default().set(text)?;
    Ok(text.to_string())
}

/// What to read: shared by `lint`, `fix`, `apply` and `diff`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Input")]
pub struct InputArgs {
    /// Files or directories to read (`-` for stdin).
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// File or directory to read; repeatable (kubectl's `-f`).
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub filenames: Vec<String>,
    /// Also read subdirectories of directories.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// The name stdin has in reports.
    #[arg(long, value_name = "NAME", default_value = "<stdin>")]
    pub stdin_filename: String,
    /// Also read these files or directories for cross-resource lookups (a PVC, a
    /// ServiceAccount), without reporting on them; for pre-commit, which passes only the changed
    /// files. Repeatable; directories are read recursively.
    #[arg(long, value_name = "PATH")]
    pub related: Vec<PathBuf>,
    /// Never read paths matching this glob (added to the config's `exclude`); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Change an input bound; repeatable. Bounds (defaults): `file-bytes` (64Mi, per file or
    /// stdin), `documents` (100000 per file), `objects` (250000 in the run), `depth` (512 levels),
    /// `alias-nodes` (1000000 per document), `scalar-bytes` (8Mi). An input past one is an
    /// `input-error` at the place it was hit.
    #[arg(long = "limit", value_name = "NAME=VALUE", value_parser = parse_limit)]
    pub limits: Vec<String>,
    /// Namespace of objects that set none (default: `default`; with a cluster, the kubeconfig
    /// context's namespace).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// The provider the manifests deploy to (default: the config's `cluster.provider`, else
    /// `auto`: the live cluster, else hints in the manifests, else unknown). `generic` runs no
    /// provider-specific rule.
    #[arg(long, value_name = "PROVIDER", value_parser = provider_parser())]
    pub provider: Option<kubectl_vllm_host::ProviderSetting>,
    /// Validate against the schemas of this Kubernetes version (`1.35`, `1.36`, `1.37`; default:
    /// the config's `kubernetes-version`, else the newest).
    #[arg(long, value_name = "VERSION")]
    pub kubernetes_version: Option<String>,
    /// A JSON Schema (with `x-kubernetes-group-version-kind`) or a CustomResourceDefinition
    /// (YAML or JSON) for custom resources, or a directory of them; repeatable.
    #[arg(long = "schema", value_name = "PATH")]
    pub schemas: Vec<PathBuf>,
    /// Skip schema validation.
    #[arg(long)]
    pub no_schema: bool,
    /// A kustomization directory, rendered with `kubectl kustomize` (`kustomize build` when
    /// KUBECTL_VLLM_KUSTOMIZE=kustomize); findings point at its base and overlay files.
    /// Repeatable.
    #[arg(
        help_heading = "Render",
        short = 'k',
        long = "kustomize",
        value_name = "DIR"
    )]
    pub kustomize: Vec<PathBuf>,
    /// A Helm chart directory, rendered with `helm template`; findings name its templates.
    /// Repeatable.
    #[arg(help_heading = "Render", long, value_name = "DIR")]
    pub helm_chart: Vec<PathBuf>,
    /// A values file for `--helm-chart` (helm's `--values`); repeatable, in order.
    #[arg(
        help_heading = "Render",
        long,
        value_name = "FILE",
        requires = "helm_chart"
    )]
    pub values: Vec<PathBuf>,
    /// A value for `--helm-chart` (helm's `--set K=V`); repeatable, in order.
    #[arg(
        help_heading = "Render",
        long,
        value_name = "K=V",
        requires = "helm_chart"
    )]
    pub set: Vec<String>,
    /// Policy options.
    #[command(flatten)]
    pub policies: PolicyArgs,
}

/// Cluster access, as kubectl's flags.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Cluster")]
pub struct ClusterArgs {
    /// Kubeconfig file (default: `KUBECONFIG`, a list of files merged, else `~/.kube/config`,
    /// else the in-cluster service account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: its current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// How long connecting and each request may take, as kubectl's: `30s`, `1m` (default 30s).
    #[arg(long, value_name = "DURATION", value_parser = kubectl_vllm_core::parse_duration)]
    pub request_timeout: Option<Duration>,
}

impl ClusterArgs {
    /// The kubeconfig target.
    #[must_use]
    pub fn target(&self) -> kubectl_vllm_cluster::Target {
        kubectl_vllm_cluster::Target {
            request_timeout: self.request_timeout,
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
        }
    }
}

/// `lint` arguments.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Report")]
#[allow(
    clippy::struct_excessive_bools,
    reason = "each is a command-line switch"
)]
pub struct LintArgs {
    /// What to read.
    #[command(flatten)]
    pub input: InputArgs,
    /// Report format on stdout.
    #[arg(help_heading = "Report", short = 'o', long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(help_heading = "Report", long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Exit 0 even when findings are reported (exit 2 still happens).
    #[arg(help_heading = "Report", long)]
    pub exit_zero: bool,
    /// Write the input (stdin) unchanged to stdout when no finding reaches --fail-on, and the
    /// report to stderr: a filter for pipes and Helm's post-renderer.
    #[arg(help_heading = "Report", long)]
    pub pass_through: bool,
    /// Report only these rules: ids or prefixes such as `gke-`; comma-separated, repeatable.
    #[arg(
        help_heading = "Report",
        long,
        value_name = "RULE",
        value_delimiter = ','
    )]
    pub select: Vec<String>,
    /// Never report these rules: ids or prefixes; comma-separated, repeatable.
    #[arg(
        help_heading = "Report",
        long,
        value_name = "RULE",
        value_delimiter = ','
    )]
    pub ignore: Vec<String>,
    /// List suppressed findings, and what suppressed each, in the JSON report (`suppressed`).
    #[arg(help_heading = "Report", long)]
    pub show_suppressed: bool,
    /// Hide the findings recorded in this baseline (see --write-baseline).
    #[arg(help_heading = "Report", long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the current findings in FILE (for --baseline) and exit 0. A hidden name such as
    /// `.kubectl-vllm-baseline.json` keeps the file out of directory walks.
    #[arg(
        help_heading = "Report",
        long,
        value_name = "FILE",
        conflicts_with = "baseline"
    )]
    pub write_baseline: Option<PathBuf>,
    /// Also write the report in another format to a file, e.g. `junit=report.xml`; repeatable.
    #[arg(help_heading = "Report", long = "report", value_name = "FORMAT=PATH", value_parser = parse_report_target)]
    pub reports: Vec<(Format, PathBuf)>,
    /// Check against the live cluster (nodes, storage classes, referenced objects) instead of
    /// the config's cluster profile; reads the kubeconfig.
    #[arg(long, help_heading = "Cluster")]
    pub cluster: bool,
    /// Cluster access (with --cluster).
    #[command(flatten)]
    pub access: ClusterArgs,
}

/// `--provider`: one of [`kubectl_vllm_host::ProviderSetting::NAMES`] (listed in `--help` and
/// completions).
fn provider_parser()
-> impl clap::builder::TypedValueParser<Value = kubectl_vllm_host::ProviderSetting> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(kubectl_vllm_host::ProviderSetting::NAMES)
        .map(|s| s.parse().expect("one of the listed values"))
}

/// Parses `--report FORMAT=PATH`.
pub(crate) fn parse_report_target(value: &str) -> Result<(Format, PathBuf), String> {
    let (format, path) = value
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=PATH, got `{value}`"))?;
    let format = Format::from_str(format, true).map_err(|_| {
        format!("unknown report format `{format}` (text, json, sarif, github, junit)")
    })?;
    if path.is_empty() {
        return Err("the report path is empty".into());
    }
    Ok((format, PathBuf::from(path)))
}

impl LintArgs {
    /// `--select` and `--ignore`.
    #[must_use]
    pub fn selection(&self) -> Selection {
        Selection {
            select: self.select.clone(),
            ignore: self.ignore.clone(),
        }
    }

    /// The exit status for `report`: `--fail-on`, softened by `--exit-zero` (never an error).
    #[must_use]
    pub fn status(&self, report: &Report) -> ExitStatus {
        match ExitStatus::of(report, self.fail_on.threshold()) {
            ExitStatus::Failure if self.exit_zero => ExitStatus::Success,
            status => status,
        }
    }
}

/// `fix` arguments (the flags are independent switches, as in ruff's `check --fix`).
#[derive(Debug, Clone, Args)]
#[allow(clippy::struct_excessive_bools)]
pub struct FixArgs {
    /// What to read and how to report.
    #[command(flatten)]
    pub lint: LintArgs,
    /// Rewrite the files in place (atomically).
    #[arg(help_heading = "Fix", long, conflicts_with = "diff")]
    pub write: bool,
    /// Print a unified diff instead of the fixed manifests; exit 1 when there are changes.
    #[arg(help_heading = "Fix", long)]
    pub diff: bool,
    /// Also apply fixes marked unsafe (they change behaviour or cost).
    #[arg(help_heading = "Fix", long)]
    pub unsafe_fixes: bool,
    /// Exit 1 when a file was changed (for pre-commit).
    #[arg(help_heading = "Fix", long)]
    pub exit_non_zero_on_fix: bool,
}

/// Report formats (`kubectl_vllm_emit::Format` on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable snippets.
    Text,
    /// The JSON report (product.md, version 1).
    Json,
    /// GitHub Actions annotations (workflow commands); the full table goes to
    /// `$GITHUB_STEP_SUMMARY` when it is set.
    Github,
    /// JUnit XML: a test suite per file, a test case per object (GitLab, Jenkins).
    Junit,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
}

impl From<Format> for kubectl_vllm_emit::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Text => Self::Text,
            Format::Json => Self::Json,
            Format::Github => Self::Github,
            Format::Junit => Self::Junit,
            Format::Sarif => Self::Sarif,
        }
    }
}

/// `rules` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// A table.
    Text,
    /// JSON.
    Json,
}

/// `--fail-on` levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Errors.
    Error,
    /// Warnings and errors.
    Warning,
    /// Anything.
    Info,
    /// Never exit 1 (exit 2 still happens).
    None,
}

impl FailOn {
    /// The threshold.
    #[must_use]
    pub fn threshold(self) -> Option<Severity> {
        match self {
            Self::Error => Some(Severity::Error),
            Self::Warning => Some(Severity::Warning),
            Self::Info => Some(Severity::Info),
            Self::None => None,
        }
    }
}

/// How `apply` prints the applied objects (kubectl's `-o`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ObjectFormat {
    /// The objects as the server returned them, as a YAML `List`.
    Yaml,
    /// The same as JSON.
    Json,
    /// `kind.group/name`, one per line.
    Name,
}

/// `--dry-run`, as kubectl's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DryRun {
    /// Apply.
    None,
    /// Print the final manifests; no cluster needed (lint uses the config's cluster profile).
    Client,
    /// Send everything with `dryRun=All`: admission and validation run, nothing is stored.
    Server,
}

/// What `apply` and `diff` share: inputs, cluster access, fixing.
#[derive(Debug, Clone, Args)]
pub struct ClusterRunArgs {
    /// What to read.
    #[command(flatten)]
    pub input: InputArgs,
    /// Cluster access.
    #[command(flatten)]
    pub access: ClusterArgs,
    /// Refuse when a finding at or above this severity remains after fixing.
    #[arg(help_heading = "Apply", long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Field manager of the server-side apply.
    #[arg(
        help_heading = "Apply",
        long,
        value_name = "NAME",
        default_value = "kubectl-vllm"
    )]
    pub field_manager: String,
    /// Apply no fixes: send the manifests as written.
    #[arg(help_heading = "Apply", long, conflicts_with = "unsafe_fixes")]
    pub no_fix: bool,
    /// Also apply the unsafe fixes (they change behaviour or cost).
    #[arg(help_heading = "Apply", long)]
    pub unsafe_fixes: bool,
}

/// `apply` arguments.
#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// Inputs, cluster, fixing.
    #[command(flatten)]
    pub run: ClusterRunArgs,
    /// Print the applied objects (`yaml`, `json`, `name`) instead of one status line each.
    #[arg(help_heading = "Apply", short = 'o', long, value_enum)]
    pub output: Option<ObjectFormat>,
    /// `none`, `client` (print the final manifests; no cluster) or `server` (`dryRun=All`).
    #[arg(help_heading = "Apply", long, value_enum, default_value_t = DryRun::None)]
    pub dry_run: DryRun,
    /// Take fields another field manager owns (server-side apply `force`).
    #[arg(help_heading = "Apply", long)]
    pub force_conflicts: bool,
    /// Write the lint report in another format to a file, e.g. `sarif=lint.sarif`; repeatable.
    #[arg(help_heading = "Apply", long = "report", value_name = "FORMAT=PATH", value_parser = parse_report_target)]
    pub reports: Vec<(Format, PathBuf)>,
    /// Watch each workload (Deployment, StatefulSet, LeaderWorkerSet, Pod) until it is
    /// available, and say why a pod is stuck.
    #[arg(help_heading = "Apply", long)]
    pub wait: bool,
    /// How long --wait waits in all: `90s`, `5m`, `1h30m`.
    #[arg(help_heading = "Apply", long, value_name = "DURATION", default_value = "5m", value_parser = kubectl_vllm_core::parse_duration)]
    pub timeout: Duration,
}

/// `diff` arguments.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// Inputs, cluster, fixing.
    #[command(flatten)]
    pub run: ClusterRunArgs,
    /// Show the result of taking fields other field managers own (as `apply --force-conflicts`).
    #[arg(help_heading = "Diff", long)]
    pub force_conflicts: bool,
}
