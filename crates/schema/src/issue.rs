//! What checking an object finds: [`Issue`]s, or that its kind has no schema.

use kubectl_vllm_core::RuleId;

/// One problem found in one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// `schema-type`, `schema-unknown-field`, ...: one of [`rules`](crate::rules).
    pub rule: RuleId,
    /// RFC 6901 pointer inside the object.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// How to repair it, when known (a "did you mean").
    pub help: Option<String>,
}

/// The result of checking one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Checked against its schema.
    Checked(Vec<Issue>),
    /// No schema for this apiVersion and kind (a CRD without `--schema`).
    UnknownKind,
}
