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
//!     pub struct ShmMissing {
//!         id: "shm-missing",
//!         severity: Error,
//!         fix: Always(Safe),
//!         summary: "a tensor-parallel vLLM pod has the 64 MiB default /dev/shm",
//!     }
//! }
//!
//! impl Rule for ShmMissing {
//!     fn check(&self, cx: &Context, out: &mut Findings) { /* ... */ }
//! }
//!
//! kubectl_vllm_sdk::policy!(name: "shm", rules: [ShmMissing]);
//! ```
//!
//! Rules see the host through [`Env`]: the real host in the component, an in-memory one in native
//! unit tests ([`testing::FakeEnv`]).

pub mod k8s;
pub mod quantity;
pub mod testing;
pub mod vllm;

use serde_json::Value;

/// The generated bindings of the WIT contract (`wit/policy.wit`).
#[allow(missing_docs, clippy::pedantic, unsafe_code)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "policy-world",
        pub_export_macro: true,
        export_macro_name: "export_policy_world",
        default_bindings_module: "kubectl_vllm_sdk::bindings",
    });
}

pub use bindings::exports::kubectl_vllm::policy::policy::Guest;
pub use bindings::kubectl_vllm::policy::cluster::{
    NodePool, Profile, Provider, StorageClass, Taint,
};
pub use bindings::kubectl_vllm::policy::facts::{Accelerator, Model};
pub use bindings::kubectl_vllm::policy::types::{
    Applicability, Evaluation, Finding, Fix, FixAvailability, ObjectRef, PatchOp, PathValue,
    PolicyInfo, RuleInfo, Severity, SubSpan,
};

/// Everything a rule module needs.
pub mod prelude {
    pub use crate::k8s::{self, Container, PodSpec};
    pub use crate::quantity;
    pub use crate::vllm;
    pub use crate::{
        Applicability, Context, Env, FindingBuilder, Findings, FixBuilder, Pointer, Rule, RuleMeta,
        Severity, declare_rule,
    };
    pub use serde_json::{Value, json};
}

/// Static facts about a rule; [`declare_rule!`] implements it from the rule's doc comment.
pub trait RuleMeta {
    /// The rule id.
    const ID: &'static str;
    /// Default severity.
    const SEVERITY: Severity;
    /// Whether findings carry fixes.
    const FIX: FixAvailability;
    /// How safe the fix is.
    const APPLICABILITY: Applicability;
    /// One-line summary.
    const SUMMARY: &'static str;
    /// The doc comment, as `#[doc]` lines joined with newlines.
    const DOC: &'static str;
}

/// A rule: looks at one object and reports findings.
pub trait Rule {
    /// Checks the object in `cx`.
    fn check(&self, cx: &Context, out: &mut Findings);
}

/// A rule together with its metadata, as [`policy!`] stores them.
pub trait DynRule {
    /// The metadata as the contract's record.
    fn info(&self) -> RuleInfo;
    /// Runs the rule.
    fn run(&self, cx: &Context, out: &mut Findings);
}

impl<T: Rule + RuleMeta> DynRule for T {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: T::ID.into(),
            default_severity: T::SEVERITY,
            fix_availability: T::FIX,
            fix_applicability: T::APPLICABILITY,
            summary: T::SUMMARY.into(),
            documentation: unindent_doc(T::DOC),
        }
    }

    fn run(&self, cx: &Context, out: &mut Findings) {
        out.current = T::ID;
        out.fix_applicability = T::APPLICABILITY;
        self.check(cx, out);
    }
}

/// Doc attributes keep the space after `///`; drop it.
#[must_use]
pub fn unindent_doc(doc: &str) -> String {
    let mut out = String::with_capacity(doc.len());
    for line in doc.lines() {
        out.push_str(line.strip_prefix(' ').unwrap_or(line));
        out.push('\n');
    }
    out.trim().to_string() + "\n"
}

