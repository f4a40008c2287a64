//! Suppression annotations (product.md, "Suppressions"): `ignore.kubectl-vllm/<rule-id>: "<reason>"`
//! silences one rule for the object that carries it, `kubectl-vllm/ignore-all: "<reason>"` all of
//! them. Only the object's own `metadata.annotations` count; the same keys on a pod template are
//! reported (`suppression-on-pod-template`, with a fix that moves them), and an empty reason is
//! reported (`suppression-without-reason`) but still honoured.

use serde_json::{Map, Value};

use kubectl_vllm_manifest::Manifests;

use crate::config::Config;
use crate::registry::Registry;
use crate::report::{Finding, Report, Suppressed};

/// The prefix of a one-rule suppression key.
pub const RULE_PREFIX: &str = "ignore.kubectl-vllm/";
/// The key that silences every rule.
pub const ALL: &str = "kubectl-vllm/ignore-all";

/// Where workload kinds keep their pod templates' annotations.
pub(crate) const TEMPLATE_ANNOTATIONS: &[&str] = &[
    "/spec/template/metadata/annotations",
    "/spec/jobTemplate/spec/template/metadata/annotations",
    "/spec/leaderWorkerTemplate/leaderTemplate/metadata/annotations",
    "/spec/leaderWorkerTemplate/workerTemplate/metadata/annotations",
];

/// Whether `key` is a suppression annotation.
pub(crate) fn is_suppression(key: &str) -> bool {
    key == ALL || key.strip_prefix(RULE_PREFIX).is_some_and(|r| !r.is_empty())
}

/// The suppressions an object declares on itself.
#[derive(Debug, Default)]
pub struct Suppressions {
    all: Option<String>,
    rules: Vec<(String, String)>,
}

impl Suppressions {
    /// Reads `object`'s own annotations.
    #[must_use]
    pub fn of(object: &Value) -> Self {
        let mut out = Self::default();
        for (key, reason) in annotations(object, "/metadata/annotations") {
            let reason = reason.as_str().unwrap_or_default().to_string();
            if key == ALL {
                out.all = Some(reason);
            } else if let Some(rule) = key.strip_prefix(RULE_PREFIX) {
                out.rules.push((rule.to_string(), reason));
            }
        }
        out
    }

    /// The annotation that silences `rule`, with its reason.
    #[must_use]
    pub fn why(&self, rule: &str) -> Option<String> {
        if let Some((_, reason)) = self.rules.iter().find(|(r, _)| r == rule) {
            return Some(format!("annotation {RULE_PREFIX}{rule}: {reason}"));
        }
        self.all
            .as_ref()
            .map(|reason| format!("annotation {ALL}: {reason}"))
    }
}

pub(crate) fn annotations<'a>(object: &'a Value, pointer: &str) -> &'a Map<String, Value> {
    static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
    object
        .pointer(pointer)
        .and_then(Value::as_object)
        .unwrap_or(&EMPTY)
}

/// The report of a run: `findings` after `--related` files, the selection, the config's rule
/// levels, its ignores and the objects' suppression annotations have had their say. Input and
/// policy errors always count.
pub(crate) fn report(
    findings: Vec<Finding>,
    manifests: &Manifests,
    config: &Config,
    registry: &Registry,
) -> Report {
    let suppressions: Vec<Suppressions> = manifests
        .objects
        .iter()
        .map(|o| Suppressions::of(&o.json))
        .collect();
    let mut report = Report::default();
    let reported = manifests.reported_files.unwrap_or(manifests.files.len());
    for mut finding in findings {
        let fatal = registry.unsuppressible(finding.rule.as_str());
        // `--related` files are there for lookups only; what fails to load still counts.
        let file = finding
            .object
            .as_ref()
            .map(|o| o.file)
            .or(finding.region.map(|r| r.file));
        if file.is_some_and(|f| f >= reported) && !fatal {
            continue;
        }
        if !fatal && !config.selection.allows(finding.rule.as_str()) {
            continue;
        }
        if !fatal && let Some(level) = config.rules.get(finding.rule.as_str()) {
            match level.severity() {
                Some(severity) => finding.severity = severity,
                None => continue,
            }
        }
        let why = if fatal {
            None
        } else {
            ignored_by(config, &finding)
                .or_else(|| silenced_by(&suppressions, manifests, registry, &finding))
        };
        if let Some(why) = why {
            report.summary.suppressed += 1;
            report.suppressed.push(Suppressed {
                finding,
                suppressed_by: why,
            });
            continue;
        }
        report.findings.push(finding);
    }
    // Files read: a renderer's output is not a file (its sources are).
    report.summary.files = manifests.files[..reported.min(manifests.files.len())]
        .iter()
        .filter(|f| !matches!(f.provenance, kubectl_vllm_manifest::Provenance::Rendered(_)))
        .count();
    report.summary.documents = manifests
        .objects
        .iter()
        .filter(|o| o.file < reported)
        .count();
    report.finish(|id| registry.unsuppressible(id.as_str()));
    report
}

/// The annotation of the finding's object that silences its rule, if any.
fn silenced_by(
    suppressions: &[Suppressions],
    manifests: &Manifests,
    registry: &Registry,
    finding: &Finding,
) -> Option<String> {
    if !registry.silenced_by_annotations(finding.rule.as_str()) {
        return None;
    }
    let (Some(region), Some(document)) = (finding.region, finding.document()) else {
        return None;
    };
    let at = finding.document_pointer().unwrap_or_default();
    // A finding carried to a rendered object's source file is still about the rendered object.
    let file = finding.object.as_ref().map_or(region.file, |o| o.file);
    let object = manifests.object_at(file, document, &at)?;
    suppressions[object].why(finding.rule.as_str())
}

/// The config ignore that covers the finding, with its reason.
fn ignored_by(config: &Config, finding: &Finding) -> Option<String> {
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
