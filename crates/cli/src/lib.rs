//! `kubectl vllm`: lint vLLM deployments with sandboxed WebAssembly policies.
//!
//! The binary is a thin `main` over [`run`]; tests drive [`run`] and [`lint_paths`] directly.

mod apply;
pub mod baseline;
pub mod catalogue;
pub mod config;
pub mod fix;
pub mod host_rules;
pub mod lint;
pub mod output;
pub mod report;
pub mod schema_rules;
pub mod suppress;

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use kubectl_vllm_host::{ArtifactCache, Limits};
use kubectl_vllm_manifest::{Input, LoadOptions, Manifests};

use crate::config::{Config, Loaded};
use crate::lint::Linter;
use crate::report::{Report, Severity};

/// Lint, fix and apply vLLM deployments on Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "kubectl-vllm", bin_name = "kubectl vllm", version, about, long_about = None)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read manifests, run every enabled policy, report findings.
    Lint(LintArgs),
    /// Apply the safe fixes (and, with --unsafe-fixes, the unsafe ones); print the fixed
    /// manifests, a diff, or rewrite the files.
    Fix(FixArgs),
    /// Lint with live cluster facts, fix, and server-side apply in dependency order; refuses
    /// (exit 1, nothing sent) while a finding at or above --fail-on remains.
    Apply(apply::ApplyArgs),
    /// Show what `apply` would change: the fixed manifests against the live objects (a
    /// server-side dry run). Exit 0: no differences, 1: differences, 2: error.
    Diff(apply::DiffArgs),
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
    /// Print the fact tables in effect (built-in rows plus the config's): models and accelerators.
    Facts {
        /// Output format.
        #[arg(short = 'o', long, value_enum, default_value_t = RulesFormat::Text)]
        output: RulesFormat,
        /// Config file (default: the nearest `.kubectl-vllm.yaml` upward).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
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
        #[arg(default_value = config::FILE_NAME)]
        path: PathBuf,
    },
}

/// Where policies come from.
#[derive(Debug, Clone, Args)]
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
}

/// What to read: shared by `lint`, `fix`, `apply` and `diff`.
#[derive(Debug, Clone, Args)]
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
    /// Policy options.
    #[command(flatten)]
    pub policies: PolicyArgs,
}

