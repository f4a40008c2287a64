//! Write kubectl-vllm policies in Rust.
//!
//! A policy is a crate of `crate-type = ["cdylib", "rlib"]` built for `wasm32-wasip2`. Each rule is
//! one unit declared with [`declare_rule!`], whose doc comment *is* its documentation (what
//! `kubectl vllm explain` prints), and the crate ends with one [`policy!`] invocation:
//!
//! ```text
//! use kubectl_vllm_sdk::prelude::*;
//!
//! declare_rule! {
//!     /// ## What it does
//!     /// ...
//!     pub struct ProbeMissingReadiness {
//!         id: "probe-missing-readiness",
//!         severity: Warning,
//!         fix: Always(Safe),
//!         // optional: `providers: [Gke],` for a provider-specific rule, `complete_set: true,`
//!         // for a rule that concludes a referenced object is missing
//!         summary: "a vLLM container has no readinessProbe",
//!     }
//! }
//!
//! impl Rule for ProbeMissingReadiness {
//!     // It concludes from an absence (no probe): only servers the manifest shows whole.
//!     const SERVERS: Servers = Servers::Complete;
//!
//!     fn check_server(&self, _cx: &Context, _spec: &PodSpec, server: &Server, out: &mut Findings) {
//!         if server.container.value.get("readinessProbe").is_none() {
//!             out.report(&server.container.pointer, "no readinessProbe");
//!         }
//!     }
//! }
//!
//! kubectl_vllm_sdk::policy!(name: "runtime", rules: [ProbeMissingReadiness]);
//! ```
//!
//! A rule implements the [`Rule`] hook at the level it works on, and the defaults walk down to
//! it: [`Rule::check_object`] (a PVC, a Service, a StorageClass: the whole object) by default
//! runs [`Rule::check_pod_spec`] on every pod template of the object (both of a
//! LeaderWorkerSet, each group of a RayCluster, a KServe predictor...), which by default runs
//! [`Rule::check_server`] on the template's vLLM servers ([`Rule::SERVERS`] says which). A rule
//! that overrides `check_pod_spec` or `check_object` reads only what it asks for.
//!
//! When a fact a check needs is missing, the rule records the contract's `skipped(...)` outcome
//! where it would have checked, through one helper per fact: [`Context::model_checked`] (and
//! [`vllm::Server::known_model`]) for a model the fact table lacks, [`Context::gpu_checked`] for an
//! accelerator, [`Context::check_provider`] for the provider, [`Context::servers_checked`] and
//! [`vllm::Server::skip_unknown`] for a command line or a flag that cannot be read.
//!
//! Rules see the host through [`Env`]: the real host in the component, an in-memory one in native
//! unit tests ([`testing::FakeEnv`]).

pub mod accel;
pub mod k8s;
pub mod pools;
pub mod quantity;
pub mod testing;
pub mod vllm;

mod boundary;

use serde_json::Value;

/// The generated bindings of the WIT contract (`wit/policy.wit`, `kubectl-vllm:policy@0.2.0`).
#[allow(missing_docs, clippy::pedantic, unsafe_code)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/policy.wit",
        world: "policy-world",
        pub_export_macro: true,
        export_macro_name: "export_policy_world",
        default_bindings_module: "kubectl_vllm_sdk::bindings",
        additional_derives: [PartialEq],
    });
}

pub use bindings::exports::kubectl_vllm::policy::policy::Guest;
pub use bindings::kubectl_vllm::policy::cluster::{
    NodePool, Profile, ProviderSource, StorageClass, Taint,
};
pub use bindings::kubectl_vllm::policy::facts::{
    Accelerator, AcceleratorMatch, Image, Model, Vendor,
};
/// The contract's own enums, as the component boundary carries them; rules use the
/// [`kubectl_vllm_core`] types re-exported here, converted at the boundary.
pub use bindings::kubectl_vllm::policy::types as wit;
pub use bindings::kubectl_vllm::policy::types::{
    Evaluation, Finding, Fix, ObjectRef, Outcome, PatchOp, PathValue, PolicyInfo, Requirements,
    RuleInfo, Skip, SkipReason, SubSpan,
};
pub use kubectl_vllm_core::{
    Applicability, FixAvailability, Pointer, Provider, RuleId, RuleMeta, Severity, declare_rule,
    unindent_doc,
};

