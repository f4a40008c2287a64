//! Report formats over the engine's one finding model, each behind [`Emitter`]: human text
//! (miette snippets), the JSON report (a frozen version-1 wire type, separate from the model),
//! SARIF 2.1.0, JUnit XML and GitHub workflow commands (with a Markdown table for the job
//! summary); and the `rules` and `facts` tables.

mod emitter;
mod format;
mod github;
pub mod json;
mod junit;
mod sarif;
mod text;

pub mod progress;
pub mod tables;

pub use emitter::{
    Context, DEFAULT_WIDTH, Emitter, MIN_WIDTH, Style, summary, text_width, use_color,
};
pub use format::Format;
pub use github::{Github, markdown};
pub use json::Json;
pub use junit::Junit;
pub use sarif::{DEFAULT_DOCS_URL, Sarif};
pub use text::{Text, text};