/// Cluster access, as kubectl's flags.
#[derive(Debug, Clone, Default, Args)]
pub struct ClusterArgs {
    /// Kubeconfig file (default: `KUBECONFIG`, a list of files merged, else `~/.kube/config`,
    /// else the in-cluster service account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: its current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

impl ClusterArgs {
    fn target(&self) -> kubectl_vllm_cluster::Target {
        kubectl_vllm_cluster::Target {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
        }
    }
}

/// `lint` arguments.
#[derive(Debug, Clone, Args)]
pub struct LintArgs {
    /// What to read.
    #[command(flatten)]
    pub input: InputArgs,
    /// Report format on stdout.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Exit 0 even when findings are reported (exit 2 still happens).
    #[arg(long)]
    pub exit_zero: bool,
    /// Report only these rules: ids or prefixes such as `gke-`; comma-separated, repeatable.
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub select: Vec<String>,
    /// Never report these rules: ids or prefixes; comma-separated, repeatable.
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// List suppressed findings, and what suppressed each, in the JSON report (`suppressed`).
    #[arg(long)]
    pub show_suppressed: bool,
    /// Hide the findings recorded in this baseline (see --write-baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the current findings in FILE (for --baseline) and exit 0. A hidden name such as
    /// `.kubectl-vllm-baseline.json` keeps the file out of directory walks.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    pub write_baseline: Option<PathBuf>,
    /// Also write the report in another format to a file, e.g. `junit=report.xml`; repeatable.
    #[arg(long = "report", value_name = "FORMAT=PATH", value_parser = parse_report_target)]
    pub reports: Vec<(Format, PathBuf)>,
    /// Check against the live cluster (nodes, storage classes, referenced objects) instead of
    /// the config's cluster profile; reads the kubeconfig.
    #[arg(long)]
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
fn parse_report_target(value: &str) -> Result<(Format, PathBuf), String> {
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
    fn selection(&self) -> config::Selection {
        config::Selection {
            select: self.select.clone(),
            ignore: self.ignore.clone(),
        }
    }

    /// The exit code for `report`: `--fail-on`, softened by `--exit-zero` (never below 2).
    fn exit_code(&self, report: &report::Report) -> u8 {
        match report.exit_code(self.fail_on.threshold()) {
            1 if self.exit_zero => 0,
            code => code,
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
    #[arg(long, conflicts_with = "diff")]
    pub write: bool,
    /// Print a unified diff instead of the fixed manifests; exit 1 when there are changes.
    #[arg(long)]
    pub diff: bool,
    /// Also apply fixes marked unsafe (they change behaviour or cost).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Exit 1 when a file was changed (for pre-commit).
    #[arg(long)]
    pub exit_non_zero_on_fix: bool,
}

/// Report formats.
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

/// The version of the policy contract this host implements.
pub const CONTRACT: &str = kubectl_vllm_host::Contract::CURRENT;

/// Runs the command line `args` (including the program name); returns the exit code.
pub fn run(args: Vec<OsString>, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let rendered = e.render().to_string();
            let _ = if e.use_stderr() {
                stderr.write_all(rendered.as_bytes())
            } else {
                stdout.write_all(rendered.as_bytes())
            };
            return code;
        }
    };
    match cli.command {
        Command::Version => {
            let _ = writeln!(
                stdout,
                "kubectl-vllm {} (policy contract {CONTRACT})",
                env!("CARGO_PKG_VERSION")
            );
            0
        }
        Command::Config(ConfigCommand::Init { path }) => {
            let created = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .and_then(|mut file| file.write_all(config::STARTER.as_bytes()));
            match created {
                Ok(()) => {
                    let _ = writeln!(stderr, "wrote {}", path.display());
                    0
                }
                Err(e) => {
                    let _ = writeln!(stderr, "error: cannot create {}: {e}", path.display());
                    2
                }
            }
        }
        Command::Completion { shell } => {
            use clap::CommandFactory as _;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "kubectl-vllm", &mut script);
            let _ = stdout.write_all(&script);
            0
        }
        Command::Lint(args) => lint_command(&args, stdout, stderr),
        Command::Fix(args) => fix_command(&args, stdout, stderr),
        Command::Apply(args) => apply::apply_command(&args, stdout, stderr),
        Command::Diff(args) => apply::diff_command(&args, stdout, stderr),
        Command::Facts { output, config } => {
            let Some(loaded) = load_config(config.as_deref(), stderr) else {
                return 2;
            };
            let mut facts = kubectl_vllm_host::FactTables::builtin();
            facts.apply(&loaded.config.facts);
            let text = match output {
                RulesFormat::Json => {
                    serde_json::to_string_pretty(&facts).expect("serializes") + "\n"
                }
                RulesFormat::Text => facts_table(&facts),
            };
            let _ = stdout.write_all(text.as_bytes());
            0
        }
        Command::Rules { output, policies } => {
            let Some((linter, _)) = prepare(&policies, stderr) else {
                return 2;
            };
            let rows = linter.rules();
            let text = match output {
                RulesFormat::Json => {
                    serde_json::to_string_pretty(&rows).expect("serializes") + "\n"
                }
                RulesFormat::Text => rules_table(&rows),
            };
            let _ = stdout.write_all(text.as_bytes());
            0
        }
        Command::Explain { rule, policies } => {
            let Some((linter, _)) = prepare(&policies, stderr) else {
                return 2;
            };
            if let Some(row) = linter.rules().into_iter().find(|r| r.id == rule) {
                let _ = write!(stdout, "{}", row.page());
                return 0;
            }
            let why = if catalogue::CATALOGUE.contains(&rule.as_str()) {
                format!("rule `{rule}` is in the catalogue but no loaded policy implements it yet")
            } else {
                format!("unknown rule `{rule}`; `kubectl vllm rules` lists them")
            };
            let _ = writeln!(stderr, "error: {why}");
            2
        }
    }
}

fn rules_table(rows: &[lint::RuleRow]) -> String {
    use std::fmt::Write as _;
    let mut out = format!(
        "{:<30} {:<8} {:<20} {:<8} {}\n",
        "RULE", "SEVERITY", "FIX", "POLICY", "SUMMARY"
    );
    for row in rows {
        let fix = match row.applicability {
            Some(a) => format!("{} ({a})", row.fix),
            None => row.fix.to_string(),
        };
        let _ = writeln!(
            out,
            "{:<30} {:<8} {:<20} {:<8} {}",
            row.id,
            row.severity.as_str(),
            fix,
            row.policy.as_deref().unwrap_or("-"),
            row.summary
        );
    }
    out
}

#[allow(clippy::cast_precision_loss)] // MiB shown as GiB with one decimal
fn facts_table(facts: &kubectl_vllm_host::FactTables) -> String {
    use std::fmt::Write as _;
    let mut out = format!(
        "{:<36} {:>8} {:>6} {:>4} {:>4} {:>7} {:<8} {:<6} SOURCE\n",
        "MODEL", "WEIGHTS", "HEADS", "KV", "LAY", "CONTEXT", "DTYPE", "GATED"
    );
    for m in &facts.models {
        let _ = writeln!(
            out,
            "{:<36} {:>6.1}Gi {:>6} {:>4} {:>4} {:>7} {:<8} {:<6} {}",
            m.id,
            m.weights_mib as f64 / 1024.0,
            m.attention_heads,
            m.kv_heads,
            m.layers,
            m.max_context,
            m.dtype,
            m.gated,
            m.source
        );
    }
    let _ = writeln!(
        out,
        "\n{:<24} {:<18} {:>8} {:>4} {:<14} {:<14} SOURCE",
        "ACCELERATOR", "NAME", "MEMORY", "CC", "GPUS/NODE", "AUTOPILOT"
    );
    let list = |v: &[u32]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    for a in &facts.accelerators {
        let _ = writeln!(
            out,
            "{:<24} {:<18} {:>6.1}Gi {:>4.1} {:<14} {:<14} {}",
            a.id,
            a.name,
            a.memory_mib as f64 / 1024.0,
            f64::from(a.compute_capability) / 10.0,
            list(&a.gpus_per_node),
            if a.autopilot_counts.is_empty() {
                "-".into()
            } else {
                list(&a.autopilot_counts)
            },
            a.source
        );
    }
    let _ = writeln!(
        out,
        "\n{:<28} {:<9} {:<24} {:>4} SOURCE",
        "MACHINE TYPE", "PROVIDER", "ACCELERATOR", "GPUS"
    );
    for t in &facts.instance_types {
        let _ = writeln!(
            out,
            "{:<28} {:<9} {:<24} {:>4} {}",
            t.instance_type,
            t.provider.display(),
            t.accelerator,
            t.gpus,
            t.source
        );
    }
    let _ = writeln!(
        out,
        "\n{:<44} {:<18} {:<10} {:<6} {:<12} SOURCE",
        "IMAGE", "TAGS", "VLLM", "CUDA", "DRIVER PATH"
    );
    for i in &facts.images {
        let tags = if i.tags.floating {
            "floating".to_string()
        } else if !i.tags.exact.is_empty() {
            i.tags.exact.join(",")
        } else {
            format!(
                "{}..{}",
                i.tags.from.as_deref().unwrap_or(""),
                i.tags.below.as_deref().unwrap_or("")
            )
        };
        let driver = match i.driver_dir() {
            None => "unknown",
            Some(true) => "yes",
            Some(false) => "no",
        };
        let _ = writeln!(
            out,
            "{:<44} {:<18} {:<10} {:<6} {:<12} {}",
            i.repositories.join(","),
            tags,
            i.vllm_version.as_deref().unwrap_or("-"),
            i.cuda.as_deref().unwrap_or("-"),
            driver,
            i.source
        );
    }
    out
}

/// The config file: `explicit`, else the nearest `.kubectl-vllm.yaml`; errors are printed.
fn load_config(explicit: Option<&std::path::Path>, stderr: &mut dyn Write) -> Option<Loaded> {
    let path = explicit.map(std::path::Path::to_path_buf).or_else(|| {
        std::env::current_dir()
            .ok()
            .and_then(|dir| config::discover(&dir))
    });
    match path {
        Some(path) => match config::load(&path) {
            Ok(loaded) => Some(loaded),
            Err(e) => {
                render_error(stderr, &*e);
                None
            }
        },
        None => Some(Loaded::default()),
    }
}

/// Loads the config and the policies; on a config error prints it and returns `None` (exit 2).
fn prepare(args: &PolicyArgs, stderr: &mut dyn Write) -> Option<(Linter, Loaded)> {
    let loaded = load_config(args.config.as_deref(), stderr)?;
    let linter = match Linter::new(
        ArtifactCache::from_env(),
        Limits::default(),
        &loaded,
        &args.policies,
        !args.no_default_policies,
    ) {
        Ok(linter) => linter,
        Err(e) => {
            let _ = writeln!(stderr, "error: {e}");
            return None;
        }
    };
    if let Err(e) = check_rule_ids(&loaded, &linter, stderr) {
        render_error(stderr, &*e);
        return None;
    }
    Some((linter, loaded))
}

fn render_error(stderr: &mut dyn Write, error: &(impl miette::Diagnostic + Send + Sync + 'static)) {
    let mut out = String::new();
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
    let _ = handler.render_report(&mut out, error);
    let _ = stderr.write_all(out.as_bytes());
}

/// Rule ids in the config must exist: known to a loaded policy or the host, or in the catalogue
/// (not yet implemented: a warning).
fn check_rule_ids(
    loaded: &Loaded,
    linter: &Linter,
    stderr: &mut dyn Write,
) -> Result<(), Box<config::ConfigError>> {
    let known: Vec<String> = linter.rules().into_iter().map(|r| r.id).collect();
    let named = loaded
        .config
        .rules
        .keys()
        .map(|id| {
            (
                id.clone(),
                format!("/rules/{}", id.replace('~', "~0").replace('/', "~1")),
            )
        })
        .chain(
            loaded
                .config
                .ignores
                .iter()
                .enumerate()
                .flat_map(|(i, ignore)| {
                    ignore
                        .rules
                        .iter()
                        .enumerate()
                        .map(move |(j, id)| (id.clone(), format!("/ignores/{i}/rules/{j}")))
                }),
        );
    for (id, pointer) in named {
        if known.contains(&id) {
            continue;
        }
        if catalogue::CATALOGUE.contains(&id.as_str()) {
            let _ = writeln!(
                stderr,
                "warning: config names rule `{id}`, which no loaded policy implements yet"
            );
            continue;
        }
        let path = loaded.path.clone().unwrap_or_default();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let stream = kubectl_vllm_manifest::yaml::parse(&text);
        let span = stream.documents.first().and_then(|d| {
            let tokens = kubectl_vllm_manifest::parse_pointer(&pointer).ok()?;
            Some(kubectl_vllm_manifest::locate::locate(&d.root, &tokens).span)
        });
        let source = kubectl_vllm_manifest::SourceFile::new(&name, text.clone());
        let at = span.map_or_else(String::new, |s| {
            let p = source.position(s.start);
            format!(":{}:{}", p.line, p.column)
        });
        return Err(Box::new(config::ConfigError {
            message: format!(
                "invalid config {name}{at}: unknown rule `{id}` (`kubectl vllm rules` lists them)"
            ),
            source_code: miette::NamedSource::new(name, text),
            span: span.map(|s| (s.start, s.len().max(1)).into()),
        }));
    }
    Ok(())
}

/// Reads the inputs of `args` with the config's excludes, `select`/`ignore` checked against the
/// rules; objects without a namespace get `namespace`. `None` after printing a usage or config
/// error (exit 2).
fn read_inputs(
    args: &InputArgs,
    selection: config::Selection,
    namespace: &str,
    stderr: &mut dyn Write,
) -> Option<(Linter, Loaded, Manifests, LoadOptions)> {
    let inputs: Vec<Input> = args
        .paths
        .iter()
        .chain(&args.filenames)
        .map(|p| Input::from(p.as_str()))
        .collect();
    if inputs.is_empty() {
        let _ = writeln!(
            stderr,
            "error: no input: give files or directories (`kubectl vllm lint deploy/` or `-f deploy.yaml`), or `-` for stdin\n\nUsage: kubectl vllm lint [PATH]... [-f PATH]... [-R]"
        );
        return None;
    }
    let (mut linter, mut loaded) = prepare(&args.policies, stderr)?;
    loaded.config.selection = selection;
    loaded.config.provider = args.provider;
    // Listing the rules renders their documentation: only when there is a selection to check.
    let selection = &loaded.config.selection;
    let rules = if selection.select.is_empty() && selection.ignore.is_empty() {
        Vec::new()
    } else {
        linter.rules()
    };
    let known: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    if let Some(unknown) = loaded.config.selection.unknown(&known) {
        let _ = writeln!(
            stderr,
            "error: `{unknown}` in --select/--ignore is no rule id or prefix; `kubectl vllm rules` lists them"
        );
        return None;
    }
    let patterns: Vec<String> = loaded
        .config
        .exclude
        .iter()
        .chain(&args.exclude)
        .cloned()
        .collect();
    let exclude = match exclude_set(&patterns) {
        Ok(set) => set,
        Err(e) => {
            let _ = writeln!(stderr, "error: invalid `exclude` pattern: {e}");
            return None;
        }
    };
    let options = LoadOptions {
        recursive: args.recursive,
        stdin_name: args.stdin_filename.clone(),
        default_namespace: namespace.to_string(),
        exclude,
        ..LoadOptions::default()
    };
    let mut manifests = Manifests::load(&inputs, &options);
    let reported_files = manifests.files.len();
    if !args.related.is_empty() {
        let related = LoadOptions {
            recursive: true,
            already_read: manifests
                .files
                .iter()
                .filter_map(|f| Path::new(&f.source.name).canonicalize().ok())
                .collect(),
            ..options.clone()
        };
        let paths: Vec<Input> = args.related.iter().cloned().map(Input::Path).collect();
        manifests.extend(&paths, &related);
    }
    manifests.reported_files = Some(reported_files);
    if !args.no_schema {
        let version = args
            .kubernetes_version
            .as_deref()
            .or(loaded.config.kubernetes_version.as_deref())
            .unwrap_or(kubectl_vllm_schema::DEFAULT_VERSION);
        match load_schemas(version, &args.schemas) {
            Ok(schemas) => linter.set_schemas(Some(schemas)),
            Err(e) => {
                let _ = writeln!(stderr, "error: {e}");
                return None;
            }
        }
    }
    for note in &manifests.skipped {
        let _ = writeln!(stderr, "info: {note}");
    }
    Some((linter, loaded, manifests, options))
}

fn lint_command(args: &LintArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    let session = if args.cluster {
        match apply::Session::open(&args.access, stderr) {
            Some(session) => Some(session),
            None => return 2,
        }
    } else {
        None
    };
    let namespace = apply::namespace(&args.input, session.as_ref());
    let Some((mut linter, loaded, manifests, _)) =
        read_inputs(&args.input, args.selection(), &namespace, stderr)
    else {
        return 2;
    };
    if let Some(session) = &session
        && !session.attach(&mut linter, &manifests, &loaded.config, &namespace, stderr)
    {
        return 2;
    }
    let mut report = linter.lint(&manifests, &loaded.config);
    if let Some(path) = &args.write_baseline {
        let recorded = baseline::Baseline::of(&report);
        if let Err(e) = std::fs::write(path, recorded.to_json()) {
            let _ = writeln!(
                stderr,
                "error: cannot write the baseline {}: {e}",
                path.display()
            );
            return 2;
        }
        let _ = writeln!(
            stderr,
            "recorded {} finding(s) in {}",
            recorded.findings.iter().map(|e| e.count).sum::<usize>(),
            path.display()
        );
        return if report.failed { 2 } else { 0 };
    }
    if let Some(path) = &args.baseline {
        match baseline::Baseline::read(path) {
            Ok(recorded) => recorded.apply(&mut report),
            Err(e) => {
                let _ = writeln!(stderr, "error: {e}");
                return 2;
            }
        }
    }
    if !args.show_suppressed {
        report.suppressed.clear();
    }
    let terminal = std::io::stdout().is_terminal();
    let rendering = Rendering {
        manifests: &manifests,
        fail_on: args.fail_on,
        linter: &linter,
        config: &loaded.config,
    };
    let rendered = rendering.render(&report, args.output, terminal);
    let _ = stdout.write_all(rendered.as_bytes());
    for (format, path) in &args.reports {
        let text = rendering.render(&report, *format, false);
        if let Err(e) = std::fs::write(path, text) {
            let _ = writeln!(
                stderr,
                "error: cannot write the {} report to {}: {e}",
                format!("{format:?}").to_lowercase(),
                path.display()
            );
            return 2;
        }
    }
    if args.output == Format::Github
        && let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty())
    {
        let table = output::markdown(&report, &current_dir());
        let appended = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .and_then(|mut file| file.write_all(table.as_bytes()));
        if let Err(e) = appended {
            let _ = writeln!(
                stderr,
                "error: cannot append to GITHUB_STEP_SUMMARY {}: {e}",
                std::path::Path::new(&path).display()
            );
            return 2;
        }
    }
    args.exit_code(&report)
}

fn current_dir() -> PathBuf {
    std::env::current_dir().unwrap_or_default()
}

/// What rendering a report needs besides the report.
struct Rendering<'a> {
    manifests: &'a Manifests,
    fail_on: FailOn,
    linter: &'a Linter,
    config: &'a Config,
}

