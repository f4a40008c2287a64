//! `kubectl-vllm`: a kubectl plugin (`kubectl vllm ...`).

use std::process::ExitCode;

fn main() -> ExitCode {
    kubectl_vllm::run(
        std::env::args_os().collect(),
        // Neither is locked for the whole run: the spinner's thread writes to stderr, the
        // language server's writer thread to stdout.
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    )
    .into()
}
