//! Compiled-artifact cache: a policy's Cranelift compile (~80–170 ms in release, ~0.5 s in a debug
//! build) is paid once per machine, engine configuration and CPU, not on every run.
//!
//! Key: SHA-256 of the component bytes + the engine's `precompile_compatibility_hash`. Artifacts are
//! written to a temporary file and renamed into a directory that the current user owns and only
//! they can write; a directory that fails either check (or any directory where they cannot be
//! checked) is not used.
//! Any failure to read or trust an artifact falls back to compiling (and rewriting it): a cache
//! never changes a result, only how long it takes.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Precompiled by the build and embedded in the binary (the built-in policies).
    Embedded,
    /// Loaded from the cache.
    Cached,
    /// Compiled now (and written to the cache when one is configured).
    Compiled,
}

/// Where compiled components come from besides compiling: the cache directory, if any, and
/// whether the artifacts the build embedded are used.
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: Option<PathBuf>,
    embedded: bool,
}

impl ArtifactCache {
    /// A cache in `dir`; `None` disables caching. Embedded artifacts are used.
    #[must_use]
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self {
            dir,
            embedded: true,
        }
    }

    /// The same cache, ignoring the artifacts the build embedded: every policy is compiled or
    /// loaded from the cache, as when the binary runs on a CPU it was not built on.
    #[must_use]
    pub fn without_embedded(self) -> Self {
        Self {
            embedded: false,
            ..self
        }
    }

    /// Whether the artifacts the build embedded are used.
    #[must_use]
    pub fn uses_embedded(&self) -> bool {
        self.embedded
    }

    /// `$KUBECTL_VLLM_CACHE_DIR`, else `$XDG_CACHE_HOME/kubectl-vllm`, else `~/.cache/kubectl-vllm`.
    /// `KUBECTL_VLLM_CACHE_DIR=off` disables the cache; `KUBECTL_VLLM_PRECOMPILED=off` ignores the
    /// embedded artifacts (to measure or reproduce a first run on another CPU).
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
        let cache = Self::new(dir);
        if std::env::var_os("KUBECTL_VLLM_PRECOMPILED").is_some_and(|v| v == "off") {
            cache.without_embedded()
        } else {
            cache
        }
    }

    /// Whether compiled components are kept (`KUBECTL_VLLM_CACHE_DIR=off` turns it off).
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.dir.is_some()
    }

    /// Whether the component for `wasm` would come from the cache (`false`: it is compiled,
    /// ~0.1 s in a release build, ~2 s in a debug one).
    #[must_use]
    pub fn has(&self, engine: &Engine, wasm: &[u8]) -> bool {
        self.dir.as_ref().is_some_and(|dir| {
            dir.join(format!("{}.cwasm", key(engine, wasm))).is_file() && directory_is_private(dir)
        })
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
    format!(
        "{}-{:016x}",
        sha256_hex(wasm),
        kubectl_vllm_precompiled::engine_fingerprint(engine)
    )
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

/// Whether `dir` is a directory this user owns and nobody else can write: the precondition of
/// loading machine code from it (`kubectl_vllm_precompiled::load_own_artifact`).
#[cfg(unix)]
fn directory_is_private(dir: &Path) -> bool {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // `symlink_metadata`: a link to someone else's directory is not ours.
    std::fs::symlink_metadata(dir).is_ok_and(|m| {
        m.is_dir()
            && m.uid() == rustix::process::geteuid().as_raw()
            && m.permissions().mode() & 0o022 == 0
    })
}

/// Elsewhere (Windows) ownership and ACLs are not checked here, so no directory is trusted and
/// every policy is compiled: the cache is an optimisation, never a risk.
#[cfg(not(unix))]
fn directory_is_private(_dir: &Path) -> bool {
    false
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

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn only_a_directory_this_user_owns_and_alone_can_write_is_trusted() {
        let base = std::env::temp_dir().join(format!("kubectl-vllm-trust-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let own = base.join("own");
        create_private_dir(&own).unwrap();
        assert!(directory_is_private(&own));

        let open = base.join("open");
        std::fs::create_dir_all(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(!directory_is_private(&open), "a world-writable directory");

        let link = base.join("link");
        std::os::unix::fs::symlink(&own, &link).unwrap();
        assert!(
            !directory_is_private(&link),
            "a symlink, even to our own directory"
        );

        assert!(!directory_is_private(&base.join("missing")));

        // Someone else's directory: only root can make one to test with.
        if rustix::process::geteuid().is_root() {
            let theirs = base.join("theirs");
            create_private_dir(&theirs).unwrap();
            std::os::unix::fs::chown(&theirs, Some(65534), None).unwrap();
            assert!(
                !directory_is_private(&theirs),
                "a directory another user owns"
            );
        } else {
            eprintln!("SKIPPED: the foreign-owner case needs root to chown a directory");
        }
        std::fs::remove_dir_all(&base).unwrap();
    }
}
