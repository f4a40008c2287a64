//! What the API server enforces and the OpenAPI schemas do not say: enum values (the schemas
//! carry them only in descriptions), Quantity syntax, label and annotation syntax, DNS-1123
//! names and port ranges. Each check follows the object alongside its schema, so it knows which
//! definition a field belongs to.

use serde_json::Value;

use kubectl_vllm_core::{Pointer, RuleId, rule_id};
use kubectl_vllm_manifest::locate::parse_pointer;

use crate::rules;

use crate::Issue;

const PREFIX: &str = "https://kubernetes.io/api/_definitions.json#/$defs/";
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LABEL_SELECTOR: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector";
const POD_SPEC: &str = "io.k8s.api.core.v1.PodSpec";

/// Values the API server accepts, by (definition, field), from the validation code of
/// k8s.io/kubernetes `pkg/apis/core/validation` and `pkg/apis/storage/validation` (the schemas
/// list them only in descriptions, so `imagePullPolicy: Sometimes` passes them).
const ENUMS: &[(&str, &str, &[&str])] = &[
    (
        "io.k8s.api.core.v1.Container",
        "imagePullPolicy",
        &["Always", "Never", "IfNotPresent"],
    ),
    (
        "io.k8s.api.core.v1.Container",
        "terminationMessagePolicy",
        &["File", "FallbackToLogsOnError"],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "restartPolicy",
        &["Always", "OnFailure", "Never"],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "dnsPolicy",
        &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
    ),
    (
        "io.k8s.api.core.v1.Toleration",
        "operator",
        &["Exists", "Equal", "Lt", "Gt"],
    ),
    (
        "io.k8s.api.core.v1.Toleration",
        "effect",
        &["NoSchedule", "PreferNoSchedule", "NoExecute"],
    ),
    (
        "io.k8s.api.core.v1.Taint",
        "effect",
        &["NoSchedule", "PreferNoSchedule", "NoExecute"],
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimSpec",
        "accessModes",
        &[
            "ReadWriteOnce",
            "ReadOnlyMany",
            "ReadWriteMany",
            "ReadWriteOncePod",
        ],
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeSpec",
        "accessModes",
        &[
            "ReadWriteOnce",
            "ReadOnlyMany",
            "ReadWriteMany",
            "ReadWriteOncePod",
        ],
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimSpec",
        "volumeMode",
        &["Filesystem", "Block"],
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeSpec",
        "volumeMode",
        &["Filesystem", "Block"],
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeSpec",
        "persistentVolumeReclaimPolicy",
        &["Retain", "Delete", "Recycle"],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "type",
        &["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "sessionAffinity",
        &["None", "ClientIP"],
    ),
    (
        "io.k8s.api.core.v1.ServicePort",
        "protocol",
        &["TCP", "UDP", "SCTP"],
    ),
    (
        "io.k8s.api.core.v1.ContainerPort",
        "protocol",
        &["TCP", "UDP", "SCTP"],
    ),
    (
        "io.k8s.api.core.v1.EmptyDirVolumeSource",
        "medium",
        &["", "Memory", "HugePages"],
    ),
    (
        "io.k8s.api.storage.v1.StorageClass",
        "volumeBindingMode",
        &["Immediate", "WaitForFirstConsumer"],
    ),
    (
        "io.k8s.api.storage.v1.StorageClass",
        "reclaimPolicy",
        &["Retain", "Delete"],
    ),
    (
        "io.k8s.api.apps.v1.DeploymentStrategy",
        "type",
        &["Recreate", "RollingUpdate"],
    ),
    (
        "io.k8s.api.core.v1.HTTPGetAction",
        "scheme",
        &["HTTP", "HTTPS"],
    ),
];

/// How a port field is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Port {
    /// 1–65535 or an IANA port name.
    Required,
    /// 0 means unset (`hostPort`; a Service's `targetPort`, defaulted to `port`).
    ZeroUnset,
    /// An IANA port name (`ContainerPort.name`).
    Name,
}

/// Ports by (definition, field), from k8s.io/kubernetes `pkg/apis/core/validation`
/// (`validateContainerPorts`, `validateServicePort`, `validatePortNumOrName`).
const PORTS: &[(&str, &str, Port)] = &[
    (
        "io.k8s.api.core.v1.ContainerPort",
        "containerPort",
        Port::Required,
    ),
    (
        "io.k8s.api.core.v1.ContainerPort",
        "hostPort",
        Port::ZeroUnset,
    ),
    ("io.k8s.api.core.v1.ContainerPort", "name", Port::Name),
    ("io.k8s.api.core.v1.ServicePort", "port", Port::Required),
    (
        "io.k8s.api.core.v1.ServicePort",
        "targetPort",
        Port::ZeroUnset,
    ),
    ("io.k8s.api.core.v1.HTTPGetAction", "port", Port::Required),
    ("io.k8s.api.core.v1.TCPSocketAction", "port", Port::Required),
    ("io.k8s.api.core.v1.GRPCAction", "port", Port::Required),
];

