//! The component boundary: [`kubectl_vllm_core`]'s types to and from the WIT contract's generated
//! ones. Rules never see the generated enums.

use kubectl_vllm_core::{Applicability, FixAvailability, Provider, Severity};

use crate::wit;

pub(crate) const fn severity(s: Severity) -> wit::Severity {
    match s {
        Severity::Error => wit::Severity::Error,
        Severity::Warning => wit::Severity::Warning,
        Severity::Info => wit::Severity::Info,
    }
}

pub(crate) const fn applicability(a: Applicability) -> wit::Applicability {
    match a {
        Applicability::Safe => wit::Applicability::Safe,
        Applicability::Unsafe => wit::Applicability::Unsafe,
        Applicability::DisplayOnly => wit::Applicability::DisplayOnly,
    }
}

pub(crate) const fn fix_availability(f: FixAvailability) -> wit::FixAvailability {
    match f {
        FixAvailability::None => wit::FixAvailability::None,
        FixAvailability::Sometimes(a) => wit::FixAvailability::Sometimes(applicability(a)),
        FixAvailability::Always(a) => wit::FixAvailability::Always(applicability(a)),
    }
}

pub(crate) const fn provider(p: Provider) -> wit::Provider {
    match p {
        Provider::Gke => wit::Provider::Gke,
        Provider::Eks => wit::Provider::Eks,
        Provider::Aks => wit::Provider::Aks,
        Provider::Openshift => wit::Provider::Openshift,
        Provider::Generic => wit::Provider::Generic,
        Provider::Unknown => wit::Provider::Unknown,
    }
}

pub(crate) const fn from_wit_provider(p: wit::Provider) -> Provider {
    match p {
        wit::Provider::Gke => Provider::Gke,
        wit::Provider::Eks => Provider::Eks,
        wit::Provider::Aks => Provider::Aks,
        wit::Provider::Openshift => Provider::Openshift,
        wit::Provider::Generic => Provider::Generic,
        wit::Provider::Unknown => Provider::Unknown,
    }
}
