//! The sandboxed WebAssembly policy host.
//!
//! Policies are components of the world in `wit/policy.wit`. Each gets WASI p2 linked with nothing
//! granted (no preopened directories, environment, arguments, network or inherited stdio; stderr is
//! captured to show a panic message), a memory cap, and a time limit per call enforced with epoch
//! interruption. A policy that loops, traps, runs out of memory or answers with malformed output
//! yields a [`PolicyError`] naming it; its instance is dropped and re-created from the
//! `InstancePre` for the next object, and the other policies carry on.

pub mod cache;
pub mod facts;
pub mod inventory;
pub mod patch;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, ResourceLimiter, Store, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub use cache::{ArtifactCache, Origin};
pub use facts::{Cluster, ClusterProfile, FactTables};
pub use inventory::Inventory;

/// Bindings generated from the WIT contract.
#[allow(missing_docs, clippy::pedantic)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "policy-world",
        additional_derives: [PartialEq, Eq],
    });
}

pub use bindings::kubectl_vllm::policy::types::{
    Applicability, Evaluation, Finding, Fix, FixAvailability, ObjectRef, PatchOp, PolicyInfo,
    RuleInfo, Severity,
};
use bindings::kubectl_vllm::policy::{
    cluster, facts as wit_facts, inventory as wit_inventory, types,
};

/// Rule ids owned by the host that a policy may also report (checks skipped for lack of a fact).
pub const HOST_RULES_FOR_POLICIES: &[&str] = &["model-unknown", "accelerator-unknown"];

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
        let load_error = |e: wasmtime::Error| PolicyError::Load {
            policy: label.to_string(),
            message: format!("{e:#}"),
        };
        let (component, origin) = self
            .cache
            .component(&self.engine, wasm)
            .map_err(load_error)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(load_error)?;
        let pre = bindings::PolicyWorldPre::new(pre).map_err(load_error)?;
        let mut policy = Policy {
            name: label.to_string(),
            info: PolicyInfo {
                name: label.to_string(),
                version: String::new(),
                rules: Vec::new(),
            },
            origin,
            pre,
            instance: None,
            shared,
            limits: self.limits.clone(),
            engine: self.engine.clone(),
        };
        let info = policy
            .call(|instance, store| instance.kubectl_vllm_policy_policy().call_metadata(store))?;
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

/// A loaded policy, ready to evaluate objects.
pub struct Policy {
    name: String,
    /// Its metadata.
    pub info: PolicyInfo,
    /// Whether it was compiled in this process or loaded from the artifact cache.
    pub origin: Origin,
    pre: bindings::PolicyWorldPre<State>,
    instance: Option<(Store<State>, bindings::PolicyWorld)>,
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

    /// Evaluates one object. Findings are validated against the contract.
    pub fn evaluate(&mut self, input: &Evaluation) -> Result<Vec<Finding>, PolicyError> {
        let result = self.call(|instance, store| {
            instance
                .kubectl_vllm_policy_policy()
                .call_evaluate(store, input)
        })?;
        let findings = result.map_err(|message| PolicyError::Failed {
            policy: self.name.clone(),
            message,
        })?;
        for finding in &findings {
            self.validate(finding)
                .map_err(|message| PolicyError::Malformed {
                    policy: self.name.clone(),
                    message,
                })?;
        }
        Ok(findings)
    }

