//! One lint run: policies over every object of the input set, plus the host's own rules, turned
//! into located findings.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kubectl_vllm_host::{
    ArtifactCache, Cluster, Evaluation, FactTables, Host, Inventory, Limits, ObjectRef, Policy,
    PolicyError, Shared,
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
    pub cluster: Cluster,
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
                use kubectl_vllm_host::{Applicability, FixAvailability};
                let fix = match rule.fix_availability {
                    FixAvailability::None => "none",
                    FixAvailability::Sometimes => "sometimes",
                    FixAvailability::Always => "always",
                };
                rows.push(RuleRow {
                    id: rule.id.clone(),
                    severity: rule.default_severity.into(),
                    fix,
                    applicability: (fix != "none").then_some(match rule.fix_applicability {
                        Applicability::Safe => "safe",
                        Applicability::Unsafe => "unsafe",
                        Applicability::DisplayOnly => "display-only",
                    }),
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
        let evaluations: Vec<Evaluation> = manifests
            .objects
            .iter()
            .map(|o| {
                let reference = object_ref(o);
                inventory.insert(reference.clone(), &o.json);
                Evaluation {
                    object_ref: reference,
                    object: o.json.to_string(),
                }
            })
            .collect();
        if let Some(live) = &self.live {
            for object in &live.objects {
                let text =
                    |pointer: &str| object.pointer(pointer).and_then(serde_json::Value::as_str);
                let reference = ObjectRef {
                    api_version: text("/apiVersion").unwrap_or("v1").to_string(),
                    kind: text("/kind").unwrap_or_default().to_string(),
                    namespace: text("/metadata/namespace").map(str::to_string),
                    name: text("/metadata/name").unwrap_or_default().to_string(),
                };
                inventory.insert(reference, object);
            }
        }
        let shared = Arc::new(Shared {
            inventory,
            facts,
            cluster: self.live.as_ref().map_or_else(
                || Cluster::from_profile(&config.cluster),
                |l| l.cluster.clone(),
            ),
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
        for policy in &mut self.policies {
            policy.set_shared(Arc::clone(&shared));
            for (object, evaluation) in manifests.objects.iter().zip(&evaluations) {
                match policy.evaluate(evaluation) {
                    Ok(results) => {
                        for result in results {
                            findings.push(policy_finding(manifests, object, policy, result));
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
        let generic = config.cluster.provider == kubectl_vllm_host::facts::Provider::Generic;
        let incomplete = !manifests.errors.is_empty();
        let reported = manifests.reported_files.unwrap_or(manifests.files.len());
        for mut finding in findings {
            // `--related` files are there for lookups only; what fails to load still counts.
            if finding.file_index.is_some_and(|f| f >= reported)
                && !host_rules::UNSUPPRESSIBLE.contains(&finding.rule.as_str())
            {
                continue;
            }
            // product.md: `provider: generic` turns off the gke-* rules, whatever a policy says.
            if generic && finding.rule.starts_with("gke-") {
                continue;
            }
            // An incomplete set cannot prove that a referenced object is missing.
            if incomplete && host_rules::REFERENCE_RULES.contains(&finding.rule.as_str()) {
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
                for issue in issues {
                    let mut finding = object_finding(
                        manifests,
                        object,
                        issue.rule,
                        &issue.pointer,
                        issue.message,
                    );
                    finding.help = issue.help;
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
) -> Finding {
    let default = policy
        .info
        .rules
        .iter()
        .find(|r| r.id == result.rule)
        .map(|r| Severity::from(r.default_severity))
        .or_else(|| {
            host_rules::all()
                .into_iter()
                .find(|r| r.id == result.rule)
                .map(|r| r.severity)
        })
        .unwrap_or(Severity::Error);
    let mut finding = object_finding(
        manifests,
        object,
        &result.rule,
        &result.pointer,
        result.message,
    );
    finding.severity = result.severity.map_or(default, Severity::from);
    finding.help = result.help;
    finding.policy = Some(policy.name().to_string());
    finding.patch = result.fix.as_ref().map(|fix| fix.operations.clone());
    finding.fix = result.fix.map(|fix| FixSummary {
        title: fix.title,
        applicability: match fix.applicability {
            kubectl_vllm_host::Applicability::Safe => "safe",
            kubectl_vllm_host::Applicability::Unsafe => "unsafe",
            kubectl_vllm_host::Applicability::DisplayOnly => "display-only",
        },
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
    sub: kubectl_vllm_host::bindings::kubectl_vllm::policy::types::SubSpan,
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
