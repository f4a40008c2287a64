//! Manifest loading for kubectl-vllm.
//!
//! - [`source`]: file text and the byte ↔ line/column conversion (one place).
//! - [`yaml`]: YAML 1.1 as Kubernetes reads it, from parser events, with spans and duplicate keys.
//! - [`locate`]: JSON Pointer → span, falling back to the nearest existing ancestor.
//! - [`documents`]: a loaded file's documents, their trees parsed again when asked for.
//! - [`load`]: files, directories, stdin, multi-document streams and `kind: List`.

pub mod documents;
pub mod load;
pub mod locate;
pub mod patch;
pub mod source;
pub mod yaml;

pub use load::{
    Input, InputError, LoadOptions, ManifestFile, Manifests, Object, ObjectId, ObjectRef,
};
pub use locate::{Located, parse_pointer};
pub use source::{Position, SourceFile, Span};
