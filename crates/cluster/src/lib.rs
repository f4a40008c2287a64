//! Cluster access for `kubectl vllm`: connecting as kubectl does, reading the live facts the
//! policies check against, server-side apply in dependency order, and diffs.
//!
//! Everything here is async over one kube-rs [`Client`](kube::Client); the CLI drives it on a
//! current-thread runtime. Errors are classified for people ([`ClusterError`]): an unreachable
//! server, rejected credentials and a missing permission each say what to do.

mod apply;
mod connection;
mod error;
mod facts;
mod mask;
#[cfg(test)]
mod tests;
mod wait;

pub use apply::{
    Applied, ApplyOptions, ApplyReport, Outcome, Planned, apply_all, diff_all, plan,
    plan_and_apply, rank,
};
pub use connection::{Connection, DEFAULT_REQUEST_TIMEOUT, Target, connect};
pub use error::ClusterError;
pub use facts::{LiveFacts, ObjectKey, facts_from, fetch_referenced, read_facts};
pub use mask::{Side, mask};
pub use wait::{Rollout, wait_for, waits_for};
