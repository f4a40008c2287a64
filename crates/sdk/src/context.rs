//! What a rule sees ([`Context`]): the object, its identity and the host, and the questions rules
//! ask of them. [`Context::gpu_checked`] and [`Context::accelerator`] are defined with the
//! accelerator selection they answer from, which takes a context.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::Value;

use crate::boundary;
use crate::env::Env;
use crate::findings::{Findings, Location};
use crate::k8s::{self, PodSpec};
use crate::vllm::{self, FlagValue};
use crate::{Model, ObjectRef, Pointer, Provider, SkipReason};

/// What a rule sees: the object, its identity and the host.
pub struct Context<'a> {
    /// The object as JSON.
    pub object: &'a Value,
    /// Which object it is.
    pub reference: &'a ObjectRef,
    /// The host.
    pub env: &'a dyn Env,
    /// The servers of each pod spec of the object, read once per evaluation for all rules.
    servers: RefCell<Vec<SpecServers>>,
    /// What [`Context::memo`] keeps.
    memos: RefCell<Memos>,
}

/// Answers of a policy's own helpers, by answer type and key.
type Memos = std::collections::HashMap<(std::any::TypeId, String), Rc<dyn std::any::Any>>;

/// One pod spec's vLLM servers (without their containers, which borrow the spec) and the
/// containers that look like vLLM but could not be read.
struct SpecServers {
    spec: Pointer,
    servers: Vec<(Pointer, Rc<vllm::Invocation>, Rc<vllm::Vars>, bool)>,
    unparsed: Vec<vllm::Unparsed>,
}

impl<'a> Context<'a> {
    /// The context of one evaluation.
    #[must_use]
    pub fn new(object: &'a Value, reference: &'a ObjectRef, env: &'a dyn Env) -> Self {
        Self {
            object,
            reference,
            env,
            servers: RefCell::new(Vec::new()),
            memos: RefCell::default(),
        }
    }