impl Rendering<'_> {
    /// `report` in `format`; `terminal`: the text goes to a terminal.
    fn render(&self, report: &report::Report, format: Format, terminal: bool) -> String {
        match format {
            Format::Json => output::json(report),
            Format::Sarif => output::sarif(
                report,
                &self.linter.rules(),
                self.config
                    .docs_url
                    .as_deref()
                    .unwrap_or(output::DEFAULT_DOCS_URL),
                &current_dir(),
            ),
            Format::Junit => output::junit(report, self.manifests, self.fail_on.threshold()),
            Format::Github => output::github(report, &current_dir()),
            Format::Text => output::text(
                report,
                self.manifests,
                output::use_color(terminal, std::env::var_os("NO_COLOR").as_deref()),
            ),
        }
    }
}

fn fix_command(args: &FixArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    let namespace = apply::namespace(&args.lint.input, None);
    let Some((mut linter, loaded, manifests, options)) =
        read_inputs(&args.lint.input, args.lint.selection(), &namespace, stderr)
    else {
        return 2;
    };
    let outcome = fix::fix(
        &mut linter,
        &manifests,
        &loaded.config,
        &options,
        args.unsafe_fixes,
    );
    let changed = outcome
        .texts
        .iter()
        .any(|(_, original, fixed)| original != fixed);
    let _ = stderr.write_all(fix::render_applied(&outcome).as_bytes());
    if args.write {
        match fix::write_files(&outcome, &args.lint.input.stdin_filename) {
            Ok(n) => {
                let _ = writeln!(stderr, "{n} file(s) rewritten");
            }
            Err(e) => {
                let _ = writeln!(stderr, "error: {e}");
                return 2;
            }
        }
    } else if args.diff {
        let _ = stdout.write_all(fix::render_diff(&outcome).as_bytes());
    } else {
        let _ = stdout.write_all(fix::render_fixed(&outcome).as_bytes());
    }
    let report = &outcome.remaining;
    let rendering = Rendering {
        manifests: &outcome.manifests,
        fail_on: args.lint.fail_on,
        linter: &linter,
        config: &loaded.config,
    };
    if (args.write || args.diff) && args.lint.output != Format::Text {
        let rendered = rendering.render(report, args.lint.output, false);
        let _ = stdout.write_all(rendered.as_bytes());
    } else {
        let terminal = std::io::stderr().is_terminal();
        let rendered = rendering.render(report, args.lint.output, terminal);
        let _ = stderr.write_all(rendered.as_bytes());
    }
    let code = args.lint.exit_code(report);
    if code == 2 {
        return 2;
    }
    if changed && (args.diff || args.exit_non_zero_on_fix) {
        return code.max(1);
    }
    code
}

