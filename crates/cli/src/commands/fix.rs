//! `kubectl vllm fix`: apply the fixes pass after pass; print the fixed manifests, a diff, or
//! rewrite the files; report what remains.

use std::io::Write;

use kubectl_vllm_engine::fix;

use crate::ExitStatus;
use crate::args::{ColorChoice, FixArgs, Format};
use crate::connect::namespace;
use crate::pipeline::{Inputs, Rendering, Sink, errors_to_stderr, read_inputs};

/// `kubectl vllm fix`.
pub(crate) fn run(
    args: &FixArgs,
    color: ColorChoice,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> ExitStatus {
    let namespace = namespace(&args.lint.input, None);
    let Some(Inputs {
        mut linter,
        loaded,
        manifests,
        options,
        given,
    }) = read_inputs(&args.lint.input, args.lint.selection(), &namespace, stderr)
    else {
        return ExitStatus::Error;
    };
    crate::pipeline::phase("fixing…");
    // Rendered input (kustomize, Helm) is fixed in its source files when they are written or
    // diffed, and only where the field is theirs; printed, the rendered output gets every fix.
    let target = if args.write || args.diff {
        fix::FixTarget::Sources
    } else {
        fix::FixTarget::Rendered
    };
    let mut outcome = fix::fix(
        &mut linter,
        &manifests,
        &loaded.config,
        &options,
        args.unsafe_fixes,
        target,
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
                // What remains is what the sources render to now, not the fixed copy in memory.
                if n > 0
                    && outcome.manifests.files.iter().any(|f| {
                        matches!(f.provenance, kubectl_vllm_manifest::Provenance::Rendered(_))
                    })
                {
                    crate::pipeline::phase("rendering again…");
                    let again = kubectl_vllm_manifest::Manifests::load(&given, &options);
                    outcome.remaining = linter.lint(&again, &loaded.config);
                    outcome.manifests = again;
                }
            }
            Err(e) => {
                let _ = writeln!(stderr, "error: {e}");
                return ExitStatus::Error;
            }
        }
    } else if args.diff {
        let _ = stdout.write_all(fix::render_diff(&outcome).as_bytes());
    } else {
        let _ = stdout.write_all(fix::render_fixed(&outcome).as_bytes());
    }
    let report = &outcome.remaining;
    errors_to_stderr(report, &linter, stderr);
    let rendering = Rendering {
        manifests: &outcome.manifests,
        fail_on: args.lint.fail_on,
        linter: &linter,
        config: &loaded.config,
        color,
    };
    if (args.write || args.diff) && args.lint.output != Format::Text {
        let rendered = rendering.render(report, args.lint.output, Sink::Stdout);
        let _ = stdout.write_all(rendered.as_bytes());
    } else {
        let rendered = rendering.render(report, args.lint.output, Sink::Stderr);
        let _ = stderr.write_all(rendered.as_bytes());
    }
    let status = args.lint.status(report);
    if status == ExitStatus::Error {
        return status;
    }
    if changed && (args.diff || args.exit_non_zero_on_fix) {
        return ExitStatus::Failure;
    }
    status
}
