//! Why a policy could not answer.

use std::time::Duration;

/// Why a policy could not answer.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The component could not be compiled, linked or instantiated.
    #[error("policy `{policy}` failed to load: {message}")]
    Load {
        /// The policy (its name, or the file it came from).
        policy: String,
        /// Why.
        message: String,
    },
    /// The call ran past the time limit.
    #[error("policy `{policy}` exceeded its time limit of {limit:?}")]
    Timeout {
        /// The policy.
        policy: String,
        /// The limit.
        limit: Duration,
    },
    /// The instance tried to grow its memory past the cap.
    #[error("policy `{policy}` exceeded its memory limit of {limit} MiB")]
    OutOfMemory {
        /// The policy.
        policy: String,
        /// The cap in MiB.
        limit: usize,
    },
    /// The policy trapped (a panic, `unreachable`, an out-of-bounds access...).
    #[error("policy `{policy}` trapped: {message}")]
    Trap {
        /// The policy.
        policy: String,
        /// The trap and what the policy wrote to stderr.
        message: String,
    },
    /// The policy answered with something the contract does not allow.
    #[error("policy `{policy}` returned malformed output: {message}")]
    Malformed {
        /// The policy.
        policy: String,
        /// What was wrong.
        message: String,
    },
    /// The policy reported that it could not evaluate the object.
    #[error("policy `{policy}` failed: {message}")]
    Failed {
        /// The policy.
        policy: String,
        /// Its message.
        message: String,
    },
}