/// Everything a rule module needs.
pub mod prelude {
    pub use crate::k8s::{self, Container, PodSpec};
    pub use crate::quantity;
    pub use crate::vllm::{self, Server};
    pub use crate::{
        Applicability, Context, Env, FindingBuilder, Findings, FixBuilder, Pointer, Provider, Rule,
        RuleMeta, Servers, Severity, SkipReason, declare_rule,
    };
    pub use serde_json::{Value, json};
}

/// A rule: looks at one object and reports findings.
///
/// Three hooks, one per level of the object, each with a default that walks to the next (see the
/// [crate documentation](crate)): a rule implements the one it works on, and what it overrides is
/// all that runs. Only the default [`Self::check_pod_spec`] reads vLLM servers, so a rule that
/// overrides it or [`Self::check_object`] never parses a command line, nor records it unreadable,
/// unless it asks to.
pub trait Rule {
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

/// A rule together with its metadata, as [`policy!`] stores them.
pub trait DynRule {
    /// The metadata as the contract's record.
    fn info(&self) -> RuleInfo;
    /// The rule id.
    fn id(&self) -> &'static str;
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

    fn run(&self, cx: &Context, out: &mut Findings) {
        out.current = T::ID;
        out.fix_applicability = T::FIX.applicability();
        self.check_object(cx, out);
    }
}

/// Exports a policy made of the given rules.
#[macro_export]
macro_rules! policy {
    (name: $name:literal, rules: [$($rule:expr),* $(,)?] $(,)?) => {
        struct __Policy;

        static __RULES: &[&(dyn $crate::DynRule + Sync)] = &[$(&$rule),*];

        impl $crate::Guest for __Policy {
            fn metadata() -> $crate::PolicyInfo {
                $crate::policy_info($name, env!("CARGO_PKG_VERSION"), __RULES)
            }

            fn evaluate(input: $crate::Evaluation) -> Result<Vec<$crate::Outcome>, String> {
                $crate::evaluate(__RULES, &$crate::HostEnv, &input)
            }
        }

        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        mod __export {
            use super::__Policy;
            $crate::bindings::export_policy_world!(__Policy with_types_in $crate::bindings);
        }

        /// Runs this policy's rules on one object against `env` (for native tests).
        #[allow(dead_code)]
        pub fn evaluate_with(
            env: &dyn $crate::Env,
            input: &$crate::Evaluation,
        ) -> Result<Vec<$crate::Outcome>, String> {
            $crate::evaluate(__RULES, env, input)
        }
    };
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

/// Parses the object and runs the rules the host asked for on it.
pub fn evaluate(
    rules: &[&(dyn DynRule + Sync)],
    env: &dyn Env,
    input: &Evaluation,
) -> Result<Vec<Outcome>, String> {
    let object: Value = serde_json::from_str(&input.object)
        .map_err(|e| format!("the host sent an object that is not JSON: {e}"))?;
    // Rules ask the host the same questions (the profile, a model, an accelerator): answer each
    // once per evaluation instead of crossing the component boundary every time.
    let env = CachedEnv::new(env);
    let cx = Context {
        object: &object,
        reference: &input.object_ref,
        env: &env,
    };
    let mut out = Findings::default();
    for rule in rules {
        if input.rules.iter().any(|r| r == rule.id()) {
            rule.run(&cx, &mut out);
        }
    }
    Ok(out.items)
}

/// What the host offers a policy: lookups into the input set, fact tables and cluster facts.
pub trait Env {
    /// An object of the input set by kind, namespace and name, as JSON.
    fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<Value>;
    /// Objects of `kind` in `namespace` (`None`: all) matching an equality-based label selector.
    /// Shared, because rules of one evaluation ask for the same lists.
    fn list(&self, kind: &str, namespace: Option<&str>, selector: &str) -> Objects;
    /// A model by id or alias.
    fn model(&self, name: &str) -> Option<Model>;
    /// An accelerator by id (the GKE label value where GKE offers it).
    fn accelerator(&self, id: &str) -> Option<Accelerator>;
    /// Every known accelerator.
    fn accelerators(&self) -> Vec<Accelerator>;
    /// The accelerator a node label identifies (GKE, GPU Feature Discovery, Karpenter, machine
    /// types).
    fn find_accelerator(&self, key: &str, value: &str) -> Option<AcceleratorMatch>;
    /// The image table's facts about an image reference.
    fn image(&self, reference: &str) -> Option<Image>;
    /// The cluster profile.
    fn profile(&self) -> Profile;
    /// Known node pools.
    fn node_pools(&self) -> Vec<NodePool>;
    /// StorageClasses known to exist in the cluster (outside the input set).
    fn storage_classes(&self) -> Vec<StorageClass>;
}

/// Objects returned by [`Env::list`].
pub type Objects = std::rc::Rc<Vec<Value>>;

/// `list` arguments: kind, namespace, selector.
type ListKey = (String, Option<String>, String);

/// Memoizes an [`Env`] for one evaluation.
struct CachedEnv<'a> {
    inner: &'a dyn Env,
    profile: std::cell::OnceCell<Profile>,
    node_pools: std::cell::OnceCell<Vec<NodePool>>,
    accelerators: std::cell::OnceCell<Vec<Accelerator>>,
    models: std::cell::RefCell<std::collections::HashMap<String, Option<Model>>>,
    images: std::cell::RefCell<std::collections::HashMap<String, Option<Image>>>,
    lists: std::cell::RefCell<std::collections::HashMap<ListKey, Objects>>,
}

impl<'a> CachedEnv<'a> {
    fn new(inner: &'a dyn Env) -> Self {
        Self {
            inner,
            profile: std::cell::OnceCell::new(),
            node_pools: std::cell::OnceCell::new(),
            accelerators: std::cell::OnceCell::new(),
            models: std::cell::RefCell::default(),
            images: std::cell::RefCell::default(),
            lists: std::cell::RefCell::default(),
        }
    }
}

impl CachedEnv<'_> {
    fn table(&self) -> &[Accelerator] {
        self.accelerators.get_or_init(|| self.inner.accelerators())
    }
}

