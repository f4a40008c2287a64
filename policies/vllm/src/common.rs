//! Helpers shared by this policy's rules.

use kubectl_vllm_sdk::prelude::*;
use kubectl_vllm_sdk::vllm::Word;

/// Where a parallelism finding points: the `--tensor-parallel-size` word when it is written,
/// else the container's GPU limit, else the container.
pub fn parallelism_site(server: &Server) -> Site {
    if let Some(flag) = server
        .invocation
        .flag("tensor-parallel-size", Some("tp"), &server.vars)
    {
        return Site::Word(flag.at);
    }
    let c = &server.container;
    if c.resource("limits", k8s::NVIDIA_GPU).is_some() {
        return Site::Pointer(c.resource_at("limits", k8s::NVIDIA_GPU));
    }
    Site::Pointer(c.pointer.clone())
}

/// A place to report at.
pub enum Site {
    /// A command-line word.
    Word(Word),
    /// A field.
    Pointer(Pointer),
}

impl Site {
    /// Starts a finding here.
    pub fn report<'f>(
        &self,
        out: &'f mut Findings,
        message: impl Into<String>,
    ) -> FindingBuilder<'f> {
        match self {
            Self::Word(word) => vllm::report_word(out, word, message),
            Self::Pointer(at) => out.report(at, message),
        }
    }
}

/// GiB with one decimal, from MiB.
pub fn gib(mib: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let g = mib as f64 / 1024.0;
    format!("{g:.1} GiB")
}
