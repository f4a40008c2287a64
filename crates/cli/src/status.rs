//! How a run ends: 0, 1 or 2.

use kubectl_vllm_engine::{Report, Severity, Verdict};

/// How a run ends (product.md, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: nothing at or above `--fail-on`.
    Success,
    /// 1: findings at or above `--fail-on` (or, for `diff` and `fix --diff`, changes).
    Failure,
    /// 2: a usage, config or input error, or a policy that failed.
    Error,
}

impl ExitStatus {
    /// The status of `report` when findings at or above `fail_on` fail (`None`: none do).
    #[must_use]
    pub fn of(report: &Report, fail_on: Option<Severity>) -> Self {
        match report.verdict(fail_on) {
            Verdict::Passed => Self::Success,
            Verdict::Findings => Self::Failure,
            Verdict::Failed => Self::Error,
        }
    }

    /// 0 when `ok`, else 2: for commands with no findings to fail on.
    #[must_use]
    pub fn ok_or_error(ok: bool) -> Self {
        [Self::Error, Self::Success][usize::from(ok)]
    }

    /// The process exit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Failure => 1,
            Self::Error => 2,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        Self::from(status.code())
    }
}