/// How a kind's `metadata.name` is validated (`ValidateXName` in k8s.io/kubernetes): most kinds
/// take a DNS-1123 subdomain.
fn name_rule(kind: &str) -> NameRule {
    match kind {
        "Namespace" => NameRule::Dns1123Label,
        "Service" => NameRule::Dns1035Label,
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => NameRule::PathSegment,
        "CertificateSigningRequest" => NameRule::Any,
        _ => NameRule::Dns1123Subdomain,
    }
}

/// Name syntaxes of `k8s.io/apimachinery/pkg/api/validation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameRule {
    Dns1123Subdomain,
    Dns1123Label,
    /// A label that starts with a letter (Service names become DNS names and env vars).
    Dns1035Label,
    /// Not `.` or `..`, no `/` or `%` (RBAC names such as `system:controller:x`).
    PathSegment,
    Any,
}

/// The schema that applies at `pointer` inside an object whose schema is `root`, following
/// `$ref`s into `defs`.
pub fn schema_at<'a>(defs: &'a Value, root: &'a Value, pointer: &str) -> Option<&'a Value> {
    let mut schema = resolve(defs, root).1;
    for segment in parse_pointer(pointer).ok()? {
        schema = resolve(defs, child(schema, &segment)?).1;
    }
    Some(schema)
}

/// The definition name the schema at `pointer` refers to, when it is a `$ref`.
pub fn ref_name_at<'a>(defs: &'a Value, root: &'a Value, pointer: &str) -> Option<&'a str> {
    let (parent, _) = pointer.rsplit_once('/')?;
    let last = parse_pointer(pointer).ok()?.pop()?;
    resolve(defs, child(schema_at(defs, root, parent)?, &last)?).0
}

/// The schema of `segment` inside `schema`: a list's items, a declared property, or a map's
/// values.
fn child<'a>(schema: &'a Value, segment: &str) -> Option<&'a Value> {
    if let Some(items) = schema
        .get("items")
        .filter(|_| segment.parse::<usize>().is_ok())
    {
        return Some(items);
    }
    schema
        .get("properties")
        .and_then(|p| p.get(segment))
        .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))
}

/// Follows a `$ref` into the definitions: (definition name, when it was a reference; schema).
fn resolve<'a>(defs: &'a Value, schema: &'a Value) -> (Option<&'a str>, &'a Value) {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference
                .strip_prefix(PREFIX)
                .or_else(|| reference.strip_prefix("#/$defs/"))
                .unwrap_or(reference);
            match defs["$defs"].get(name) {
                Some(target) => (Some(name), target),
                None => (None, schema),
            }
        }
        None => (None, schema),
    }
}

/// Runs every check over `object`, whose schema is `root`.
/// `definition` names the root's definition (empty for an added schema).
pub fn walk(
    defs: &Value,
    root: &Value,
    definition: &str,
    object: &Value,
    kind: &str,
    issues: &mut Vec<Issue>,
) {
    let mut walker = Walker { defs, issues };
    if let Some(name) = object.pointer("/metadata/name").and_then(Value::as_str) {
        walker.name(name, kind);
    }
    walker.visit(root, definition, object, "");
}

struct Walker<'a> {
    defs: &'a Value,
    issues: &'a mut Vec<Issue>,
}