/// Declares a rule: a unit struct whose doc comment is the rule's documentation.
///
/// `fix` is `None`, `Sometimes(Safe|Unsafe|DisplayOnly)` or `Always(...)`.
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident {
            id: $id:literal,
            severity: $severity:ident,
            fix: $fix:ident $(($applicability:ident))?,
            summary: $summary:literal $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, Default)]
        $vis struct $name;

        impl $crate::RuleMeta for $name {
            const ID: &'static str = $id;
            const SEVERITY: $crate::Severity = $crate::Severity::$severity;
            const FIX: $crate::FixAvailability = $crate::FixAvailability::$fix;
            const APPLICABILITY: $crate::Applicability =
                $crate::declare_rule!(@applicability $($applicability)?);
            const SUMMARY: &'static str = $summary;
            const DOC: &'static str = concat!($($doc, "\n"),*);
        }
    };
    (@applicability) => { $crate::Applicability::DisplayOnly };
    (@applicability $a:ident) => { $crate::Applicability::$a };
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

            fn evaluate(input: $crate::Evaluation) -> Result<Vec<$crate::Finding>, String> {
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
        ) -> Result<Vec<$crate::Finding>, String> {
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

/// Parses the object and runs every rule on it.
pub fn evaluate(
    rules: &[&(dyn DynRule + Sync)],
    env: &dyn Env,
    input: &Evaluation,
) -> Result<Vec<Finding>, String> {
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
        rule.run(&cx, &mut out);
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
    /// An accelerator by GKE label value.
    fn accelerator(&self, label: &str) -> Option<Accelerator>;
    /// Every known accelerator.
    fn accelerators(&self) -> Vec<Accelerator>;
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

    fn accelerator(&self, label: &str) -> Option<Accelerator> {
        self.table().iter().find(|a| a.label == label).cloned()
    }

    fn accelerators(&self) -> Vec<Accelerator> {
        self.table().to_vec()
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

    fn accelerator(&self, label: &str) -> Option<Accelerator> {
        bindings::kubectl_vllm::policy::facts::get_accelerator(label)
    }

    fn accelerators(&self) -> Vec<Accelerator> {
        bindings::kubectl_vllm::policy::facts::list_accelerators()
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

    /// The pod spec of a workload (Pod, Deployment, StatefulSet, Job, ...), if this is one.
    #[must_use]
    pub fn pod_spec(&self) -> Option<PodSpec<'_>> {
        k8s::pod_spec(self.kind(), self.object)
    }

    /// Whether the cluster is GKE.
    #[must_use]
    pub fn is_gke(&self) -> bool {
        self.env.profile().provider == Provider::Gke
    }

    /// Whether the cluster is GKE Autopilot.
    #[must_use]
    pub fn is_autopilot(&self) -> bool {
        self.env.profile().autopilot
    }

    /// The vLLM server containers of a pod spec of this object.
    #[must_use]
    pub fn servers<'s>(&self, spec: &PodSpec<'s>) -> Vec<vllm::Server<'s>> {
        vllm::servers(spec, self.env, self.namespace())
    }

    /// The accelerator a pod spec selects: label, pointer to the value, and its facts if known.
    #[must_use]
    pub fn accelerator(&self, spec: &PodSpec) -> Option<(String, Pointer, Option<Accelerator>)> {
        let (label, at) = spec.accelerator()?;
        let fact = self.env.accelerator(&label);
        Some((label, at, fact))
    }
}

pub use k8s::{Container, PodSpec};

/// An RFC 6901 JSON Pointer under construction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pointer(String);

impl Pointer {
    /// The root.
    #[must_use]
    pub fn root() -> Self {
        Self(String::new())
    }

    /// Parses a pointer written with `/` separators and no escapes (`"/spec/template"`).
    #[must_use]
    pub fn from_path(path: &str) -> Self {
        Self(path.to_string())
    }

    /// Appends a mapping key (escaping `~` and `/`).
    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        Self(format!(
            "{}/{}",
            self.0,
            key.replace('~', "~0").replace('/', "~1")
        ))
    }

    /// Appends a sequence index.
    #[must_use]
    pub fn index(&self, i: usize) -> Self {
        Self(format!("{}/{i}", self.0))
    }

    /// Appends `-` (the end of a sequence, for `add`).
    #[must_use]
    pub fn end(&self) -> Self {
        Self(format!("{}/-", self.0))
    }

    /// The pointer text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Pointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Findings of one evaluation.
#[derive(Default)]
pub struct Findings {
    items: Vec<Finding>,
    current: &'static str,
    fix_applicability: Applicability,
}

impl Default for Applicability {
    fn default() -> Self {
        Self::Safe
    }
}

impl Findings {
    /// Starts a finding of the current rule at `pointer`.
    pub fn report(&mut self, pointer: &Pointer, message: impl Into<String>) -> FindingBuilder<'_> {
        let rule = self.current.to_string();
        let applicability = self.fix_applicability;
        self.items.push(Finding {
            rule,
            message: message.into(),
            help: None,
            pointer: pointer.0.clone(),
            severity: None,
            sub_span: None,
            fix: None,
        });
        FindingBuilder {
            finding: self.items.last_mut().expect("just pushed"),
            applicability,
        }
    }

    /// Starts a finding of another rule id (only the host-owned `model-unknown` and
    /// `accelerator-unknown` are allowed besides the policy's own).
    pub fn report_as(
        &mut self,
        rule: &str,
        pointer: &Pointer,
        message: impl Into<String>,
    ) -> FindingBuilder<'_> {
        let builder = self.report(pointer, message);
        builder.finding.rule = rule.to_string();
        builder
    }

    /// Re-labels the last finding with a host-owned id (`model-unknown`, `accelerator-unknown`),
    /// for checks skipped for lack of a fact.
    pub fn last_as(&mut self, rule: &str) {
        if let Some(last) = self.items.last_mut() {
            last.rule = rule.to_string();
        }
    }

    /// The findings so far.
    #[must_use]
    pub fn into_vec(self) -> Vec<Finding> {
        self.items
    }
}

/// Adds details to a finding.
pub struct FindingBuilder<'a> {
    finding: &'a mut Finding,
    applicability: Applicability,
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
        self.finding.severity = Some(severity);
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
    pub fn fix(self, title: impl Into<String>, build: impl FnOnce(&mut FixBuilder)) -> Self {
        let mut fix = FixBuilder::default();
        build(&mut fix);
        self.finding.fix = Some(Fix {
            title: title.into(),
            applicability: self.applicability,
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
            path: path.0.clone(),
            value: value.to_string(),
        }));
        self
    }

    /// Add a key (or append with a path ending in `-`).
    pub fn add(&mut self, path: &Pointer, value: &Value) -> &mut Self {
        self.operations.push(PatchOp::Add(PathValue {
            path: path.0.clone(),
            value: value.to_string(),
        }));
        self
    }

    /// Remove the value at `path`.
    pub fn remove(&mut self, path: &Pointer) -> &mut Self {
        self.operations.push(PatchOp::Remove(path.0.clone()));
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
