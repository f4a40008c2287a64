//! `kubectl vllm lsp`: the linter as a Language Server over stdio, for any editor with an LSP
//! client (Neovim, VS Code, Helix). What kube-linter and kubeconform could not do without
//! positions: every finding is a diagnostic at its exact range (UTF-16 columns, CRLF-safe), with
//! its rule id linking to the rule page; every fix is a code action (safe ones first, unsafe ones
//! labelled); hovering a flagged field shows the rule's documentation. The nearest
//! `.kubectl-vllm.yaml` of each file applies, and cross-file rules see the other manifests of the
//! workspace folder (read for lookups, not reported).
//!
//! - [`position`]: byte offsets ⇄ LSP positions, and the minimal edit between two texts.
//! - [`server`]: the protocol loop (`lsp-server`), the documents, the debounced lint.

pub mod position;
pub mod server;

use std::time::Duration;

/// `kubectl vllm lsp` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct LspArgs {
    /// Wait this long after the last change before linting (open and save lint at once).
    #[arg(long, value_name = "DURATION", default_value = "300ms", value_parser = debounce)]
    pub debounce: Duration,
}

fn debounce(text: &str) -> Result<Duration, String> {
    kubectl_vllm_core::parse_duration(text)
}

/// How the server ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The client shut it down.
    Success,
    /// The connection broke or the protocol was not followed (exit 2).
    Error,
}

impl Status {
    /// Whether it ended well.
    #[must_use]
    pub fn is_success(self) -> bool {
        self == Self::Success
    }
}

/// Serves on stdin/stdout until the client says `exit`; `stderr` gets the log.
pub fn run(args: &LspArgs, stderr: &mut dyn std::io::Write) -> Status {
    let (connection, io) = lsp_server::Connection::stdio();
    let status = match server::serve(&connection, args.debounce, stderr) {
        Ok(()) => Status::Success,
        Err(e) => {
            let _ = writeln!(stderr, "error: {e}");
            Status::Error
        }
    };
    drop(connection);
    let _ = io.join();
    status
}