impl Walker<'_> {
    fn report(&mut self, rule: RuleId, pointer: &str, message: String, help: Option<String>) {
        self.issues.push(Issue {
            rule,
            pointer: pointer.to_string(),
            message,
            help,
        });
    }

    /// `schema` applies to `value` at `pointer`; `definition` is the definition it belongs to.
    fn visit(&mut self, schema: &Value, definition: &str, value: &Value, pointer: &str) {
        let (name, schema) = resolve(self.defs, schema);
        let definition = name.unwrap_or(definition);
        match name {
            Some(QUANTITY) => return self.quantity(value, pointer),
            Some(OBJECT_META) => self.metadata(value, pointer),
            Some(LABEL_SELECTOR) => {
                if let Some(labels) = value.get("matchLabels").and_then(Value::as_object) {
                    self.labels(labels, &format!("{pointer}/matchLabels"));
                }
            }
            Some(POD_SPEC) => {
                if let Some(selector) = value.get("nodeSelector").and_then(Value::as_object) {
                    self.labels(selector, &format!("{pointer}/nodeSelector"));
                }
            }
            _ => {}
        }
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let at = format!("{pointer}/{}", Pointer::escape(key));
                    // A declared field of this definition; a map's keys (a selector's `type`)
                    // are data, not fields.
                    if let Some(property) = schema.get("properties").and_then(|p| p.get(key)) {
                        if let Some((_, _, allowed)) =
                            ENUMS.iter().find(|(d, f, _)| *d == definition && f == key)
                        {
                            self.enumerated(child, &at, key, allowed);
                        }
                        if let Some((_, _, kind)) =
                            PORTS.iter().find(|(d, f, _)| *d == definition && f == key)
                        {
                            self.port(child, &at, key, *kind);
                        }
                        self.visit(property, definition, child, &at);
                    } else if let Some(values) =
                        schema.get("additionalProperties").filter(|a| a.is_object())
                    {
                        self.visit(values, "", child, &at);
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.visit(item_schema, definition, item, &format!("{pointer}/{i}"));
                    }
                }
            }
            _ => {}
        }
    }

    fn enumerated(&mut self, value: &Value, pointer: &str, field: &str, allowed: &[&str]) {
        let values: Vec<(String, &str)> = match value {
            Value::String(s) => vec![(pointer.to_string(), s.as_str())],
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| Some((format!("{pointer}/{i}"), v.as_str()?)))
                .collect(),
            _ => return,
        };
        for (at, value) in values {
            // An empty string means "unset"; `HugePages-<size>` is a hugepage medium.
            if value.is_empty()
                || allowed.contains(&value)
                || (field == "medium" && value.starts_with("HugePages-"))
            {
                continue;
            }
            let names: Vec<String> = allowed.iter().map(|a| (*a).to_string()).collect();
            let close = crate::names::suggestion(value, &names);
            self.report(
                rule_id::<rules::SchemaEnum>(),
                &at,
                format!(
                    "`{field}: {value}` is not accepted; the API server allows {}",
                    allowed
                        .iter()
                        .filter(|a| !a.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                close.map(|c| format!("did you mean `{c}`?")),
            );
        }
    }

    fn port(&mut self, value: &Value, pointer: &str, field: &str, kind: Port) {
        match value {
            Value::Number(n) if kind == Port::ZeroUnset && n.as_u64() == Some(0) => {}
            Value::String(name) if kind == Port::ZeroUnset && name.is_empty() => {}
            Value::Number(n)
                if kind != Port::Name && !n.as_u64().is_some_and(|p| (1..=65535).contains(&p)) =>
            {
                self.report(
                    rule_id::<rules::SchemaRange>(),
                    pointer,
                    format!("`{field}: {n}` is outside the port range 1–65535"),
                    None,
                );
            }
            // A named port: an IANA service name (IsValidPortName): 1–15 characters, lower-case
            // letters, digits and `-`, at least one letter, no `-` at either end or twice in a row.
            Value::String(name) => {
                let valid = (1..=15).contains(&name.len())
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && name.bytes().any(|b| b.is_ascii_lowercase())
                    && !name.starts_with('-')
                    && !name.ends_with('-')
                    && !name.contains("--");
                if !valid {
                    self.report(
                        rule_id::<rules::SchemaRange>(),
                        pointer,
                        format!(
                            "`{field}: {name}` is not a valid port name (1–15 lower-case letters, digits and `-`, with a letter){}",
                            if kind == Port::Name { "" } else { " nor a port number" }
                        ),
                        None,
                    );
                }
            }
            _ => {}
        }
    }

    fn quantity(&mut self, value: &Value, pointer: &str) {
        if let Value::String(text) = value
            && !is_quantity(text.trim())
        {
            self.report(
                rule_id::<rules::SchemaQuantity>(),
                pointer,
                format!(
                    "`{}: {text}` is not a Kubernetes quantity",
                    crate::names::field_name(pointer)
                ),
                Some(
                    "write a number with an optional suffix: `500m`, `2`, `16Gi`, `1.5G`, `1e3`"
                        .into(),
                ),
            );
        }
    }

    fn metadata(&mut self, value: &Value, pointer: &str) {
        if let Some(labels) = value.get("labels").and_then(Value::as_object) {
            self.labels(labels, &format!("{pointer}/labels"));
        }
        if let Some(annotations) = value.get("annotations").and_then(Value::as_object) {
            for key in annotations.keys() {
                let at = format!("{pointer}/annotations/{}", Pointer::escape(key));
                // Kubernetes checks annotation keys in lower case.
                if let Err(why) = qualified_name(&key.to_ascii_lowercase()) {
                    self.report(
                        rule_id::<rules::SchemaLabel>(),
                        &at,
                        format!("annotation key `{key}` is invalid: {why}"),
                        None,
                    );
                }
            }
        }
    }

    fn labels(&mut self, labels: &serde_json::Map<String, Value>, pointer: &str) {
        for (key, value) in labels {
            let at = format!("{pointer}/{}", Pointer::escape(key));
            if let Err(why) = qualified_name(key) {
                self.report(
                    rule_id::<rules::SchemaLabel>(),
                    &at,
                    format!("label key `{key}` is invalid: {why}"),
                    None,
                );
            }
            if let Some(text) = value.as_str()
                && !text.is_empty()
                && !(text.len() <= 63 && is_name_part(text))
            {
                self.report(
                    rule_id::<rules::SchemaLabel>(),
                    &at,
                    format!("label value `{text}` is invalid: at most 63 characters, alphanumeric at both ends, `-`, `_` and `.` inside"),
                    None,
                );
            }
        }
    }

    fn name(&mut self, name: &str, kind: &str) {
        let rule = name_rule(kind);
        let (valid, what) = match rule {
            NameRule::Any => return,
            NameRule::PathSegment => (
                name != "." && name != ".." && !name.contains('/') && !name.contains('%'),
                "a path segment: not `.` or `..`, without `/` or `%`",
            ),
            NameRule::Dns1123Label => (
                is_dns_label(name),
                "a DNS-1123 label: at most 63 lower-case letters, digits and `-`, alphanumeric at both ends",
            ),
            NameRule::Dns1035Label => (
                is_dns_label(name) && name.as_bytes()[0].is_ascii_lowercase(),
                "a DNS-1035 label: at most 63 lower-case letters, digits and `-`, starting with a letter and ending alphanumeric",
            ),
            NameRule::Dns1123Subdomain => (
                is_dns_subdomain(name),
                "a DNS-1123 subdomain: lower-case letters, digits, `-` and `.`, alphanumeric at both ends, at most 253 characters",
            ),
        };
        if !valid {
            let suggested = name.to_lowercase().replace('_', "-");
            let help = (suggested != name).then(|| format!("for example `{suggested}`"));
            self.report(
                rule_id::<rules::SchemaName>(),
                "/metadata/name",
                format!("{kind} name `{name}` must be {what}"),
                help,
            );
        }
    }
}

