//! The formats `-o` offers, each with its emitter.

use crate::emitter::Emitter;
use crate::github::Github;
use crate::json::Json;
use crate::junit::Junit;
use crate::sarif::Sarif;
use crate::text::Text;

/// The formats `-o` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable snippets.
    Text,
    /// The JSON report (version 1).
    Json,
    /// GitHub Actions workflow commands.
    Github,
    /// JUnit XML.
    Junit,
    /// SARIF 2.1.0.
    Sarif,
}

impl Format {
    /// The emitter of this format.
    #[must_use]
    pub fn emitter(self) -> &'static dyn Emitter {
        match self {
            Self::Text => &Text,
            Self::Json => &Json,
            Self::Github => &Github,
            Self::Junit => &Junit,
            Self::Sarif => &Sarif,
        }
    }

    /// The format's name on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
            Self::Github => "github",
            Self::Junit => "junit",
            Self::Sarif => "sarif",
        }
    }
}
