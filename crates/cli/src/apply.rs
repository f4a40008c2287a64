//! `kubectl vllm apply` and `kubectl vllm diff`, and the cluster session `lint --cluster` shares
//! with them: read → lint with live facts → fix → lint again → refuse, or server-side apply.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use kubectl_vllm_cluster::{self as cluster, ApplyOptions, ClusterError, Connection, ObjectKey};
use kubectl_vllm_manifest::Manifests;

use crate::config::{Config, Selection};
use crate::lint::{Linter, Live};
use crate::report::Report;
use crate::{ClusterArgs, FailOn, Format, InputArgs, fix, output, parse_report_target};

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
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Field manager of the server-side apply.
    #[arg(long, value_name = "NAME", default_value = "kubectl-vllm")]
    pub field_manager: String,
    /// Apply no fixes: send the manifests as written.
    #[arg(long, conflicts_with = "unsafe_fixes")]
    pub no_fix: bool,
    /// Also apply the unsafe fixes (they change behaviour or cost).
    #[arg(long)]
    pub unsafe_fixes: bool,
}

/// `apply` arguments.
#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// Inputs, cluster, fixing.
    #[command(flatten)]
    pub run: ClusterRunArgs,
    /// Print the applied objects (`yaml`, `json`, `name`) instead of one status line each.
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<ObjectFormat>,
    /// `none`, `client` (print the final manifests; no cluster) or `server` (`dryRun=All`).
    #[arg(long, value_enum, default_value_t = DryRun::None)]
    pub dry_run: DryRun,
    /// Take fields another field manager owns (server-side apply `force`).
    #[arg(long)]
    pub force_conflicts: bool,
    /// Write the lint report in another format to a file, e.g. `sarif=lint.sarif`; repeatable.
    #[arg(long = "report", value_name = "FORMAT=PATH", value_parser = parse_report_target)]
    pub reports: Vec<(Format, PathBuf)>,
    /// Watch each workload (Deployment, StatefulSet, LeaderWorkerSet, Pod) until it is
    /// available, and say why a pod is stuck.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits in all: `90s`, `5m`, `1h30m`.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// Parses kubectl-style durations: `30s`, `5m`, `1h30m`, a bare number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    /// A week: longer is a typo, and `Instant + Duration` must not overflow.
    const MAX: u64 = 7 * 24 * 3600;
    let too_long = || format!("`{text}` is longer than a week");
    if text.is_empty() {
        return Err("the duration is empty".into());
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return if seconds > MAX {
            Err(too_long())
        } else {
            Ok(Duration::from_secs(seconds))
        };
    }
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => {
                return Err(format!(
                    "invalid duration `{text}`: use s, m or h, as in `5m`"
                ));
            }
        };
        let value: u64 = number
            .parse()
            .map_err(|_| format!("invalid duration `{text}`"))?;
        total = value
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .filter(|t| *t <= MAX)
            .ok_or_else(too_long)?;
        number.clear();
    }
    if !number.is_empty() {
        return Err(format!(
            "invalid duration `{text}`: a unit is missing (s, m or h)"
        ));
    }
    Ok(Duration::from_secs(total))
}

/// A tokio runtime and a connection: one per command.
pub struct Session {
    runtime: tokio::runtime::Runtime,
    /// The connection.
    pub connection: Connection,
}