/// The schemas of Kubernetes `version` plus the JSON Schemas and CRDs under `paths`.
fn load_schemas(version: &str, paths: &[PathBuf]) -> Result<kubectl_vllm_schema::Schemas, String> {
    let mut schemas =
        kubectl_vllm_schema::Schemas::for_version(version).map_err(|e| e.to_string())?;
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| matches!(e, "json" | "yaml" | "yml"))
                })
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read the schema {}: {e}", file.display()))?;
        let documents: Vec<serde_json::Value> = if file.extension().is_some_and(|e| e == "json") {
            vec![serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?]
        } else {
            let stream = kubectl_vllm_manifest::yaml::parse(&text);
            if let Some(error) = stream.errors.first() {
                return Err(format!(
                    "{}: invalid YAML: {}",
                    file.display(),
                    error.message
                ));
            }
            stream.documents.iter().map(|d| d.root.to_json()).collect()
        };
        // `kubectl get crd -o yaml` writes a List.
        let documents = documents.into_iter().flat_map(|d| {
            if d["kind"] == "List" {
                d["items"].as_array().cloned().unwrap_or_default()
            } else {
                vec![d]
            }
        });
        for document in documents.filter(|d| !d.is_null()) {
            schemas
                .add(&document)
                .map_err(|e| format!("{}: {e}", file.display()))?;
        }
    }
    Ok(schemas)
}

fn exclude_set(patterns: &[String]) -> Result<Option<globset::GlobSet>, globset::Error> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = globset::GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(globset::Glob::new(pattern)?);
    }
    builder.build().map(Some)
}

/// Lints `paths` with `config` using an existing linter (for tests and batch use).
pub fn lint_paths(
    linter: &mut Linter,
    inputs: &[Input],
    options: &LoadOptions,
    config: &config::Config,
) -> (Manifests, Report) {
    let manifests = Manifests::load(inputs, options);
    let report = linter.lint(&manifests, config);
    (manifests, report)
}