impl Env for CachedEnv<'_> {
    fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        self.inner.get(kind, namespace, name)
    }

    fn list(&self, kind: &str, namespace: Option<&str>, selector: &str) -> Objects {
        let key = (
            kind.to_string(),
            namespace.map(str::to_string),
            selector.to_string(),
        );
        if let Some(hit) = self.lists.borrow().get(&key) {
            return hit.clone();
        }
        let found = self.inner.list(kind, namespace, selector);
        self.lists.borrow_mut().insert(key, found.clone());
        found
    }

    fn model(&self, name: &str) -> Option<Model> {
        if let Some(hit) = self.models.borrow().get(name) {
            return hit.clone();
        }
        let found = self.inner.model(name);
        self.models
            .borrow_mut()
            .insert(name.to_string(), found.clone());
        found
    }

    fn accelerator(&self, id: &str) -> Option<Accelerator> {
        self.table().iter().find(|a| a.id == id).cloned()
    }

    fn accelerators(&self) -> Vec<Accelerator> {
        self.table().to_vec()
    }

    fn find_accelerator(&self, key: &str, value: &str) -> Option<AcceleratorMatch> {
        self.inner.find_accelerator(key, value)
    }

    fn image(&self, reference: &str) -> Option<Image> {
        if let Some(hit) = self.images.borrow().get(reference) {
            return hit.clone();
        }
        let found = self.inner.image(reference);
        self.images
            .borrow_mut()
            .insert(reference.to_string(), found.clone());
        found
    }

    fn profile(&self) -> Profile {
        *self.profile.get_or_init(|| self.inner.profile())
    }

    fn node_pools(&self) -> Vec<NodePool> {
        self.node_pools
            .get_or_init(|| self.inner.node_pools())
            .clone()
    }

    fn storage_classes(&self) -> Vec<StorageClass> {
        self.inner.storage_classes()
    }
}

