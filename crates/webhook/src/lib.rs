//! `kubectl vllm webhook`: the CLI's policies at admission, for `kubectl apply`, Argo CD, Flux and
//! Helm alike.
//!
//! - [`review`]: AdmissionReview v1 in, as the API server sends it, and out;
//! - [`check`]: one object through the engine, the findings `lint` gives, gated by the mode;
//!   the safe fixes as a JSON Patch;
//! - [`live`]: the cluster's nodes and storage classes through reflectors, referenced objects
//!   through cached GETs;
//! - [`server`]: HTTPS (rustls, hyper), routes, limits, deadlines, TLS reload, shutdown, with
//!   [`metrics`] and the reloading certificate of [`tls`];
//! - [`install`] (`webhook manifests`) and [`cert`] (`webhook cert`).

pub mod cert;
pub mod check;
pub mod client;
pub mod install;
pub mod live;
pub mod metrics;
pub mod review;
pub mod server;
pub mod tls;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use kubectl_vllm_core::Severity;
use kubectl_vllm_engine::Linter;
use kubectl_vllm_engine::config::Loaded;
use kubectl_vllm_host::{ArtifactCache, Limits};

/// `--concurrency` unless given: more evaluations at once than the pod has cores add memory,
/// not throughput, and a pod without a CPU limit sees every core of its node.
const MAX_DEFAULT_CONCURRENCY: usize = 8;

/// How a webhook command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Done (a server that was stopped by a signal, manifests printed, files written).
    Success,
    /// A usage, config, TLS or cluster error (exit 2).
    Error,
}

impl Status {
    /// Whether it ended well.
    #[must_use]
    pub fn is_success(self) -> bool {
        self == Self::Success
    }
}

/// `kubectl vllm webhook …`.
#[derive(Debug, Clone, Subcommand)]
pub enum WebhookCommand {
    /// Serve AdmissionReview v1 over HTTPS: `POST /validate`, `POST /mutate` (with --mutate),
    /// `/readyz`, `/livez`, `/metrics`.
    Serve(ServeArgs),
    /// Print the objects that install the webhook (namespace, RBAC, Deployment, PDB, Service,
    /// webhook configurations) for `kubectl apply -f -`.
    Manifests(ManifestsArgs),
    /// Write a self-signed CA and a serving certificate for the webhook's Service (ca.crt,
    /// tls.crt, tls.key), for clusters without cert-manager.
    Cert(CertArgs),
}

/// `warn` or `enforce`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Admit everything; findings are admission warnings, which kubectl prints.
    Warn,
    /// Deny while findings at or above --fail-on remain.
    Enforce,
}

/// A severity flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    /// Errors.
    Error,
    /// Warnings and errors.
    Warning,
    /// Everything.
    Info,
}

impl From<SeverityArg> for Severity {
    fn from(s: SeverityArg) -> Self {
        match s {
            SeverityArg::Error => Self::Error,
            SeverityArg::Warning => Self::Warning,
            SeverityArg::Info => Self::Info,
        }
    }
}