    /// `compute`'s answer for `key`, computed once per evaluation however many rules ask: for a
    /// policy's helpers that several of its rules call with the same question (the workloads
    /// that mount a claim, say). The key and the answer's type together name the question.
    pub fn memo<T: 'static>(&self, key: &str, compute: impl FnOnce() -> T) -> Rc<T> {
        let id = (std::any::TypeId::of::<T>(), key.to_string());
        let hit = self.memos.borrow().get(&id).cloned();
        if let Some(answer) = hit.and_then(|a| a.downcast::<T>().ok()) {
            return answer;
        }
        // Not borrowed while computing: `compute` may ask other memos.
        let answer = Rc::new(compute());
        self.memos
            .borrow_mut()
            .insert(id, Rc::clone(&answer) as Rc<dyn std::any::Any>);
        answer
    }

    /// [`vllm::servers_and_unparsed`] of `spec`, read once per pod spec of this object however
    /// many rules ask (a spec from another object is read every time).
    fn servers_of<'s>(&self, spec: &PodSpec<'s>) -> (Vec<vllm::Server<'s>>, Vec<vllm::Unparsed>) {
        let own = self
            .object
            .pointer(spec.pointer.as_str())
            .is_some_and(|v| std::ptr::eq(v, spec.spec));
        if !own {
            return vllm::servers_and_unparsed(spec, self.env, self.namespace());
        }
        if let Some(cached) = self
            .servers
            .borrow()
            .iter()
            .find(|c| c.spec == spec.pointer)
        {
            let containers = spec.app_containers();
            let servers: Option<Vec<vllm::Server<'s>>> = cached
                .servers
                .iter()
                .map(|(at, invocation, vars, partial)| {
                    let container = containers.iter().find(|c| c.pointer == *at)?.clone();
                    Some(vllm::Server {
                        container,
                        invocation: Rc::clone(invocation),
                        vars: Rc::clone(vars),
                        partial: *partial,
                    })
                })
                .collect();
            if let Some(servers) = servers {
                return (servers, cached.unparsed.clone());
            }
        }
        let (servers, unparsed) = vllm::servers_and_unparsed(spec, self.env, self.namespace());
        self.servers.borrow_mut().push(SpecServers {
            spec: spec.pointer.clone(),
            servers: servers
                .iter()
                .map(|s| {
                    let at = s.container.pointer.clone();
                    (at, Rc::clone(&s.invocation), Rc::clone(&s.vars), s.partial)
                })
                .collect(),
            unparsed: unparsed.clone(),
        });
        (servers, unparsed)
    }
    /// The object's kind.
    #[must_use]
    pub fn kind(&self) -> &str {
        &self.reference.kind
    }

    /// The object's namespace.
    #[must_use]
    pub fn namespace(&self) -> Option<&str> {
        self.reference.namespace.as_deref()
    }

    /// The object's `metadata.name` (empty when unset).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.reference.name
    }

    /// Every pod template of the object (a Deployment's, both of a LeaderWorkerSet, each group
    /// of a RayCluster, a KServe predictor...).
    #[must_use]
    pub fn pod_specs(&self) -> Vec<PodSpec<'_>> {
        k8s::pod_specs(self.kind(), self.object)
    }

    /// The pod spec of a plain workload (Pod, Deployment, StatefulSet, Job, ...), if this is one.
    #[must_use]
    pub fn pod_spec(&self) -> Option<PodSpec<'_>> {
        k8s::pod_spec(self.kind(), self.object)
    }

    /// The run's provider.
    #[must_use]
    pub fn provider(&self) -> Provider {
        boundary::from_wit_provider(self.env.profile().provider)
    }

    /// Whether the run targets GKE.
    #[must_use]
    pub fn is_gke(&self) -> bool {
        self.provider() == Provider::Gke
    }

    /// For a provider-specific rule, at the point where it would check: whether the provider
    /// is known. The host runs such a rule only under its providers or an unknown one; under an
    /// unknown provider this records `skipped(provider-unknown)` at `at` and answers `false`.
    pub fn check_provider(&self, out: &mut Findings, at: &Pointer) -> bool {
        if self.provider() == Provider::Unknown {
            out.skip(SkipReason::ProviderUnknown, at);
            return false;
        }
        true
    }

    /// Whether the cluster is GKE Autopilot.
    #[must_use]
    pub fn is_autopilot(&self) -> bool {
        self.is_gke() && self.env.profile().autopilot
    }

    /// The vLLM server containers of a pod spec of this object.
    #[must_use]
    pub fn servers<'s>(&self, spec: &PodSpec<'s>) -> Vec<vllm::Server<'s>> {
        self.servers_of(spec).0
    }

    /// The vLLM server containers of a pod spec, for a rule that checks servers: a container
    /// that looks like vLLM but whose command line cannot be read is recorded as skipped
    /// (`unparsed`) for the current rule, so the run says which checks did not see it.
    pub fn servers_checked<'s>(
        &self,
        spec: &PodSpec<'s>,
        out: &mut Findings,
    ) -> Vec<vllm::Server<'s>> {
        let (servers, unparsed) = self.servers_of(spec);
        for u in unparsed {
            out.skip(SkipReason::Unparsed(u.why), &u.pointer);
        }
        servers
    }

    /// The servers of [`Self::servers_checked`] whose whole command line, environment and
    /// resources the manifest shows, for a rule that concludes from an absence (no probe, no
    /// /dev/shm, no request): a KServe model completed by its ServingRuntime, a ServingRuntime's
    /// defaults and an LLMInferenceService's containers (merged with KServe's presets) are left
    /// out.
    pub fn complete_servers<'s>(
        &self,
        spec: &PodSpec<'s>,
        out: &mut Findings,
    ) -> Vec<vllm::Server<'s>> {
        let mut servers = self.servers_checked(spec, out);
        servers.retain(|s| !s.partial);
        servers
    }

    /// The model fact for a model reference (a Hugging Face id, or a path whose last component
    /// is an alias), for a rule that can do without it.
    #[must_use]
    pub fn model(&self, reference: &str) -> Option<Model> {
        vllm::model_fact(self.env, reference)
    }

    /// The model fact for a model reference, for a rule that needs it. When the fact table does
    /// not know the model, records `skipped(model-unknown)` for the current rule at `at` (a field,
    /// or the command-line word that names the model) and answers `None`.
    pub fn model_checked(
        &self,
        reference: &str,
        at: impl Into<Location>,
        out: &mut Findings,
    ) -> Option<Model> {
        let found = self.model(reference);
        if found.is_none() {
            out.skip_at(SkipReason::ModelUnknown(reference.to_string()), &at.into());
        }
        found
    }
}

