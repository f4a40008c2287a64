//! The engine, linker and epoch ticker of a process ([`Host`]), and the policies it loads
//! ([`Policy`]): each call runs with fresh limits, and an instance that traps is dropped and
//! re-created for the next object. A policy of `reusable-policy-world` (contract 0.2.2) keeps its
//! instance from one input set to the next, told by `lifecycle.reset`; any other policy gets a
//! fresh instance per set.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kubectl_vllm_precompiled::Embedded;
use wasmtime::component::{
    Component, ComponentExportIndex, HasSelf, InstancePre, Linker, TypedFunc,
};
use wasmtime::{Engine, Store, Trap};

use crate::bindings;
use crate::bindings::kubectl_vllm::policy::types::{Evaluation, Outcome, PolicyInfo};
use crate::cache::{ArtifactCache, Origin};
use crate::contract::{Contract, Surface};
use crate::error::PolicyError;
use crate::limits::Limits;
use crate::provider::Provider;
use crate::state::{Shared, State};
use crate::v0_1;
use crate::validate::{provider_findings_as_skips, validate_finding, validate_info, validate_skip};

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

/// Input sets one instance of a reusable policy serves before the host instantiates it afresh:
/// what a policy forgets to forget cannot pile up for ever.
const MAX_SETS_PER_INSTANCE: u32 = 1_000;

