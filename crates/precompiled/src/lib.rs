//! The one place kubectl-vllm calls wasmtime's `unsafe` artifact loader.
//!
//! `Component::deserialize_file` maps a file of machine code into the process and trusts it: wasmtime
//! checks its header (wasmtime version, engine configuration, target CPU features) but cannot check
//! that the code itself is what Cranelift produced. Everything else in the workspace is
//! `unsafe_code = "forbid"`.

use std::path::Path;

use wasmtime::Engine;
use wasmtime::component::Component;

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