/// The real host, through the component's imports.
pub struct HostEnv;

impl Env for HostEnv {
    fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        bindings::kubectl_vllm::policy::inventory::get(kind, namespace, name)
            .and_then(|o| serde_json::from_str(&o.json).ok())
    }

    fn list(&self, kind: &str, namespace: Option<&str>, selector: &str) -> Objects {
        // The contract guarantees an instance never outlives its input set, so the parsed lists
        // can live as long as the instance: each PVC then stops re-parsing every workload.
        thread_local! {
            static LISTS: std::cell::RefCell<std::collections::HashMap<ListKey, Objects>> =
                std::cell::RefCell::default();
        }
        let key = (
            kind.to_string(),
            namespace.map(str::to_string),
            selector.to_string(),
        );
        if let Some(hit) = LISTS.with(|lists| lists.borrow().get(&key).cloned()) {
            return hit;
        }
        let objects = Objects::new(
            bindings::kubectl_vllm::policy::inventory::list(kind, namespace, selector)
                .into_iter()
                .filter_map(|o| serde_json::from_str(&o.json).ok())
                .collect(),
        );
        LISTS.with(|lists| lists.borrow_mut().insert(key, Objects::clone(&objects)));
        objects
    }

    fn model(&self, name: &str) -> Option<Model> {
        bindings::kubectl_vllm::policy::facts::get_model(name)
    }

    fn accelerator(&self, id: &str) -> Option<Accelerator> {
        bindings::kubectl_vllm::policy::facts::get_accelerator(id)
    }

    fn accelerators(&self) -> Vec<Accelerator> {
        bindings::kubectl_vllm::policy::facts::list_accelerators()
    }

    fn find_accelerator(&self, key: &str, value: &str) -> Option<AcceleratorMatch> {
        bindings::kubectl_vllm::policy::facts::find_accelerator(key, value)
    }

    fn image(&self, reference: &str) -> Option<Image> {
        bindings::kubectl_vllm::policy::facts::find_image(reference)
    }

    fn profile(&self) -> Profile {
        bindings::kubectl_vllm::policy::cluster::get_profile()
    }

    fn node_pools(&self) -> Vec<NodePool> {
        bindings::kubectl_vllm::policy::cluster::list_node_pools()
    }

    fn storage_classes(&self) -> Vec<StorageClass> {
        bindings::kubectl_vllm::policy::cluster::list_storage_classes()
    }
}

/// What a rule sees: the object, its identity and the host.
pub struct Context<'a> {
    /// The object as JSON.
    pub object: &'a Value,
    /// Which object it is.
    pub reference: &'a ObjectRef,
    /// The host.
    pub env: &'a dyn Env,
}

impl Context<'_> {
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
        vllm::servers(spec, self.env, self.namespace())
    }

    /// The vLLM server containers of a pod spec, for a rule that checks servers: a container
    /// that looks like vLLM but whose command line cannot be read is recorded as skipped
    /// (`unparsed`) for the current rule, so the run says which checks did not see it.
    pub fn servers_checked<'s>(
        &self,
        spec: &PodSpec<'s>,
        out: &mut Findings,
    ) -> Vec<vllm::Server<'s>> {
        let (servers, unparsed) = vllm::servers_and_unparsed(spec, self.env, self.namespace());
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

    /// The NVIDIA GPU a pod runs on, with how it was selected, for a rule that needs its facts.
    /// When no node label, pool or MIG request names a model the table knows, records
    /// `skipped(accelerator-unknown)` for the current rule and answers `None`. Pods that request
    /// no NVIDIA device are not checked (other vendors' devices have their own rules).
    pub fn gpu_checked(
        &self,
        spec: &PodSpec,
        out: &mut Findings,
    ) -> Option<(accel::Selection, Accelerator)> {
        if !spec.containers().iter().any(|c| c.nvidia_devices() > 0) {
            return None;
        }
        let Some(selection) = self.accelerator(spec) else {
            out.skip(
                SkipReason::AcceleratorUnknown(
                    "no node label, node pool or MIG request names a GPU model of the table".into(),
                ),
                &spec.at(),
            );
            return None;
        };
        if let Some(gpu) = selection.accelerator.clone() {
            Some((selection, gpu))
        } else {
            out.skip(
                SkipReason::AcceleratorUnknown(selection.how()),
                &selection.at,
            );
            None
        }
    }

    /// The accelerator a pod spec selects, by node label, node pool or MIG resource.
    #[must_use]
    pub fn accelerator(&self, spec: &PodSpec) -> Option<accel::Selection> {
        accel::select(self, spec)
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

/// Where a rule records an outcome: a field, narrowed to characters of its scalar for a word of
/// a shell script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The field.
    pub pointer: Pointer,
    /// Characters `start..end` of the scalar at `pointer`, when only they are meant.
    pub sub_span: Option<(usize, usize)>,
}

