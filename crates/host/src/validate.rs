//! What a policy answers, checked against the contract: its metadata, its findings and skips
//! (for the rules asked for, located, with fixes no safer than declared), and provider
//! requirements held on its findings.

use crate::bindings;
use crate::bindings::kubectl_vllm::policy::types::{
    Evaluation, Finding, FixAvailability, Outcome, PatchOp, PolicyInfo, Skip, SkipReason, SubSpan,
};
use crate::provider::Provider;

/// Under an unknown provider a provider-specific rule runs only to say it skipped: a finding it
/// reports anyway becomes that skip, so no rule gives a provider's verdict where the provider is
/// not known (the host holds the requirement even for a rule that forgets to check).
pub(crate) fn provider_findings_as_skips(
    info: &PolicyInfo,
    outcomes: Vec<Outcome>,
) -> Vec<Outcome> {
    let specific = |id: &str| {
        info.rules
            .iter()
            .any(|r| r.id == id && !r.requires.providers.is_empty())
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
pub(crate) fn validate_finding(
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
    validate_text(rule, "message", &finding.message)?;
    if let Some(help) = &finding.help {
        validate_text(rule, "help text", help)?;
    }
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

pub(crate) fn validate_skip(
    input: &Evaluation,
    skip: &Skip,
    provider: Provider,
) -> Result<(), String> {
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

pub(crate) fn validate_location(
    rule: &str,
    pointer: &str,
    sub_span: Option<SubSpan>,
) -> Result<(), String> {
    kubectl_vllm_core::Pointer::parse(pointer).map_err(|e| format!("rule `{rule}`: {e}"))?;
    if let Some(span) = sub_span
        && span.start > span.end
    {
        return Err(format!("rule `{rule}`: sub-span ends before it starts"));
    }
    Ok(())
}

/// The most outcomes one evaluation may return, and the longest message or help text: a policy
/// past them is answering nonsense (or trying to flood the report), not finding problems.
pub(crate) const MAX_OUTCOMES: usize = 10_000;
pub(crate) const MAX_TEXT_BYTES: usize = 16 << 10;

/// Fields that say which object this is: a fix that edits them (or replaces the whole object)
/// would turn the object into another one, which no fix may do.
const IDENTITY: &[&str] = &[
    "/apiVersion",
    "/kind",
    "/metadata/name",
    "/metadata/namespace",
];

pub(crate) fn validate_text(rule: &str, what: &str, text: &str) -> Result<(), String> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(format!(
            "rule `{rule}`: a {what} of {} bytes (at most {MAX_TEXT_BYTES})",
            text.len()
        ));
    }
    Ok(())
}

pub(crate) fn validate_operations(rule: &str, operations: &[PatchOp]) -> Result<(), String> {
    for op in operations {
        let (path, value) = match op {
            PatchOp::Replace(pv) | PatchOp::Add(pv) => (&pv.path, Some(&pv.value)),
            PatchOp::Remove(path) => (path, None),
        };
        let pointer = kubectl_vllm_core::Pointer::parse(path)
            .map_err(|e| format!("rule `{rule}` fix: {e}"))?;
        if pointer.is_root()
            || IDENTITY
                .iter()
                .any(|id| pointer.starts_with(&kubectl_vllm_core::Pointer::from_path(id)))
        {
            return Err(format!(
                "rule `{rule}` fix edits `{path}`, which would make the object another object"
            ));
        }
        if let Some(value) = value {
            serde_json::from_str::<serde_json::Value>(value)
                .map_err(|e| format!("rule `{rule}` fix: value is not JSON: {e}"))?;
        }
    }
    Ok(())
}

pub(crate) fn validate_info(info: &PolicyInfo) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::kubectl_vllm::policy::types::{
        Applicability, Fix, ObjectRef, Requirements, RuleInfo, Severity,
    };

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
}