impl Session {
    /// Connects as kubectl would (kubeconfig, context); `None` after printing why not.
    pub fn open(access: &ClusterArgs, stderr: &mut dyn Write) -> Option<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime builds");
        match runtime.block_on(cluster::connect(&access.target())) {
            Ok(connection) => Some(Self {
                runtime,
                connection,
            }),
            Err(e) => {
                let _ = writeln!(stderr, "error: {e}");
                None
            }
        }
    }

    /// Reads the live facts into `linter` (two LIST calls), then the objects the set's lookups
    /// missed (one GET each, metadata only for Secrets and ConfigMaps). False after printing
    /// an error.
    pub fn attach(
        &self,
        linter: &mut Linter,
        manifests: &Manifests,
        config: &Config,
        namespace: &str,
        stderr: &mut dyn Write,
    ) -> bool {
        let facts = match self.runtime.block_on(cluster::read_facts(&self.connection)) {
            Ok(facts) => facts,
            Err(e) => {
                let _ = writeln!(stderr, "error: {e}");
                return false;
            }
        };
        for warning in &facts.warnings {
            let _ = writeln!(stderr, "warning: {warning}");
        }
        linter.set_live(Some(Live {
            facts: facts.clone(),
            objects: Vec::new(),
        }));
        // One evaluation finds what the policies look up and the set lacks.
        let _ = linter.lint(manifests, config);
        let keys: Vec<ObjectKey> = linter
            .missed_lookups()
            .into_iter()
            .map(|(kind, namespace, name)| ObjectKey {
                kind,
                namespace,
                name,
            })
            .collect();
        if keys.is_empty() {
            return true;
        }
        match self.runtime.block_on(cluster::fetch_referenced(
            &self.connection,
            &keys,
            namespace,
        )) {
            Ok((objects, warnings)) => {
                for warning in &warnings {
                    let _ = writeln!(stderr, "warning: {warning}");
                }
                linter.set_live(Some(Live { facts, objects }));
                true
            }
            Err(e) => {
                let _ = writeln!(stderr, "error: {e}");
                false
            }
        }
    }
}

/// The namespace for objects that set none: `-n`, else the kubeconfig context's (with a
/// cluster), else `default`.
#[must_use]
pub fn namespace(input: &InputArgs, session: Option<&Session>) -> String {
    input
        .namespace
        .clone()
        .or_else(|| session.map(|s| s.connection.namespace.clone()))
        .unwrap_or_else(|| "default".into())
}

/// The fixed (or, with `--no-fix`, original) set, the report on it, and the fixes made.
struct Prepared {
    manifests: Manifests,
    report: Report,
    linter: Linter,
    config: Config,
}

/// Reads, attaches the cluster (when there is a session), fixes and lints again. `Err(code)`
/// after printing why.
fn prepare(
    args: &ClusterRunArgs,
    session: Option<&Session>,
    stderr: &mut dyn Write,
) -> Result<Prepared, u8> {
    let namespace = namespace(&args.input, session);
    let (mut linter, loaded, manifests, options) =
        crate::read_inputs(&args.input, Selection::default(), &namespace, stderr).ok_or(2u8)?;
    if let Some(session) = session
        && !session.attach(&mut linter, &manifests, &loaded.config, &namespace, stderr)
    {
        return Err(2);
    }
    let config = loaded.config;
    if args.no_fix {
        let report = linter.lint(&manifests, &config);
        return Ok(Prepared {
            manifests,
            report,
            linter,
            config,
        });
    }
    let outcome = fix::fix(
        &mut linter,
        &manifests,
        &config,
        &options,
        args.unsafe_fixes,
    );
    let _ = stderr.write_all(fix::render_applied(&outcome).as_bytes());
    Ok(Prepared {
        manifests: outcome.manifests,
        report: outcome.remaining,
        linter,
        config,
    })
}

/// The objects to send: those of the reported files (not `--related` ones), as written (Secret
/// values intact, no namespace filled in: discovery decides the scope).
fn objects_to_send(manifests: &Manifests) -> Vec<Value> {
    let reported = manifests.reported_files.unwrap_or(usize::MAX);
    manifests
        .objects
        .iter()
        .filter(|o| o.file < reported)
        .map(|o| manifests.as_written(o))
        .collect()
}

