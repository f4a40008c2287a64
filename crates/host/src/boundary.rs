//! The boundary: the contract's generated enums as [`kubectl_vllm_core`]'s types, which is all
//! the engine sees.

use crate::bindings;
use crate::bindings::kubectl_vllm::policy::types::{Applicability, FixAvailability, Severity};
use crate::provider::Provider;

impl From<Severity> for kubectl_vllm_core::Severity {
    fn from(s: Severity) -> Self {
        match s {
            Severity::Error => Self::Error,
            Severity::Warning => Self::Warning,
            Severity::Info => Self::Info,
        }
    }
}

impl From<Applicability> for kubectl_vllm_core::Applicability {
    fn from(a: Applicability) -> Self {
        match a {
            Applicability::Safe => Self::Safe,
            Applicability::Unsafe => Self::Unsafe,
            Applicability::DisplayOnly => Self::DisplayOnly,
        }
    }
}

impl From<bindings::kubectl_vllm::policy::types::Provider> for Provider {
    fn from(p: bindings::kubectl_vllm::policy::types::Provider) -> Self {
        use bindings::kubectl_vllm::policy::types::Provider as Wit;
        match p {
            Wit::Gke => Self::Gke,
            Wit::Eks => Self::Eks,
            Wit::Aks => Self::Aks,
            Wit::Openshift => Self::Openshift,
            Wit::Generic => Self::Generic,
            Wit::Unknown => Self::Unknown,
        }
    }
}

impl From<FixAvailability> for kubectl_vllm_core::FixAvailability {
    fn from(f: FixAvailability) -> Self {
        match f {
            FixAvailability::None => Self::None,
            FixAvailability::Sometimes(a) => Self::Sometimes(a.into()),
            FixAvailability::Always(a) => Self::Always(a.into()),
        }
    }
}
