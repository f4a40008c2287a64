//! One lint run: policies over every object of the input set, plus the host's own rules, turned
//! into located findings.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kubectl_vllm_host::facts::LiveFacts;
use kubectl_vllm_host::provider::{Hint, Provider, Resolved};
use kubectl_vllm_host::{
    ArtifactCache, Cluster, Contract, Evaluation, FactTables, Host, Inventory, Limits, ObjectRef,
    Outcome, Policy, PolicyError, RunFacts, Shared, Skip, SkipReason,
};
use kubectl_vllm_manifest::{Manifests, Object, SourceFile, Span};

use crate::config::{Config, Loaded};
use crate::host_rules;
use crate::report::{Finding, FixSummary, Report, Resource, Severity, Suppressed};
use crate::suppress::{self, Suppressions};

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

/// Loaded policies, reusable across runs.
pub struct Linter {
    // Keeps the engine and epoch ticker alive for the policies.
    _host: Host,
    policies: Vec<Policy>,
    load_errors: Vec<(PolicySource, PolicyError)>,
    /// With `--cluster`: the live facts that replace the config's cluster profile.
    live: Option<Live>,
    /// The inventory of the last run, for its missed lookups.
    last: Option<Arc<Shared>>,
    /// Kubernetes schemas to validate every object against (`None`: no schema validation).
    schemas: Option<kubectl_vllm_schema::Schemas>,
}

/// What a live cluster adds to a run (`--cluster`, `apply`, `diff`).
#[derive(Debug, Clone)]
pub struct Live {
    /// Node pools, storage classes and provider from the cluster, over the config's profile.
    pub facts: LiveFacts,
    /// Objects the set references and the cluster has (read once, metadata only for Secrets
    /// and ConfigMaps); policies find them through `inventory.get`.
    pub objects: Vec<serde_json::Value>,
}

/// A rule as `kubectl vllm rules` lists it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RuleRow {
    /// Id.
    pub id: String,
    /// Default severity.
    pub severity: Severity,
    /// `none`, `sometimes` or `always`.
    pub fix: &'static str,
    /// Applicability of the fix, when it has one.
    pub applicability: Option<&'static str>,
    /// Policy name (`null` for the host's rules).
    pub policy: Option<String>,
    /// One line.
    pub summary: String,
    /// Full documentation.
    #[serde(skip)]
    pub documentation: String,
    /// Whether `docs/rules/<id>.md` documents it (the host's and the embedded policies' rules).
    #[serde(skip)]
    pub documented: bool,
}

impl RuleRow {
    /// The rule's page: what `kubectl vllm explain` prints and `docs/rules/<id>.md` holds.
    #[must_use]
    pub fn page(&self) -> String {
        format!("# {}\n\n{}", self.id, self.documentation)
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
        let host = Host::new(cache, limits)?;
        let empty = Arc::new(Shared::default());
        let mut policies = Vec::new();
        let mut load_errors = Vec::new();
        if defaults {
            for builtin in kubectl_vllm_builtin::POLICIES {
                let source = PolicySource::Builtin(builtin.name);
                match host.load(builtin.name, builtin.wasm, Arc::clone(&empty)) {
                    Ok(policy) => policies.push(policy),
                    Err(e) => load_errors.push((source, e)),
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
            .map(|p| (base.join(&p.path), p.sha256.clone()));
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
                    verify_sha256(&label, &wasm, sha256.as_deref())?;
                    host.load(&label, &wasm, Arc::clone(&empty))
                });
            match loaded {
                Ok(policy) => policies.push(policy),
                Err(e) => load_errors.push((source, e)),
            }
        }
        Ok(Self {
            _host: host,
            policies,
            load_errors,
            live: None,
            last: None,
            schemas: None,
        })
    }

