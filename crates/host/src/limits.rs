//! Limits for every policy call, and the limiter that holds an instance to its memory cap.

use std::time::Duration;

use wasmtime::ResourceLimiter;

/// Limits for every policy call.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock time one call may take.
    pub timeout: Duration,
    /// Linear memory one policy instance may grow to.
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(2),
            memory_bytes: 64 << 20,
        }
    }
}

/// Counts memory growth against the cap and remembers when the cap was hit.
pub(crate) struct Limiter {
    pub(crate) max: usize,
    /// The size the instance's largest memory has grown to, in bytes (the cap is per memory).
    pub(crate) current: usize,
    pub(crate) exceeded: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max {
            self.exceeded = true;
            return Err(wasmtime::Error::msg(format!(
                "memory limit of {} MiB exceeded",
                self.max >> 20
            )));
        }
        self.current = self.current.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }
}