impl From<&Pointer> for Location {
    fn from(pointer: &Pointer) -> Self {
        Self {
            pointer: pointer.clone(),
            sub_span: None,
        }
    }
}

impl From<&vllm::Word> for Location {
    fn from(word: &vllm::Word) -> Self {
        Self {
            pointer: word.pointer.clone(),
            sub_span: word.chars,
        }
    }
}

pub use k8s::{Container, PodSpec};

/// Outcomes of one evaluation: findings and skipped checks.
#[derive(Default)]
pub struct Findings {
    items: Vec<Outcome>,
    current: &'static str,
    /// The current rule's declared fix applicability (`None`: the rule declares no fix).
    fix_applicability: Option<Applicability>,
}

impl Findings {
    /// Starts a finding of the current rule at `pointer`.
    pub fn report(&mut self, pointer: &Pointer, message: impl Into<String>) -> FindingBuilder<'_> {
        let applicability = self.fix_applicability;
        self.items.push(Outcome::Finding(Finding {
            rule: self.current.to_string(),
            message: message.into(),
            help: None,
            pointer: pointer.as_str().to_string(),
            severity: None,
            sub_span: None,
            fix: None,
        }));
        let Some(Outcome::Finding(finding)) = self.items.last_mut() else {
            unreachable!("just pushed")
        };
        FindingBuilder {
            finding,
            applicability,
        }
    }

    /// Records that the current rule skipped its check at `pointer`, and why (the host reports
    /// each skipped check once however often it is recorded).
    pub fn skip(&mut self, reason: SkipReason, pointer: &Pointer) -> SkipBuilder<'_> {
        self.items.push(Outcome::Skipped(Skip {
            rule: self.current.to_string(),
            reason,
            pointer: pointer.as_str().to_string(),
            sub_span: None,
        }));
        let Some(Outcome::Skipped(skip)) = self.items.last_mut() else {
            unreachable!("just pushed")
        };
        SkipBuilder { skip }
    }

    /// [`Self::skip`] at a location that may be narrowed to part of its scalar.
    pub(crate) fn skip_at(&mut self, reason: SkipReason, at: &Location) {
        let skip = self.skip(reason, &at.pointer);
        if let Some((start, end)) = at.sub_span {
            skip.sub_span(start, end);
        }
    }

    /// The outcomes so far.
    #[must_use]
    pub fn into_vec(self) -> Vec<Outcome> {
        self.items
    }
}

/// Narrows a skip's location.
pub struct SkipBuilder<'a> {
    skip: &'a mut Skip,
}

impl SkipBuilder<'_> {
    /// Narrows the location to characters `start..end` of the scalar.
    pub fn sub_span(self, start: usize, end: usize) {
        self.skip.sub_span = Some(SubSpan {
            start: start as u32,
            end: end as u32,
        });
    }
}

/// Adds details to a finding.
pub struct FindingBuilder<'a> {
    finding: &'a mut Finding,
    applicability: Option<Applicability>,
}

