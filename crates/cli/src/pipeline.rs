//! What every command that reads manifests shares: the config and the policies, the inputs, and
//! rendering a report.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use kubectl_vllm_emit::Style;
use kubectl_vllm_engine::config::{Config, Loaded, Selection};
use kubectl_vllm_engine::lint::Progress;
use kubectl_vllm_engine::{Linter, Report};
use kubectl_vllm_host::ArtifactCache;
use kubectl_vllm_manifest::{Input, LoadOptions, Manifests};

use crate::args::{ColorChoice, FailOn, Format, InputArgs, PolicyArgs};

/// What a command read: the policies, the config, the input set and how it was loaded.
pub(crate) struct Inputs {
    pub linter: Linter,
    pub loaded: Loaded,
    pub manifests: Manifests,
    pub options: LoadOptions,
    /// The inputs as given, to read them again (a kustomization rendered again after `fix`).
    pub given: Vec<Input>,
}

pub(crate) use kubectl_vllm_emit::progress::{AfterSpinner, end_phases, phase};

/// The config file: `explicit`, else the nearest `.kubectl-vllm.yaml`; errors are printed.
pub(crate) fn load_config(
    explicit: Option<&std::path::Path>,
    stderr: &mut dyn Write,
) -> Option<Loaded> {
    let path = explicit.map(std::path::Path::to_path_buf).or_else(|| {
        std::env::current_dir()
            .ok()
            .and_then(|dir| kubectl_vllm_engine::config::discover(&dir))
    });
    match path {
        Some(path) => match kubectl_vllm_engine::config::load(&path) {
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
pub(crate) fn prepare(args: &PolicyArgs, stderr: &mut dyn Write) -> Option<(Linter, Loaded)> {
    let loaded = load_config(args.config.as_deref(), stderr)?;
    let mut progress = |step: Progress| match step {
        Progress::CompilingPolicies { count, cached } => {
            let _ = writeln!(
                stderr,
                "compiling {count} {} ({})…",
                if count == 1 { "policy" } else { "policies" },
                if cached {
                    "first run; cached for the next ones"
                } else {
                    "the artifact cache is off"
                }
            );
            phase(format!("compiling {count} policies…"));
        }
    };
    phase("loading policies…");
    let mut linter = match Linter::with_progress(
        ArtifactCache::from_env(),
        args.limits(),
        &loaded,
        &args.policies,
        !args.no_default_policies,
        &mut progress,
    ) {
        Ok(linter) => linter,
        Err(e) => {
            let _ = writeln!(stderr, "error: {e}");
            return None;
        }
    };
    linter.set_jobs(args.jobs.map(usize::from));
    match loaded.check_rule_ids(linter.registry()) {
        Ok(warnings) => {
            for warning in warnings {
                let _ = writeln!(stderr, "warning: {warning}");
            }
        }
        Err(e) => {
            render_error(stderr, &*e);
            return None;
        }
    }
    Some((linter, loaded))
}

pub(crate) fn render_error(
    stderr: &mut dyn Write,
    error: &(impl miette::Diagnostic + Send + Sync + 'static),
) {
    let mut out = String::new();
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
    let _ = handler.render_report(&mut out, error);
    let _ = stderr.write_all(out.as_bytes());
}

/// Reads the inputs of `args` with the config's excludes, `select`/`ignore` checked against the
/// rules; objects without a namespace get `namespace`. `None` after printing a usage or config
/// error (exit 2).
pub(crate) fn read_inputs(
    args: &InputArgs,
    selection: Selection,
    namespace: &str,
    stderr: &mut dyn Write,
) -> Option<Inputs> {
    let mut inputs: Vec<Input> = args
        .paths
        .iter()
        .chain(&args.filenames)
        .map(|p| Input::from(p.as_str()))
        .collect();
    inputs.extend(args.kustomize.iter().cloned().map(Input::Kustomize));
    let chart = kubectl_vllm_manifest::render::helm::ChartOptions {
        values: args.values.clone(),
        set: args.set.clone(),
    };
    inputs.extend(
        args.helm_chart
            .iter()
            .map(|dir| Input::HelmChart(dir.clone(), chart.clone())),
    );
    if inputs.is_empty() {
        let _ = writeln!(
            stderr,
            "error: no input: give files or directories (`kubectl vllm lint deploy/` or `-f deploy.yaml`), a kustomization (`-k overlays/prod`), a chart (`--helm-chart ./chart`), or `-` for stdin\n\nUsage: kubectl vllm lint [PATH]... [-f PATH]... [-R] [-k DIR]... [--helm-chart DIR]..."
        );
        return None;
    }
    kubectl_vllm_engine::schemas::prewarm((!args.no_schema).then(|| {
        args.kubernetes_version
            .as_deref()
            .unwrap_or(kubectl_vllm_engine::schemas::DEFAULT_VERSION)
    }));
    let (mut linter, mut loaded) = prepare(&args.policies, stderr)?;
    loaded.config.selection = selection;
    loaded.config.provider = args.provider;
    let known: Vec<&str> = linter.registry().iter().map(|r| r.id.as_str()).collect();
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
    let exclude = match kubectl_vllm_manifest::exclude_set(&patterns) {
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
        jobs: args
            .policies
            .jobs
            .and_then(|j| usize::from(j).try_into().ok()),
        limits: input_limits(&args.limits),
        ..LoadOptions::default()
    };
    phase("reading manifests…");
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
            .unwrap_or(kubectl_vllm_engine::schemas::DEFAULT_VERSION);
        match kubectl_vllm_engine::schemas::load(version, &args.schemas) {
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
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    phase(format!(
        "linting {} ({}) with {}…",
        count(manifests.files.len(), "file", "files"),
        count(manifests.objects.len(), "object", "objects"),
        count(linter.policy_count(), "policy", "policies")
    ));
    Some(Inputs {
        linter,
        loaded,
        manifests,
        options,
        given: inputs,
    })
}

pub(crate) fn current_dir() -> PathBuf {
    std::env::current_dir().unwrap_or_default()
}

/// Where a rendered report goes, which decides its colour and width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sink {
    Stdout,
    Stderr,
    /// A `--report` file: never coloured, [`kubectl_vllm_emit::DEFAULT_WIDTH`] wide.
    File,
}

impl Sink {
    /// Colour and width for this sink under `--color`.
    pub fn style(self, color: ColorChoice) -> Style {
        let size = match self {
            Self::Stdout if std::io::stdout().is_terminal() => {
                Some(terminal_size::terminal_size_of(std::io::stdout()))
            }
            Self::Stderr if std::io::stderr().is_terminal() => {
                Some(terminal_size::terminal_size_of(std::io::stderr()))
            }
            Self::File => return Style::PLAIN,
            _ => None,
        };
        let terminal_width = size.flatten().map(|(w, _)| usize::from(w.0));
        Style {
            color: kubectl_vllm_emit::use_color(
                color.forced(),
                size.is_some(),
                std::env::var_os("FORCE_COLOR").as_deref(),
                std::env::var_os("NO_COLOR").as_deref(),
            ),
            width: kubectl_vllm_emit::text_width(
                std::env::var_os("COLUMNS").as_deref(),
                terminal_width,
            ),
        }
    }
}

/// What rendering a report needs besides the report.
pub(crate) struct Rendering<'a> {
    pub manifests: &'a Manifests,
    pub fail_on: FailOn,
    pub linter: &'a Linter,
    pub config: &'a Config,
    pub color: ColorChoice,
}

impl Rendering<'_> {
    /// `report` in `format`, for `sink`.
    pub fn render(&self, report: &Report, format: Format, sink: Sink) -> String {
        let cwd = current_dir();
        let cx = kubectl_vllm_emit::Context {
            manifests: self.manifests,
            registry: self.linter.registry(),
            cwd: &cwd,
            fail_on: self.fail_on.threshold(),
            docs_url: self
                .config
                .docs_url
                .as_deref()
                .unwrap_or(kubectl_vllm_emit::DEFAULT_DOCS_URL),
            style: sink.style(self.color),
            job_summary: std::env::var_os("GITHUB_STEP_SUMMARY").is_some_and(|p| !p.is_empty()),
        };
        kubectl_vllm_emit::Format::from(format)
            .emitter()
            .emit(report, &cx)
    }
}

/// Every cause of exit 2 (input and policy errors) as one `error: FILE: reason` line on stderr,
/// whatever `-o` is, so that a CI log shows it even when stdout is a JSON or SARIF report.
pub(crate) fn errors_to_stderr(report: &Report, linter: &Linter, stderr: &mut dyn Write) {
    for finding in report
        .findings
        .iter()
        .filter(|f| linter.registry().unsuppressible(f.rule.as_str()))
    {
        let at = finding
            .region
            .map_or_else(String::new, |r| format!(":{}:{}", r.line, r.column));
        let file = if finding.file.is_empty() || finding.message.contains(&finding.file) {
            String::new()
        } else {
            format!("{}{at}: ", finding.file)
        };
        let _ = writeln!(stderr, "error: {file}{}", finding.message);
    }
}

/// The `--limit` settings over the defaults (each was checked when the flags were parsed).
fn input_limits(settings: &[String]) -> kubectl_vllm_manifest::InputLimits {
    let mut limits = kubectl_vllm_manifest::InputLimits::default();
    for setting in settings {
        limits
            .set(setting)
            .expect("`--limit` values are checked by the argument parser");
    }
    limits
}
