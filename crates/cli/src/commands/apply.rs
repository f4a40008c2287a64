//! `kubectl vllm apply`: read → lint with live facts → fix → lint again → refuse, or server-side
//! apply (CustomResourceDefinitions first) and wait.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use kubectl_vllm_cluster::{self as cluster, ApplyOptions, ClusterError};
use kubectl_vllm_engine::config::{Config, Selection};
use kubectl_vllm_engine::rules::later_copies;
use kubectl_vllm_engine::{Linter, Pointer, Report, fix};
use kubectl_vllm_manifest::Manifests;

use crate::ExitStatus;
use crate::args::{
    ApplyArgs, ClusterRunArgs, ColorChoice, DryRun, Format, InputArgs, ObjectFormat,
};
use crate::connect::{Session, namespace};
use crate::pipeline::{Inputs, Rendering, Sink, errors_to_stderr, read_inputs};

/// The fixed (or, with `--no-fix`, original) set, the report on it, and the fixes made.
pub(crate) struct Prepared {
    pub manifests: Manifests,
    pub report: Report,
    pub linter: Linter,
    pub config: Config,
}

/// Reads, attaches the cluster (when there is a session), fixes and lints again. `Err(code)`
/// after printing why.
pub(crate) fn prepare(
    args: &ClusterRunArgs,
    session: Option<&Session>,
    stderr: &mut dyn Write,
) -> Result<Prepared, ExitStatus> {
    let namespace = namespace(&args.input, session);
    let Inputs {
        mut linter,
        loaded,
        manifests,
        options,
        ..
    } = read_inputs(&args.input, Selection::default(), &namespace, stderr)
        .ok_or(ExitStatus::Error)?;
    if let Some(session) = session
        && !session.attach(&mut linter, &manifests, &loaded.config, &namespace, stderr)
    {
        return Err(ExitStatus::Error);
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
    crate::pipeline::phase("fixing…");
    let outcome = fix::fix(
        &mut linter,
        &manifests,
        &config,
        &options,
        args.unsafe_fixes,
        fix::FixTarget::Rendered,
    );
    let _ = stderr.write_all(fix::render_applied(&outcome).as_bytes());
    Ok(Prepared {
        manifests: outcome.manifests,
        report: outcome.remaining,
        linter,
        config,
    })
}

/// The objects to send, each once, in dependency order (CustomResourceDefinitions and
/// Namespaces first, as the cluster applies them): those of the reported files (not `--related`
/// ones), as written (Secret values intact, no namespace filled in: discovery decides the
/// scope). Identical copies of one object are sent once; copies that differ are refused, since
/// which one the cluster would end up with depends on file order. `Err` after printing why.
pub(crate) fn objects_to_send(
    manifests: &Manifests,
    stderr: &mut dyn Write,
) -> Result<Vec<(usize, Value)>, ExitStatus> {
    let reported = manifests.reported_files.unwrap_or(usize::MAX);
    let copies = later_copies(manifests);
    let mut refused = false;
    for copy in copies.iter().filter(|c| !c.differences.is_empty()) {
        let (first, later) = (
            &manifests.objects[copy.first],
            &manifests.objects[copy.later],
        );
        if first.file >= reported && later.file >= reported {
            continue;
        }
        refused = true;
        let r = &later.reference;
        let name = r
            .namespace
            .as_ref()
            .map_or_else(|| r.name.clone(), |ns| format!("{ns}/{}", r.name));
        let _ = writeln!(
            stderr,
            "error: {} {name} is defined twice with different content ({} and {}; they differ in {}): keep one definition; nothing was sent to the cluster",
            r.kind,
            at(manifests, first),
            at(manifests, later),
            copy.differences.join(", ")
        );
    }
    if refused {
        return Err(ExitStatus::Error);
    }
    let later: std::collections::HashSet<usize> = copies.iter().map(|c| c.later).collect();
    let mut objects: Vec<(usize, Value)> = manifests
        .objects
        .iter()
        .enumerate()
        .filter(|(i, o)| o.file < reported && !later.contains(i))
        .map(|(i, o)| (i, manifests.as_written(o)))
        .collect();
    objects.sort_by_key(|(i, _)| cluster::rank(&manifests.objects[*i].reference.kind));
    Ok(objects)
}

/// `file:line` of an object's name.
fn at(manifests: &Manifests, object: &kubectl_vllm_manifest::Object) -> String {
    let source = &manifests.files[object.file].source;
    manifests
        .locate(object, &Pointer::from_path("/metadata/name"))
        .map_or_else(
            || source.name.clone(),
            |located| {
                format!(
                    "{}:{}",
                    source.name,
                    source.position(located.span.start).line
                )
            },
        )
}

/// kubectl's rule: with `-n`, every object that names a namespace must name that one.
pub(crate) fn namespaces_agree(
    input: &InputArgs,
    objects: &[(usize, Value)],
    stderr: &mut dyn Write,
) -> bool {
    let Some(given) = &input.namespace else {
        return true;
    };
    let other = objects
        .iter()
        .filter_map(|(_, o)| o.pointer("/metadata/namespace").and_then(Value::as_str))
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
pub(crate) fn run(
    args: &ApplyArgs,
    color: ColorChoice,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> ExitStatus {
    let session = if args.dry_run == DryRun::Client {
        None
    } else {
        match Session::open(&args.run.access, stderr) {
            Some(session) => Some(session),
            None => return ExitStatus::Error,
        }
    };
    let prepared = match prepare(&args.run, session.as_ref(), stderr) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    // The lint report: text on stderr, other formats to files.
    let rendering = Rendering {
        manifests: &prepared.manifests,
        fail_on: args.run.fail_on,
        linter: &prepared.linter,
        config: &prepared.config,
        color,
    };
    errors_to_stderr(&prepared.report, &prepared.linter, stderr);
    let blocking = ExitStatus::of(&prepared.report, args.run.fail_on.threshold());
    if !prepared.report.findings.is_empty() {
        let text = rendering.render(&prepared.report, Format::Text, Sink::Stderr);
        let _ = stderr.write_all(text.as_bytes());
    }
    for (format, path) in &args.reports {
        if let Err(e) = std::fs::write(
            path,
            rendering.render(&prepared.report, *format, Sink::File),
        ) {
            let _ = writeln!(stderr, "error: cannot write {}: {e}", path.display());
            return ExitStatus::Error;
        }
    }
    if blocking != ExitStatus::Success {
        let _ = writeln!(
            stderr,
            "error: not applying: findings at or above --fail-on remain (see above); nothing was sent to the cluster"
        );
        return blocking;
    }
    let objects = match objects_to_send(&prepared.manifests, stderr) {
        Ok(objects) => objects,
        Err(code) => return code,
    };
    if !namespaces_agree(&args.run.input, &objects, stderr) {
        return ExitStatus::Error;
    }
    let Some(session) = session else {
        // --dry-run=client: the final manifests, each object once, in the order they would be
        // sent, as written (comments kept) when an object is a whole document.
        let texts: Vec<String> = objects
            .iter()
            .map(|(i, value)| {
                let object = &prepared.manifests.objects[*i];
                prepared
                    .manifests
                    .document_text(object)
                    .map_or_else(|| to_yaml(value), str::to_string)
            })
            .collect();
        let _ = stdout.write_all(join_documents(&texts).as_bytes());
        return ExitStatus::Success;
    };
    let objects: Vec<Value> = objects.into_iter().map(|(_, value)| value).collect();
    let namespace = namespace(&args.run.input, Some(&session));
    let options = ApplyOptions {
        field_manager: args.run.field_manager.clone(),
        force_conflicts: args.force_conflicts,
        dry_run: args.dry_run == DryRun::Server,
    };
    crate::pipeline::phase(format!("applying {} objects…", objects.len()));
    let (planned, report) = match session.runtime.block_on(cluster::plan_and_apply(
        &session.connection,
        objects,
        &namespace,
        &options,
    )) {
        Ok(done) => done,
        Err(e) => {
            let _ = writeln!(stderr, "error: {e}; nothing was applied");
            return ExitStatus::Error;
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
                .map(|a| cluster::mask(&a.object, None, cluster::Side::Printed))
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
        return ExitStatus::Error;
    }
    if args.wait && !options.dry_run {
        return wait(&session, &planned, &report, args.timeout, stderr);
    }
    ExitStatus::Success
}

/// `--wait`: progress on one rewritten line on a terminal, a line per change otherwise; exit 2
/// when a workload is not available in time.
fn wait(
    session: &Session,
    planned: &[cluster::Planned],
    report: &cluster::ApplyReport,
    timeout: Duration,
    stderr: &mut dyn Write,
) -> ExitStatus {
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
            if waiting.is_empty() {
                ExitStatus::Success
            } else {
                ExitStatus::Error
            }
        }
        Err(e) => {
            let _ = writeln!(stderr, "error: while waiting: {e}");
            ExitStatus::Error
        }
    }
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

pub(crate) fn to_yaml(value: &Value) -> String {
    serde_saphyr::to_string(value)
        .unwrap_or_else(|_| serde_json::to_string_pretty(value).expect("serializes"))
}
