//! Manifest loading for kubectl-vllm.
//!
//! - [`source`]: file text and the byte ↔ line/column conversion (one place).
//! - [`yaml`]: YAML 1.1 as Kubernetes reads it, from parser events, with spans and duplicate keys.
//! - [`locate`]: JSON Pointer → span, falling back to the nearest existing ancestor.
//! - [`documents`]: a loaded file's documents, their trees parsed again when asked for.
//! - [`json`]: an object that arrived as JSON, written as text with its tree, unparsed.
//! - [`limits`]: bounds on what one run reads (`--limit`).
//! - [`load`]: files, directories, stdin, multi-document streams and `kind: List`.
//! - [`provenance`]: where a file came from (read, rendered, a renderer's source).
//! - [`render`]: kustomizations and Helm charts rendered, objects traced to their source files.

pub mod documents;
pub mod json;
pub mod limits;
pub mod load;
pub mod locate;
pub mod patch;
pub mod provenance;
pub mod render;
pub mod source;
pub mod yaml;

pub use limits::{InputLimits, Limit};
pub use load::{
    Input, InputError, LoadOptions, ManifestFile, Manifests, Object, ObjectId, ObjectRef,
    exclude_set, is_cluster_scoped, is_excluded,
};
pub use locate::{Located, parse_pointer};
pub use provenance::{Provenance, Renderer};
pub use source::{Position, SourceFile, Span};