/// `webhook serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The serving certificate (PEM); read again when it changes.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: PathBuf,
    /// Its private key (PEM).
    #[arg(long, value_name = "FILE")]
    pub tls_key: PathBuf,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,
    /// warn: admit with warnings; enforce: deny findings at or above --fail-on.
    #[arg(long, value_enum, default_value_t = ModeArg::Warn)]
    pub mode: ModeArg,
    /// In enforce mode, the severity that denies.
    #[arg(long, value_enum, default_value_t = SeverityArg::Error)]
    pub fail_on: SeverityArg,
    /// Findings at or above this (and not denying) are admission warnings.
    #[arg(long, value_enum, default_value_t = SeverityArg::Warning)]
    pub warn_on: SeverityArg,
    /// Answer `POST /mutate` with the safe fixes as a JSON Patch.
    #[arg(long)]
    pub mutate: bool,
    /// Deny when a policy fails (trap, deadline, memory) instead of admitting with a warning.
    #[arg(long)]
    pub deny_on_policy_error: bool,
    /// Config file (severities, ignores, facts, the cluster profile used --offline).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Extra policy component (`.wasm`) or directory of them; repeatable.
    #[arg(long = "policy", value_name = "PATH")]
    pub policies: Vec<PathBuf>,
    /// Serve without a cluster: node pools, storage classes and provider from the config's
    /// profile.
    #[arg(long)]
    pub offline: bool,
    /// Kubeconfig (default: the in-cluster service account, else KUBECONFIG, ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Reviews evaluated at once (each on its own instance of every policy, about 7 MB; default:
    /// one per core, at most 8).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: Option<u16>,
    /// The largest request body taken (bytes); larger is answered 400.
    #[arg(long, value_name = "BYTES", default_value_t = 7 << 20)]
    pub max_request_bytes: usize,
    /// A review's time from request to answer (and never past the API server's timeout less
    /// 500 ms); later, it is admitted with a warning (or denied with --deny-on-policy-error).
    #[arg(long, value_name = "DURATION", default_value = "8s", value_parser = duration_arg)]
    pub deadline: Duration,
    /// Time one policy call may take before it is stopped.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = duration_arg)]
    pub policy_timeout: Duration,
    /// How often the TLS files are checked for changes.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration_arg)]
    pub tls_reload_interval: Duration,
    /// After SIGTERM: how long /readyz fails while reviews are still answered.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = duration_arg)]
    pub shutdown_delay: Duration,
}

/// `webhook manifests`.
#[derive(Debug, Clone, Args)]
pub struct ManifestsArgs {
    /// Namespace of the webhook's objects.
    #[arg(short = 'n', long, default_value = "kubectl-vllm")]
    pub namespace: String,
    /// TLS from cert-manager (an Issuer and a Certificate; the CA injected).
    #[arg(long, conflicts_with = "ca_bundle")]
    pub cert_manager: bool,
    /// The CA certificate `webhook cert` wrote (ca.crt), as the configurations' caBundle.
    #[arg(long, value_name = "FILE", required_unless_present = "cert_manager")]
    pub ca_bundle: Option<PathBuf>,
    /// The server's mode.
    #[arg(long, value_enum, default_value_t = ModeArg::Warn)]
    pub mode: ModeArg,
    /// The server's --fail-on.
    #[arg(long, value_enum, default_value_t = SeverityArg::Error)]
    pub fail_on: SeverityArg,
    /// Install the mutating webhook too (the server runs with --mutate).
    #[arg(long)]
    pub mutate: bool,
    /// Ignore: admit unchecked while the webhook is down; Fail: block.
    #[arg(long, value_enum, default_value_t = FailurePolicy::Ignore)]
    pub failure_policy: FailurePolicy,
    /// timeoutSeconds of the webhook configurations.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u8).range(1..=10))]
    pub timeout_seconds: u8,
    /// The webhook's container image.
    #[arg(long, value_name = "IMAGE", default_value = concat!("ghcr.io/kubectl-vllm/kubectl-vllm:", env!("CARGO_PKG_VERSION")))]
    pub image: String,
}

/// `failurePolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailurePolicy {
    /// Admit when the webhook cannot be called.
    #[value(name = "Ignore")]
    Ignore,
    /// Reject when the webhook cannot be called.
    #[value(name = "Fail")]
    Fail,
}

/// `webhook cert`.
#[derive(Debug, Clone, Args)]
pub struct CertArgs {
    /// Namespace of the webhook's Service.
    #[arg(short = 'n', long, default_value = "kubectl-vllm")]
    pub namespace: String,
    /// The Service's name.
    #[arg(long, default_value = install::SERVICE)]
    pub service: String,
    /// Another DNS name or IP address for the certificate; repeatable.
    #[arg(long = "san", value_name = "NAME")]
    pub extra_names: Vec<String>,
    /// Days both certificates are valid.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
    /// Directory to write ca.crt, tls.crt and tls.key into.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,
}

