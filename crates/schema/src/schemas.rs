//! The embedded schemas of each Kubernetes version, schemas added for CRDs, and validating an
//! object against them.

use std::collections::HashMap;
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Registry, Validator};
use serde_json::{Value, json};

use kubectl_vllm_core::{Pointer, rule_id};

use crate::issue::{Issue, Outcome};
use crate::names::{dotted, field_name, suggestion};
use crate::{checks, rules};

/// The `$id` of the embedded definitions documents.
pub const DEFINITIONS_ID: &str = "https://kubernetes.io/api/_definitions.json";

/// Kubernetes minor versions whose schemas are embedded, oldest first.
pub const VERSIONS: &[&str] = &["1.35", "1.36", "1.37"];

/// The version used unless `--kubernetes-version` says otherwise: the newest embedded one (an
/// older cluster rejects what it lacks; a newer schema never invents an error).
pub const DEFAULT_VERSION: &str = "1.37";

/// The vendored definitions without their `description`s (`build.rs`): a quarter of the size,
/// so a run parses them in a quarter of the time.
static SOURCES: [&str; 3] = [
    include_str!(concat!(env!("OUT_DIR"), "/v1.35.json")),
    include_str!(concat!(env!("OUT_DIR"), "/v1.36.json")),
    include_str!(concat!(env!("OUT_DIR"), "/v1.37.json")),
];

static DEFINITIONS: [OnceLock<Value>; 3] = [const { OnceLock::new() }; 3];

/// The LeaderWorkerSet schema (vLLM multi-host), derived from the CRD; see its description.
const LEADER_WORKER_SET: &str = include_str!("../crds/leaderworkerset-v1.json");

fn definitions(index: usize) -> &'static Value {
    DEFINITIONS[index].get_or_init(|| {
        serde_json::from_str(SOURCES[index]).expect("embedded schemas are valid JSON (tested)")
    })
}

/// Parses the embedded definitions of Kubernetes `version` now (they are parsed once per
/// process, ~6 ms), so that a thread can do it while another loads policies and reads inputs.
/// An unknown version does nothing here; [`Schemas::for_version`] reports it.
pub fn prewarm(version: &str) {
    if let Some(index) = version_index(version) {
        definitions(index);
    }
}