// The server questions that need the context (its fact table, the current rule): defined here,
// with the context that already asks `vllm` for its servers (`vllm` does not depend on it).
impl vllm::Server<'_> {
    /// The model reference and its facts (when the fact table knows it), for a rule that can do
    /// without them ([`Context::model`]).
    #[must_use]
    pub fn model_fact(&self, cx: &Context) -> Option<(FlagValue, Option<Model>)> {
        let model = self.model()?;
        let fact = model.value.as_deref().and_then(|v| cx.model(v));
        Some((model, fact))
    }

    /// The model reference and its facts, for a rule that needs them. When the reference cannot
    /// be read (`--model=$(MODEL)` from a ConfigMap outside the set) it records
    /// `skipped(unparsed)`, and when the fact table lacks the model `skipped(model-unknown)`
    /// ([`Context::model_checked`]), for the current rule at the model; both answer `None`.
    pub fn known_model(&self, cx: &Context, out: &mut Findings) -> Option<(FlagValue, Model)> {
        let reference = self.model()?;
        let Some(name) = reference.value.as_deref() else {
            self.skip_unknown(out, &reference);
            return None;
        };
        let model = cx.model_checked(name, &reference.at, out)?;
        Some((reference, model))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Outcome, SubSpan, testing};
    use serde_json::json;

    /// A Pod with a vLLM server, and a vLLM image whose script cannot be read.
    fn pod() -> Value {
        json!({"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "server", "image": "vllm/vllm-openai:v0.10.1", "command": ["vllm", "serve", "m"]},
            {"name": "script", "image": "vllm/vllm-openai:v0.10.1", "command": ["bash", "/start.sh"]},
        ]}})
    }

    fn pod_reference() -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: None,
            name: "p".into(),
        }
    }

    /// A helper's answer is computed once per evaluation and key; the answer's type is part of
    /// the question; a memo may ask another while it computes.
    #[test]
    fn memo_computes_each_question_once_per_evaluation() {
        let (object, reference, env) = (pod(), pod_reference(), testing::FakeEnv::default());
        let cx = Context::new(&object, &reference, &env);
        let calls = std::cell::Cell::new(0);
        let ask = |key: &str| {
            cx.memo(key, || {
                calls.set(calls.get() + 1);
                format!("answer to {key}")
            })
        };
        assert_eq!(*ask("claim-a"), "answer to claim-a");
        assert_eq!(*ask("claim-a"), "answer to claim-a");
        assert_eq!(*ask("claim-b"), "answer to claim-b");
        assert_eq!(calls.get(), 2);
        // Same key, another type: another question.
        assert_eq!(*cx.memo("claim-a", || 7_u32), 7);
        let nested = cx.memo("outer", || *cx.memo("inner", || 1_u8) + 1);
        assert_eq!((*nested, *cx.memo("inner", || 0_u8)), (2, 1));
        // A new evaluation starts empty.
        let next = Context::new(&object, &reference, &env);
        assert_eq!(*next.memo("claim-a", || String::from("fresh")), "fresh");
    }

    #[test]
    fn model_checked_records_the_unknown_model_at_its_word() {
        let (object, reference, env) = (pod(), pod_reference(), testing::FakeEnv::default());
        let cx = Context::new(&object, &reference, &env);
        assert_eq!(cx.name(), "p");
        let word = vllm::Word {
            text: "org/model".into(),
            pointer: Pointer::from_path("/spec/containers/0/args/0"),
            chars: Some((6, 15)),
            external: false,
        };
        let mut out = Findings::default();
        assert!(cx.model_checked("org/model", &word, &mut out).is_none());
        let outcomes = out.into_vec();
        let [Outcome::Skipped(skip)] = outcomes.as_slice() else {
            panic!("one skip")
        };
        assert_eq!(skip.reason, SkipReason::ModelUnknown("org/model".into()));
        assert_eq!(skip.pointer, "/spec/containers/0/args/0");
        assert_eq!(skip.sub_span, Some(SubSpan { start: 6, end: 15 }));
    }
}
