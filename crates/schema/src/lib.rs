//! Offline Kubernetes schema validation, stricter than OpenAPI.
//!
//! Every object of a known kind is validated against the embedded "local-strict" JSON Schema of
//! the selected Kubernetes version (`kubernetes/v1.3X/_definitions.json`, vendored from
//! kubernetes-validate; see `kubernetes/PROVENANCE.md`) with the `jsonschema` crate, offline.
//! Validators are compiled per kind, on first use. On top of what the schemas say, this crate
//! checks what the API server enforces and OpenAPI does not describe ([`checks`]): enum values,
//! Quantity syntax, label and annotation syntax, DNS-1123 names, port ranges.
//!
//! Results are [`Issue`]s: a rule id (`schema-*`), an RFC 6901 pointer inside the object and a
//! message. The host owns locating them in the source.
mod checks;
mod issue;
mod names;
mod ranges;
pub mod rules;
mod schemas;

pub use issue::{Issue, Outcome};
pub use schemas::{DEFAULT_VERSION, DEFINITIONS_ID, SchemaError, Schemas, VERSIONS, prewarm};
