//! `kubectl vllm diff`: the fixed manifests against the live objects, through a server-side dry
//! run, Secret values masked.

use std::io::Write;

use kubectl_vllm_cluster::{self as cluster, ApplyOptions};

use crate::ExitStatus;
use crate::args::{ColorChoice, DiffArgs};
use crate::commands::apply::{namespaces_agree, objects_to_send, prepare, to_yaml};
use crate::connect::{Session, namespace};
use crate::pipeline::Sink;

/// `kubectl vllm diff`: the fixed manifests against the live objects, through a server-side
/// dry run. Exit 0: no differences; 1: differences; 2: error (as `kubectl diff`, where >1 is an
/// error).
pub(crate) fn run(
    args: &DiffArgs,
    color: ColorChoice,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> ExitStatus {
    let Some(session) = Session::open(&args.run.access, stderr) else {
        return ExitStatus::Error;
    };
    let prepared = match prepare(&args.run, Some(&session), stderr) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let remaining = ExitStatus::of(&prepared.report, args.run.fail_on.threshold());
    if remaining == ExitStatus::Error {
        let text = kubectl_vllm_emit::text(
            &prepared.report,
            &prepared.manifests,
            Sink::Stderr.style(color),
        );
        let _ = stderr.write_all(text.as_bytes());
        return ExitStatus::Error;
    }
    if remaining == ExitStatus::Failure {
        let _ = writeln!(
            stderr,
            "note: `kubectl vllm apply` would refuse these manifests: {} (`kubectl vllm lint` shows them)",
            kubectl_vllm_emit::summary(&prepared.report).trim_end()
        );
    }
    let namespace = namespace(&args.run.input, Some(&session));
    let objects = match objects_to_send(&prepared.manifests, stderr) {
        Ok(objects) => objects,
        Err(code) => return code,
    };
    if !namespaces_agree(&args.run.input, &objects, stderr) {
        return ExitStatus::Error;
    }
    let objects: Vec<serde_json::Value> = objects.into_iter().map(|(_, value)| value).collect();
    let options = ApplyOptions {
        field_manager: args.run.field_manager.clone(),
        force_conflicts: args.force_conflicts,
        dry_run: true,
    };
    crate::pipeline::phase("comparing with the live objects…");
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
            return ExitStatus::Error;
        }
    };
    let mut changed = false;
    for (reference, live, merged) in pairs {
        let before = live
            .as_ref()
            .map(|l| cluster::mask(l, Some(&merged), cluster::Side::Before));
        let after = cluster::mask(&merged, live.as_ref(), cluster::Side::After);
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
    if changed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}
