//! The default policies of kubectl-vllm, built from `policies/` as wasm32-wasip2 components by this
//! crate's build script and embedded in the binary.

/// One embedded policy component.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinPolicy {
    /// The crate it was built from (`policies/<name>`). The policy's identity comes from its own
    /// metadata export, not from this name.
    pub name: &'static str,
    /// The component.
    pub wasm: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
