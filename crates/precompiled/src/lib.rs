//! The engine configuration every policy is compiled with, and the one place kubectl-vllm calls
//! wasmtime's `unsafe` artifact loaders.
//!
//! `Component::deserialize*` maps machine code into the process and trusts it: wasmtime checks its
//! header (wasmtime version, engine configuration, target CPU features) but cannot check that the
//! code itself is what Cranelift produced. Everything else in the workspace is
//! `unsafe_code = "forbid"`.
//!
//! Two kinds of artifacts are loaded: those the build precompiled and embedded in the binary
//! ([`Embedded`], written by `crates/builtin/build.rs` with [`engine_config`]) and those this
//! program wrote to its artifact cache ([`load_own_artifact`]).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use wasmtime::component::Component;
use wasmtime::{Config, Engine};

/// The engine configuration of the host, shared with the build script that precompiles the
/// built-in policies: an artifact is only usable by an engine configured the same way.
#[must_use]
pub fn engine_config() -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.parallel_compilation(true);
    config
}

/// What an artifact compiled by `engine` depends on (target, compiler and CPU flags, tunables,
/// wasm features, wasmtime version), as a number: wasmtime's `precompile_compatibility_hash`
/// through `SipHash` with fixed keys, so the build script and the binary compute the same value.
#[must_use]
pub fn engine_fingerprint(engine: &Engine) -> u64 {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.finish()
}

/// A component precompiled during the build and embedded in the binary.
#[derive(Debug, Clone, Copy)]
pub struct Embedded {
    /// `Engine::precompile_component` output.
    pub artifact: &'static [u8],
    /// [`engine_fingerprint`] of the engine that compiled it.
    pub engine: u64,
}

impl Embedded {
    /// Whether `engine` can load this artifact: it was compiled by an engine with the same
    /// fingerprint (same wasmtime, configuration and CPU features). A binary built on one machine
    /// and run on a CPU with other features does not match, and its policies are compiled.
    #[must_use]
    pub fn fits(&self, engine: &Engine) -> bool {
        engine_fingerprint(engine) == self.engine
    }

    /// The component, when it [`fits`](Self::fits) `engine`; `None` otherwise (compile the
    /// source component instead).
    #[must_use]
    pub fn load(&self, engine: &Engine) -> Option<Component> {
        if !self.fits(engine) {
            return None;
        }
        // SAFETY: `deserialize` is unsafe because crafted bytes could contain arbitrary machine
        // code. These bytes are part of this program's own executable: `crates/builtin/build.rs`
        // produced them with `Engine::precompile_component` of this same wasmtime version and
        // `engine_config()`, from the policies built from this repository, and `include_bytes!`
        // put them in the binary; whoever can change them can change the binary's code itself.
        // The fingerprint check above and wasmtime's own header check (version, configuration,
        // CPU features) reject an artifact for another engine, and the caller then compiles.
        // `deserialize` copies the bytes into fresh executable memory; the static is never
        // written.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, self.artifact) };
        component.ok()
    }
}

/// Loads a component that this program compiled and serialized earlier.
///
/// The caller must only pass files it wrote itself with [`Component::serialize`] of a component
/// compiled by an engine with the same configuration, in a directory the current user owns and
/// only they can write (kubectl-vllm's artifact cache checks all of it before calling this).
///
/// # Errors
/// wasmtime's error when the file is not an artifact of this wasmtime version, engine
/// configuration and CPU; the caller then compiles the component instead.
pub fn load_own_artifact(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: `deserialize_file` is unsafe because a crafted file could contain arbitrary machine
    // code. The cache only passes files it created itself (temp file + rename) from
    // `Component::serialize`, named by the SHA-256 of the source component and the engine's
    // `precompile_compatibility_hash`, inside a directory it created with mode 0700 and verified,
    // before every load, to be owned by the current user (not a symlink) and writable by nobody
    // else — on platforms where it cannot verify that, it never loads; anyone able to replace
    // such a file can already run code as this user. A stale or foreign-engine artifact is rejected by wasmtime's header check (version,
    // configuration, CPU features) and the caller recompiles. The file is opened read-only and is
    // never modified after the rename, as wasmtime's mmap requires.
    #[allow(unsafe_code)]
    unsafe {
        Component::deserialize_file(engine, path)
    }
}
