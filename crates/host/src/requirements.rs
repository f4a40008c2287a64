//! What a rule requires of a run (providers, a complete input set), and whether a run meets it.

use crate::bindings::kubectl_vllm::policy::types::{Requirements, RuleInfo};
use crate::imports;
use crate::provider::Provider;

/// What a run offers the rules: which provider it targets and whether the input set is whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunFacts {
    /// The resolved provider.
    pub provider: Provider,
    /// Every input loaded (no file failed).
    pub complete: bool,
}

/// Whether a rule's requirements hold for a run (product.md: a provider-specific rule runs under
/// its providers, and under an unknown provider only to say it skipped).
#[must_use]
pub fn requirements_met(requires: &Requirements, run: RunFacts) -> bool {
    let provider_ok = requires.providers.is_empty()
        || run.provider == Provider::Unknown
        || requires
            .providers
            .iter()
            .any(|p| imports::provider(run.provider) == *p);
    provider_ok && (run.complete || !requires.complete_set)
}

/// Whether a rule is provider-specific.
#[must_use]
pub fn provider_specific(rule: &RuleInfo) -> bool {
    !rule.requires.providers.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings;

    #[test]
    fn requirements_for_providers_and_complete_sets() {
        let requires = |providers, complete_set| Requirements {
            providers,
            complete_set,
        };
        let gke = requires(
            vec![bindings::kubectl_vllm::policy::types::Provider::Gke],
            false,
        );
        let run = |provider, complete| RunFacts { provider, complete };
        assert!(requirements_met(&gke, run(Provider::Gke, true)));
        assert!(requirements_met(&gke, run(Provider::Unknown, true)));
        assert!(!requirements_met(&gke, run(Provider::Eks, true)));
        assert!(!requirements_met(&gke, run(Provider::Generic, true)));
        let whole = requires(vec![], true);
        assert!(requirements_met(&whole, run(Provider::Eks, true)));
        assert!(!requirements_met(&whole, run(Provider::Eks, false)));
    }
}