    /// Runs `f` against a live instance with fresh limits; on a trap the instance is discarded.
    fn call<R>(
        &mut self,
        f: impl FnOnce(&bindings::PolicyWorld, &mut Store<State>) -> wasmtime::Result<R>,
    ) -> Result<R, PolicyError> {
        if self.instance.is_none() {
            let mut store = Store::new(&self.engine, State::new(&self.shared, &self.limits));
            store.limiter(|s| &mut s.limiter);
            store.set_epoch_deadline(ticks(self.limits.timeout));
            let instance = self
                .pre
                .instantiate(&mut store)
                .map_err(|e| self.classify(&store, &e))?;
            self.instance = Some((store, instance));
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

    fn validate(&self, finding: &Finding) -> Result<(), String> {
        let known = self.info.rules.iter().any(|r| r.id == finding.rule)
            || HOST_RULES_FOR_POLICIES.contains(&finding.rule.as_str());
        if !known {
            return Err(format!(
                "finding for rule `{}`, which the policy does not declare",
                finding.rule
            ));
        }
        kubectl_vllm_manifest::parse_pointer(&finding.pointer)
            .map_err(|e| format!("rule `{}`: {e}", finding.rule))?;
        if finding.message.trim().is_empty() {
            return Err(format!("rule `{}`: empty message", finding.rule));
        }
        if let Some(span) = finding.sub_span
            && span.start > span.end
        {
            return Err(format!(
                "rule `{}`: sub-span ends before it starts",
                finding.rule
            ));
        }
        if let Some(fix) = &finding.fix {
            for op in &fix.operations {
                let (path, value) = match op {
                    PatchOp::Replace(pv) | PatchOp::Add(pv) => (&pv.path, Some(&pv.value)),
                    PatchOp::Remove(path) => (path, None),
                };
                kubectl_vllm_manifest::parse_pointer(path)
                    .map_err(|e| format!("rule `{}` fix: {e}", finding.rule))?;
                if let Some(value) = value {
                    serde_json::from_str::<serde_json::Value>(value).map_err(|e| {
                        format!("rule `{}` fix: value is not JSON: {e}", finding.rule)
                    })?;
                }
            }
        }
        Ok(())
    }
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

impl types::Host for State {}

impl wit_inventory::Host for State {
    fn get(
        &mut self,
        kind: String,
        namespace: Option<String>,
        name: String,
    ) -> Option<wit_inventory::Object> {
        self.shared
            .inventory
            .get(&kind, namespace.as_deref(), &name)
            .map(|e| wit_inventory::Object {
                object_ref: e.reference.clone(),
                json: e.json.clone(),
            })
    }

    fn list(
        &mut self,
        kind: String,
        namespace: Option<String>,
        label_selector: String,
    ) -> Vec<wit_inventory::Object> {
        self.shared
            .inventory
            .list(&kind, namespace.as_deref(), &label_selector)
            .unwrap_or_default()
            .into_iter()
            .map(|e| wit_inventory::Object {
                object_ref: e.reference.clone(),
                json: e.json.clone(),
            })
            .collect()
    }
}

impl wit_facts::Host for State {
    fn get_model(&mut self, name: String) -> Option<wit_facts::Model> {
        self.shared.facts.model(&name).map(model_record)
    }

    fn list_models(&mut self) -> Vec<wit_facts::Model> {
        self.shared.facts.models.iter().map(model_record).collect()
    }

    fn get_accelerator(&mut self, label: String) -> Option<wit_facts::Accelerator> {
        self.shared
            .facts
            .accelerator(&label)
            .map(accelerator_record)
    }

    fn list_accelerators(&mut self) -> Vec<wit_facts::Accelerator> {
        self.shared
            .facts
            .accelerators
            .iter()
            .map(accelerator_record)
            .collect()
    }
}

fn model_record(m: &facts::ModelFact) -> wit_facts::Model {
    wit_facts::Model {
        id: m.id.clone(),
        aliases: m.aliases.clone(),
        weights_mib: m.weights_mib,
        repository_mib: m.repository_mib,
        extra_folders: m.extra_folders.clone(),
        attention_heads: m.attention_heads,
        vision_heads: m.vision_heads,
        kv_heads: m.kv_heads,
        layers: m.layers,
        full_attention_layers: m.full_attention_layers.unwrap_or(m.layers),
        sliding_window: m.sliding_window,
        head_dim: m.head_dim,
        max_context: m.max_context,
        dtype: m.dtype.clone(),
        model_type: m.model_type.clone(),
        min_vllm: m.min_vllm.clone(),
        min_compute_capability: m.min_compute_capability,
        gated: m.gated,
        source: m.source.clone(),
    }
}

fn accelerator_record(a: &facts::AcceleratorFact) -> wit_facts::Accelerator {
    wit_facts::Accelerator {
        label: a.label.clone(),
        name: a.name.clone(),
        memory_mib: a.memory_mib,
        compute_capability: a.compute_capability,
        bf16: a.bf16.unwrap_or(a.compute_capability >= 80),
        fp8: a.fp8.unwrap_or(a.compute_capability >= 89),
        gpus_per_node: a.gpus_per_node.clone(),
        autopilot_counts: a.autopilot_counts.clone(),
        typos: a.typos.clone(),
        source: a.source.clone(),
    }
}

impl cluster::Host for State {
    fn get_profile(&mut self) -> cluster::Profile {
        let c = &self.shared.cluster;
        cluster::Profile {
            provider: match c.provider {
                facts::Provider::Gke => cluster::Provider::Gke,
                facts::Provider::Generic => cluster::Provider::Generic,
            },
            autopilot: c.autopilot,
            extended_resource_toleration: c.extended_resource_toleration,
            live: c.live,
        }
    }

    fn list_node_pools(&mut self) -> Vec<cluster::NodePool> {
        self.shared
            .cluster
            .node_pools
            .iter()
            .map(|p| cluster::NodePool {
                name: p.name.clone(),
                accelerator: p.accelerator.clone(),
                gpus_per_node: p.gpus_per_node,
                labels: p.labels.clone().into_iter().collect(),
                taints: p
                    .taints
                    .iter()
                    .map(|t| cluster::Taint {
                        key: t.key.clone(),
                        value: t.value.clone(),
                        effect: t.effect.clone(),
                    })
                    .collect(),
            })
            .collect()
    }

    fn list_storage_classes(&mut self) -> Vec<cluster::StorageClass> {
        self.shared
            .cluster
            .storage_classes
            .iter()
            .map(|s| cluster::StorageClass {
                name: s.name.clone(),
                provisioner: s.provisioner.clone(),
                parameters: s.parameters.clone().into_iter().collect(),
                volume_binding_mode: s.volume_binding_mode.clone(),
                is_default: s.is_default,
            })
            .collect()
    }
}