fn version_index(version: &str) -> Option<usize> {
    let wanted = version.trim_start_matches('v');
    VERSIONS.iter().position(|v| {
        wanted == *v
            || wanted
                .strip_prefix(v)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// Where a kind's schema lives.
#[derive(Debug, Clone)]
enum Source {
    /// A definition of the Kubernetes document.
    Builtin(String),
    /// A schema added with [`Schemas::add`] (a CRD's), stored here.
    Added(usize),
}

/// The schemas of one Kubernetes version, plus added ones; validators compiled on first use.
pub struct Schemas {
    /// Index into [`VERSIONS`].
    index: usize,
    registry: Registry<'static>,
    kinds: HashMap<(String, String), Source>,
    added: Vec<Value>,
    /// How many of `added` are the built-in CRD schemas (registered first).
    builtin_crds: usize,
    validators: HashMap<(String, String), Validator>,
}

/// Errors of [`Schemas::add`] and [`Schemas::for_version`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// A version that is not embedded.
    #[error("no schemas for Kubernetes {0}: this build has {versions}", versions = VERSIONS.join(", "))]
    UnknownVersion(String),
    /// A schema that does not say which kind it is for, or does not compile.
    #[error("{0}")]
    Invalid(String),
}

impl Schemas {
    /// The schemas of Kubernetes `version` (`1.36`, `v1.36` or `1.36.2`).
    pub fn for_version(version: &str) -> Result<Self, SchemaError> {
        let index = version_index(version)
            .ok_or_else(|| SchemaError::UnknownVersion(version.to_string()))?;
        let defs = definitions(index);
        let registry = Registry::new()
            .add(DEFINITIONS_ID, defs)
            .and_then(referencing::RegistryBuilder::prepare)
            .map_err(|e| SchemaError::Invalid(e.to_string()))?;
        let mut kinds = HashMap::new();
        for (name, def) in defs["$defs"].as_object().into_iter().flatten() {
            for gvk in def["x-kubernetes-group-version-kind"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let key = gvk_key(gvk);
                // Shared definitions (DeleteOptions, WatchEvent) list many kinds; the one named
                // after its kind wins.
                if name.ends_with(&format!(".{}", key.1)) || !kinds.contains_key(&key) {
                    kinds.insert(key, Source::Builtin(name.clone()));
                }
            }
        }
        let mut schemas = Self {
            index,
            registry,
            kinds,
            added: Vec::new(),
            builtin_crds: 0,
            validators: HashMap::new(),
        };
        let mut lws: Value =
            serde_json::from_str(LEADER_WORKER_SET).expect("the LWS schema is valid JSON (tested)");
        // Required fields with defaults are filled in before validation, as for the CRD.
        close_structural(&mut lws);
        crate::ranges::add_integer_ranges(&mut lws);
        // Compiled on first use, like the Kubernetes kinds: most runs have no LeaderWorkerSet.
        schemas.insert(gvk_key(&lws["x-kubernetes-group-version-kind"][0]), lws);
        schemas.builtin_crds = schemas.added.len();
        Ok(schemas)
    }

    /// Whether the schema of `api_version` `kind` is one of the CRD schemas built into
    /// kubectl-vllm (LeaderWorkerSet), which the cluster's installed CRD may be newer than.
    #[must_use]
    pub fn is_builtin_crd(&self, api_version: &str, kind: &str) -> bool {
        matches!(
            self.kinds.get(&(api_version.to_string(), kind.to_string())),
            Some(Source::Added(i)) if *i < self.builtin_crds
        )
    }

    /// The Kubernetes version.
    #[must_use]
    pub fn version(&self) -> &'static str {
        VERSIONS[self.index]
    }

    /// For an object of `api_version` and `kind` that has no schema: the built-in apiVersions
    /// Kubernetes serves that kind under, when `api_version` is of one of Kubernetes' own groups
    /// (core, `apps`, `*.k8s.io`, ...) and so was removed rather than being a custom resource
    /// that reuses a built-in name (Knative's Service, Volcano's Job). Empty otherwise.
    #[must_use]
    pub fn served_instead(&self, api_version: &str, kind: &str) -> Vec<String> {
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        if group.contains('.') && !group.ends_with(".k8s.io") {
            return Vec::new();
        }
        let mut served: Vec<String> = self
            .kinds
            .iter()
            .filter(|((_, k), source)| k == kind && matches!(source, Source::Builtin(_)))
            .map(|((api_version, _), _)| api_version.clone())
            .collect();
        served.sort();
        served
    }

    /// Adds a JSON Schema for the kinds its `x-kubernetes-group-version-kind` names, or, given
    /// a CustomResourceDefinition, a schema per served version from its `openAPIV3Schema`
    /// (objects without `x-kubernetes-preserve-unknown-fields` closed, as the API server prunes
    /// unknown fields). Returns the `apiVersion kind` pairs added.
    pub fn add(&mut self, schema: &Value) -> Result<Vec<String>, SchemaError> {
        let mut entries: Vec<((String, String), Value)> = Vec::new();
        if schema["kind"] == "CustomResourceDefinition" {
            let group = schema
                .pointer("/spec/group")
                .and_then(Value::as_str)
                .unwrap_or("");
            let kind = schema
                .pointer("/spec/names/kind")
                .and_then(Value::as_str)
                .unwrap_or("");
            for version in schema
                .pointer("/spec/versions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(open_api) = version.pointer("/schema/openAPIV3Schema") else {
                    continue;
                };
                let name = version["name"].as_str().unwrap_or("");
                let mut closed = open_api.clone();
                // The API server supplies these to every custom resource's schema.
                if let Some(root) = closed.as_object_mut() {
                    add_object_fields(root);
                }
                close_structural(&mut closed);
                entries.push(((format!("{group}/{name}"), kind.to_string()), closed));
            }
        } else {
            for gvk in schema["x-kubernetes-group-version-kind"]
                .as_array()
                .into_iter()
                .flatten()
            {
                entries.push((gvk_key(gvk), schema.clone()));
            }
        }
        if entries.is_empty() {
            return Err(SchemaError::Invalid(
                "a schema needs `x-kubernetes-group-version-kind`, or must be a CustomResourceDefinition with an openAPIV3Schema".into(),
            ));
        }
        let mut added = Vec::new();
        for (key, mut schema) in entries {
            crate::ranges::add_integer_ranges(&mut schema);
            // Compiled now, so a broken schema fails once, where it is given.
            let validator = self.compile(&schema).map_err(|e| {
                SchemaError::Invalid(format!(
                    "the schema for {} {} does not compile: {e}",
                    key.0, key.1
                ))
            })?;
            added.push(format!("{} {}", key.0, key.1));
            self.validators.insert(key.clone(), validator);
            self.insert(key, schema);
        }
        Ok(added)
    }

    /// Registers `schema` for `key`; its validator is compiled on first use unless present.
    fn insert(&mut self, key: (String, String), schema: Value) {
        self.kinds.insert(key, Source::Added(self.added.len()));
        self.added.push(schema);
    }

    /// Checks one object: every schema error, then the checks OpenAPI does not express.
    pub fn check(&mut self, object: &Value) -> Outcome {
        let key = (
            object["apiVersion"].as_str().unwrap_or("").to_string(),
            object["kind"].as_str().unwrap_or("").to_string(),
        );
        let Some(source) = self.kinds.get(&key).cloned() else {
            return Outcome::UnknownKind;
        };
        // Compiled on first use (schemas given with `--schema` were compiled by `add`).
        if !self.validators.contains_key(&key) {
            let schema = match &source {
                Source::Builtin(name) => json!({"$ref": format!("{DEFINITIONS_ID}#/$defs/{name}")}),
                Source::Added(i) => self.added[*i].clone(),
            };
            match self.compile(&schema) {
                Ok(validator) => {
                    self.validators.insert(key.clone(), validator);
                }
                Err(e) => {
                    return Outcome::Checked(vec![Issue {
                        rule: rule_id::<rules::SchemaValue>(),
                        pointer: String::new(),
                        message: format!(
                            "the schema for {} {} does not compile: {e}",
                            key.0, key.1
                        ),
                        help: None,
                    }]);
                }
            }
        }
        let root = match &source {
            Source::Builtin(name) => &self.defs()["$defs"][name],
            Source::Added(i) => &self.added[*i],
        };
        let mut issues: Vec<Issue> = self.validators[&key]
            .iter_errors(object)
            .flat_map(|e| self.issues_of(&e, root))
            .collect();
        let definition = match &source {
            Source::Builtin(name) => name.as_str(),
            Source::Added(_) => "",
        };
        checks::walk(self.defs(), root, definition, object, &key.1, &mut issues);
        issues.sort_by(|a, b| (&a.pointer, &a.rule).cmp(&(&b.pointer, &b.rule)));
        issues.dedup();
        Outcome::Checked(issues)
    }

    fn compile(&self, schema: &Value) -> Result<Validator, String> {
        jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .build(schema)
            .map_err(|e| e.to_string())
    }

    fn defs(&self) -> &'static Value {
        definitions(self.index)
    }

    /// Issues of one validation error.
    fn issues_of(&self, error: &jsonschema::ValidationError<'_>, root: &Value) -> Vec<Issue> {
        let pointer = error.instance_path().as_str().to_string();
        let last = field_name(&pointer);
        // A list item is named by its path (`spec.containers[0].args[1]`), not its index.
        let field = if last.bytes().all(|b| b.is_ascii_digit()) && !last.is_empty() {
            dotted(&pointer)
        } else {
            last
        };
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let allowed = checks::schema_at(self.defs(), root, &pointer)
                    .and_then(|s| s.get("properties"))
                    .and_then(Value::as_object)
                    .map(|p| p.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default();
                unexpected
                    .iter()
                    .map(|name| Issue {
                        rule: rule_id::<rules::SchemaUnknownField>(),
                        pointer: format!("{pointer}/{}", Pointer::escape(name)),
                        message: format!(
                            "unknown field `{name}`{}: the API server drops it or rejects the object",
                            if pointer.is_empty() { String::new() } else { format!(" in `{}`", dotted(&pointer)) }
                        ),
                        help: suggestion(name, &allowed).map(|s| format!("did you mean `{s}`?")),
                    })
                    .collect()
            }
            ValidationErrorKind::Type { kind } => {
                let expected = type_name(kind);
                // YAML 1.1 (as Kubernetes reads it) turns yes/no/on/off into booleans.
                let help =
                    (error.instance().is_boolean() && expected.contains("string")).then(|| {
                        "YAML 1.1 reads yes, no, on and off as booleans: quote the value"
                            .to_string()
                    });
                vec![Issue {
                    rule: rule_id::<rules::SchemaType>(),
                    pointer,
                    message: format!(
                        "`{field}` must be {expected}, not {}",
                        describe(error.instance())
                    ),
                    help,
                }]
            }
            ValidationErrorKind::Required { property } => {
                let property = property.as_str().unwrap_or_default();
                vec![Issue {
                    rule: rule_id::<rules::SchemaRequired>(),
                    pointer,
                    message: format!(
                        "missing required field `{property}`{}",
                        if field.is_empty() {
                            String::new()
                        } else {
                            format!(" in `{}`", dotted(error.instance_path().as_str()))
                        }
                    ),
                    help: None,
                }]
            }
            ValidationErrorKind::Enum { options } => vec![Issue {
                rule: rule_id::<rules::SchemaEnum>(),
                pointer,
                message: format!(
                    "`{field}` is {}, not one of {options}",
                    describe(error.instance())
                ),
                help: None,
            }],
            // Quantity and IntOrString are a oneOf of a string and a number, both nullable: null
            // (an unset Helm value) matches both branches, and Kubernetes reads it as unset.
            ValidationErrorKind::OneOfMultipleValid { .. } if error.instance().is_null() => {
                Vec::new()
            }
            ValidationErrorKind::OneOfNotValid { .. }
            | ValidationErrorKind::OneOfMultipleValid { .. }
            | ValidationErrorKind::AnyOf { .. } => {
                let expected = match checks::ref_name_at(self.defs(), root, &pointer) {
                    Some(name) if name.ends_with("IntOrString") => "an integer or a string",
                    Some(name) if name.ends_with("resource.Quantity") => {
                        "a quantity (a string such as `16Gi`, or a number)"
                    }
                    _ => "one of the forms its schema allows",
                };
                vec![Issue {
                    rule: rule_id::<rules::SchemaType>(),
                    pointer,
                    message: format!(
                        "`{field}` must be {expected}, not {}",
                        describe(error.instance())
                    ),
                    help: None,
                }]
            }
            ValidationErrorKind::Maximum { limit } | ValidationErrorKind::Minimum { limit }
                if integer_bound(limit).is_some() =>
            {
                let bits = integer_bound(limit).unwrap_or(64);
                vec![Issue {
                    rule: rule_id::<rules::SchemaValue>(),
                    pointer,
                    message: format!(
                        "`{field}` is {}, which does not fit the {bits}-bit integer the API server reads it into",
                        describe(error.instance())
                    ),
                    help: Some(format!(
                        "the field holds {} to {}",
                        if bits == 32 {
                            i64::from(i32::MIN)
                        } else {
                            i64::MIN
                        },
                        if bits == 32 {
                            i64::from(i32::MAX)
                        } else {
                            i64::MAX
                        }
                    )),
                }]
            }
            _ => vec![Issue {
                rule: rule_id::<rules::SchemaValue>(),
                pointer,
                message: format!("`{field}`: {error}"),
                help: None,
            }],
        }
    }
}

