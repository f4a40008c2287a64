//! Write kubectl-vllm policies in Rust.
//!
//! A policy is a crate of `crate-type = ["cdylib", "rlib"]` built for `wasm32-wasip2`. Each rule is
//! one unit declared with [`declare_rule!`], whose doc comment *is* its documentation (what
//! `kubectl vllm explain` prints), and the crate ends with one [`policy!`] invocation:
//!
//! ```text
//! use kubectl_vllm_sdk::prelude::*;
//!
//! declare_rule! {
//!     /// ## What it does
//!     /// ...
//!     pub struct ProbeMissingReadiness {
//!         id: "probe-missing-readiness",
//!         severity: Warning,
//!         fix: Always(Safe),
//!         // optional: `providers: [Gke],` for a provider-specific rule, `complete_set: true,`
//!         // for a rule that concludes a referenced object is missing
//!         summary: "a vLLM container has no readinessProbe",
//!     }
//! }
//!
//! impl Rule for ProbeMissingReadiness {
//!     // It concludes from an absence (no probe): only servers the manifest shows whole.
//!     const SERVERS: Servers = Servers::Complete;
//!
//!     fn check_server(&self, _cx: &Context, _spec: &PodSpec, server: &Server, out: &mut Findings) {
//!         if server.container.value.get("readinessProbe").is_none() {
//!             out.report(&server.container.pointer, "no readinessProbe");
//!         }
//!     }
//! }
//!
//! kubectl_vllm_sdk::policy!(name: "runtime", rules: [ProbeMissingReadiness]);
//! ```
//!
//! A rule implements the [`Rule`] hook at the level it works on, and the defaults walk down to
//! it: [`Rule::check_object`] (a PVC, a Service, a StorageClass: the whole object) by default
//! runs [`Rule::check_pod_spec`] on every pod template of the object (both of a
//! LeaderWorkerSet, each group of a RayCluster, a KServe predictor...), which by default runs
//! [`Rule::check_server`] on the template's vLLM servers ([`Rule::SERVERS`] says which). A rule
//! that overrides `check_pod_spec` or `check_object` reads only what it asks for.
//!
//! When a fact a check needs is missing, the rule records the contract's `skipped(...)` outcome
//! where it would have checked, through one helper per fact: [`Context::model_checked`] (and
//! [`vllm::Server::known_model`]) for a model the fact table lacks, [`Context::gpu_checked`] for an
//! accelerator, [`Context::check_provider`] for the provider, [`Context::servers_checked`] and
//! [`vllm::Server::skip_unknown`] for a command line or a flag that cannot be read.
//!
//! Rules see the host through [`Env`]: the real host in the component, an in-memory one in native
//! unit tests ([`testing::FakeEnv`]).

pub mod accel;
pub mod k8s;
pub mod pools;
pub mod quantity;
pub mod testing;
pub mod vllm;

mod boundary;
mod context;
mod env;
mod findings;
mod rule;

/// The generated bindings of the WIT contract (`kubectl-vllm:policy@0.2.2`, world
/// `reusable-policy-world`: the host may keep a policy's instance across input sets), from the copy this
/// crate carries in `wit/policy.wit` (a test holds it equal to the repository's `wit/policy.wit`)
/// so that it builds from any directory.
#[allow(missing_docs, clippy::pedantic, unsafe_code)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit/policy.wit",
        world: "reusable-policy-world",
        pub_export_macro: true,
        export_macro_name: "export_policy_world",
        default_bindings_module: "kubectl_vllm_sdk::bindings",
        additional_derives: [PartialEq],
    });
}

pub use bindings::exports::kubectl_vllm::policy::policy::Guest;
pub use bindings::kubectl_vllm::policy::cluster::{
    NodePool, Profile, ProviderSource, StorageClass, Taint,
};
pub use bindings::kubectl_vllm::policy::facts::{
    Accelerator, AcceleratorMatch, Image, Model, Vendor,
};
/// The contract's own enums, as the component boundary carries them; rules use the
/// [`kubectl_vllm_core`] types re-exported here, converted at the boundary.
pub use bindings::kubectl_vllm::policy::types as wit;
pub use bindings::kubectl_vllm::policy::types::{
    Evaluation, Finding, Fix, ObjectRef, Outcome, PatchOp, PathValue, PolicyInfo, Requirements,
    RuleInfo, Skip, SkipReason, SubSpan,
};
pub use context::Context;
pub use env::{Env, HostEnv, Objects, reset};
pub use findings::{FindingBuilder, Findings, FixBuilder, Location, SkipBuilder};
pub use k8s::{Container, PodSpec};
pub use kubectl_vllm_core::{
    Applicability, FixAvailability, Pointer, Provider, RuleId, RuleMeta, Severity, declare_rule,
    unindent_doc,
};
pub use rule::{DynRule, Kinds, Rule, Servers, evaluate, policy_info};

/// Everything a rule module needs.
pub mod prelude {
    pub use crate::k8s::{self, Container, PodSpec};
    pub use crate::quantity;
    pub use crate::vllm::{self, Server};
    pub use crate::{
        Applicability, Context, Env, FindingBuilder, Findings, FixBuilder, Kinds, Pointer,
        Provider, Rule, RuleMeta, Servers, Severity, SkipReason, declare_rule,
    };
    pub use serde_json::{Value, json};
}

/// Exports a policy made of the given rules.
#[macro_export]
macro_rules! policy {
    (name: $name:literal, rules: [$($rule:expr),* $(,)?] $(,)?) => {
        struct __Policy;

        static __RULES: &[&(dyn $crate::DynRule + Sync)] = &[$(&$rule),*];

        impl $crate::Guest for __Policy {
            fn metadata() -> $crate::PolicyInfo {
                $crate::policy_info($name, env!("CARGO_PKG_VERSION"), __RULES)
            }

            fn evaluate(input: $crate::Evaluation) -> Result<Vec<$crate::Outcome>, String> {
                $crate::evaluate(__RULES, &$crate::HostEnv, &input)
            }
        }

        impl $crate::bindings::exports::kubectl_vllm::policy::lifecycle::Guest for __Policy {
            fn reset() {
                $crate::reset();
            }
        }

        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        mod __export {
            use super::__Policy;
            $crate::bindings::export_policy_world!(__Policy with_types_in $crate::bindings);
        }

        /// Runs this policy's rules on one object against `env` (for native tests).
        #[allow(dead_code)]
        pub fn evaluate_with(
            env: &dyn $crate::Env,
            input: &$crate::Evaluation,
        ) -> Result<Vec<$crate::Outcome>, String> {
            $crate::evaluate(__RULES, env, input)
        }
    };
}
