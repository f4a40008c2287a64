//! `kubectl-vllm`: a kubectl plugin (`kubectl vllm ...`).

use std::process::ExitCode;

fn main() -> ExitCode {
    kubectl_vllm::run(
        std::env::args_os().collect(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )
    .into()
}
