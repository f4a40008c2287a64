//! One lint run: the policies over every object of the input set, the engine's own rules and
//! schema validation, turned into located findings; then the config, selection and
//! suppressions decide what is reported.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kubectl_vllm_core::{Pointer, RuleId, Severity};
use kubectl_vllm_host::facts::LiveFacts;
use kubectl_vllm_host::provider::{Hint, Resolved};
use kubectl_vllm_host::{
    ArtifactCache, Cluster, Contract, FactTables, Host, Inventory, Limits, ObjectRef, Outcome,
    Policy, PolicyError, Shared, Skip,
};
use kubectl_vllm_manifest::{Manifests, Object};

use crate::config::{Config, Loaded};
use crate::locate::Locator;
use crate::registry::{Registry, RuleInfo};
use crate::report::{Edit, Finding, Fix, Report};
use crate::rules::{self, PolicyErrorRule};

/// Where a policy came from.
#[derive(Debug, Clone)]
pub enum PolicySource {
    /// Embedded in the binary.
    Builtin(&'static str),
    /// A file.
    File(PathBuf),
}

impl std::fmt::Display for PolicySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Builtin(name) => write!(f, "builtin:{name}"),
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Loaded policies and the rule registry, reusable across runs.
pub struct Linter {
    // Keeps the engine and epoch ticker alive for the policies.
    _host: Host,
    policies: Vec<Policy>,
    load_errors: Vec<(PolicySource, PolicyError)>,
    registry: Registry,
    /// With `--cluster`: the live facts that replace the config's cluster profile.
    live: Option<Live>,
    /// The inventory of the last run, for its missed lookups.
    last: Option<Arc<Shared>>,
    /// The fact tables of the last run, and the config's overrides they were built with: a
    /// linter that lints one object at a time (the webhook) builds them once.
    facts: Option<(FactTables, Arc<FactTables>)>,
    /// Kubernetes schemas to validate every object against (`None`: no schema validation).
    schemas: Option<kubectl_vllm_schema::Schemas>,
    /// Threads that evaluate objects ([`Linter::set_jobs`]).
    jobs: usize,
}

/// Work a front end may want to tell its user about before it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// `count` embedded policies are compiled now: the machine code the build embedded does not
    /// fit this CPU (or is ignored) and the artifact cache does not hold them; `cached`: the
    /// cache keeps them for the next runs.
    CompilingPolicies {
        /// How many.
        count: usize,
        /// Whether the next runs load them from the cache.
        cached: bool,
    },
}

/// What a live cluster adds to a run (`--cluster`, `apply`, `diff`).
#[derive(Debug, Clone)]
pub struct Live {
    /// Node pools, storage classes and provider from the cluster, over the config's profile.
    pub facts: LiveFacts,
    /// Objects the set references and the cluster has (read once, metadata only for Secrets
    /// and ConfigMaps); policies find them through `inventory.get`.
    pub objects: Vec<serde_json::Value>,
    /// Whether an object the cluster did not return is known to be missing: true for a run
    /// (`--cluster`, `apply`, `diff`), false at admission, where the objects of one `kubectl
    /// apply` arrive one by one and a PVC may come after the Deployment that mounts it. Policies
    /// see it as the profile's `live`.
    pub absence_proves_missing: bool,
}

impl Live {
    /// The cluster as a run (`--cluster`, `apply`, `diff`) sees it: what it lacks is missing.
    #[must_use]
    pub fn of_run(facts: LiveFacts, objects: Vec<serde_json::Value>) -> Self {
        Self {
            facts,
            objects,
            absence_proves_missing: true,
        }
    }
}

impl Linter {
    /// Loads the default policies (unless `defaults` is false), the config's and `extra`.
    pub fn new(
        cache: ArtifactCache,
        limits: Limits,
        config: &Loaded,
        extra: &[PathBuf],
        defaults: bool,
    ) -> Result<Self, PolicyError> {
        Self::with_progress(cache, limits, config, extra, defaults, &mut |_| {})
    }

