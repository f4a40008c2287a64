//! `kubectl vllm`: lint vLLM deployments with sandboxed WebAssembly policies.
//!
//! This crate is the command line only; it reads as a table of contents:
//!
//! - [`args`]: what every command accepts, as clap parses it;
//! - `commands`: one module per command (`lint`, `fix`, `apply`, `diff`, and the ones that read
//!   no manifests);
//! - `pipeline`: what commands that read manifests share (config, policies, inputs, rendering);
//! - `connect`: the cluster connection of `lint --cluster`, `apply` and `diff`;
//! - [`ExitStatus`]: 0, 1 or 2.
//!
//! The work happens below: `kubectl-vllm-engine` lints and fixes, `kubectl-vllm-emit` renders,
//! `kubectl-vllm-cluster` talks to the API server; the front ends of their own (`-webhook`,
//! `-lsp`, `-init`, `-models` for `facts add-model`, `-author` for `policy`) are dispatched to.
//! The binary is a thin `main` over [`run`].

pub mod args;
mod commands;
mod connect;
mod pipeline;
mod status;

use std::ffi::OsString;
use std::io::Write;

use clap::Parser as _;

pub use args::Cli;
use args::{Command, ConfigCommand};
pub use status::ExitStatus;

/// Runs the command line `args` (including the program name).
pub fn run(args: Vec<OsString>, stdout: &mut dyn Write, stderr: &mut dyn Write) -> ExitStatus {
    let status = dispatch(
        args,
        &mut pipeline::AfterSpinner(stdout),
        &mut pipeline::AfterSpinner(stderr),
    );
    pipeline::end_phases();
    status
}

fn dispatch(args: Vec<OsString>, stdout: &mut dyn Write, stderr: &mut dyn Write) -> ExitStatus {
    // cobra's hidden completion request, as kubectl sends it through `kubectl_complete-vllm`.
    if args.get(1).is_some_and(|a| a == "__complete") {
        let words: Vec<String> = args[2..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        return commands::complete::run(&words, stdout);
    }
    let program = args.first().cloned();
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let rendered = e.render().to_string();
            if e.use_stderr() {
                let _ = stderr.write_all(rendered.as_bytes());
                return ExitStatus::Error;
            }
            let _ = stdout.write_all(rendered.as_bytes());
            return ExitStatus::Success;
        }
    };
    match cli.command {
        Command::Lint(args) => commands::lint::run(&args, cli.color, stdout, stderr),
        Command::Fix(args) => commands::fix::run(&args, cli.color, stdout, stderr),
        Command::Apply(args) => commands::apply::run(&args, cli.color, stdout, stderr),
        Command::Diff(args) => commands::diff::run(&args, cli.color, stdout, stderr),
        Command::Rules { output, policies } => {
            commands::info::rules(output, &policies, stdout, stderr)
        }
        Command::Explain { rule, policies } => {
            commands::info::explain(&rule, &policies, stdout, stderr)
        }
        Command::Facts {
            command: Some(c), ..
        } => ExitStatus::ok_or_error(kubectl_vllm_models::run(&c, stdout, stderr).is_success()),
        Command::Init(args) => {
            ExitStatus::ok_or_error(kubectl_vllm_init::run(&args, stdout, stderr).is_success())
        }
        Command::Facts {
            command: None,
            output,
            config,
        } => commands::info::facts(output, config.as_deref(), stdout, stderr),
        Command::Config(ConfigCommand::Init { path }) => commands::info::config_init(&path, stderr),
        Command::Completion { shell } => commands::info::completion(shell, stdout),
        Command::Policy(command) => match kubectl_vllm_author::run(&command, stdout, stderr) {
            kubectl_vllm_author::Status::Passed => ExitStatus::Success,
            kubectl_vllm_author::Status::Failed => ExitStatus::Failure,
            kubectl_vllm_author::Status::Error => ExitStatus::Error,
        },
        Command::PostRender { args: rest } => {
            // `post-render [lint|fix] ARGS...` is `lint --pass-through ARGS... -` or `fix ARGS... -`.
            let mut rewritten = vec![program.unwrap_or_else(|| "kubectl-vllm".into())];
            let (mode, flags) = match rest.split_first() {
                Some((m, flags)) if m == "fix" => (&["fix"][..], flags),
                Some((m, flags)) if m == "lint" => (&["lint", "--pass-through"][..], flags),
                _ => (&["lint", "--pass-through"][..], &rest[..]),
            };
            rewritten.extend(mode.iter().map(Into::into));
            rewritten.extend(flags.iter().cloned());
            rewritten.push("-".into());
            dispatch(rewritten, stdout, stderr)
        }
        Command::Webhook(c) => {
            ExitStatus::ok_or_error(kubectl_vllm_webhook::run(&c, stdout, stderr).is_success())
        }
        Command::Lsp(args) => {
            ExitStatus::ok_or_error(kubectl_vllm_lsp::run(&args, stderr).is_success())
        }
        Command::Version => commands::info::version(stdout),
    }
}