/// `32` or `64` when `limit` is a bound [`crate::ranges`] added for an `int32`/`int64` format.
fn integer_bound(limit: &Value) -> Option<u32> {
    let limit = limit.as_i64()?;
    [("int32", 32), ("int64", 64)]
        .into_iter()
        .find_map(|(format, bits)| {
            let (min, max) = crate::ranges::bounds(format)?;
            (limit == min || limit == max).then_some(bits)
        })
}

fn gvk_key(gvk: &Value) -> (String, String) {
    let group = gvk["group"].as_str().unwrap_or("");
    let version = gvk["version"].as_str().unwrap_or("");
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    (api_version, gvk["kind"].as_str().unwrap_or("").to_string())
}

/// Closes every object schema with `properties` that does not preserve unknown fields (the API
/// server prunes unknown fields of structural schemas, which silently loses a typo), and turns
/// OpenAPI's `nullable` and `x-kubernetes-int-or-string` into JSON Schema.
fn close_structural(schema: &mut Value) {
    close_within(schema, false);
}

/// `in_combinator`: under `anyOf`/`oneOf`/`allOf`/`not`, where a structural schema repeats
/// properties declared outside; closing there would reject valid objects.
fn close_within(schema: &mut Value, in_combinator: bool) {
    match schema {
        Value::Object(map) => {
            let preserves = map
                .get("x-kubernetes-preserve-unknown-fields")
                .and_then(Value::as_bool)
                == Some(true);
            // An embedded resource carries apiVersion, kind and metadata of its own.
            if map
                .get("x-kubernetes-embedded-resource")
                .and_then(Value::as_bool)
                == Some(true)
            {
                add_object_fields(map);
            }
            if map.contains_key("properties")
                && !map.contains_key("additionalProperties")
                && !preserves
                && !in_combinator
            {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            // OpenAPI v3 spellings JSON Schema does not know.
            if map.get("nullable").and_then(Value::as_bool) == Some(true) {
                if let Some(Value::String(kind)) = map.get("type").cloned() {
                    map.insert("type".into(), json!([kind, "null"]));
                }
                if let Some(Value::Array(values)) = map.get_mut("enum")
                    && !values.contains(&Value::Null)
                {
                    values.push(Value::Null);
                }
            }
            if map
                .get("x-kubernetes-int-or-string")
                .and_then(Value::as_bool)
                == Some(true)
                && !map.contains_key("anyOf")
            {
                map.remove("type");
                map.insert(
                    "anyOf".into(),
                    json!([{"type": "integer"}, {"type": "string"}]),
                );
            }
            // The API server applies defaults before it validates: a required field with a
            // default is never missing.
            let defaulted: Vec<String> = map
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| {
                    p.iter()
                        .filter(|(_, v)| v.get("default").is_some())
                        .map(|(k, _)| k.clone())
                        .collect()
                })
                .unwrap_or_default();
            if let Some(Value::Array(required)) = map.get_mut("required") {
                required.retain(|r| r.as_str().is_none_or(|r| !defaulted.iter().any(|d| d == r)));
            }
            for (key, value) in map.iter_mut() {
                let combinator = matches!(key.as_str(), "anyOf" | "oneOf" | "allOf" | "not");
                close_within(value, in_combinator || combinator);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| close_within(i, in_combinator)),
        _ => {}
    }
}

/// Declares `apiVersion`, `kind` and `metadata` (as ObjectMeta, whatever the schema said of it)
/// on an object schema: the API server supplies them to every resource.
fn add_object_fields(map: &mut serde_json::Map<String, Value>) {
    if let Some(properties) = map
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut()
    {
        properties
            .entry("apiVersion")
            .or_insert_with(|| json!({"type": "string"}));
        properties
            .entry("kind")
            .or_insert_with(|| json!({"type": "string"}));
        properties.insert(
            "metadata".into(),
            json!({"$ref": format!("{DEFINITIONS_ID}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")}),
        );
    }
}

fn type_name(kind: &jsonschema::error::TypeKind) -> String {
    let name = match kind {
        jsonschema::error::TypeKind::Single(t) => t.to_string(),
        jsonschema::error::TypeKind::Multiple(set) => set
            .iter()
            .map(|t| t.to_string())
            .filter(|t| t != "null")
            .collect::<Vec<_>>()
            .join(" or "),
    };
    match name.as_str() {
        "integer" => "an integer".into(),
        "object" => "an object (a mapping)".into(),
        "array" => "a list".into(),
        "string" => "a string".into(),
        "boolean" => "a boolean".into(),
        other => other.to_string(),
    }
}

/// A value as a message shows it: its type and a short rendering.
fn describe(value: &Value) -> String {
    let text = value.to_string();
    let short = if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    };
    match value {
        Value::String(_) => format!("the string {short}"),
        Value::Number(_) => format!("the number {short}"),
        Value::Bool(_) => format!("the boolean {short}"),
        Value::Null => "null".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_index_every_builtin_kind() {
        for version in VERSIONS {
            let schemas = Schemas::for_version(version).unwrap();
            assert!(
                schemas
                    .kinds
                    .contains_key(&("apps/v1".into(), "Deployment".into()))
            );
            assert!(
                schemas
                    .kinds
                    .contains_key(&("v1".into(), "PersistentVolumeClaim".into()))
            );
            assert!(
                schemas
                    .kinds
                    .contains_key(&("storage.k8s.io/v1".into(), "StorageClass".into()))
            );
            assert!(schemas.kinds.contains_key(&(
                "leaderworkerset.x-k8s.io/v1".into(),
                "LeaderWorkerSet".into()
            )));
        }
        assert_eq!(Schemas::for_version("v1.36.2").unwrap().version(), "1.36");
        assert!(matches!(
            Schemas::for_version("1.20"),
            Err(SchemaError::UnknownVersion(_))
        ));
    }

    #[test]
    fn crd_schemas_are_closed_and_openapi_spellings_translated() {
        let mut schema = json!({"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "port": {"x-kubernetes-int-or-string": true},
            "note": {"type": "string", "nullable": true},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"a": {"type": "string"}}}
        }}}});
        close_structural(&mut schema);
        let validator = jsonschema::validator_for(&schema).unwrap();
        assert!(
            validator
                .is_valid(&json!({"spec": {"port": 80, "note": null, "free": {"a": "x", "b": 1}}}))
        );
        assert!(validator.is_valid(&json!({"spec": {"port": "http"}})));
        assert!(!validator.is_valid(&json!({"spec": {"prot": 80}})));
        assert!(!validator.is_valid(&json!({"spec": {"port": 1.5}})));

        // Branches of a combinator stay open; nullable enums take null; defaulted fields are
        // not required.
        let mut schema = json!({"type": "object", "required": ["mode"], "properties": {
            "mode": {"type": "string", "enum": ["A", "B"], "nullable": true, "default": "A"},
            "spec": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                     "anyOf": [{"properties": {"a": {"type": "string"}}, "required": ["a"]},
                               {"properties": {"b": {"type": "string"}}, "required": ["b"]}]}}});
        close_structural(&mut schema);
        let validator = jsonschema::validator_for(&schema).unwrap();
        assert!(validator.is_valid(&json!({"spec": {"a": "x", "b": "y"}, "mode": null})));
        assert!(!validator.is_valid(&json!({"spec": {"a": "x", "c": "y"}})));
    }

    #[test]
    fn added_schemas_compile_when_added_and_booleans_get_a_quoting_hint() {
        let mut schemas = Schemas::for_version(DEFAULT_VERSION).unwrap();
        let broken = json!({"x-kubernetes-group-version-kind": [{"group": "x.io", "version": "v1", "kind": "X"}],
                            "type": "object", "properties": {"a": {"type": "no-such-type"}}});
        assert!(
            matches!(schemas.add(&broken), Err(SchemaError::Invalid(e)) if e.contains("does not compile"))
        );
        let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"ENABLED": true}});
        let Outcome::Checked(issues) = schemas.check(&config_map) else {
            panic!()
        };
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].pointer, "/data/ENABLED");
        assert!(
            issues[0]
                .help
                .as_deref()
                .unwrap_or("")
                .contains("quote the value")
        );
    }

    #[test]
    fn int32_and_int64_fields_hold_their_ranges() {
        let mut schemas = Schemas::for_version(DEFAULT_VERSION).unwrap();
        let deployment = |replicas: Value, seconds: Value| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                   "spec": {"replicas": replicas, "selector": {"matchLabels": {"a": "b"}},
                            "template": {"metadata": {"labels": {"a": "b"}},
                                         "spec": {"activeDeadlineSeconds": seconds,
                                                  "containers": [{"name": "c", "image": "i"}]}}}})
        };
        let mut issues = |replicas: Value, seconds: Value| {
            let Outcome::Checked(issues) = schemas.check(&deployment(replicas, seconds)) else {
                panic!()
            };
            issues
        };
        assert!(issues(json!(2_147_483_647), json!(i64::MAX)).is_empty());
        for replicas in [
            json!(2_147_483_648_i64),
            json!(-2_147_483_649_i64),
            json!(1e26),
        ] {
            let found = issues(replicas.clone(), json!(1));
            assert_eq!(found.len(), 1, "{replicas}: {found:?}");
            assert_eq!(found[0].pointer, "/spec/replicas");
            assert!(
                found[0].message.contains("does not fit the 32-bit integer"),
                "{}",
                found[0].message
            );
        }
        let found = issues(json!(1), json!(1e19));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("64-bit"), "{}", found[0].message);
    }
}
