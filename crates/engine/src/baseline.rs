//! Baselines, for adopting the linter on a repository that already has findings:
//! `--write-baseline FILE` records today's findings, `--baseline FILE` hides exactly those later.
//!
//! A finding is keyed by rule, file, object and JSON Pointer, not by line, so edits elsewhere in
//! the file do not resurrect it; a second identical finding (same key) beyond the recorded count
//! is new and shown. Input and policy errors are never baselined.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::registry::Registry;
use crate::report::{Finding, Report, Resource, Suppressed};

/// The baseline file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Format version (1).
    pub version: u32,
    /// Recorded findings.
    pub findings: Vec<Entry>,
}

/// One recorded finding key and how many findings had it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Rule id.
    pub rule: String,
    /// File, as given on the command line.
    pub file: String,
    /// `Kind/namespace/name` (empty when the finding has no object).
    pub object: String,
    /// JSON Pointer in the object.
    pub pointer: String,
    /// Findings with this key.
    pub count: usize,
}

fn key(f: &Finding) -> (String, String, String, String) {
    let object = f.resource.as_ref().map_or_else(String::new, Resource::path);
    (
        f.rule.to_string(),
        f.file.clone(),
        object,
        f.document_pointer().unwrap_or_default().to_string(),
    )
}

impl Baseline {
    /// The baseline of `report`.
    #[must_use]
    pub fn of(report: &Report, registry: &Registry) -> Self {
        let mut counts: BTreeMap<(String, String, String, String), usize> = BTreeMap::new();
        for f in &report.findings {
            if !registry.unsuppressible(f.rule.as_str()) {
                *counts.entry(key(f)).or_default() += 1;
            }
        }
        Self {
            version: 1,
            findings: counts
                .into_iter()
                .map(|((rule, file, object, pointer), count)| Entry {
                    rule,
                    file,
                    object,
                    pointer,
                    count,
                })
                .collect(),
        }
    }

    /// Reads a baseline file.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the baseline {}: {e}", path.display()))?;
        let baseline: Self = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a kubectl-vllm baseline: {e}", path.display()))?;
        if baseline.version != 1 {
            return Err(format!(
                "{}: baseline version {} is not supported (1 is)",
                path.display(),
                baseline.version
            ));
        }
        Ok(baseline)
    }

    /// The file's text.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the baseline serializes") + "\n"
    }

    /// Removes the findings the baseline records from `report` (counted as suppressed).
    pub fn apply(&self, report: &mut Report, registry: &Registry) {
        let mut left: BTreeMap<(String, String, String, String), usize> = self
            .findings
            .iter()
            .map(|e| {
                (
                    (
                        e.rule.clone(),
                        e.file.clone(),
                        e.object.clone(),
                        e.pointer.clone(),
                    ),
                    e.count,
                )
            })
            .collect();
        let (mut kept, mut hidden) = (Vec::new(), Vec::new());
        for f in std::mem::take(&mut report.findings) {
            let recorded = !registry.unsuppressible(f.rule.as_str())
                && left.get_mut(&key(&f)).is_some_and(|n| {
                    let found = *n > 0;
                    *n = n.saturating_sub(1);
                    found
                });
            if recorded {
                hidden.push(Suppressed {
                    finding: f,
                    suppressed_by: "baseline".into(),
                });
            } else {
                kept.push(f);
            }
        }
        report.findings = kept;
        report.summary.suppressed += hidden.len();
        report.suppressed.extend(hidden);
        report.finish(|id| registry.unsuppressible(id.as_str()));
    }
}