// The builder edits the finding in place, so dropping it after any call is fine: rules write
// `out.report(..).help(..);` as a statement.
#[allow(clippy::must_use_candidate, clippy::return_self_not_must_use)]
impl FindingBuilder<'_> {
    /// How to repair it.
    pub fn help(self, help: impl Into<String>) -> Self {
        self.finding.help = Some(help.into());
        self
    }

    /// A severity for this case, overriding the rule's default.
    pub fn severity(self, severity: Severity) -> Self {
        self.finding.severity = Some(boundary::severity(severity));
        self
    }

    /// Narrows the location to characters `start..end` of the scalar.
    pub fn sub_span(self, start: usize, end: usize) -> Self {
        self.finding.sub_span = Some(SubSpan {
            start: start as u32,
            end: end as u32,
        });
        self
    }

    /// Attaches a fix with the rule's declared applicability.
    ///
    /// # Panics
    /// When the rule declares no fix (a bug in the rule, caught by its tests).
    pub fn fix(self, title: impl Into<String>, build: impl FnOnce(&mut FixBuilder)) -> Self {
        let applicability = self
            .applicability
            .expect("a rule that declares `fix: None` offered a fix");
        self.fix_as(applicability, title, build)
    }

    /// Attaches a fix that is less safe than the rule's declared applicability in this case
    /// (`Unsafe` where the rule's fixes are usually `Safe`). The host refuses a safer one.
    pub fn fix_as(
        self,
        applicability: Applicability,
        title: impl Into<String>,
        build: impl FnOnce(&mut FixBuilder),
    ) -> Self {
        let mut fix = FixBuilder::default();
        build(&mut fix);
        self.finding.fix = Some(Fix {
            title: title.into(),
            applicability: boundary::applicability(applicability),
            operations: fix.operations,
        });
        self
    }
}

/// Collects the operations of a fix.
#[derive(Default)]
pub struct FixBuilder {
    operations: Vec<PatchOp>,
}

impl FixBuilder {
    /// Replace the value at `path`.
    pub fn replace(&mut self, path: &Pointer, value: &Value) -> &mut Self {
        self.operations.push(PatchOp::Replace(PathValue {
            path: path.as_str().to_string(),
            value: value.to_string(),
        }));
        self
    }

    /// Add a key (or append with a path ending in `-`).
    pub fn add(&mut self, path: &Pointer, value: &Value) -> &mut Self {
        self.operations.push(PatchOp::Add(PathValue {
            path: path.as_str().to_string(),
            value: value.to_string(),
        }));
        self
    }

    /// Remove the value at `path`.
    pub fn remove(&mut self, path: &Pointer) -> &mut Self {
        self.operations
            .push(PatchOp::Remove(path.as_str().to_string()));
        self
    }

    /// Sets `key` in the mapping at `parent`: adds the mapping itself when it is missing.
    pub fn set_key(
        &mut self,
        object: &Value,
        parent: &Pointer,
        key: &str,
        value: Value,
    ) -> &mut Self {
        match object.pointer(parent.as_str()) {
            Some(Value::Object(map)) if map.contains_key(key) => {
                self.replace(&parent.key(key), &value)
            }
            Some(Value::Object(_)) => self.add(&parent.key(key), &value),
            _ => {
                let mut map = serde_json::Map::new();
                map.insert(key.to_string(), value);
                self.add(parent, &Value::Object(map))
            }
        }
    }

    /// Appends `item` to the sequence at `list`, creating the sequence when it is missing.
    pub fn push(&mut self, object: &Value, list: &Pointer, item: Value) -> &mut Self {
        match object.pointer(list.as_str()) {
            Some(Value::Array(_)) => self.add(&list.end(), &item),
            _ => self.add(list, &Value::Array(vec![item])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let cx = Context {
            object,
            reference: &reference,
            env: &env,
        };
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

    #[test]
    fn model_checked_records_the_unknown_model_at_its_word() {
        let object = pod();
        let reference = ObjectRef {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: None,
            name: "p".into(),
        };
        let env = testing::FakeEnv::default();
        let cx = Context {
            object: &object,
            reference: &reference,
            env: &env,
        };
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
