//! The rule hooks and how a policy runs them: [`Rule`]'s three levels, the [`Servers`] a rule
//! checks, and the [`DynRule`] records [`policy!`](crate::policy!) stores, run by [`evaluate`].

use serde_json::Value;

use crate::boundary;
use crate::context::Context;
use crate::env::{CachedEnv, Env};
use crate::findings::Findings;
use crate::k8s::PodSpec;
use crate::vllm;
use crate::{Evaluation, Outcome, PolicyInfo, Requirements, RuleInfo, RuleMeta, unindent_doc};

/// A rule: looks at one object and reports findings.
///
/// Three hooks, one per level of the object, each with a default that walks to the next (see the
/// [crate documentation](crate)): a rule implements the one it works on, and what it overrides is
/// all that runs. Only the default [`Self::check_pod_spec`] reads vLLM servers, so a rule that
/// overrides it or [`Self::check_object`] never parses a command line, nor records it unreadable,
/// unless it asks to.
pub trait Rule {
    /// The kinds of object the rule looks at: the host's objects of other kinds are not parsed
    /// for it. The default, [`Kinds::PodTemplates`], is what the default [`Self::check_object`]
    /// reaches; a rule that overrides it for a PVC, a Service or a StorageClass names them.
    const KINDS: Kinds = Kinds::PodTemplates;

    /// The servers of each pod spec the default [`Self::check_pod_spec`] hands to
    /// [`Self::check_server`]: [`Servers::Checked`] unless the rule concludes from an absence.
    const SERVERS: Servers = Servers::Checked;

    /// Checks the object in `cx`. The default runs [`Self::check_pod_spec`] on each of the
    /// object's pod templates ([`Context::pod_specs`]), in order; override it for a rule about
    /// the whole object (a PVC, a Service, a StorageClass).
    fn check_object(&self, cx: &Context, out: &mut Findings) {
        for spec in cx.pod_specs() {
            self.check_pod_spec(cx, &spec, out);
        }
    }

    /// Checks one pod template of the object. The default runs [`Self::check_server`] on each
    /// of its vLLM servers of [`Self::SERVERS`], in order.
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        for server in Self::SERVERS.of(cx, spec, out) {
            self.check_server(cx, spec, &server, out);
        }
    }

    /// Checks one vLLM server container of the pod template `spec`. The default does nothing.
    fn check_server(
        &self,
        cx: &Context,
        spec: &PodSpec<'_>,
        server: &vllm::Server<'_>,
        out: &mut Findings,
    ) {
        let _ = (cx, spec, server, out);
    }
}

/// Which objects a rule looks at ([`Rule::KINDS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kinds {
    /// Objects that hold pod templates ([`k8s::holds_pod_templates`]: Deployment, Job, Pod,
    /// LeaderWorkerSet, KServe and Ray kinds…).
    PodTemplates,
    /// Objects of these kinds only.
    Only(&'static [&'static str]),
    /// Objects that hold pod templates, and objects of these kinds.
    PodTemplatesAnd(&'static [&'static str]),
}

impl Kinds {
    /// Whether an object of `kind` is one of these.
    #[must_use]
    pub fn contains(self, kind: &str) -> bool {
        match self {
            Self::PodTemplates => crate::k8s::holds_pod_templates(kind),
            Self::Only(kinds) => kinds.contains(&kind),
            Self::PodTemplatesAnd(kinds) => {
                kinds.contains(&kind) || crate::k8s::holds_pod_templates(kind)
            }
        }
    }
}

/// Which vLLM servers of a pod spec a rule checks ([`Rule::SERVERS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Servers {
    /// Every server, for a rule that checks what is written ([`Context::servers_checked`]): a
    /// container that looks like vLLM but whose command line cannot be read is recorded as
    /// skipped (`unparsed`) for the rule.
    Checked,
    /// The servers whose whole command line, environment and resources the manifest shows, for a
    /// rule that concludes from an absence: no probe, no /dev/shm, no request
    /// ([`Context::complete_servers`]).
    Complete,
}

impl Servers {
    /// These servers of `spec`, recording the unreadable ones for the current rule.
    pub fn of<'s>(
        self,
        cx: &Context,
        spec: &PodSpec<'s>,
        out: &mut Findings,
    ) -> Vec<vllm::Server<'s>> {
        match self {
            Self::Checked => cx.servers_checked(spec, out),
            Self::Complete => cx.complete_servers(spec, out),
        }
    }
}

/// A rule together with its metadata, as [`policy!`](crate::policy!) stores them.
pub trait DynRule {
    /// The metadata as the contract's record.
    fn info(&self) -> RuleInfo;
    /// The rule id.
    fn id(&self) -> &'static str;
    /// Whether the rule looks at objects of `kind` ([`Rule::KINDS`]).
    fn looks_at(&self, kind: &str) -> bool;
    /// Runs the rule.
    fn run(&self, cx: &Context, out: &mut Findings);
}

