//! The kubectl-vllm engine: "lint this set" and "fix this set" for every front end.
//!
//! Layers, from the bottom: the WIT contract and the sandbox (`kubectl-vllm-host`) run the
//! policies; this crate loads them ([`lint::Linter`]), runs them with its own rules ([`rules`])
//! and schema validation over an input set, locates what they report as typed
//! [`report::Finding`]s, and applies the config ([`config`]), selections, suppressions
//! ([`suppress`]) and baselines ([`baseline`]). [`fix`] repairs the source text pass after pass;
//! [`registry`] is the one place that knows which rules exist and what they require;
//! [`testing`] runs fixtures with `# expect:` markers against all of it. Rendering the report is
//! the emitters' job (`kubectl-vllm-emit`); the command line, cluster access and the terminal
//! belong to the front ends.

pub mod baseline;
pub mod catalogue;
pub mod config;
pub mod edit;
pub mod fix;
pub mod lint;
mod locate;
mod parallel;
pub mod registry;
pub mod report;
pub mod rules;
pub mod schemas;
pub mod suppress;
pub mod testing;

pub use kubectl_vllm_core::{Applicability, Pointer, RuleId, Severity};
pub use kubectl_vllm_manifest::ObjectId;
pub use lint::Linter;
pub use registry::Registry;
pub use report::{Finding, Report, Verdict};
