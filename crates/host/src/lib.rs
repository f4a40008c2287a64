//! The sandboxed WebAssembly policy host.
//!
//! Policies are components of the worlds in `wit/policy.wit` (`kubectl-vllm:policy@0.2.2`); the
//! host still loads components built against 0.1 (`wit/v0.1/policy.wit`) through the adapter in
//! [`v0_1`]. Each gets WASI p2 linked with nothing granted (no preopened directories,
//! environment, arguments, network or inherited stdio; stderr is captured to show a panic
//! message), and a component that imports more than the contract and the harmless part of WASI
//! ([`ALLOWED_IMPORTS`]: sockets, filesystem, clocks...) is refused at load, naming the import;
//! then a memory cap, and a time limit per call enforced with epoch interruption. A policy
//! that loops, traps, runs out of memory or answers with malformed output yields a
//! [`PolicyError`] naming it; its instance is dropped and re-created from the `InstancePre` for
//! the next object, and the other policies carry on.

mod boundary;
pub mod cache;
mod contract;
mod error;
pub mod facts;
mod host;
pub mod images;
mod imports;
pub mod inventory;
mod limits;
pub mod provider;
mod state;
mod v0_1;
mod validate;

pub use cache::{ArtifactCache, Origin};
pub use contract::{ALLOWED_IMPORTS, Contract, Surface};
pub use error::PolicyError;
pub use facts::{Cluster, ClusterProfile, FactTables};
pub use host::{Host, Policy};
pub use inventory::Inventory;
pub use limits::Limits;
pub use provider::{Provider, ProviderSetting, ProviderSource, Resolved};
pub use state::Shared;

/// Bindings generated from the WIT contract, version 0.2.
#[allow(missing_docs, clippy::pedantic)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit/policy.wit",
        world: "policy-world",
        additional_derives: [PartialEq, Eq],
    });
}

pub use bindings::kubectl_vllm::policy::types::{
    Applicability, Evaluation, Finding, Fix, FixAvailability, ObjectRef, Outcome, PatchOp,
    PathValue, PolicyInfo, Requirements, RuleInfo, Severity, Skip, SkipReason, SubSpan,
};