impl<T: Rule + RuleMeta> DynRule for T {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: T::ID.into(),
            default_severity: boundary::severity(T::SEVERITY),
            fix: boundary::fix_availability(T::FIX),
            requires: Requirements {
                providers: T::PROVIDERS
                    .iter()
                    .copied()
                    .map(boundary::provider)
                    .collect(),
                complete_set: T::COMPLETE_SET,
            },
            summary: T::SUMMARY.into(),
            documentation: unindent_doc(T::DOC),
        }
    }

    fn id(&self) -> &'static str {
        T::ID
    }

    fn looks_at(&self, kind: &str) -> bool {
        T::KINDS.contains(kind)
    }

    fn run(&self, cx: &Context, out: &mut Findings) {
        out.current = T::ID;
        out.fix_applicability = T::FIX.applicability();
        self.check_object(cx, out);
    }
}

/// Builds the policy's metadata record.
#[must_use]
pub fn policy_info(name: &str, version: &str, rules: &[&(dyn DynRule + Sync)]) -> PolicyInfo {
    PolicyInfo {
        name: name.into(),
        version: version.into(),
        rules: rules.iter().map(|r| r.info()).collect(),
    }
}

/// Parses the object and runs the rules the host asked for on it; an object that none of them
/// looks at ([`Rule::KINDS`]) is not parsed.
pub fn evaluate(
    rules: &[&(dyn DynRule + Sync)],
    env: &dyn Env,
    input: &Evaluation,
) -> Result<Vec<Outcome>, String> {
    let kind = input.object_ref.kind.as_str();
    let selected: Vec<&(dyn DynRule + Sync)> = rules
        .iter()
        .copied()
        .filter(|rule| rule.looks_at(kind) && input.rules.iter().any(|r| r == rule.id()))
        .collect();
    if selected.is_empty() {
        return Ok(Vec::new());
    }
    let object: Value = serde_json::from_str(&input.object)
        .map_err(|e| format!("the host sent an object that is not JSON: {e}"))?;
    // Rules ask the host the same questions (the profile, a model, an accelerator): answer each
    // once per evaluation instead of crossing the component boundary every time.
    let env = CachedEnv::new(env);
    let cx = Context::new(&object, &input.object_ref, &env);
    let mut out = Findings::default();
    for rule in selected {
        rule.run(&cx, &mut out);
    }
    Ok(out.items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ObjectRef, testing};
    use serde_json::json;

    /// Records which servers a rule's `check_server` saw, by container name.
    struct Seen<const COMPLETE: bool>;

    impl<const COMPLETE: bool> Rule for Seen<COMPLETE> {
        const SERVERS: Servers = if COMPLETE {
            Servers::Complete
        } else {
            Servers::Checked
        };

        fn check_server(
            &self,
            _cx: &Context,
            _spec: &PodSpec<'_>,
            server: &vllm::Server<'_>,
            out: &mut Findings,
        ) {
            out.report(&server.container.pointer, server.container.name());
        }
    }

    /// Looks at pod specs only.
    struct PodLevel;

    impl Rule for PodLevel {
        fn check_pod_spec(&self, _cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
            out.report(&spec.at(), "pod");
        }
    }

    fn run(rule: &impl Rule, object: &Value) -> Vec<(String, String)> {
        let reference = ObjectRef {
            api_version: "v1".into(),
            kind: object["kind"].as_str().unwrap().into(),
            namespace: Some("default".into()),
            name: object["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .into(),
        };
        let env = testing::FakeEnv::default();
        let cx = Context::new(object, &reference, &env);
        let mut out = Findings::default();
        rule.check_object(&cx, &mut out);
        out.into_vec()
            .into_iter()
            .map(|o| match o {
                Outcome::Finding(f) => (f.pointer, f.message),
                Outcome::Skipped(s) => (s.pointer, format!("skipped {:?}", s.reason)),
            })
            .collect()
    }

    /// A Pod with a vLLM server, and a vLLM image whose script cannot be read.
    fn pod() -> Value {
        json!({"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "server", "image": "vllm/vllm-openai:v0.10.1", "command": ["vllm", "serve", "m"]},
            {"name": "script", "image": "vllm/vllm-openai:v0.10.1", "command": ["bash", "/start.sh"]},
        ]}})
    }

    #[test]
    fn the_default_walk_records_unreadable_servers_for_a_server_rule() {
        let seen = run(&Seen::<false>, &pod());
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0].0, "/spec/containers/1");
        assert!(seen[0].1.contains("Unparsed"), "{seen:?}");
        assert_eq!(
            seen[1],
            ("/spec/containers/0".to_string(), "server".to_string())
        );
    }

    #[test]
    fn a_pod_spec_rule_parses_no_server() {
        assert_eq!(run(&PodLevel, &pod()), [("/spec".into(), "pod".into())]);
    }

    #[test]
    fn complete_servers_leave_out_partial_ones() {
        let llm = json!({"kind": "LLMInferenceService", "metadata": {"name": "l"}, "spec": {
            "model": {"uri": "hf://org/model"},
            "template": {"containers": [{"name": "main", "args": ["--max-model-len=8192"]}]},
        }});
        assert_eq!(run(&Seen::<false>, &llm).len(), 1);
        assert!(run(&Seen::<true>, &llm).is_empty());
    }
}
