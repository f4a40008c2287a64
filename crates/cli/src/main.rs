//! `kubectl-vllm`: a kubectl plugin (`kubectl vllm ...`).

use std::process::ExitCode;

fn main() -> ExitCode {
    kubectl_vllm::run(
        std::env::args_os().collect(),
        &mut std::io::stdout().lock(),
        // Not locked for the whole run: the spinner's thread writes to stderr too.
        &mut std::io::stderr(),
    )
    .into()
}
