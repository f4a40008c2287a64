//! How a `policy` command ends, and the output formats it offers.

/// Output of `policy inspect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For programs.
    Json,
}

/// How a `policy` command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// It did what was asked; every test passed.
    Passed,
    /// A test failed.
    Failed,
    /// It could not run: bad arguments, a build that failed, a policy that does not load.
    Error,
}

/// Why a `policy` command could not run: one line for `error: ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorError(pub String);

impl std::fmt::Display for AuthorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for AuthorError {
    fn from(message: &str) -> Self {
        Self(message.to_string())
    }
}

impl From<String> for AuthorError {
    fn from(message: String) -> Self {
        Self(message)
    }
}