/// Kubernetes resource.Quantity syntax, decided by the same parser as the API server's
/// (`kubectl_vllm_core::Quantity`).
fn is_quantity(text: &str) -> bool {
    kubectl_vllm_core::Quantity::parse(text).is_ok()
}

/// A qualified name (label or annotation key): an optional DNS-1123 subdomain prefix and `/`
/// (exactly one), then a name of at most 63 characters.
fn qualified_name(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if name.contains('/') {
        return Err("a key has at most one `/` (prefix/name)".into());
    }
    if let Some(prefix) = prefix
        && !is_dns_subdomain(prefix)
    {
        return Err(format!(
            "the prefix `{prefix}` must be a DNS subdomain (lower case, like `example.com`)"
        ));
    }
    if name.is_empty() || name.len() > 63 || !is_name_part(name) {
        return Err(format!(
            "the name `{name}` must be 1–63 characters, alphanumeric at both ends, with `-`, `_` and `.` inside"
        ));
    }
    Ok(())
}

/// A DNS-1123 subdomain: dot-separated `[a-z0-9]([-a-z0-9]*[a-z0-9])?` parts, at most 253
/// characters in all (`IsDNS1123Subdomain` limits only the total).
fn is_dns_subdomain(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|part| {
            let bytes = part.as_bytes();
            !bytes.is_empty()
                && bytes[0].is_ascii_alphanumeric()
                && bytes[bytes.len() - 1].is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        })
}

/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`
fn is_name_part(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
fn is_dns_label(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        for good in [
            "1", "500m", "16Gi", "1.5G", "+2", "-1", ".5", "1e3", "1E-2", "0.25Ki", "2k",
            // No digits, and still zero for the API server (`ParseQuantity("Gi")`).
            "Gi", ".",
        ] {
            assert!(is_quantity(good), "{good}");
        }
        for bad in ["lots", "16GB", "1.2.3", "", "1 Gi", "1e", "16gi", ".e-10"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }

    #[test]
    fn keys_and_names() {
        assert!(qualified_name("app.kubernetes.io/name").is_ok());
        assert!(qualified_name("cloud.google.com/gke-accelerator").is_ok());
        assert!(qualified_name("ignore.kubectl-vllm/shm-size").is_ok());
        assert!(qualified_name("kubectl-vllm/ignore/all").is_err());
        assert!(qualified_name("Example.com/x").is_err());
        assert!(qualified_name("-bad").is_err());
        assert!(
            is_dns_label("vllm-gemma-1b") && !is_dns_label("vllm_gemma") && !is_dns_label("Vllm")
        );
    }
}
