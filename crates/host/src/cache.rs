//! Compiled-artifact cache: a policy's Cranelift compile (~80–170 ms in release, ~0.5 s in a debug
//! build) is paid once per machine, engine configuration and CPU, not on every run.
//!
//! Key: SHA-256 of the component bytes + the engine's `precompile_compatibility_hash`. Artifacts are
//! written to a temporary file and renamed into a directory that only the current user can write.
//! Any failure to read or trust an artifact falls back to compiling (and rewriting it): a cache
//! never changes a result, only how long it takes.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Loaded from the cache.
    Cached,
    /// Compiled now (and written to the cache when one is configured).
    Compiled,
}

/// The cache directory, if any.
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: Option<PathBuf>,
}

impl ArtifactCache {
    /// A cache in `dir`; `None` disables caching.
    #[must_use]
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self { dir }
    }

    /// `$KUBECTL_VLLM_CACHE_DIR`, else `$XDG_CACHE_HOME/kubectl-vllm`, else `~/.cache/kubectl-vllm`.
    /// `KUBECTL_VLLM_CACHE_DIR=off` disables the cache.
    #[must_use]
    pub fn from_env() -> Self {
        let dir = match std::env::var_os("KUBECTL_VLLM_CACHE_DIR") {
            Some(v) if v == "off" => None,
            Some(v) => Some(PathBuf::from(v)),
            None => std::env::var_os("XDG_CACHE_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .map(|base| base.join("kubectl-vllm")),
        };
        Self { dir }
    }

    /// The component for `wasm`, from the cache or compiled.
    pub fn component(&self, engine: &Engine, wasm: &[u8]) -> wasmtime::Result<(Component, Origin)> {
        let Some(dir) = &self.dir else {
            return Ok((Component::new(engine, wasm)?, Origin::Compiled));
        };
        let path = dir.join(format!("{}.cwasm", key(engine, wasm)));
        if path.is_file() && directory_is_private(dir) {
            // A foreign or stale artifact fails wasmtime's header check: fall through and recompile.
            if let Ok(component) = kubectl_vllm_precompiled::load_own_artifact(engine, &path) {
                return Ok((component, Origin::Cached));
            }
        }
        let component = Component::new(engine, wasm)?;
        // Caching is best-effort: a read-only home must not fail the run.
        let _ = store(dir, &path, &component);
        Ok((component, Origin::Compiled))
    }
}

fn key(engine: &Engine, wasm: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{}-{:016x}", sha256_hex(wasm), hasher.finish())
}

/// The SHA-256 of `bytes`, as lower-case hex.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

#[cfg(unix)]
fn directory_is_private(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(dir).is_ok_and(|m| m.is_dir() && m.permissions().mode() & 0o022 == 0)
}

#[cfg(not(unix))]
fn directory_is_private(dir: &Path) -> bool {
    dir.is_dir()
}

fn store(dir: &Path, path: &Path, component: &Component) -> std::io::Result<()> {
    create_private_dir(dir)?;
    if !directory_is_private(dir) {
        return Ok(());
    }
    let bytes = component
        .serialize()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    std::fs::rename(&temp, path)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}
