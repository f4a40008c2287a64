//! The sandboxed WebAssembly policy host.
//!
//! Policies are components of the world in `wit/policy.wit` (`kubectl-vllm:policy@0.2.0`); the
//! host still loads components built against 0.1 (`wit/v0.1/policy.wit`) through the adapter in
//! [`v0_1`]. Each gets WASI p2 linked with nothing granted (no preopened directories,
//! environment, arguments, network or inherited stdio; stderr is captured to show a panic
//! message), a memory cap, and a time limit per call enforced with epoch interruption. A policy
//! that loops, traps, runs out of memory or answers with malformed output yields a
//! [`PolicyError`] naming it; its instance is dropped and re-created from the `InstancePre` for
//! the next object, and the other policies carry on.

pub mod cache;
pub mod facts;
pub mod images;
mod imports;
pub mod inventory;
pub mod provider;
mod v0_1;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, ResourceLimiter, Store, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub use cache::{ArtifactCache, Origin};
pub use facts::{Cluster, ClusterProfile, FactTables};
pub use inventory::Inventory;
pub use provider::{Provider, ProviderSetting, ProviderSource, Resolved};

/// Bindings generated from the WIT contract, version 0.2.
#[allow(missing_docs, clippy::pedantic)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit/policy.wit",
        world: "policy-world",
        additional_derives: [PartialEq, Eq],
    });
}

pub use bindings::kubectl_vllm::policy::types::{
    Applicability, Evaluation, Finding, Fix, FixAvailability, ObjectRef, Outcome, PatchOp,
    PathValue, PolicyInfo, Requirements, RuleInfo, Severity, Skip, SkipReason, SubSpan,
};

/// The contract version a policy was built against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Contract {
    /// `kubectl-vllm:policy@0.1.x`: still loaded, through an adapter; deprecated.
    V0_1,
    /// `kubectl-vllm:policy@0.2.x`: the current contract.
    V0_2,
}

impl Contract {
    /// The newest contract, as `wit/policy.wit` declares it.
    pub const CURRENT: &'static str = "kubectl-vllm:policy@0.2.0";

    /// The export name prefix every policy has.
    const EXPORT: &'static str = "kubectl-vllm:policy/policy@";

    /// Which contract a component exports, from its `policy` export's version.
    fn of(component: &Component, engine: &Engine) -> Result<Self, String> {
        let exports: Vec<String> = component
            .component_type()
            .exports(engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let version = exports
            .iter()
            .find_map(|name| name.strip_prefix(Self::EXPORT))
            .ok_or_else(|| {
                format!(
                    "it exports no `{}*` interface (exports: {})",
                    Self::EXPORT,
                    if exports.is_empty() {
                        "none".to_string()
                    } else {
                        exports.join(", ")
                    }
                )
            })?;
        if version.starts_with("0.2.") {
            Ok(Self::V0_2)
        } else if version.starts_with("0.1.") {
            Ok(Self::V0_1)
        } else {
            Err(format!(
                "it was built against contract {version}; this kubectl-vllm loads 0.2 (and 0.1, deprecated)"
            ))
        }
    }
}

impl std::fmt::Display for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::V0_1 => "0.1",
            Self::V0_2 => "0.2",
        })
    }
}

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

/// Why a policy could not answer.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The component could not be compiled, linked or instantiated.
    #[error("policy `{policy}` failed to load: {message}")]
    Load {
        /// The policy (its name, or the file it came from).
        policy: String,
        /// Why.
        message: String,
    },
    /// The call ran past the time limit.
    #[error("policy `{policy}` exceeded its time limit of {limit:?}")]
    Timeout {
        /// The policy.
        policy: String,
        /// The limit.
        limit: Duration,
    },
    /// The instance tried to grow its memory past the cap.
    #[error("policy `{policy}` exceeded its memory limit of {limit} MiB")]
    OutOfMemory {
        /// The policy.
        policy: String,
        /// The cap in MiB.
        limit: usize,
    },
    /// The policy trapped (a panic, `unreachable`, an out-of-bounds access...).
    #[error("policy `{policy}` trapped: {message}")]
    Trap {
        /// The policy.
        policy: String,
        /// The trap and what the policy wrote to stderr.
        message: String,
    },
    /// The policy answered with something the contract does not allow.
    #[error("policy `{policy}` returned malformed output: {message}")]
    Malformed {
        /// The policy.
        policy: String,
        /// What was wrong.
        message: String,
    },
    /// The policy reported that it could not evaluate the object.
    #[error("policy `{policy}` failed: {message}")]
    Failed {
        /// The policy.
        policy: String,
        /// Its message.
        message: String,
    },
}