fn duration_arg(text: &str) -> Result<Duration, String> {
    kubectl_vllm_core::parse_duration(text)
}

/// A flag value as written on the command line.
fn name(v: &impl ValueEnum) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}

/// Runs a webhook command.
pub fn run(command: &WebhookCommand, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Status {
    match command {
        WebhookCommand::Serve(args) => serve(args, stderr),
        WebhookCommand::Manifests(args) => manifests(args, stdout, stderr),
        WebhookCommand::Cert(args) => cert(args, stdout, stderr),
    }
}

fn manifests(args: &ManifestsArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Status {
    let tls = match &args.ca_bundle {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => install::Tls::CaBundle(pem),
            Ok(_) => {
                let _ = writeln!(
                    stderr,
                    "error: {}: no PEM certificate in it (give the ca.crt `kubectl vllm webhook cert` wrote)",
                    path.display()
                );
                return Status::Error;
            }
            Err(e) => {
                let _ = writeln!(stderr, "error: {}: {e}", path.display());
                return Status::Error;
            }
        },
        None => install::Tls::CertManager,
    };
    let install = install::Install {
        namespace: args.namespace.clone(),
        image: args.image.clone(),
        mode: name(&args.mode),
        fail_on: name(&args.fail_on),
        mutate: args.mutate,
        failure_policy: name(&args.failure_policy),
        timeout_seconds: args.timeout_seconds,
        tls,
    };
    let _ = stdout.write_all(install.render().as_bytes());
    Status::Success
}

fn cert(args: &CertArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Status {
    let request = cert::Request {
        service: args.service.clone(),
        namespace: args.namespace.clone(),
        extra_names: args.extra_names.clone(),
        days: args.days,
    };
    let written = cert::issue(&request).and_then(|issued| cert::write(&issued, &args.out_dir));
    match written {
        Ok(()) => {
            let dir = args.out_dir.display();
            let _ = writeln!(
                stdout,
                "wrote {dir}/{} (the caBundle), {dir}/{} and {dir}/{} for {}, valid {} days; the CA's key was not kept\n\nnext:\n  kubectl create namespace {ns}\n  kubectl -n {ns} create secret tls kubectl-vllm-webhook-tls --cert {dir}/{} --key {dir}/{}\n  kubectl vllm webhook manifests -n {ns} --ca-bundle {dir}/{} | kubectl apply -f -",
                cert::CA_FILE,
                cert::CERT_FILE,
                cert::KEY_FILE,
                request.names().join(", "),
                args.days,
                cert::CERT_FILE,
                cert::KEY_FILE,
                cert::CA_FILE,
                ns = args.namespace,
            );
            Status::Success
        }
        Err(e) => {
            let _ = writeln!(stderr, "error: {e}");
            Status::Error
        }
    }
}

fn serve(args: &ServeArgs, stderr: &mut dyn Write) -> Status {
    match serve_inner(args, stderr) {
        Ok(()) => Status::Success,
        Err(e) => {
            let _ = writeln!(stderr, "error: {e}");
            Status::Error
        }
    }
}

fn serve_inner(args: &ServeArgs, stderr: &mut dyn Write) -> Result<(), String> {
    let loaded = match &args.config {
        Some(path) => kubectl_vllm_engine::config::load(path).map_err(|e| config_error(&e))?,
        None => Loaded::default(),
    };
    let certificate = Arc::new(tls::Certificate::load(&args.tls_cert, &args.tls_key)?);
    let version = loaded
        .config
        .kubernetes_version
        .clone()
        .unwrap_or_else(|| kubectl_vllm_engine::schemas::DEFAULT_VERSION.to_string());
    let concurrency = args.concurrency.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_DEFAULT_CONCURRENCY)),
        usize::from,
    );
    let limits = Limits {
        timeout: args.policy_timeout,
        ..Limits::default()
    };
    let mut linters = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let mut linter = Linter::new(
            ArtifactCache::from_env(),
            limits.clone(),
            &loaded,
            &args.policies,
            true,
        )
        .map_err(|e| e.to_string())?;
        linter.set_jobs(Some(1));
        linter.set_schemas(Some(kubectl_vllm_engine::schemas::load(&version, &[])?));
        linters.push(linter);
    }
    for (source, error) in linters[0].load_errors() {
        let _ = writeln!(stderr, "error: policy {source}: {error}");
    }
    let warnings = loaded
        .check_rule_ids(linters[0].registry())
        .map_err(|e| config_error(&e))?;
    for warning in warnings {
        let _ = writeln!(stderr, "warning: {warning}");
    }
    let policies = linters[0].policy_count();
    let settings = server::Settings {
        gate: check::Gate {
            mode: match args.mode {
                ModeArg::Warn => check::Mode::Warn,
                ModeArg::Enforce => check::Mode::Enforce,
            },
            fail_on: Some(args.fail_on.into()),
            warn_on: args.warn_on.into(),
            deny_on_policy_error: args.deny_on_policy_error,
        },
        mutate: args.mutate,
        deadline: args.deadline,
        max_body: args.max_request_bytes,
        reload_every: args.tls_reload_interval,
        shutdown_delay: args.shutdown_delay,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let cluster = if args.offline {
            None
        } else {
            let target = kubectl_vllm_cluster::Target {
                kubeconfig: args.kubeconfig.clone(),
                context: args.context.clone(),
                // Connecting and each GET; watches end before it (live.rs), reviews' reads
                // are bounded by their deadline.
                request_timeout: None,
            };
            let connection = kubectl_vllm_cluster::connect(&target)
                .await
                .map_err(|e| format!("{e} (or serve --offline, with the config's cluster profile)"))?;
            let server = connection.server.clone();
            let cluster = live::Cluster::start(connection)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!("info: watching the nodes and storage classes of {server}");
            Some(cluster)
        };
        let service = server::Service::new(settings, loaded.config, linters, cluster.clone());
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        let address = listener
            .local_addr()
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        eprintln!(
            "listening on https://{address} ({} mode{}, {policies} policies, {concurrency} at once, {})",
            match args.mode {
                ModeArg::Warn => "warn",
                ModeArg::Enforce => "enforce",
            },
            if args.mutate { ", mutating" } else { "" },
            if args.offline { "offline" } else { "live cluster facts" },
        );
        let ready = Arc::clone(&service);
        tokio::spawn(async move {
            if let Some(cluster) = cluster {
                cluster.ready().await;
                eprintln!("info: nodes and storage classes listed; ready");
            }
            ready.set_ready();
        });
        server::serve(service, certificate, listener, signal()).await;
        Ok::<(), String>(())
    })
}

/// SIGTERM (the kubelet) or SIGINT (Ctrl-C).
async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM can be caught");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn config_error(error: &kubectl_vllm_engine::config::ConfigError) -> String {
    use miette::SourceCode as _;
    let at = error.span.and_then(|span| {
        let contents = error.source_code.read_span(&span, 0, 0).ok()?;
        Some(format!(
            "{}:{}:{}: ",
            contents.name().unwrap_or_default(),
            contents.line() + 1,
            contents.column() + 1
        ))
    });
    format!("{}{}", at.unwrap_or_default(), error.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_kubectl_writes_them() {
        assert_eq!(review::parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(
            review::parse_duration("500ms"),
            Some(Duration::from_millis(500))
        );
        assert_eq!(review::parse_duration("1m"), Some(Duration::from_mins(1)));
        assert_eq!(review::parse_duration("2"), Some(Duration::from_secs(2)));
        assert_eq!(review::parse_duration("2d"), None);
        assert_eq!(review::parse_duration("x"), None);
    }
}