    /// [`Linter::new`], telling `progress` before work a user would wait for.
    pub fn with_progress(
        cache: ArtifactCache,
        limits: Limits,
        config: &Loaded,
        extra: &[PathBuf],
        defaults: bool,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Self, PolicyError> {
        let host = Host::new(cache, limits)?;
        if defaults {
            let compiling = kubectl_vllm_builtin::POLICIES
                .iter()
                .filter(|b| host.needs_compiling(b.wasm, b.precompiled.as_ref()))
                .count();
            if compiling > 0 {
                progress(Progress::CompilingPolicies {
                    count: compiling,
                    cached: host.caches(),
                });
            }
        }
        let empty = Arc::new(Shared::default());
        let mut policies = Vec::new();
        let mut load_errors = Vec::new();
        if defaults {
            // One thread per policy: loading machine code and instantiating (or, where the
            // embedded code does not fit, compiling) overlap on every core; order is kept.
            let loaded: Vec<_> = std::thread::scope(|scope| {
                let loading: Vec<_> = kubectl_vllm_builtin::POLICIES
                    .iter()
                    .map(|builtin| {
                        let (host, shared) = (&host, Arc::clone(&empty));
                        scope.spawn(move || {
                            host.load_precompiled(
                                builtin.name,
                                builtin.wasm,
                                builtin.precompiled.as_ref(),
                                shared,
                            )
                        })
                    })
                    .collect();
                loading
                    .into_iter()
                    .map(|thread| thread.join().expect("a policy-loading thread panicked"))
                    .collect()
            });
            for (builtin, result) in kubectl_vllm_builtin::POLICIES.iter().zip(loaded) {
                match result {
                    Ok(policy) => policies.push(policy),
                    Err(e) => load_errors.push((PolicySource::Builtin(builtin.name), e)),
                }
            }
        }
        let base = config
            .path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let configured = config
            .config
            .policies
            .iter()
            .map(|p| (base.join(&p.path), Some(p.sha256.clone())));
        let given = extra
            .iter()
            .flat_map(|p| expand_policy_path(p))
            .map(|p| (p, None));
        for (path, sha256) in configured.chain(given) {
            let source = PolicySource::File(path.clone());
            let label = path.display().to_string();
            let loaded = std::fs::read(&path)
                .map_err(|e| PolicyError::Load {
                    policy: label.clone(),
                    message: e.to_string(),
                })
                .and_then(|wasm| {
                    verify_sha256(&label, &wasm, sha256.as_ref())?;
                    host.load(&label, &wasm, Arc::clone(&empty))
                });
            match loaded {
                Ok(policy) => policies.push(policy),
                Err(e) => load_errors.push((source, e)),
            }
        }
        let mut rules = crate::rules::host_rules();
        for policy in &policies {
            rules.extend(RuleInfo::of_policy(policy));
        }
        Ok(Self {
            _host: host,
            policies,
            load_errors,
            registry: Registry::new(rules),
            live: None,
            last: None,
            facts: None,
            schemas: None,
            jobs: default_jobs(),
        })
    }

    /// Validates every object against `schemas` from now on (`None`: no schema validation).
    pub fn set_schemas(&mut self, schemas: Option<kubectl_vllm_schema::Schemas>) {
        self.schemas = schemas;
    }

    /// Evaluates objects on `jobs` threads from now on (`None`: one per available core). The
    /// report does not depend on it.
    pub fn set_jobs(&mut self, jobs: Option<usize>) {
        self.jobs = jobs.map_or_else(default_jobs, |j| j.max(1));
    }

    /// Lints against a live cluster from now on (`None`: the config's cluster profile).
    pub fn set_live(&mut self, live: Option<Live>) {
        self.live = live;
    }

    /// The `inventory.get` lookups of the last run that found nothing: (kind, namespace, name).
    #[must_use]
    pub fn missed_lookups(&self) -> Vec<(String, Option<String>, String)> {
        self.last
            .as_ref()
            .map(|s| s.inventory.misses())
            .unwrap_or_default()
    }

    /// Every rule: the engine's, the schema crate's and the loaded policies'.
    #[must_use]
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The policies that failed to load, and why (each is also a `policy-error` finding of
    /// every run).
    #[must_use]
    pub fn load_errors(&self) -> &[(PolicySource, PolicyError)] {
        &self.load_errors
    }

    /// How many policies loaded.
    #[must_use]
    pub fn policy_count(&self) -> usize {
        self.policies.len()
    }

    /// Lints one input set.
    pub fn lint(&mut self, manifests: &Manifests, config: &Config) -> Report {
        let findings = self.findings(manifests, config);
        crate::suppress::report(findings, manifests, config, &self.registry)
    }

    /// The built-in fact tables with the config's `overrides` applied.
    fn fact_tables(&mut self, overrides: &FactTables) -> Arc<FactTables> {
        match &self.facts {
            Some((applied, tables)) if applied == overrides => Arc::clone(tables),
            _ => {
                let mut tables = FactTables::builtin();
                tables.apply(overrides);
                let tables = Arc::new(tables);
                self.facts = Some((overrides.clone(), Arc::clone(&tables)));
                tables
            }
        }
    }

    /// Every finding of one input set, before the config and suppressions have their say.
    fn findings(&mut self, manifests: &Manifests, config: &Config) -> Vec<Finding> {
        let facts = self.fact_tables(&config.facts);
        // The input set's objects first, in input order: evaluation `i` is inventory entry `i`.
        let mut inventory = Inventory::default();
        // Each render is its own unit: its lookups see itself and the files read as given.
        for object in &manifests.objects {
            let unit = match manifests.files[object.file].provenance {
                kubectl_vllm_manifest::Provenance::Rendered(_) => {
                    u32::try_from(object.file + 1).expect("fewer than 2^32 files")
                }
                _ => 0,
            };
            inventory.insert_in(unit, object_ref(object), &object.json);
        }
        // Objects outside the set: the config's `existing` ones, then the live cluster's.
        let outside = config
            .cluster
            .existing
            .iter()
            .map(stand_in)
            .chain(self.live.iter().flat_map(|l| l.objects.iter().cloned()));
        for object in outside {
            inventory.insert(reference_of(&object), &object);
        }
        let provider = Resolved::resolve(
            config.provider,
            config.cluster.provider_setting(),
            self.live.as_ref().and_then(|l| l.facts.provider),
            || provider_hints(manifests, &facts),
        );
        let cluster = match &self.live {
            Some(live) => {
                let mut cluster = Cluster::live(&config.cluster, provider.clone(), &live.facts);
                cluster.live = live.absence_proves_missing;
                cluster
            }
            None => Cluster::from_profile(&config.cluster, provider.clone()),
        };
        let shared = Arc::new(Shared {
            inventory,
            facts,
            cluster,
        });
        self.last = Some(Arc::clone(&shared));
        let mut findings = Vec::new();
        for (source, error) in &self.load_errors {
            findings.push(Finding::of::<PolicyErrorRule>(
                source.to_string(),
                error.to_string(),
            ));
        }
        rules::input_errors(manifests, &mut findings);
        rules::duplicate_keys(manifests, &mut findings);
        rules::duplicate_objects(manifests, &mut findings);
        rules::suppression_problems(manifests, &mut findings);
        rules::secret_values(manifests, &mut findings);
        let complete = manifests.errors.is_empty();
        let note = provider_note(manifests, &provider);
        let locator = Locator::new(manifests);
        let mut skips: Vec<(usize, Skip)> = Vec::new();
        for policy in &mut self.policies {
            let runnable =
                self.registry
                    .runnable(policy.name(), provider.provider, complete, |id| {
                        config.enabled(id)
                    });
            // A 0.2 policy with nothing to run is not called; a 0.1 policy runs all its rules.
            if runnable.is_empty() && policy.contract != Contract::V0_1 {
                continue;
            }
            policy.set_shared(Arc::clone(&shared));
            let results = crate::parallel::evaluate_all(
                policy,
                &shared.inventory,
                manifests.objects.len(),
                &runnable,
                self.jobs,
            );
            for (index, (object, result)) in manifests.objects.iter().zip(results).enumerate() {
                match result {
                    Ok(outcomes) => {
                        for outcome in outcomes {
                            match outcome {
                                Outcome::Finding(result) => findings.push(policy_finding(
                                    locator,
                                    &self.registry,
                                    object,
                                    policy.name(),
                                    result,
                                    note.as_deref(),
                                )),
                                Outcome::Skipped(skip) => skips.push((index, skip)),
                            }
                        }
                    }
                    Err(error) => {
                        let r = &object.reference;
                        let mut finding = locator.finding::<PolicyErrorRule>(
                            object,
                            Pointer::root(),
                            format!(
                                "{error} while evaluating {} {}",
                                r.kind,
                                r.namespace
                                    .as_ref()
                                    .map_or(r.name.clone(), |ns| format!("{ns}/{}", r.name))
                            ),
                        );
                        finding.policy = Some(policy.name().to_string());
                        findings.push(finding);
                    }
                }
            }
        }
        rules::skip_findings(manifests, &skips, &provider, &mut findings);
        if let Some(schemas) = &mut self.schemas {
            rules::schema_findings(schemas, manifests, &mut findings);
        }
        findings
    }
}

/// One evaluation thread per core the process may use.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// A policy's finding, located, at the severity it gave or its rule's default, with its fix.
fn policy_finding(
    locator: Locator,
    registry: &Registry,
    object: &Object,
    policy: &str,
    result: kubectl_vllm_host::Finding,
    provider_note: Option<&str>,
) -> Finding {
    let rule = registry.get(&result.rule);
    let message = match (provider_note, rule) {
        (Some(note), Some(rule)) if !rule.providers.is_empty() => {
            format!("{} ({note})", result.message)
        }
        _ => result.message.clone(),
    };
    // The host validated the pointers, the rule id and the fix against the policy's metadata.
    let pointer = Pointer::parse(&result.pointer).unwrap_or_default();
    let severity = result.severity.map_or_else(
        || rule.map_or(Severity::Error, |r| r.severity),
        Severity::from,
    );
    let mut finding = locator.place(
        Finding::new(RuleId::new(result.rule), severity, String::new(), message),
        object,
        pointer.clone(),
    );
    finding.help = result.help;
    finding.policy = Some(policy.to_string());
    finding.fix = result.fix.map(|fix| Fix {
        title: fix.title,
        applicability: fix.applicability.into(),
        edits: fix.operations.iter().map(edit).collect(),
    });
    if let Some(sub) = result.sub_span {
        locator.narrow(&mut finding, object, &pointer, (sub.start, sub.end));
    }
    finding
}

/// A contract patch operation as an edit (the host checked that paths are pointers and values
/// JSON).
fn edit(op: &kubectl_vllm_host::PatchOp) -> Edit {
    use kubectl_vllm_host::PatchOp;
    let pointer = |p: &str| Pointer::parse(p).unwrap_or_default();
    let value = |v: &str| serde_json::from_str(v).unwrap_or_default();
    match op {
        PatchOp::Replace(pv) => Edit::Replace(pointer(&pv.path), value(&pv.value)),
        PatchOp::Add(pv) => Edit::Add(pointer(&pv.path), value(&pv.value)),
        PatchOp::Remove(path) => Edit::Remove(pointer(path)),
    }
}

/// The object a config's `cluster.existing` entry stands for: its kind, namespace and name, and
/// the annotation that says it is known by name only.
fn stand_in(existing: &kubectl_vllm_host::facts::ExistingObject) -> serde_json::Value {
    let api_version = match existing.kind.as_str() {
        "StorageClass" => "storage.k8s.io/v1",
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => "apps/v1",
        _ => "v1",
    };
    kubectl_vllm_core::stand_in::stand_in(
        api_version,
        &existing.kind,
        existing.namespace.as_deref(),
        &existing.name,
        "existing",
    )
}

/// The identity of an object from outside the input set.
fn reference_of(object: &serde_json::Value) -> ObjectRef {
    let text = |pointer: &str| object.pointer(pointer).and_then(serde_json::Value::as_str);
    ObjectRef {
        api_version: text("/apiVersion").unwrap_or("v1").to_string(),
        kind: text("/kind").unwrap_or_default().to_string(),
        namespace: text("/metadata/namespace").map(str::to_string),
        name: text("/metadata/name").unwrap_or_default().to_string(),
    }
}

/// Every provider hint of the input set, in input order.
fn provider_hints(manifests: &Manifests, facts: &FactTables) -> Vec<Hint> {
    let instance_type = |name: &str| facts.instance_type(name).map(|t| t.provider);
    let mut hints = Vec::new();
    for (index, object) in manifests.objects.iter().enumerate() {
        kubectl_vllm_host::provider::hints(index, &object.json, &instance_type, &mut hints);
    }
    hints
}

/// What messages of provider-specific rules add when the provider was inferred from a hint:
/// `GKE, from nodeSelector cloud.google.com/gke-accelerator at deploy.yaml:31`.
fn provider_note(manifests: &Manifests, provider: &Resolved) -> Option<String> {
    let hint = provider.hint.as_ref()?; // set only when the hints decided
    Some(format!(
        "{}, from {}",
        provider.provider.display(),
        rules::describe_hint(manifests, hint)
    ))
}

fn expand_policy_path(path: &Path) -> Vec<PathBuf> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    }
}

fn verify_sha256(
    label: &str,
    wasm: &[u8],
    expected: Option<&crate::config::Sha256>,
) -> Result<(), PolicyError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let actual = kubectl_vllm_host::cache::sha256_hex(wasm);
    if expected.matches(&actual) {
        Ok(())
    } else {
        Err(PolicyError::Load {
            policy: label.to_string(),
            message: format!(
                "its sha256 is {actual}, but the config pins {expected}: the file changed since it \
                 was pinned; if the change is intended, pin the new hash"
            ),
        })
    }
}

fn object_ref(object: &kubectl_vllm_manifest::Object) -> ObjectRef {
    let r = &object.reference;
    ObjectRef {
        api_version: r.api_version.clone(),
        kind: r.kind.clone(),
        namespace: r.namespace.clone(),
        name: r.name.clone(),
    }
}
