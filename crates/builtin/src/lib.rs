//! The default policies of kubectl-vllm, built from `policies/` as wasm32-wasip2 components by this
//! crate's build script, precompiled for the machine that builds them, and embedded in the binary.

pub use kubectl_vllm_precompiled::Embedded;

/// One embedded policy component.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinPolicy {
    /// The crate it was built from (`policies/<name>`). The policy's identity comes from its own
    /// metadata export, not from this name.
    pub name: &'static str,
    /// The component.
    pub wasm: &'static [u8],
    /// The component compiled by the build for this machine's CPU (`None` when the binary was
    /// cross-compiled); used when it fits the running engine, else `wasm` is compiled.
    pub precompiled: Option<Embedded>,
}

include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
