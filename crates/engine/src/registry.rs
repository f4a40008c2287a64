//! The one registry of rules: the engine's, the schema crate's and every loaded policy's. It
//! alone knows which rules exist, what they require and how their findings are treated.

use kubectl_vllm_core::{
    Applicability, FixAvailability, Provider, RuleId, RuleMeta, Severity, unindent_doc,
};

/// Who implements a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The engine itself.
    Host,
    /// Schema validation (`kubectl-vllm-schema`).
    Schema,
    /// A policy component, by name.
    Policy(String),
}

/// A rule as the registry knows it.
// Four independent facts about a rule, each a yes/no: a state machine would be wrong.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone)]
pub struct RuleInfo {
    /// Id.
    pub id: RuleId,
    /// Default severity.
    pub severity: Severity,
    /// Whether findings carry fixes, and how safe.
    pub fix: FixAvailability,
    /// Providers it applies to (empty: all).
    pub providers: Vec<Provider>,
    /// Whether it needs every input of the run.
    pub complete_set: bool,
    /// Who implements it.
    pub origin: Origin,
    /// One line.
    pub summary: String,
    /// Full documentation (Markdown).
    pub documentation: String,
    /// Whether `docs/rules/<id>.md` documents it (the engine's, the schema crate's and the
    /// embedded policies' rules).
    pub documented: bool,
    /// Whether its findings can be selected away, re-levelled, ignored or baselined (input and
    /// policy errors cannot).
    pub suppressible: bool,
    /// Whether suppression annotations silence it.
    pub silenced_by_annotations: bool,
}

impl RuleInfo {
    /// The entry of a rule declared in this program.
    #[must_use]
    pub fn of<T: RuleMeta>(origin: Origin) -> Self {
        Self {
            id: RuleId::from_static(T::ID),
            severity: T::SEVERITY,
            fix: T::FIX,
            providers: T::PROVIDERS.to_vec(),
            complete_set: T::COMPLETE_SET,
            origin,
            summary: T::SUMMARY.to_string(),
            documentation: unindent_doc(T::DOC),
            documented: true,
            suppressible: true,
            silenced_by_annotations: true,
        }
    }

    /// The entries of a loaded policy's rules, from its metadata.
    #[must_use]
    pub fn of_policy(policy: &kubectl_vllm_host::Policy) -> Vec<Self> {
        let builtin = kubectl_vllm_builtin::POLICIES
            .iter()
            .any(|b| b.name == policy.name());
        policy
            .info
            .rules
            .iter()
            .map(|rule| Self {
                id: RuleId::new(rule.id.clone()),
                severity: rule.default_severity.into(),
                fix: rule.fix.into(),
                providers: rule
                    .requires
                    .providers
                    .iter()
                    .map(|p| Provider::from(*p))
                    .collect(),
                complete_set: rule.requires.complete_set,
                origin: Origin::Policy(policy.name().to_string()),
                summary: rule.summary.clone(),
                documentation: rule.documentation.clone(),
                documented: builtin,
                suppressible: true,
                silenced_by_annotations: true,
            })
            .collect()
    }

    /// The rule's page: what `kubectl vllm explain` prints and `docs/rules/<id>.md` holds.
    #[must_use]
    pub fn page(&self) -> String {
        format!("# {}\n\n{}", self.id, self.documentation)
    }

    /// The policy that implements it (`None` for the engine's and the schema crate's).
    #[must_use]
    pub fn policy(&self) -> Option<&str> {
        match &self.origin {
            Origin::Policy(name) => Some(name),
            Origin::Host | Origin::Schema => None,
        }
    }

    /// Whether the rule runs in a run targeting `provider` whose inputs all loaded (`complete`):
    /// a provider-specific rule runs under its providers, and under an unknown provider only to
    /// say it skipped; a rule that concludes an object is missing needs every input.
    #[must_use]
    pub fn runs(&self, provider: Provider, complete: bool) -> bool {
        let provider_ok = self.providers.is_empty()
            || provider == Provider::Unknown
            || self.providers.contains(&provider);
        provider_ok && (complete || !self.complete_set)
    }

    /// The declared fix applicability, when the rule has fixes.
    #[must_use]
    pub fn applicability(&self) -> Option<Applicability> {
        self.fix.applicability()
    }
}

/// `kubectl vllm rules -o json`'s row.
impl serde::Serialize for RuleInfo {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut row = serializer.serialize_struct("Rule", 6)?;
        row.serialize_field("id", &self.id)?;
        row.serialize_field("severity", &self.severity)?;
        row.serialize_field("fix", self.fix.as_str())?;
        row.serialize_field("applicability", &self.applicability())?;
        row.serialize_field("policy", &self.policy())?;
        row.serialize_field("summary", &self.summary)?;
        row.end()
    }
}

/// Every rule of a run, sorted by id.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    rules: Vec<RuleInfo>,
}

impl Registry {
    /// The registry of `rules`.
    #[must_use]
    pub fn new(mut rules: Vec<RuleInfo>) -> Self {
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        Self { rules }
    }

    /// The rule `id`.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&RuleInfo> {
        self.rules
            .binary_search_by(|r| r.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.rules[i])
    }

    /// Every rule, by id.
    pub fn iter(&self) -> impl Iterator<Item = &RuleInfo> {
        self.rules.iter()
    }

    /// The ids of `policy`'s rules to run: those `enabled` accepts that [`RuleInfo::runs`].
    #[must_use]
    pub fn runnable(
        &self,
        policy: &str,
        provider: Provider,
        complete: bool,
        enabled: impl Fn(&str) -> bool,
    ) -> Vec<String> {
        self.rules
            .iter()
            .filter(|r| r.policy() == Some(policy))
            .filter(|r| enabled(r.id.as_str()) && r.runs(provider, complete))
            .map(|r| r.id.to_string())
            .collect()
    }

    /// Whether `id` is a rule whose findings always count (input and policy errors).
    #[must_use]
    pub fn unsuppressible(&self, id: &str) -> bool {
        self.get(id).is_some_and(|r| !r.suppressible)
    }

    /// Whether suppression annotations may silence `id`.
    #[must_use]
    pub fn silenced_by_annotations(&self, id: &str) -> bool {
        self.get(id).is_none_or(|r| r.silenced_by_annotations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    kubectl_vllm_core::declare_rule! {
        /// ## What it does
        /// Nothing: a rule for these tests.
        struct Example {
            id: "example",
            severity: Info,
            fix: None,
            summary: "an example",
        }
    }

    fn rule(providers: Vec<Provider>, complete_set: bool) -> RuleInfo {
        RuleInfo {
            providers,
            complete_set,
            ..RuleInfo::of::<Example>(Origin::Policy("p".into()))
        }
    }

    #[test]
    fn requirements_decide_what_runs() {
        let gke = rule(vec![Provider::Gke], false);
        assert!(gke.runs(Provider::Gke, true));
        assert!(gke.runs(Provider::Unknown, true), "to say it skipped");
        assert!(!gke.runs(Provider::Eks, true));
        assert!(!gke.runs(Provider::Generic, true));
        let whole = rule(Vec::new(), true);
        assert!(whole.runs(Provider::Eks, true));
        assert!(!whole.runs(Provider::Eks, false));
        let registry = Registry::new(vec![gke, whole]);
        assert_eq!(
            registry.runnable("p", Provider::Eks, true, |_| true),
            ["example"]
        );
        assert!(
            registry
                .runnable("other", Provider::Gke, true, |_| true)
                .is_empty()
        );
    }
}