    /// Validates every object against `schemas` from now on (`None`: no schema validation).
    pub fn set_schemas(&mut self, schemas: Option<kubectl_vllm_schema::Schemas>) {
        self.schemas = schemas;
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

    /// Every rule: the policies' and the host's.
    #[must_use]
    pub fn rules(&self) -> Vec<RuleRow> {
        let mut rows: Vec<RuleRow> = host_rules::all()
            .into_iter()
            .map(|r| RuleRow {
                id: r.id.to_string(),
                severity: r.severity,
                fix: r.fix.0,
                applicability: r.fix.1,
                policy: None,
                summary: r.summary.to_string(),
                documentation: r.documentation,
                documented: true,
            })
            .collect();
        for policy in &self.policies {
            for rule in &policy.info.rules {
                use kubectl_vllm_host::FixAvailability;
                let (fix, applicability) = match rule.fix {
                    FixAvailability::None => ("none", None),
                    FixAvailability::Sometimes(a) => ("sometimes", Some(a)),
                    FixAvailability::Always(a) => ("always", Some(a)),
                };
                rows.push(RuleRow {
                    id: rule.id.clone(),
                    severity: rule.default_severity.into(),
                    fix,
                    applicability: applicability
                        .map(|a| kubectl_vllm_core::Applicability::from(a).as_str()),
                    policy: Some(policy.name().to_string()),
                    summary: rule.summary.clone(),
                    documentation: rule.documentation.clone(),
                    documented: kubectl_vllm_builtin::POLICIES
                        .iter()
                        .any(|b| b.name == policy.name()),
                });
            }
        }
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        rows
    }

    /// Lints one input set.
    pub fn lint(&mut self, manifests: &Manifests, config: &Config) -> Report {
        let mut facts = FactTables::builtin();
        facts.apply(&config.facts);
        let mut inventory = Inventory::default();
        let mut evaluations: Vec<Evaluation> = manifests
            .objects
            .iter()
            .map(|o| {
                let reference = object_ref(o);
                inventory.insert(reference.clone(), &o.json);
                Evaluation {
                    object_ref: reference,
                    object: o.json.to_string(),
                    rules: Vec::new(),
                }
            })
            .collect();
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
            Some(live) => Cluster::live(&config.cluster, provider.clone(), &live.facts),
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
            findings.push(Finding::new(
                "policy-error",
                source.to_string(),
                error.to_string(),
            ));
        }
        for error in &manifests.errors {
            let mut finding =
                Finding::new("input-error", error.name.clone(), error.message.clone());
            if let (Some(file), Some(span)) = (error.file, error.span) {
                locate_into(&mut finding, &manifests.files[file].source, file, span);
                finding.document = error.document;
            }
            findings.push(finding);
        }
        duplicate_keys(manifests, &mut findings);
        suppression_problems(manifests, &mut findings);
        secret_values(manifests, &mut findings);
        let run = RunFacts {
            provider: provider.provider,
            complete: manifests.errors.is_empty(),
        };
        let enabled = |id: &str| {
            config.selection.allows(id)
                && !matches!(config.rules.get(id), Some(crate::config::RuleLevel::Off))
        };
        let note = provider_note(manifests, &provider);
        let mut skips: Vec<(usize, Skip)> = Vec::new();
        for policy in &mut self.policies {
            let rules = policy.runnable_rules(run, &enabled);
            // A 0.2 policy with nothing to run is not called; a 0.1 policy runs all its rules.
            if rules.is_empty() && policy.contract != Contract::V0_1 {
                continue;
            }
            policy.set_shared(Arc::clone(&shared));
            for (index, (object, evaluation)) in
                manifests.objects.iter().zip(&mut evaluations).enumerate()
            {
                evaluation.rules.clone_from(&rules);
                match policy.evaluate(evaluation) {
                    Ok(outcomes) => {
                        for outcome in outcomes {
                            match outcome {
                                Outcome::Finding(result) => findings.push(policy_finding(
                                    manifests,
                                    object,
                                    policy,
                                    result,
                                    note.as_deref(),
                                )),
                                Outcome::Skipped(skip) => skips.push((index, skip)),
                            }
                        }
                    }
                    Err(error) => {
                        let r = &object.reference;
                        let mut finding = object_finding(
                            manifests,
                            object,
                            "policy-error",
                            "",
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
        skip_findings(manifests, &skips, &provider, &mut findings);
        if let Some(schemas) = &mut self.schemas {
            schema_findings(schemas, manifests, &mut findings);
        }
        let suppressions: Vec<Suppressions> = manifests
            .objects
            .iter()
            .map(|o| Suppressions::of(&o.json))
            .collect();
        let mut report = Report {
            findings: Vec::new(),
            ..Report::default()
        };
        let reported = manifests.reported_files.unwrap_or(manifests.files.len());
        for mut finding in findings {
            // `--related` files are there for lookups only; what fails to load still counts.
            if finding.file_index.is_some_and(|f| f >= reported)
                && !host_rules::UNSUPPRESSIBLE.contains(&finding.rule.as_str())
            {
                continue;
            }
            if !config.selection.allows(&finding.rule)
                && !host_rules::UNSUPPRESSIBLE.contains(&finding.rule.as_str())
            {
                continue;
            }
            if let Some(level) = config.rules.get(&finding.rule) {
                if host_rules::UNSUPPRESSIBLE.contains(&finding.rule.as_str()) {
                    // Severity of input/policy errors is fixed: they always fail the run.
                } else {
                    match level.severity() {
                        Some(severity) => finding.severity = severity,
                        None => continue,
                    }
                }
            }
            if let Some(why) = ignored_by(config, &finding)
                .or_else(|| silenced_by(&suppressions, manifests, &finding))
            {
                report.summary.suppressed += 1;
                report.suppressed.push(Suppressed {
                    finding,
                    suppressed_by: why,
                });
                continue;
            }
            report.findings.push(finding);
        }
        report.summary.files = reported;
        report.summary.documents = manifests
            .objects
            .iter()
            .filter(|o| o.file < reported)
            .count();
        report.finish();
        report
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
    kubectl_vllm_sdk::k8s::stand_in(
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

/// Where a hint is: `nodeSelector cloud.google.com/gke-accelerator at deploy.yaml:31`.
fn describe_hint(manifests: &Manifests, hint: &Hint) -> String {
    let object = &manifests.objects[hint.object];
    let file = &manifests.files[object.file].source;
    match manifests.locate(object, &hint.pointer) {
        Some(located) => {
            let at = file.position(located.span.start);
            format!("{} at {}:{}", hint.what, file.name, at.line)
        }
        None => format!("{} in {}", hint.what, file.name),
    }
}

/// What messages of provider-specific rules add when the provider was inferred from a hint:
/// `GKE, from nodeSelector cloud.google.com/gke-accelerator at deploy.yaml:31`.
fn provider_note(manifests: &Manifests, provider: &Resolved) -> Option<String> {
    let hint = provider.hint.as_ref()?; // set only when the hints decided
    Some(format!(
        "{}, from {}",
        provider.provider.display(),
        describe_hint(manifests, hint)
    ))
}

/// The host's own infos for checks the policies skipped: one `model-unknown`,
/// `accelerator-unknown` or `server-unparsed` per object, place and reason, naming every rule
/// that skipped there; one unlocated `provider-unknown` per run.
fn skip_findings(
    manifests: &Manifests,
    skips: &[(usize, Skip)],
    provider: &Resolved,
    findings: &mut Vec<Finding>,
) {
    use std::collections::BTreeMap;
    type Key = (usize, String, Option<(u32, u32)>, String);
    let mut located: BTreeMap<Key, (&SkipReason, Vec<&str>)> = BTreeMap::new();
    let mut provider_rules: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    let mut provider_objects: std::collections::BTreeSet<usize> = std::collections::BTreeSet::new();
    for (object, skip) in skips {
        if skip.reason == SkipReason::ProviderUnknown {
            provider_rules.insert(&skip.rule);
            provider_objects.insert(*object);
            continue;
        }
        let reason = format!("{:?}", skip.reason);
        let key = (
            *object,
            skip.pointer.clone(),
            skip.sub_span.map(|s| (s.start, s.end)),
            reason,
        );
        let entry = located.entry(key).or_insert((&skip.reason, Vec::new()));
        if !entry.1.contains(&skip.rule.as_str()) {
            entry.1.push(&skip.rule);
        }
    }
    for ((index, pointer, sub_span, _), (reason, rules)) in located {
        let object = &manifests.objects[index];
        let rules = join_rules(&rules);
        let (rule, message, help) = match reason {
            SkipReason::ModelUnknown(name) => (
                "model-unknown",
                format!("`{name}` is not in the model fact table: {rules} did not check it"),
                "add it under `facts.models` in .kubectl-vllm.yaml (id, aliases, weights-mib, attention-heads, kv-heads, layers, head-dim, max-context)".to_string(),
            ),
            SkipReason::AcceleratorUnknown(what) => (
                "accelerator-unknown",
                format!("the GPU model is not known ({what}): {rules} did not check this pod"),
                "select the GPU with a node label (cloud.google.com/gke-accelerator, nvidia.com/gpu.product, node.kubernetes.io/instance-type), describe the node pools under `cluster.node-pools`, or add it under `facts.accelerators`".to_string(),
            ),
            SkipReason::Unparsed(why) => (
                "server-unparsed",
                format!("{why}: {rules} did not check it"),
                "write the vLLM command line in `command`/`args` (or an inline `sh -c` script) so it can be checked".to_string(),
            ),
            SkipReason::ProviderUnknown => unreachable!("gathered above"),
        };
        let mut finding = object_finding(manifests, object, rule, &pointer, message);
        finding.severity = Severity::Info;
        finding.help = Some(help);
        if let Some((start, end)) = sub_span {
            narrow_to_sub_span(
                manifests,
                object,
                &pointer,
                kubectl_vllm_host::SubSpan { start, end },
                &mut finding,
            );
        }
        findings.push(finding);
    }
    if provider.provider != Provider::Unknown
        || (provider_rules.is_empty() && provider.conflict.is_empty())
    {
        return;
    }
    let why = match provider.conflict.as_slice() {
        [] => {
            "no --provider, cluster.provider or provider-specific key in the manifests says which"
                .to_string()
        }
        hints => format!(
            "the manifests hold hints for {}",
            hints
                .iter()
                .map(|h| format!("{} ({})", h.provider.display(), describe_hint(manifests, h)))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    };
    let skipped = if provider_rules.is_empty() {
        "no provider-specific rule had anything to check".to_string()
    } else {
        let rules: Vec<&str> = provider_rules.into_iter().collect();
        format!(
            "{} provider-specific rule{} ({}) {} skipped on {} object{}",
            rules.len(),
            if rules.len() == 1 { "" } else { "s" },
            rules.join(", "),
            if rules.len() == 1 { "was" } else { "were" },
            provider_objects.len(),
            if provider_objects.len() == 1 { "" } else { "s" },
        )
    };
    let mut finding = Finding::new(
        "provider-unknown",
        String::new(),
        format!("the provider is unknown ({why}): {skipped}"),
    );
    finding.severity = Severity::Info;
    finding.help = Some(
        "set it with `--provider gke|eks|aks|openshift|generic` or `cluster.provider` in .kubectl-vllm.yaml"
            .into(),
    );
    findings.push(finding);
}

/// `a`, `a and b`, `a, b and c`.
fn join_rules(rules: &[&str]) -> String {
    match rules {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
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

fn verify_sha256(label: &str, wasm: &[u8], expected: Option<&str>) -> Result<(), PolicyError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let actual = kubectl_vllm_host::cache::sha256_hex(wasm);
    if actual.eq_ignore_ascii_case(expected.trim()) {
        Ok(())
    } else {
        Err(PolicyError::Load {
            policy: label.to_string(),
            message: format!("sha256 is {actual}, but the config expects {expected}"),
        })
    }
}

fn object_ref(object: &Object) -> ObjectRef {
    let r = &object.reference;
    ObjectRef {
        api_version: r.api_version.clone(),
        kind: r.kind.clone(),
        namespace: r.namespace.clone(),
        name: r.name.clone(),
    }
}

fn locate_into(finding: &mut Finding, source: &SourceFile, file: usize, span: Span) {
    let start = source.position(span.start);
    let end = source.position(span.end);
    finding.file_index = Some(file);
    finding.span = Some(span);
    finding.line = Some(start.line);
    finding.column = Some(start.column);
    finding.end_line = Some(end.line);
    finding.end_column = Some(end.column);
}

/// A finding about `object` at `pointer`, located with the nearest-ancestor fallback.
/// Schema validation of every object; a kind without a schema is reported once.
fn schema_findings(
    schemas: &mut kubectl_vllm_schema::Schemas,
    manifests: &Manifests,
    findings: &mut Vec<Finding>,
) {
    let mut unknown = std::collections::HashSet::new();
    for object in &manifests.objects {
        match schemas.check(&object.json) {
            kubectl_vllm_schema::Outcome::Checked(issues) => {
                let r = &object.reference;
                // The cluster's CRD may be newer than the schema built in here: a field it does
                // not know may be one the cluster does.
                let skew = schemas.is_builtin_crd(&r.api_version, &r.kind);
                for issue in issues {
                    let advisory = skew && issue.rule == "schema-unknown-field";
                    let message = if advisory {
                        format!(
                            "{} (as far as the {} schema built into kubectl-vllm knows; a newer CRD may have it)",
                            issue.message, r.kind
                        )
                    } else {
                        issue.message
                    };
                    let mut finding =
                        object_finding(manifests, object, issue.rule, &issue.pointer, message);
                    finding.help = issue.help;
                    if advisory {
                        finding.severity = Severity::Info;
                        finding.help = Some(finding.help.map_or_else(
                            || "check the field against the CRD your cluster runs, or add it with `--schema`".to_string(),
                            |h| format!("{h}; or add the CRD your cluster runs with `--schema`"),
                        ));
                    }
                    findings.push(finding);
                }
            }
            kubectl_vllm_schema::Outcome::UnknownKind => {
                let r = &object.reference;
                if unknown.insert((r.api_version.clone(), r.kind.clone())) {
                    let served = schemas.served_instead(&r.api_version, &r.kind);
                    let finding = if served.is_empty() {
                        let mut finding = object_finding(
                            manifests,
                            object,
                            "schema-unknown-kind",
                            "/kind",
                            format!(
                                "no schema for {} {}: its fields are not checked (Kubernetes {})",
                                r.api_version,
                                r.kind,
                                schemas.version()
                            ),
                        );
                        finding.severity = Severity::Info;
                        finding.help =
                            Some("add its CRD or JSON Schema with `--schema PATH`".into());
                        finding
                    } else {
                        // A kind Kubernetes has, under an apiVersion it no longer serves.
                        let mut finding = object_finding(
                            manifests,
                            object,
                            "schema-unknown-kind",
                            "/apiVersion",
                            format!(
                                "Kubernetes {} does not serve {} {}: the API server refuses it",
                                schemas.version(),
                                r.api_version,
                                r.kind
                            ),
                        );
                        finding.help = Some(format!("use apiVersion {}", served.join(" or ")));
                        finding
                    };
                    findings.push(finding);
                }
            }
        }
    }
}

fn object_finding(
    manifests: &Manifests,
    object: &Object,
    rule: &str,
    pointer: &str,
    message: String,
) -> Finding {
    let file = &manifests.files[object.file];
    let mut finding = Finding::new(rule, file.source.name.clone(), message);
    finding.document = Some(object.document);
    // Inside a `kind: List` the pointer is relative to the List's document (`/items/N/...`).
    finding.pointer = Some(format!("{}{pointer}", object.prefix));
    finding.resource = Some(Resource::from(&object.reference));
    if let Some(located) = manifests.locate(object, pointer) {
        locate_into(&mut finding, &file.source, object.file, located.span);
        finding.inexact = !located.exact;
    }
    finding
}

fn policy_finding(
    manifests: &Manifests,
    object: &Object,
    policy: &Policy,
    result: kubectl_vllm_host::Finding,
    provider_note: Option<&str>,
) -> Finding {
    let rule = policy.info.rules.iter().find(|r| r.id == result.rule);
    let message = match (provider_note, rule) {
        (Some(note), Some(rule)) if kubectl_vllm_host::provider_specific(rule) => {
            format!("{} ({note})", result.message)
        }
        _ => result.message.clone(),
    };
    let default = rule
        .map(|r| Severity::from(r.default_severity))
        .or_else(|| {
            host_rules::all()
                .into_iter()
                .find(|r| r.id == result.rule)
                .map(|r| r.severity)
        })
        .unwrap_or(Severity::Error);
    let mut finding = object_finding(manifests, object, &result.rule, &result.pointer, message);
    finding.severity = result.severity.map_or(default, Severity::from);
    finding.help = result.help;
    finding.policy = Some(policy.name().to_string());
    finding.patch = result.fix.as_ref().map(|fix| fix.operations.clone());
    finding.fix = result.fix.map(|fix| FixSummary {
        title: fix.title,
        applicability: kubectl_vllm_core::Applicability::from(fix.applicability).as_str(),
    });
    if let Some(sub) = result.sub_span {
        narrow_to_sub_span(manifests, object, &result.pointer, sub, &mut finding);
    }
    finding
}

/// Moves the location onto characters `sub.start..sub.end` of the scalar at `pointer`, found in
/// the scalar's source text (so quoting and block scalars are handled); unchanged if not found.
fn narrow_to_sub_span(
    manifests: &Manifests,
    object: &Object,
    pointer: &str,
    sub: kubectl_vllm_host::SubSpan,
    finding: &mut Finding,
) {
    let Some(value) = object.json.pointer(pointer).and_then(|v| v.as_str()) else {
        return;
    };
    let Some(located) = manifests.locate(object, pointer) else {
        return;
    };
    let Some(node) = located.node_span.filter(|_| located.exact) else {
        return;
    };
    let wanted: String = value
        .chars()
        .skip(sub.start as usize)
        .take(sub.end.saturating_sub(sub.start) as usize)
        .collect();
    if wanted.is_empty() {
        return;
    }
    let source = &manifests.files[object.file].source;
    let raw = &source.text[node.range()];
    if let Some(at) = raw.find(&wanted) {
        let span = Span::new(node.start + at, node.start + at + wanted.len());
        locate_into(finding, source, object.file, span);
    }
}

fn duplicate_keys(manifests: &Manifests, findings: &mut Vec<Finding>) {
    for (index, file) in manifests.files.iter().enumerate() {
        for duplicate in &file.stream.duplicates {
            let first = file.source.position(duplicate.first.start);
            let key = duplicate.pointer.rsplit('/').next().unwrap_or_default();
            let key = key.replace("~1", "/").replace("~0", "~");
            let object = manifests
                .object_at(index, duplicate.document, &duplicate.pointer)
                .map(|i| &manifests.objects[i]);
            let message = format!(
                "`{key}` is set twice in this mapping (first on line {}); Kubernetes keeps only this one and silently drops the first",
                first.line
            );
            let mut finding =
                Finding::new("runtime-duplicate-keys", file.source.name.clone(), message);
            finding.help = Some(format!("merge the two `{key}` entries into one"));
            locate_into(&mut finding, &file.source, index, duplicate.second);
            finding.document = Some(duplicate.document);
            if let Some(object) = object {
                finding.resource = Some(Resource::from(&object.reference));
                finding.pointer = Some(duplicate.pointer.clone());
            }
            findings.push(finding);
        }
    }
}

/// Findings about suppression annotations themselves.
fn suppression_problems(manifests: &Manifests, findings: &mut Vec<Finding>) {
    for object in &manifests.objects {
        for problem in suppress::problems(&object.json) {
            let mut finding = object_finding(
                manifests,
                object,
                problem.rule,
                &problem.pointer,
                problem.message,
            );
            finding.severity = Severity::Warning;
            finding.help = Some(problem.help);
            if let Some((title, ops)) = problem.fix {
                finding.fix = Some(FixSummary {
                    title,
                    applicability: "safe",
                });
                finding.patch = Some(ops);
            }
            findings.push(finding);
        }
    }
}

/// The annotation of the finding's object that silences its rule, if any.
fn silenced_by(
    suppressions: &[Suppressions],
    manifests: &Manifests,
    finding: &Finding,
) -> Option<String> {
    if host_rules::NOT_SILENCED_BY_ANNOTATIONS.contains(&finding.rule.as_str()) {
        return None;
    }
    let (Some(file), Some(document)) = (finding.file_index, finding.document) else {
        return None;
    };
    let object = manifests.object_at(file, document, finding.pointer.as_deref().unwrap_or(""))?;
    suppressions[object].why(&finding.rule)
}

/// The config ignore that covers the finding, with its reason.
fn ignored_by(config: &Config, finding: &Finding) -> Option<String> {
    if host_rules::UNSUPPRESSIBLE.contains(&finding.rule.as_str()) {
        return None;
    }
    config
        .ignores
        .iter()
        .find(|ignore| {
            let rule_ok = ignore.rules.is_empty() || ignore.rules.contains(&finding.rule);
            let resource = finding.resource.as_ref();
            let kind_ok = ignore
                .kind
                .as_ref()
                .is_none_or(|k| resource.is_some_and(|r| &r.kind == k));
            let ns_ok = ignore
                .namespace
                .as_ref()
                .is_none_or(|n| resource.is_some_and(|r| r.namespace.as_ref() == Some(n)));
            let name_ok = ignore
                .name
                .as_ref()
                .is_none_or(|n| resource.is_some_and(|r| &r.name == n));
            let path_ok = ignore.path.as_ref().is_none_or(|glob| {
                globset::Glob::new(glob).is_ok_and(|g| g.compile_matcher().is_match(&finding.file))
            });
            rule_ok && kind_ok && ns_ok && name_ok && path_ok
        })
        .map(|ignore| format!("config ignore: {}", ignore.reason))
}

/// Secret values, read from the source before they are hidden: `secret-value-placeholder` for a
/// placeholder (in `stringData`, or in `data` once decoded), `schema-value` for a `data` value
/// that is not base64 (the API server rejects the Secret). Messages name the key, never the value.
fn secret_values(manifests: &Manifests, findings: &mut Vec<Finding>) {
    for object in manifests
        .objects
        .iter()
        .filter(|o| o.reference.kind == "Secret")
    {
        let Some(raw) = manifests.written(object) else {
            continue;
        };
        let name = &object.reference.name;
        for field in ["stringData", "data"] {
            let Some(values) = raw.get(field).and_then(serde_json::Value::as_object) else {
                continue;
            };
            for (key, value) in values {
                let Some(text) = value.as_str() else {
                    continue; // not a string: schema validation reports the type
                };
                let pointer = format!(
                    "/{field}/{}",
                    kubectl_vllm_manifest::yaml::escape_token(key)
                );
                let Some(decoded) = decoded(field, text) else {
                    let mut finding = object_finding(
                        manifests,
                        object,
                        "schema-value",
                        &pointer,
                        format!(
                            "Secret `{name}`: the value of `data.{key}` is not base64, so the API server rejects the Secret"
                        ),
                    );
                    finding.help = Some(
                        "base64-encode it, or move the key to `stringData` (an unrendered template is a placeholder: render it first)"
                            .to_string(),
                    );
                    findings.push(finding);
                    continue;
                };
                if let Some(kind) = placeholder(&decoded) {
                    let mut finding = object_finding(
                        manifests,
                        object,
                        "secret-value-placeholder",
                        &pointer,
                        format!(
                            "Secret `{name}` key `{key}` is {kind}, not a real value: the pod starts and fails when it uses it"
                        ),
                    );
                    finding.severity = Severity::Warning;
                    finding.help = Some(
                        "create the Secret outside the manifests (kubectl create secret), or render the template before linting"
                            .into(),
                    );
                    findings.push(finding);
                }
            }
        }
    }
}

/// A Secret value as the pod sees it: `stringData` as written, `data` base64-decoded (`None`: not
/// base64).
fn decoded(field: &str, text: &str) -> Option<String> {
    use base64::Engine as _;
    if field != "data" {
        return Some(text.to_string());
    }
    let compact: String = text.split_whitespace().collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// What kind of placeholder a Secret value is (product.md, `secret-value-placeholder`), if it is
/// one: words for the message, never the value itself.
fn placeholder(value: &str) -> Option<&'static str> {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    let is_var = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    };
    if v.is_empty() {
        Some("empty")
    } else if v.contains("{{") && v.contains("}}") {
        Some("an unrendered template (`{{…}}`)")
    } else if v.starts_with("${") && v.ends_with('}') || v.strip_prefix('$').is_some_and(is_var) {
        Some("an unexpanded variable")
    } else if v.starts_with('<') && v.ends_with('>') {
        Some("a placeholder in angle brackets")
    } else if lower.starts_with("replace") {
        Some("a `REPLACE…` placeholder")
    } else if lower.starts_with("your-") || lower.starts_with("your_") || lower.starts_with("your ")
    {
        Some("a `your-…` placeholder")
    } else if lower.starts_with("xxx") {
        Some("an `xxx…` placeholder")
    } else if matches!(
        lower.as_str(),
        "changeme" | "change-me" | "change_me" | "todo" | "tbd"
    ) {
        Some("a placeholder word")
    } else {
        None
    }
}
