//! Policy authoring: what `kubectl vllm policy new|build|test|inspect` do.
//!
//! - [`scaffold`]: `policy new` writes a policy crate that builds and passes its own tests
//!   unmodified (one documented example rule, a bad and a good fixture, a golden fixed file) and
//!   vendors the SDK's source this binary carries;
//! - `compile`: `policy build` runs `cargo build --target wasm32-wasip2 --release` (adding the
//!   target when rustup lacks it) and prints the component's path and sha256;
//! - `check`: `policy test` runs a policy against its fixtures with the engine's
//!   [`testing`](kubectl_vllm_engine::testing) runner, the one the repository's own tests use;
//! - `inspect`: `policy inspect` shows a component's contract version, rules and imports, and
//!   refuses what the host would refuse.
//!
//! The command line crate only dispatches [`PolicyCommand`] to [`run`].

mod check;
mod compile;
mod inspect;
pub mod scaffold;
mod status;

use std::io::Write;
use std::path::PathBuf;

pub use status::{AuthorError, Format, Status};

/// `kubectl vllm policy` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Write a new policy crate: one documented example rule, its fixtures with `# expect:`
    /// markers and a golden fixed file, and the SDK's source in `vendor/`.
    New {
        /// The policy's name (lowercase letters, digits and dashes); its rules' ids start with it.
        name: String,
        /// Where to write it (default: `./NAME`); must not exist or be empty.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Depend on the SDK crate at PATH instead of vendoring the one this binary carries.
        #[arg(long, value_name = "PATH")]
        sdk: Option<PathBuf>,
    },
    /// Build a policy crate's component (`cargo build --target wasm32-wasip2 --release`); print
    /// the `.wasm` path and its sha256.
    Build {
        /// The policy crate (default: the current directory).
        dir: Option<PathBuf>,
    },
    /// Run a policy against its fixtures: expected findings (rule, line, severity), golden fixed
    /// files, fix convergence and honesty; a pass/fail table; exit 1 on any failure.
    Test {
        /// A policy crate (built first) or a `.wasm` component (default: the current directory).
        path: Option<PathBuf>,
        /// The fixture directory (default: `fixtures/` of the crate, or of the current directory
        /// for a `.wasm`).
        #[arg(long, value_name = "DIR")]
        fixtures: Option<PathBuf>,
        /// Rewrite each `<name>.fixed.yaml` with what fixing `<name>.yaml` gives (review the diff).
        #[arg(long)]
        bless: bool,
    },
    /// Show a component's contract version, policy, rules and imports; exit 2 when the host
    /// would refuse it (an unsupported contract, an import outside the allowed ones).
    Inspect {
        /// The `.wasm` component.
        file: PathBuf,
        /// Output format.
        #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
}

/// Runs a `policy` subcommand; results on `stdout`, progress and errors on `stderr`.
pub fn run(command: &PolicyCommand, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Status {
    let here = || PathBuf::from(".");
    let result = match command {
        PolicyCommand::New { name, dir, sdk } => {
            scaffold::new(name, dir.as_deref(), sdk.as_deref(), stdout).map(|()| Status::Passed)
        }
        PolicyCommand::Build { dir } => compile::build(&dir.clone().unwrap_or_else(here), stderr)
            .map(|built| {
                built.print(stdout);
                Status::Passed
            }),
        PolicyCommand::Test {
            path,
            fixtures,
            bless,
        } => check::run(
            &path.clone().unwrap_or_else(here),
            fixtures.as_deref(),
            *bless,
            stdout,
            stderr,
        ),
        PolicyCommand::Inspect { file, output } => inspect::run(file, *output, stdout),
    };
    result.unwrap_or_else(|e| {
        let _ = writeln!(stderr, "error: {e}");
        Status::Error
    })
}