/// kubectl's rule: with `-n`, every object that names a namespace must name that one.
fn namespaces_agree(input: &InputArgs, objects: &[Value], stderr: &mut dyn Write) -> bool {
    let Some(given) = &input.namespace else {
        return true;
    };
    let other = objects
        .iter()
        .filter_map(|o| o.pointer("/metadata/namespace").and_then(Value::as_str))
        .find(|ns| ns != given);
    if let Some(other) = other {
        let _ = writeln!(
            stderr,
            "error: the namespace from the provided object \"{other}\" does not match the namespace \"{given}\". You must pass '--namespace={other}' to perform this operation."
        );
        return false;
    }
    true
}

/// `kubectl vllm apply`.
pub fn apply_command(args: &ApplyArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    let session = if args.dry_run == DryRun::Client {
        None
    } else {
        match Session::open(&args.run.access, stderr) {
            Some(session) => Some(session),
            None => return 2,
        }
    };
    let prepared = match prepare(&args.run, session.as_ref(), stderr) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    // The lint report: text on stderr, other formats to files.
    let rendering = crate::Rendering {
        manifests: &prepared.manifests,
        fail_on: args.run.fail_on,
        linter: &prepared.linter,
        config: &prepared.config,
    };
    let blocking = prepared.report.exit_code(args.run.fail_on.threshold());
    if !prepared.report.findings.is_empty() {
        let text = rendering.render(
            &prepared.report,
            Format::Text,
            std::io::stderr().is_terminal(),
        );
        let _ = stderr.write_all(text.as_bytes());
    }
    for (format, path) in &args.reports {
        if let Err(e) = std::fs::write(path, rendering.render(&prepared.report, *format, false)) {
            let _ = writeln!(stderr, "error: cannot write {}: {e}", path.display());
            return 2;
        }
    }
    if blocking != 0 {
        let _ = writeln!(
            stderr,
            "error: not applying: findings at or above --fail-on remain (see above); nothing was sent to the cluster"
        );
        return blocking;
    }
    let objects = objects_to_send(&prepared.manifests);
    if !namespaces_agree(&args.run.input, &objects, stderr) {
        return 2;
    }
    let Some(session) = session else {
        // --dry-run=client: the final manifests.
        let texts: Vec<String> = prepared
            .manifests
            .files
            .iter()
            .take(prepared.manifests.reported_files.unwrap_or(usize::MAX))
            .map(|f| f.source.text.clone())
            .collect();
        let _ = stdout.write_all(join_documents(&texts).as_bytes());
        return 0;
    };
    let namespace = namespace(&args.run.input, Some(&session));
    let options = ApplyOptions {
        field_manager: args.run.field_manager.clone(),
        force_conflicts: args.force_conflicts,
        dry_run: args.dry_run == DryRun::Server,
    };
    let (planned, report) = match session.runtime.block_on(plan_and_apply(
        &session.connection,
        objects,
        &namespace,
        &options,
    )) {
        Ok(done) => done,
        Err(e) => {
            let _ = writeln!(stderr, "error: {e}; nothing was applied");
            return 2;
        }
    };
    let suffix = if options.dry_run {
        " (server dry run)"
    } else {
        ""
    };
    match args.output {
        None => {
            for applied in &report.applied {
                let status = match applied.outcome {
                    cluster::Outcome::Unchanged => "unchanged",
                    cluster::Outcome::Created | cluster::Outcome::Configured => {
                        "serverside-applied"
                    }
                    cluster::Outcome::NotValidated => {
                        let _ = writeln!(
                            stdout,
                            "{} not validated (server dry run): its namespace is created by this apply",
                            applied.reference
                        );
                        continue;
                    }
                };
                let _ = writeln!(
                    stdout,
                    "{}{} {status}{suffix}",
                    applied.reference,
                    in_ns(applied.namespace.as_deref(), &namespace)
                );
            }
        }
        Some(ObjectFormat::Name) => {
            for applied in &report.applied {
                let _ = writeln!(stdout, "{}", applied.reference);
            }
        }
        Some(format) => {
            let items: Vec<Value> = report
                .applied
                .iter()
                .map(|a| printable(&a.object))
                .collect();
            let list = json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items});
            let text = if format == ObjectFormat::Json {
                serde_json::to_string_pretty(&list).expect("serializes") + "\n"
            } else {
                to_yaml(&list)
            };
            let _ = stdout.write_all(text.as_bytes());
        }
    }
    if let Some((what, error)) = &report.failed {
        let _ = writeln!(stderr, "error: {what}: {error}");
        if let ClusterError::Api { conflicts, .. } = error
            && !conflicts.is_empty()
        {
            for (manager, field) in conflicts {
                let _ = writeln!(
                    stderr,
                    "  conflict: field {field} is owned by \"{manager}\""
                );
            }
            let _ = writeln!(
                stderr,
                "  keep their value by removing the field from the manifest, or take it over with --force-conflicts"
            );
        }
        let applied: Vec<&str> = report
            .applied
            .iter()
            .map(|a| a.reference.as_str())
            .collect();
        let (done, not_done) = if options.dry_run {
            ("accepted by the server dry run", "not tried")
        } else {
            ("applied", "not applied")
        };
        let _ = writeln!(
            stderr,
            "{done} ({}): {}",
            applied.len(),
            if applied.is_empty() {
                "none".to_string()
            } else {
                applied.join(", ")
            }
        );
        let _ = writeln!(
            stderr,
            "{not_done} ({}): {}",
            report.not_applied.len() + 1,
            std::iter::once(what.as_str())
                .chain(report.not_applied.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return 2;
    }
    if args.wait && !options.dry_run {
        return wait(&session, &planned, &report, args.timeout, stderr);
    }
    0
}

/// `--wait`: progress on one rewritten line on a terminal, a line per change otherwise; exit 2
/// when a workload is not available in time.
fn wait(
    session: &Session,
    planned: &[cluster::Planned],
    report: &cluster::ApplyReport,
    timeout: Duration,
    stderr: &mut dyn Write,
) -> u8 {
    let applied: Vec<cluster::Planned> = planned
        .iter()
        .filter(|p| report.applied.iter().any(|a| a.reference == p.reference))
        .cloned()
        .collect();
    let terminal = std::io::stderr().is_terminal();
    let deadline = Instant::now() + timeout;
    let mut show = |rollout: &cluster::Rollout| {
        let stuck = rollout
            .stuck
            .as_deref()
            .map_or_else(String::new, |s| format!(" — {s}"));
        let line = format!("{}: {}{stuck}", rollout.reference, rollout.progress);
        if terminal {
            let _ = write!(stderr, "\r\x1b[2K{line}");
            if rollout.done {
                let _ = writeln!(stderr);
            }
        } else {
            let _ = writeln!(stderr, "{line}");
        }
        let _ = stderr.flush();
    };
    let result = session.runtime.block_on(cluster::wait_for(
        &session.connection,
        &applied,
        deadline,
        &mut show,
    ));
    match result {
        Ok(rollouts) => {
            let waiting: Vec<&cluster::Rollout> = rollouts.iter().filter(|r| !r.done).collect();
            if terminal && !waiting.is_empty() {
                let _ = writeln!(stderr);
            }
            for rollout in &waiting {
                let why = rollout
                    .stuck
                    .as_deref()
                    .map_or_else(String::new, |s| format!(": {s}"));
                let _ = match &rollout.failed {
                    Some(failed) => writeln!(
                        stderr,
                        "error: {} will not become available: {failed}{why}",
                        rollout.reference
                    ),
                    None => writeln!(
                        stderr,
                        "error: timed out after {}s waiting for {} ({}){why}",
                        timeout.as_secs(),
                        rollout.reference,
                        rollout.progress
                    ),
                };
            }
            if waiting.is_empty() { 0 } else { 2 }
        }
        Err(e) => {
            let _ = writeln!(stderr, "error: while waiting: {e}");
            2
        }
    }
}

/// Plans and applies `objects`. CustomResourceDefinitions go first, in a run of their own (not
/// in a dry run, which creates nothing): their custom resources can only be resolved once the
/// server serves them. Fails only when nothing was sent.
async fn plan_and_apply(
    connection: &Connection,
    objects: Vec<Value>,
    namespace: &str,
    options: &ApplyOptions,
) -> Result<(Vec<cluster::Planned>, cluster::ApplyReport), ClusterError> {
    let (definitions, rest): (Vec<Value>, Vec<Value>) = objects
        .into_iter()
        .partition(|o| o["kind"] == "CustomResourceDefinition" && !options.dry_run);
    let mut planned = Vec::new();
    let mut report = cluster::ApplyReport::default();
    let mut new_groups = Vec::new();
    if !definitions.is_empty() {
        planned = cluster::plan(connection, &definitions, namespace, &[]).await?;
        report = cluster::apply_all(connection, &planned, options).await;
        if report.failed.is_some() {
            report.not_applied.extend(rest.iter().map(|o| {
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap_or("").to_lowercase(),
                    o.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                )
            }));
            return Ok((planned, report));
        }
        new_groups = definitions
            .iter()
            .filter_map(|d| d.pointer("/spec/group").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
    }
    let second = match cluster::plan(connection, &rest, namespace, &new_groups).await {
        Ok(second) => second,
        Err(e) if report.applied.is_empty() => return Err(e),
        Err(e) => {
            report.failed = Some(("discovery".into(), e));
            return Ok((planned, report));
        }
    };
    let more = cluster::apply_all(connection, &second, options).await;
    planned.extend(second);
    report.applied.extend(more.applied);
    report.failed = more.failed;
    report.not_applied = more.not_applied;
    Ok((planned, report))
}

/// ` (namespace ns)` when an object lands outside the run's namespace; kubectl prints nothing
/// about namespaces, which hides surprises.
fn in_ns(namespace: Option<&str>, default: &str) -> String {
    match namespace {
        Some(ns) if ns != default => format!(" (namespace {ns})"),
        _ => String::new(),
    }
}

/// Texts joined as one multi-document YAML stream.
fn join_documents(texts: &[String]) -> String {
    let mut out = String::new();
    for text in texts {
        let text = text.strip_prefix("---\n").unwrap_or(text);
        if !out.is_empty() {
            out.push_str("---\n");
        }
        out.push_str(text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// An object for printing: no `managedFields`, Secret values redacted.
fn printable(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    if object["kind"] == "Secret" {
        kubectl_vllm_manifest::load::redact_secret(&mut object);
        redact_last_applied(&mut object);
    }
    object
}

/// kubectl's client-side apply keeps the whole Secret, values included, in this annotation.
fn redact_last_applied(secret: &mut Value) {
    if let Some(annotation) = secret
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
        .and_then(|a| a.get_mut("kubectl.kubernetes.io/last-applied-configuration"))
    {
        *annotation = json!(kubectl_vllm_manifest::load::REDACTED);
    }
}

fn to_yaml(value: &Value) -> String {
    serde_saphyr::to_string(value)
        .unwrap_or_else(|_| serde_json::to_string_pretty(value).expect("serializes"))
}

/// `diff` arguments.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// Inputs, cluster, fixing.
    #[command(flatten)]
    pub run: ClusterRunArgs,
    /// Show the result of taking fields other field managers own (as `apply --force-conflicts`).
    #[arg(long)]
    pub force_conflicts: bool,
}

/// `kubectl vllm diff`: the fixed manifests against the live objects, through a server-side
/// dry run. Exit 0: no differences; 1: differences; 2: error (as `kubectl diff`, where >1 is an
/// error).
pub fn diff_command(args: &DiffArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    let Some(session) = Session::open(&args.run.access, stderr) else {
        return 2;
    };
    let prepared = match prepare(&args.run, Some(&session), stderr) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let remaining = prepared.report.exit_code(args.run.fail_on.threshold());
    if remaining == 2 {
        let text = output::text(&prepared.report, &prepared.manifests, false);
        let _ = stderr.write_all(text.as_bytes());
        return 2;
    }
    if remaining == 1 {
        let _ = writeln!(
            stderr,
            "note: `kubectl vllm apply` would refuse these manifests: {} (`kubectl vllm lint` shows them)",
            output::summary(&prepared.report).trim_end()
        );
    }
    let namespace = namespace(&args.run.input, Some(&session));
    let objects = objects_to_send(&prepared.manifests);
    if !namespaces_agree(&args.run.input, &objects, stderr) {
        return 2;
    }
    let options = ApplyOptions {
        field_manager: args.run.field_manager.clone(),
        force_conflicts: args.force_conflicts,
        dry_run: true,
    };
    let result = session.runtime.block_on(async {
        let planned = cluster::plan(&session.connection, &objects, &namespace, &[])
            .await
            .map_err(|e| (String::from("discovery"), e))?;
        cluster::diff_all(&session.connection, &planned, &options).await
    });
    let pairs = match result {
        Ok(pairs) => pairs,
        Err((what, e)) => {
            let _ = writeln!(stderr, "error: {what}: {e}");
            return 2;
        }
    };
    let mut changed = false;
    for (reference, live, merged) in pairs {
        let (before, after) = masked(live.as_ref(), &merged);
        let before = before.map(|b| to_yaml(&b)).unwrap_or_default();
        let after = to_yaml(&after);
        if before == after {
            continue;
        }
        changed = true;
        let diff = similar::TextDiff::from_lines(&before, &after);
        let _ = write!(
            stdout,
            "{}",
            diff.unified_diff()
                .context_radius(3)
                .header(&format!("live/{reference}"), &format!("merged/{reference}"))
        );
    }
    u8::from(changed)
}

/// Live and merged objects as `kubectl diff` shows them: without `managedFields`, Secret values
/// masked (`***`, or `*** (before)` / `*** (after)` where they differ).
fn masked(live: Option<&Value>, merged: &Value) -> (Option<Value>, Value) {
    let strip = |object: &Value| {
        let mut object = object.clone();
        if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.remove("managedFields");
        }
        object
    };
    let mut before = live.map(strip);
    let mut after = strip(merged);
    if after["kind"] == "Secret" {
        redact_last_applied(&mut after);
        if let Some(before) = before.as_mut() {
            redact_last_applied(before);
        }
        for field in ["data", "stringData"] {
            let old = before.as_ref().and_then(|b| b.get(field)).cloned();
            if let Some(map) = after.get_mut(field).and_then(Value::as_object_mut) {
                for (key, value) in map.iter_mut() {
                    let same = old.as_ref().and_then(|o| o.get(key)) == Some(&*value);
                    *value = json!(if same { "***" } else { "*** (after)" });
                }
            }
            if let Some(map) = before
                .as_mut()
                .and_then(|b| b.get_mut(field))
                .and_then(Value::as_object_mut)
            {
                let new = after.get(field).cloned();
                for (key, value) in map.iter_mut() {
                    let same = new
                        .as_ref()
                        .and_then(|n| n.get(key))
                        .and_then(Value::as_str)
                        == Some("***");
                    *value = json!(if same { "***" } else { "*** (before)" });
                }
            }
        }
    }
    (before, after)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::parse_duration;

    #[test]
    fn durations_as_kubectl_writes_them() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m5s"), Ok(Duration::from_secs(5405)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5").is_ok() && parse_duration("5x").is_err());
        assert!(parse_duration("10").is_ok() && parse_duration("10m3").is_err());
        // Overflow is an error, not a panic.
        assert!(parse_duration("18446744073709551615").is_err());
        assert!(parse_duration("99999999999999999h").is_err());
    }
}