impl Host {
    /// One engine configuration serves compiling, caching and running.
    pub fn new(cache: ArtifactCache, limits: Limits) -> Result<Self, PolicyError> {
        let load_error = |e: wasmtime::Error| PolicyError::Load {
            policy: "(engine)".into(),
            message: e.to_string(),
        };
        let engine = Engine::new(&kubectl_vllm_precompiled::engine_config()).map_err(load_error)?;
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

    /// Whether compiled policies are cached for later runs.
    #[must_use]
    pub fn caches(&self) -> bool {
        self.cache.enabled()
    }

    /// Whether loading `wasm` will compile it: `precompiled` (the build's artifact, for a
    /// built-in policy) does not fit this engine and it is not in the artifact cache.
    #[must_use]
    pub fn needs_compiling(&self, wasm: &[u8], precompiled: Option<&Embedded>) -> bool {
        !self
            .embedded(precompiled)
            .is_some_and(|p| p.fits(&self.engine))
            && !self.cache.has(&self.engine, wasm)
    }

    fn embedded<'a>(&self, precompiled: Option<&'a Embedded>) -> Option<&'a Embedded> {
        precompiled.filter(|_| self.cache.uses_embedded())
    }

    /// Compiles (or loads from the cache) and instantiates a policy, then reads its metadata.
    /// `label` names the policy in errors until its metadata is known.
    pub fn load(
        &self,
        label: &str,
        wasm: &[u8],
        shared: Arc<Shared>,
    ) -> Result<Policy, PolicyError> {
        self.load_precompiled(label, wasm, None, shared)
    }

    /// [`Host::load`] of a built-in policy: its artifact `precompiled` by the build is used when
    /// it fits this engine, else `wasm` is loaded from the cache or compiled.
    pub fn load_precompiled(
        &self,
        label: &str,
        wasm: &[u8],
        precompiled: Option<&Embedded>,
        shared: Arc<Shared>,
    ) -> Result<Policy, PolicyError> {
        let (component, origin) = self.compiled(label, wasm, precompiled)?;
        let surface = Surface::of(&component, &self.engine);
        let contract = surface.contract().map_err(|e| load_error(label, e))?;
        self.instantiate(label, &component, &surface, contract, origin, shared)
    }

    /// What a component declares (contract version, imports, exports) and, when it may be
    /// loaded, the policy loaded: `kubectl vllm policy inspect`. Errs only when `wasm` is not a
    /// component this engine can compile.
    pub fn inspect(
        &self,
        label: &str,
        wasm: &[u8],
        shared: Arc<Shared>,
    ) -> Result<(Surface, Result<Policy, PolicyError>), PolicyError> {
        let (component, origin) = self.compiled(label, wasm, None)?;
        let surface = Surface::of(&component, &self.engine);
        let policy = surface
            .contract()
            .map_err(|e| load_error(label, e))
            .and_then(|contract| {
                self.instantiate(label, &component, &surface, contract, origin, shared)
            });
        Ok((surface, policy))
    }

    /// The compiled component: the build's artifact when it fits, else from the cache or
    /// compiled now.
    fn compiled(
        &self,
        label: &str,
        wasm: &[u8],
        precompiled: Option<&Embedded>,
    ) -> Result<(Component, Origin), PolicyError> {
        match self
            .embedded(precompiled)
            .and_then(|p| p.load(&self.engine))
        {
            Some(component) => Ok((component, Origin::Embedded)),
            None => self
                .cache
                .component(&self.engine, wasm)
                .map_err(|e| load_error(label, format!("{e:#}"))),
        }
    }

    /// Links and instantiates a compiled policy of `contract`, then reads its metadata.
    fn instantiate(
        &self,
        label: &str,
        component: &Component,
        surface: &Surface,
        contract: Contract,
        origin: Origin,
        shared: Arc<Shared>,
    ) -> Result<Policy, PolicyError> {
        let wasm_error = |e: wasmtime::Error| load_error(label, format!("{e:#}"));
        let pre = self.linker.instantiate_pre(component).map_err(wasm_error)?;
        let pre = match contract {
            Contract::V0_2 => {
                let reset = surface
                    .lifecycle()
                    .and_then(|lifecycle| component.get_export_index(None, lifecycle))
                    .and_then(|lifecycle| component.get_export_index(Some(&lifecycle), "reset"));
                Pre::V0_2 {
                    indices: bindings::PolicyWorldIndices::new(&pre).map_err(wasm_error)?,
                    pre,
                    reset,
                }
            }
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
            unit: 0,
            instantiations: 0,
        };
        let info = policy.call(|instance, store| match instance {
            Bound::V0_2 { world, .. } => world.kubectl_vllm_policy_policy().call_metadata(store),
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

fn load_error(label: &str, message: String) -> PolicyError {
    PolicyError::Load {
        policy: label.to_string(),
        message,
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

#[derive(Clone)]
enum Pre {
    V0_1(v0_1::Pre),
    V0_2 {
        pre: InstancePre<State>,
        indices: bindings::PolicyWorldIndices,
        /// `lifecycle.reset`, exported by a component of `reusable-policy-world`.
        reset: Option<ComponentExportIndex>,
    },
}

/// A live instance of either contract.
enum Bound {
    V0_1(v0_1::World),
    V0_2 {
        world: bindings::PolicyWorld,
        /// `lifecycle.reset`: the instance may serve another input set.
        reset: Option<TypedFunc<(), ()>>,
    },
}

/// A loaded policy, ready to evaluate objects.
pub struct Policy {
    name: String,
    /// Its metadata (a 0.1 policy's translated: no requirements, applicability folded into
    /// `fix`).
    pub info: PolicyInfo,
    /// The contract it was built against.
    pub contract: Contract,
    /// Whether it was precompiled by the build, compiled in this process or loaded from the
    /// artifact cache.
    pub origin: Origin,
    pre: Pre,
    instance: Option<(Store<State>, Bound)>,
    shared: Arc<Shared>,
    limits: Limits,
    engine: Engine,
    /// The unit of the object being evaluated (its lookups' scope).
    unit: u32,
    /// Instances created so far.
    instantiations: u64,
}

impl Policy {
    /// The policy's name (from its metadata).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Another handle on the same compiled policy, with an instance of its own (created on its
    /// first call): one per worker thread, so that objects are evaluated in parallel. Cheap: the
    /// compiled code and the linker's work are shared.
    #[must_use]
    pub fn fork(&self) -> Self {
        Self {
            name: self.name.clone(),
            info: self.info.clone(),
            contract: self.contract,
            origin: self.origin,
            pre: self.pre.clone(),
            instance: None,
            shared: Arc::clone(&self.shared),
            limits: self.limits.clone(),
            engine: self.engine.clone(),
            unit: 0,
            instantiations: 0,
        }
    }

    /// Whether the policy's instance may serve more than one input set (it exports
    /// `lifecycle`, contract 0.2.2).
    #[must_use]
    pub fn reusable(&self) -> bool {
        matches!(&self.pre, Pre::V0_2 { reset: Some(_), .. })
    }

    /// How many instances of this handle were created (the first one reads the metadata).
    #[must_use]
    pub fn instantiations(&self) -> u64 {
        self.instantiations
    }

    /// Points the policy at another run's input set and facts. A reusable policy's instance is
    /// kept and told (`lifecycle.reset`) before its next evaluation, unless it has grown past
    /// half its memory cap or served [`MAX_SETS_PER_INSTANCE`] sets; any other is dropped, and
    /// the next call instantiates afresh.
    pub fn set_shared(&mut self, shared: Arc<Shared>) {
        self.shared = shared;
        let half = self.limits.memory_bytes / 2;
        match &mut self.instance {
            Some((store, Bound::V0_2 { reset: Some(_), .. }))
                if store.data().sets < MAX_SETS_PER_INSTANCE
                    && store.data().limiter.current <= half =>
            {
                let state = store.data_mut();
                state.shared = Arc::clone(&self.shared);
                state.reset_due = true;
            }
            _ => self.instance = None,
        }
    }

    /// Evaluates one object of unit 0 (see [`Self::evaluate_in`]).
    pub fn evaluate(&mut self, input: &Evaluation) -> Result<Vec<Outcome>, PolicyError> {
        self.evaluate_in(0, input)
    }

    /// Evaluates one object of `unit` (its lookups see units 0 and `unit`, see
    /// [`crate::inventory::Entry::unit`]), running the rules `input.rules` names. Outcomes are
    /// validated against the contract.
    pub fn evaluate_in(
        &mut self,
        unit: u32,
        input: &Evaluation,
    ) -> Result<Vec<Outcome>, PolicyError> {
        self.unit = unit;
        let result = self.call(|instance, store| match instance {
            Bound::V0_2 { world, .. } => world
                .kubectl_vllm_policy_policy()
                .call_evaluate(store, input),
            Bound::V0_1(world) => v0_1::evaluate(world, store, input),
        })?;
        let outcomes = result.map_err(|message| PolicyError::Failed {
            policy: self.name.clone(),
            message,
        })?;
        if outcomes.len() > crate::validate::MAX_OUTCOMES {
            return Err(PolicyError::Malformed {
                policy: self.name.clone(),
                message: format!(
                    "{} findings and skips for one object (at most {})",
                    outcomes.len(),
                    crate::validate::MAX_OUTCOMES
                ),
            });
        }
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
    /// A kept instance of a reusable policy is reset first, when its input set changed.
    fn call<R>(
        &mut self,
        f: impl FnOnce(&Bound, &mut Store<State>) -> wasmtime::Result<R>,
    ) -> Result<R, PolicyError> {
        if self.instance.is_none() {
            let mut store = Store::new(&self.engine, State::new(&self.shared, &self.limits));
            store.limiter(|s| &mut s.limiter);
            store.set_epoch_deadline(ticks(self.limits.timeout));
            let bound = self.bind(&mut store).map_err(|e| {
                if e.downcast_ref::<Trap>().is_none() && !store.data().limiter.exceeded {
                    // Not a trap of its start function: its exports do not have the contract's
                    // types (a record field, an enum case the contract does not have).
                    PolicyError::Load {
                        policy: self.name.clone(),
                        message: format!("its exports do not match the contract: {e:#}"),
                    }
                } else {
                    self.classify(&store, &e)
                }
            })?;
            self.instantiations += 1;
            self.instance = Some((store, bound));
        }
        let (store, instance) = self.instance.as_mut().expect("instantiated above");
        store.set_epoch_deadline(ticks(self.limits.timeout));
        store.data_mut().unit = self.unit;
        store.data_mut().limiter.exceeded = false;
        if std::mem::take(&mut store.data_mut().reset_due) {
            store.data_mut().sets += 1;
            if let Bound::V0_2 {
                reset: Some(reset), ..
            } = instance
                && let Err(e) = reset.call(&mut *store, ())
            {
                // Said as the reset's, not the object's: the object was never evaluated. The
                // instance is dropped; the next call starts a fresh one.
                let (store, _) = self.instance.take().expect("present");
                return Err(match self.classify(&store, &e) {
                    PolicyError::Trap { policy, message } => PolicyError::Trap {
                        policy,
                        message: format!("in `lifecycle.reset`, before this object: {message}"),
                    },
                    other => other,
                });
            }
            store.set_epoch_deadline(ticks(self.limits.timeout));
        }
        match f(instance, store) {
            Ok(value) => Ok(value),
            Err(e) => {
                let (store, _) = self.instance.take().expect("present");
                Err(self.classify(&store, &e))
            }
        }
    }

    /// A new instance in `store`, with its exports looked up.
    fn bind(&self, store: &mut Store<State>) -> wasmtime::Result<Bound> {
        match &self.pre {
            Pre::V0_2 {
                pre,
                indices,
                reset,
            } => {
                let instance = pre.instantiate(&mut *store)?;
                let world = indices.load(&mut *store, &instance)?;
                let reset = reset
                    .as_ref()
                    .map(|index| instance.get_typed_func::<(), ()>(&mut *store, index))
                    .transpose()?;
                Ok(Bound::V0_2 { world, reset })
            }
            Pre::V0_1(pre) => pre.instantiate(store).map(Bound::V0_1),
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

fn ticks(timeout: Duration) -> u64 {
    (timeout.as_millis() / TICK.as_millis()).max(1) as u64
}
