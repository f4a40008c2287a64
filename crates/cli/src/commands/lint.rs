//! `kubectl vllm lint`: read, lint (with the live cluster's facts under `--cluster`), apply the
//! baseline, report in one format on stdout and others to files.

use std::io::Write;

use kubectl_vllm_engine::baseline::Baseline;

use crate::ExitStatus;
use crate::args::{ColorChoice, Format, LintArgs};
use crate::connect::{Session, namespace};
use crate::pipeline::{Inputs, Rendering, Sink, current_dir, errors_to_stderr, read_inputs};

/// `kubectl vllm lint`.
pub(crate) fn run(
    args: &LintArgs,
    color: ColorChoice,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> ExitStatus {
    if !args.cluster && (args.access.context.is_some() || args.access.kubeconfig.is_some()) {
        let _ = writeln!(
            stderr,
            "warning: --context and --kubeconfig are ignored without --cluster (lint reads no cluster unless asked)"
        );
    }
    let session = if args.cluster {
        match Session::open(&args.access, stderr) {
            Some(session) => Some(session),
            None => return ExitStatus::Error,
        }
    } else {
        None
    };
    let namespace = namespace(&args.input, session.as_ref());
    let mut input = args.input.clone();
    if args.pass_through {
        if input.paths.is_empty() && input.filenames.is_empty() {
            input.paths.push("-".into());
        }
        let only_stdin = input.paths.iter().chain(&input.filenames).all(|p| p == "-")
            && input.kustomize.is_empty()
            && input.helm_chart.is_empty();
        if !only_stdin {
            let _ = writeln!(
                stderr,
                "error: --pass-through reads stdin only: `helm template ... | kubectl vllm lint --pass-through -`"
            );
            return ExitStatus::Error;
        }
    }
    let Some(Inputs {
        mut linter,
        loaded,
        manifests,
        ..
    }) = read_inputs(&input, args.selection(), &namespace, stderr)
    else {
        return ExitStatus::Error;
    };
    if let Some(session) = &session
        && !session.attach(&mut linter, &manifests, &loaded.config, &namespace, stderr)
    {
        return ExitStatus::Error;
    }
    let mut report = linter.lint(&manifests, &loaded.config);
    errors_to_stderr(&report, &linter, stderr);
    if let Some(path) = &args.write_baseline {
        let recorded = Baseline::of(&report, linter.registry());
        if let Err(e) = std::fs::write(path, recorded.to_json()) {
            let _ = writeln!(
                stderr,
                "error: cannot write the baseline {}: {e}",
                path.display()
            );
            return ExitStatus::Error;
        }
        let _ = writeln!(
            stderr,
            "recorded {} finding(s) in {}",
            recorded.findings.iter().map(|e| e.count).sum::<usize>(),
            path.display()
        );
        return if report.failed {
            ExitStatus::Error
        } else {
            ExitStatus::Success
        };
    }
    if let Some(path) = &args.baseline {
        match Baseline::read(path) {
            Ok(recorded) => recorded.apply(&mut report, linter.registry()),
            Err(e) => {
                let _ = writeln!(stderr, "error: {e}");
                return ExitStatus::Error;
            }
        }
    }
    if !args.show_suppressed {
        report.suppressed.clear();
    }
    let rendering = Rendering {
        manifests: &manifests,
        fail_on: args.fail_on,
        linter: &linter,
        config: &loaded.config,
        color,
    };
    if args.pass_through {
        // A filter: the report goes to stderr; the manifests go on (below) only when they pass.
        let rendered = rendering.render(&report, args.output, Sink::Stderr);
        let _ = stderr.write_all(rendered.as_bytes());
    } else {
        let rendered = rendering.render(&report, args.output, Sink::Stdout);
        let _ = stdout.write_all(rendered.as_bytes());
    }
    for (format, path) in &args.reports {
        let text = rendering.render(&report, *format, Sink::File);
        if let Err(e) = std::fs::write(path, text) {
            let _ = writeln!(
                stderr,
                "error: cannot write the {} report to {}: {e}",
                kubectl_vllm_emit::Format::from(*format).name(),
                path.display()
            );
            return ExitStatus::Error;
        }
    }
    if args.output == Format::Github
        && let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty())
    {
        let table = kubectl_vllm_emit::markdown(&report, &current_dir());
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
            return ExitStatus::Error;
        }
    }
    let status = args.status(&report);
    if args.pass_through && status == ExitStatus::Success {
        for file in manifests
            .files
            .iter()
            .filter(|f| f.source.name == input.stdin_filename)
        {
            let _ = stdout.write_all(file.source.text.as_bytes());
        }
    }
    status
}
