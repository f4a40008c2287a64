//! The vocabulary every kubectl-vllm layer shares, with no bindings and no I/O: rule metadata
//! ([`RuleMeta`], [`declare_rule!`]), [`Severity`], [`Applicability`], [`FixAvailability`],
//! [`Provider`], [`RuleId`], RFC 6901 [`Pointer`]s and [`stand_in`] objects.
//!
//! The host, the engine, the schema checks and the guest SDK use these types; the WIT contract's
//! generated types are converted to and from them at the component boundary only.

pub mod duration;
mod pointer;
pub mod quantity;
mod rule;
pub mod stand_in;

pub use duration::parse_duration;
pub use pointer::{Pointer, PointerError};
pub use quantity::{Quantity, QuantityError, QuantityFormat};
pub use rule::{
    Applicability, FixAvailability, Provider, RuleId, RuleMeta, Severity, rule_id, unindent_doc,
};
