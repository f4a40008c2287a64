//! Integration tests of `kubectl vllm` (one test binary: every binary links wasmtime).

mod apply;
mod architecture;
mod authoring;
mod cli;
mod distribution;
mod docs;
mod emit;
mod fixes;
mod fixtures;
mod hardening;
mod init;
mod lsp;
mod models;
mod render;
mod reports;
mod schema;
mod webhook;

use std::path::PathBuf;
use std::sync::OnceLock;

/// The repository root.
#[must_use]
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// One compiled-artifact cache for the whole test binary: each policy's debug-build Cranelift
/// compile (~0.5 s) is paid once.
#[must_use]
pub fn cache_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kubectl-vllm-it-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    })
    .clone()
}
