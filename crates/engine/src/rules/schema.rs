//! Schema validation of every object, reporting the `kubectl-vllm-schema` crate's rules
//! (documented there, in `kubectl_vllm_schema::rules`).

use std::collections::HashSet;

use kubectl_vllm_core::{Pointer, RuleMeta as _, Severity};
use kubectl_vllm_manifest::Manifests;
use kubectl_vllm_schema::rules::{SchemaUnknownField, SchemaUnknownKind};
use kubectl_vllm_schema::{Outcome, Schemas};

use crate::locate::Locator;
use crate::report::Finding;

/// Validates every object; a kind without a schema is reported once.
pub(crate) fn schema_findings(
    schemas: &mut Schemas,
    manifests: &Manifests,
    findings: &mut Vec<Finding>,
) {
    let locator = Locator::new(manifests);
    let mut unknown = HashSet::new();
    for object in &manifests.objects {
        let r = &object.reference;
        match schemas.check(&object.json) {
            Outcome::Checked(issues) => {
                // The cluster's CRD may be newer than the schema built in here: a field it does
                // not know may be one the cluster does.
                let skew = schemas.is_builtin_crd(&r.api_version, &r.kind);
                for issue in issues {
                    let advisory = skew && issue.rule == SchemaUnknownField::ID;
                    let message = if advisory {
                        format!(
                            "{} (as far as the {} schema built into kubectl-vllm knows; a newer CRD may have it)",
                            issue.message, r.kind
                        )
                    } else {
                        issue.message
                    };
                    let pointer = Pointer::parse(&issue.pointer).unwrap_or_default();
                    let mut finding = locator.place(
                        Finding::new(issue.rule, Severity::Error, String::new(), message),
                        object,
                        pointer,
                    );
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
            Outcome::UnknownKind => {
                if !unknown.insert((r.api_version.clone(), r.kind.clone())) {
                    continue;
                }
                let served = schemas.served_instead(&r.api_version, &r.kind);
                let finding = if served.is_empty() {
                    locator
                        .finding::<SchemaUnknownKind>(
                            object,
                            Pointer::from_path("/kind"),
                            format!(
                                "no schema for {} {}: its fields are not checked (Kubernetes {})",
                                r.api_version,
                                r.kind,
                                schemas.version()
                            ),
                        )
                        .with_help("add its CRD or JSON Schema with `--schema PATH`")
                } else {
                    // A kind Kubernetes has, under an apiVersion it no longer serves: an error.
                    let mut finding = locator
                        .finding::<SchemaUnknownKind>(
                            object,
                            Pointer::from_path("/apiVersion"),
                            format!(
                                "Kubernetes {} does not serve {} {}: the API server refuses it",
                                schemas.version(),
                                r.api_version,
                                r.kind
                            ),
                        )
                        .with_help(format!("use apiVersion {}", served.join(" or ")));
                    finding.severity = Severity::Error;
                    finding
                };
                findings.push(finding);
            }
        }
    }
}