/// What every policy of a run may look up.
#[derive(Debug, Default)]
pub struct Shared {
    /// The input set.
    pub inventory: Inventory,
    /// The fact tables.
    pub facts: FactTables,
    /// Cluster facts.
    pub cluster: Cluster,
}

/// The engine, linker and epoch ticker shared by all policies of a process.
pub struct Host {
    engine: Engine,
    linker: Linker<State>,
    cache: ArtifactCache,
    limits: Limits,
    ticker_stop: Arc<AtomicBool>,
}

/// Epoch ticks per second.
const TICK: Duration = Duration::from_millis(10);

impl Host {
    /// One engine configuration serves compiling, caching and running.
    pub fn new(cache: ArtifactCache, limits: Limits) -> Result<Self, PolicyError> {
        let load_error = |e: wasmtime::Error| PolicyError::Load {
            policy: "(engine)".into(),
            message: e.to_string(),
        };
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.parallel_compilation(true);
        let engine = Engine::new(&config).map_err(load_error)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(load_error)?;
        bindings::PolicyWorld::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)
            .map_err(load_error)?;
        v0_1::add_to_linker(&mut linker).map_err(load_error)?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&ticker_stop);
        let ticking = engine.clone();
        std::thread::Builder::new()
            .name("policy-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    ticking.increment_epoch();
                }
            })
            .map_err(|e| PolicyError::Load {
                policy: "(engine)".into(),
                message: e.to_string(),
            })?;
        Ok(Self {
            engine,
            linker,
            cache,
            limits,
            ticker_stop,
        })
    }

    /// Compiles (or loads from the cache) and instantiates a policy, then reads its metadata.
    /// `label` names the policy in errors until its metadata is known.
    pub fn load(
        &self,
        label: &str,
        wasm: &[u8],
        shared: Arc<Shared>,
    ) -> Result<Policy, PolicyError> {
        let load_error = |message: String| PolicyError::Load {
            policy: label.to_string(),
            message,
        };
        let wasm_error = |e: wasmtime::Error| load_error(format!("{e:#}"));
        let (component, origin) = self
            .cache
            .component(&self.engine, wasm)
            .map_err(wasm_error)?;
        let contract = Contract::of(&component, &self.engine).map_err(load_error)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(wasm_error)?;
        let pre = match contract {
            Contract::V0_2 => Pre::V0_2(bindings::PolicyWorldPre::new(pre).map_err(wasm_error)?),
            Contract::V0_1 => Pre::V0_1(v0_1::Pre::new(pre).map_err(wasm_error)?),
        };
        let mut policy = Policy {
            name: label.to_string(),
            info: PolicyInfo {
                name: label.to_string(),
                version: String::new(),
                rules: Vec::new(),
            },
            contract,
            origin,
            pre,
            instance: None,
            shared,
            limits: self.limits.clone(),
            engine: self.engine.clone(),
        };
        let info = policy.call(|instance, store| match instance {
            Bound::V0_2(world) => world.kubectl_vllm_policy_policy().call_metadata(store),
            Bound::V0_1(world) => v0_1::metadata(world, store),
        })?;
        validate_info(&info).map_err(|message| PolicyError::Malformed {
            policy: label.to_string(),
            message,
        })?;
        policy.name.clone_from(&info.name);
        policy.info = info;
        Ok(policy)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

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

enum Pre {
    V0_1(v0_1::Pre),
    V0_2(bindings::PolicyWorldPre<State>),
}

/// A live instance of either contract.
enum Bound {
    V0_1(v0_1::World),
    V0_2(bindings::PolicyWorld),
}

/// A loaded policy, ready to evaluate objects.
pub struct Policy {
    name: String,
    /// Its metadata (a 0.1 policy's translated: no requirements, applicability folded into
    /// `fix`).
    pub info: PolicyInfo,
    /// The contract it was built against.
    pub contract: Contract,
    /// Whether it was compiled in this process or loaded from the artifact cache.
    pub origin: Origin,
    pre: Pre,
    instance: Option<(Store<State>, Bound)>,
    shared: Arc<Shared>,
    limits: Limits,
    engine: Engine,
}

impl Policy {
    /// The policy's name (from its metadata).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Points the policy at another run's input set and facts (the next call re-instantiates).
    pub fn set_shared(&mut self, shared: Arc<Shared>) {
        self.shared = shared;
        self.instance = None;
    }

    /// The ids of this policy's rules that should run: those `enabled` accepts whose
    /// requirements the run meets.
    #[must_use]
    pub fn runnable_rules(&self, run: RunFacts, enabled: &dyn Fn(&str) -> bool) -> Vec<String> {
        self.info
            .rules
            .iter()
            .filter(|r| enabled(&r.id) && requirements_met(&r.requires, run))
            .map(|r| r.id.clone())
            .collect()
    }

    /// Evaluates one object, running the rules `input.rules` names. Outcomes are validated
    /// against the contract.
    pub fn evaluate(&mut self, input: &Evaluation) -> Result<Vec<Outcome>, PolicyError> {
        let result = self.call(|instance, store| match instance {
            Bound::V0_2(world) => world
                .kubectl_vllm_policy_policy()
                .call_evaluate(store, input),
            Bound::V0_1(world) => v0_1::evaluate(world, store, input),
        })?;
        let outcomes = result.map_err(|message| PolicyError::Failed {
            policy: self.name.clone(),
            message,
        })?;
        let provider = self.shared.cluster.provider.provider;
        for outcome in &outcomes {
            let checked = match (self.contract, outcome) {
                (Contract::V0_1, Outcome::Finding(f)) => v0_1::validate(&self.info, f),
                (_, Outcome::Finding(f)) => validate_finding(&self.info, input, f),
                (_, Outcome::Skipped(s)) => validate_skip(input, s, provider),
            };
            checked.map_err(|message| PolicyError::Malformed {
                policy: self.name.clone(),
                message,
            })?;
        }
        Ok(if provider == Provider::Unknown {
            provider_findings_as_skips(&self.info, outcomes)
        } else {
            outcomes
        })
    }

    /// Runs `f` against a live instance with fresh limits; on a trap the instance is discarded.
    fn call<R>(
        &mut self,
        f: impl FnOnce(&Bound, &mut Store<State>) -> wasmtime::Result<R>,
    ) -> Result<R, PolicyError> {
        if self.instance.is_none() {
            let mut store = Store::new(&self.engine, State::new(&self.shared, &self.limits));
            store.limiter(|s| &mut s.limiter);
            store.set_epoch_deadline(ticks(self.limits.timeout));
            let bound = match &self.pre {
                Pre::V0_2(pre) => pre.instantiate(&mut store).map(Bound::V0_2),
                Pre::V0_1(pre) => pre.instantiate(&mut store).map(Bound::V0_1),
            }
            .map_err(|e| self.classify(&store, &e))?;
            self.instance = Some((store, bound));
        }
        let (store, instance) = self.instance.as_mut().expect("instantiated above");
        store.set_epoch_deadline(ticks(self.limits.timeout));
        store.data_mut().limiter.exceeded = false;
        match f(instance, store) {
            Ok(value) => Ok(value),
            Err(e) => {
                let (store, _) = self.instance.take().expect("present");
                Err(self.classify(&store, &e))
            }
        }
    }

    fn classify(&self, store: &Store<State>, error: &wasmtime::Error) -> PolicyError {
        let policy = self.name.clone();
        if store.data().limiter.exceeded {
            return PolicyError::OutOfMemory {
                policy,
                limit: self.limits.memory_bytes >> 20,
            };
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => PolicyError::Timeout {
                policy,
                limit: self.limits.timeout,
            },
            trap => {
                let stderr = String::from_utf8_lossy(&store.data().stderr.contents())
                    .trim()
                    .to_string();
                let mut message = trap.map_or_else(|| format!("{error:#}"), ToString::to_string);
                if !stderr.is_empty() {
                    message.push_str(": ");
                    message.push_str(&stderr);
                }
                PolicyError::Trap { policy, message }
            }
        }
    }
}

/// Under an unknown provider a provider-specific rule runs only to say it skipped: a finding it
/// reports anyway becomes that skip, so no rule gives a provider's verdict where the provider is
/// not known (the host holds the requirement even for a rule that forgets to check).
fn provider_findings_as_skips(info: &PolicyInfo, outcomes: Vec<Outcome>) -> Vec<Outcome> {
    let specific = |id: &str| {
        info.rules
            .iter()
            .any(|r| r.id == id && provider_specific(r))
    };
    outcomes
        .into_iter()
        .map(|outcome| match outcome {
            Outcome::Finding(f) if specific(&f.rule) => Outcome::Skipped(Skip {
                rule: f.rule,
                reason: SkipReason::ProviderUnknown,
                pointer: f.pointer,
                sub_span: f.sub_span,
            }),
            other => other,
        })
        .collect()
}

/// A 0.2 finding: for a rule the evaluation asked for, located, with a fix no safer than the
/// rule declares.
fn validate_finding(
    info: &PolicyInfo,
    input: &Evaluation,
    finding: &Finding,
) -> Result<(), String> {
    let rule = &finding.rule;
    if !input.rules.contains(rule) {
        return Err(format!(
            "finding for rule `{rule}`, which the evaluation did not ask for"
        ));
    }
    validate_location(rule, &finding.pointer, finding.sub_span)?;
    if finding.message.trim().is_empty() {
        return Err(format!("rule `{rule}`: empty message"));
    }
    if let Some(fix) = &finding.fix {
        let declared = info.rules.iter().find(|r| &r.id == rule).map(|r| r.fix);
        match declared {
            Some(FixAvailability::Sometimes(a) | FixAvailability::Always(a))
                if kubectl_vllm_core::Applicability::from(fix.applicability) >= a.into() => {}
            Some(FixAvailability::Sometimes(a) | FixAvailability::Always(a)) => {
                return Err(format!(
                    "rule `{rule}` declares {} fixes but offered a {} one",
                    kubectl_vllm_core::Applicability::from(a),
                    kubectl_vllm_core::Applicability::from(fix.applicability)
                ));
            }
            _ => return Err(format!("rule `{rule}` declares no fix but offered one")),
        }
        validate_operations(rule, &fix.operations)?;
    }
    Ok(())
}

/// The boundary: the contract's generated enums as [`kubectl_vllm_core`]'s types, which is all
/// the engine sees.
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

fn validate_skip(input: &Evaluation, skip: &Skip, provider: Provider) -> Result<(), String> {
    let rule = &skip.rule;
    if !input.rules.contains(rule) {
        return Err(format!(
            "skip for rule `{rule}`, which the evaluation did not ask for"
        ));
    }
    if skip.reason == SkipReason::ProviderUnknown && provider != Provider::Unknown {
        return Err(format!(
            "rule `{rule}` skipped for an unknown provider, but the provider is {}",
            provider.display()
        ));
    }
    validate_location(rule, &skip.pointer, skip.sub_span)
}

fn validate_location(rule: &str, pointer: &str, sub_span: Option<SubSpan>) -> Result<(), String> {
    kubectl_vllm_core::Pointer::parse(pointer).map_err(|e| format!("rule `{rule}`: {e}"))?;
    if let Some(span) = sub_span
        && span.start > span.end
    {
        return Err(format!("rule `{rule}`: sub-span ends before it starts"));
    }
    Ok(())
}

fn validate_operations(rule: &str, operations: &[PatchOp]) -> Result<(), String> {
    for op in operations {
        let (path, value) = match op {
            PatchOp::Replace(pv) | PatchOp::Add(pv) => (&pv.path, Some(&pv.value)),
            PatchOp::Remove(path) => (path, None),
        };
        kubectl_vllm_core::Pointer::parse(path).map_err(|e| format!("rule `{rule}` fix: {e}"))?;
        if let Some(value) = value {
            serde_json::from_str::<serde_json::Value>(value)
                .map_err(|e| format!("rule `{rule}` fix: value is not JSON: {e}"))?;
        }
    }
    Ok(())
}

fn ticks(timeout: Duration) -> u64 {
    (timeout.as_millis() / TICK.as_millis()).max(1) as u64
}

fn validate_info(info: &PolicyInfo) -> Result<(), String> {
    if info.name.is_empty() || !is_kebab(&info.name) {
        return Err(format!("policy name `{}` is not kebab-case", info.name));
    }
    let mut seen = std::collections::HashSet::new();
    for rule in &info.rules {
        if !is_kebab(&rule.id) {
            return Err(format!("rule id `{}` is not kebab-case", rule.id));
        }
        if !seen.insert(rule.id.as_str()) {
            return Err(format!("rule id `{}` is declared twice", rule.id));
        }
        if rule.documentation.trim().is_empty() {
            return Err(format!("rule `{}` has no documentation", rule.id));
        }
        if rule.requires.providers.iter().any(|p| {
            matches!(
                p,
                bindings::kubectl_vllm::policy::types::Provider::Generic
                    | bindings::kubectl_vllm::policy::types::Provider::Unknown
            )
        }) {
            return Err(format!(
                "rule `{}` requires the provider `generic` or `unknown`, which no run targets",
                rule.id
            ));
        }
    }
    Ok(())
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Counts memory growth against the cap and remembers when the cap was hit.
struct Limiter {
    max: usize,
    exceeded: bool,
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

/// Per-instance state.
struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: Limiter,
    stderr: MemoryOutputPipe,
    shared: Arc<Shared>,
}

impl State {
    fn new(shared: &Arc<Shared>, limits: &Limits) -> Self {
        let stderr = MemoryOutputPipe::new(64 << 10);
        // Nothing is granted: no preopens, env, args, network or inherited stdio.
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter {
                max: limits.memory_bytes,
                exceeded: false,
            },
            stderr,
            shared: Arc::clone(shared),
        }
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(fix: FixAvailability) -> PolicyInfo {
        PolicyInfo {
            name: "p".into(),
            version: "1".into(),
            rules: vec![RuleInfo {
                id: "r".into(),
                default_severity: Severity::Error,
                fix,
                requires: Requirements {
                    providers: vec![],
                    complete_set: false,
                },
                summary: "s".into(),
                documentation: "d".into(),
            }],
        }
    }

    #[test]
    fn a_provider_specific_finding_under_an_unknown_provider_is_a_skip() {
        let mut info = info(FixAvailability::None);
        info.rules[0].requires.providers =
            vec![bindings::kubectl_vllm::policy::types::Provider::Gke];
        let mut general = info.rules[0].clone();
        general.id = "general".into();
        general.requires.providers.clear();
        info.rules.push(general);
        let mut other = finding(None);
        other.rule = "general".into();
        let outcomes = provider_findings_as_skips(
            &info,
            vec![
                Outcome::Finding(finding(None)),
                Outcome::Finding(other.clone()),
            ],
        );
        assert_eq!(
            outcomes,
            [
                Outcome::Skipped(Skip {
                    rule: "r".into(),
                    reason: SkipReason::ProviderUnknown,
                    pointer: "/spec".into(),
                    sub_span: None,
                }),
                Outcome::Finding(other),
            ]
        );
    }

    fn finding(fix: Option<Applicability>) -> Finding {
        Finding {
            rule: "r".into(),
            message: "m".into(),
            help: None,
            pointer: "/spec".into(),
            severity: None,
            sub_span: None,
            fix: fix.map(|applicability| Fix {
                title: "t".into(),
                applicability,
                operations: vec![],
            }),
        }
    }

    fn input(rules: &[&str]) -> Evaluation {
        Evaluation {
            object_ref: ObjectRef {
                api_version: "v1".into(),
                kind: "Pod".into(),
                namespace: None,
                name: "x".into(),
            },
            object: "{}".into(),
            rules: rules.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn outcomes_must_be_for_asked_rules_with_fixes_no_safer_than_declared() {
        let unsafe_fixes = info(FixAvailability::Always(Applicability::Unsafe));
        assert!(validate_finding(&unsafe_fixes, &input(&["r"]), &finding(None)).is_ok());
        let e = validate_finding(&unsafe_fixes, &input(&[]), &finding(None)).unwrap_err();
        assert!(e.contains("did not ask for"), "{e}");
        let e = validate_finding(
            &unsafe_fixes,
            &input(&["r"]),
            &finding(Some(Applicability::Safe)),
        )
        .unwrap_err();
        assert!(
            e.contains("declares unsafe fixes but offered a safe one"),
            "{e}"
        );
        let safe_fixes = info(FixAvailability::Sometimes(Applicability::Safe));
        assert!(
            validate_finding(
                &safe_fixes,
                &input(&["r"]),
                &finding(Some(Applicability::Unsafe))
            )
            .is_ok()
        );
        let none = info(FixAvailability::None);
        assert!(
            validate_finding(&none, &input(&["r"]), &finding(Some(Applicability::Unsafe))).is_err()
        );
        let skip = Skip {
            rule: "r".into(),
            reason: SkipReason::ProviderUnknown,
            pointer: "/spec".into(),
            sub_span: None,
        };
        assert!(validate_skip(&input(&["r"]), &skip, Provider::Unknown).is_ok());
        let e = validate_skip(&input(&["r"]), &skip, Provider::Gke).unwrap_err();
        assert!(e.contains("the provider is GKE"), "{e}");
        assert!(validate_skip(&input(&[]), &skip, Provider::Unknown).is_err());
    }

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
