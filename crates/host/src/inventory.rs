//! The input set as policies see it through `inventory.get`, `inventory.list` and
//! `references.mentioning`: indexed once, so every lookup costs a hash probe (or a binary search)
//! and the objects it returns, never a scan of the whole set.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

use serde_json::Value;

use crate::bindings::kubectl_vllm::policy::types::ObjectRef;

/// One object, serialized once.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Which object.
    pub reference: ObjectRef,
    /// JSON text handed to policies.
    pub json: String,
    /// `metadata.labels`.
    labels: Vec<(String, String)>,
    /// The unit the object belongs to: 0 for files read as given and objects outside the set,
    /// else one render (a kustomization, a chart). Lookups from unit `u` see units 0 and `u`:
    /// a kustomize base and its overlay rendered in one run are deployed apart, and one's
    /// Service must not count as the other's.
    pub unit: u32,
}

/// Every object of one invocation.
#[derive(Debug, Default)]
pub struct Inventory {
    entries: Vec<Entry>,
    /// kind → entries, in insertion order.
    by_kind: HashMap<String, Vec<u32>>,
    /// (kind, name) → entries (one per namespace that has it).
    by_name: HashMap<(String, String), Vec<u32>>,
    /// (kind, namespace) → entries.
    by_namespace: HashMap<(String, Option<String>), Vec<u32>>,
    /// (kind, label key, label value) → entries.
    by_label: HashMap<(String, String, String), Vec<u32>>,
    /// (hash of kind and a string value, entry) for every string value of every object; sorted on
    /// the first `mentioning` call.
    mentions: Vec<(u64, u32)>,
    sorted_mentions: OnceLock<Vec<(u64, u32)>>,
    /// `get` lookups that found nothing: (kind, namespace, name). With `--cluster`, the host
    /// reads these from the cluster and evaluates again.
    misses: std::sync::Mutex<std::collections::BTreeSet<(String, Option<String>, String)>>,
}

/// A fixed hasher: the mention index stores hashes, so they must not vary within a run.
fn mention_hash(kind: &str, value: &str) -> u64 {
    let mut hasher =
        std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
            .build_hasher();
    hasher.write(kind.as_bytes());
    hasher.write_u8(0xff);
    hasher.write(value.as_bytes());
    hasher.finish()
}

/// Every string value in `value` (not keys), each once.
fn string_values<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| string_values(v, out)),
        Value::Object(map) => map.values().for_each(|v| string_values(v, out)),
        _ => {}
    }
}

impl Entry {
    /// Whether a lookup from `unit` sees this object.
    fn seen_from(&self, unit: u32) -> bool {
        self.unit == 0 || self.unit == unit
    }
}

impl Inventory {
    /// Adds an object of unit 0 (read as given, or outside the set).
    pub fn insert(&mut self, reference: ObjectRef, object: &Value) {
        self.insert_in(0, reference, object);
    }

    /// Adds an object of `unit` (see [`Entry::unit`]).
    pub fn insert_in(&mut self, unit: u32, reference: ObjectRef, object: &Value) {
        let labels: Vec<(String, String)> = object
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let index = u32::try_from(self.entries.len()).expect("fewer than 2^32 objects");
        let kind = &reference.kind;
        self.by_kind.entry(kind.clone()).or_default().push(index);
        self.by_name
            .entry((kind.clone(), reference.name.clone()))
            .or_default()
            .push(index);
        self.by_namespace
            .entry((kind.clone(), reference.namespace.clone()))
            .or_default()
            .push(index);
        for (key, value) in &labels {
            self.by_label
                .entry((kind.clone(), key.clone(), value.clone()))
                .or_default()
                .push(index);
        }
        let mut strings = Vec::new();
        string_values(object, &mut strings);
        strings.sort_unstable();
        strings.dedup();
        self.mentions
            .extend(strings.iter().map(|s| (mention_hash(kind, s), index)));
        self.entries.push(Entry {
            reference,
            json: object.to_string(),
            labels,
            unit,
        });
    }

    /// The `index`-th object inserted.
    #[must_use]
    pub fn entry(&self, index: usize) -> Option<&Entry> {
        self.entries.get(index)
    }

    /// Number of objects.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The object with this kind, namespace and name, as unit 0 sees the set.
    #[must_use]
    pub fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<&Entry> {
        self.get_in(0, kind, namespace, name)
    }

    /// The object with this kind, namespace and name that unit `unit` sees. A miss is
    /// remembered ([`Self::misses`]).
    #[must_use]
    pub fn get_in(
        &self,
        unit: u32,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<&Entry> {
        let found = self
            .by_name
            .get(&(kind.to_string(), name.to_string()))
            .into_iter()
            .flatten()
            .map(|&i| &self.entries[i as usize])
            .find(|e| {
                e.seen_from(unit)
                    && (e.reference.namespace.is_none()
                        || namespace.is_none()
                        || e.reference.namespace.as_deref() == namespace)
            });
        if found.is_none() {
            self.misses
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert((
                    kind.to_string(),
                    namespace.map(str::to_string),
                    name.to_string(),
                ));
        }
        found
    }

    /// Every `get` that found nothing so far: (kind, namespace, name), sorted.
    #[must_use]
    pub fn misses(&self) -> Vec<(String, Option<String>, String)> {
        self.misses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// Objects of `kind` in `namespace` matching `selector`, in insertion order, as unit 0
    /// sees the set.
    pub fn list<'a>(
        &'a self,
        kind: &str,
        namespace: Option<&'a str>,
        selector: &str,
    ) -> Result<Vec<&'a Entry>, String> {
        self.list_in(0, kind, namespace, selector)
    }

    /// Objects of `kind` in `namespace` matching `selector` that unit `unit` sees.
    pub fn list_in<'a>(
        &'a self,
        unit: u32,
        kind: &str,
        namespace: Option<&'a str>,
        selector: &str,
    ) -> Result<Vec<&'a Entry>, String> {
        let requirements = parse_selector(selector)?;
        let in_scope = |e: &&Entry| {
            e.seen_from(unit)
                && (namespace.is_none() || e.reference.namespace.as_deref() == namespace)
        };
        // The narrowest index: an equality term's label, else the namespace, else the kind.
        let candidates = requirements
            .iter()
            .find_map(|r| match r {
                Requirement::Equals(k, v) => Some(
                    self.by_label
                        .get(&(kind.to_string(), k.clone(), v.clone()))
                        .map_or(&[][..], Vec::as_slice),
                ),
                _ => None,
            })
            .or_else(|| {
                Some(
                    self.by_namespace
                        .get(&(kind.to_string(), Some(namespace?.to_string())))
                        .map_or(&[][..], Vec::as_slice),
                )
            })
            .unwrap_or_else(|| self.of_kind(kind));
        Ok(candidates
            .iter()
            .map(|&i| &self.entries[i as usize])
            .filter(in_scope)
            .filter(|e| requirements.iter().all(|r| r.matches(&e.labels)))
            .collect())
    }

    /// Objects of `kind` in `namespace` (`None`: all) that hold the string `value` somewhere,
    /// in insertion order (`references.mentioning`), as unit 0 sees the set.
    #[must_use]
    pub fn mentioning(&self, kind: &str, namespace: Option<&str>, value: &str) -> Vec<&Entry> {
        self.mentioning_in(0, kind, namespace, value)
    }

    /// [`Self::mentioning`] as unit `unit` sees the set.
    #[must_use]
    pub fn mentioning_in(
        &self,
        unit: u32,
        kind: &str,
        namespace: Option<&str>,
        value: &str,
    ) -> Vec<&Entry> {
        let sorted = self.sorted_mentions.get_or_init(|| {
            let mut sorted = self.mentions.clone();
            sorted.sort_unstable();
            sorted
        });
        let hash = mention_hash(kind, value);
        let start = sorted.partition_point(|&(h, _)| h < hash);
        let quoted = Value::String(value.to_string()).to_string();
        sorted[start..]
            .iter()
            .take_while(|&&(h, _)| h == hash)
            .map(|&(_, i)| &self.entries[i as usize])
            .filter(|e| {
                e.reference.kind == kind
                    && e.seen_from(unit)
                    && (namespace.is_none()
                        || e.reference.namespace.is_none()
                        || e.reference.namespace.as_deref() == namespace)
                    // A hash collision is not a mention.
                    && e.json.contains(&quoted)
            })
            .collect()
    }

    fn of_kind(&self, kind: &str) -> &[u32] {
        self.by_kind.get(kind).map_or(&[][..], Vec::as_slice)
    }
}

enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    NotExists(String),
}

impl Requirement {
    fn matches(&self, labels: &[(String, String)]) -> bool {
        let get = |k: &str| {
            labels
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        match self {
            Self::Equals(k, v) => get(k) == Some(v),
            Self::NotEquals(k, v) => get(k) != Some(v),
            Self::Exists(k) => get(k).is_some(),
            Self::NotExists(k) => get(k).is_none(),
        }
    }
}

/// Parses an equality-based label selector: `a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated.
fn parse_selector(selector: &str) -> Result<Vec<Requirement>, String> {
    selector
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|term| {
            if let Some((k, v)) = term.split_once("!=") {
                Ok(Requirement::NotEquals(k.trim().into(), v.trim().into()))
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                Ok(Requirement::Equals(k.trim().into(), v.trim().into()))
            } else if let Some(k) = term.strip_prefix('!') {
                Ok(Requirement::NotExists(k.trim().into()))
            } else if term.contains(char::is_whitespace) {
                Err(format!("unsupported label selector term `{term}`"))
            } else {
                Ok(Requirement::Exists(term.into()))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_render_sees_its_own_objects_and_the_plain_ones_only() {
        let service = |name: &str| ObjectRef {
            api_version: "v1".into(),
            kind: "Service".into(),
            namespace: Some("default".into()),
            name: name.into(),
        };
        let mut inv = Inventory::default();
        inv.insert(
            service("plain"),
            &json!({"metadata": {"labels": {"app": "vllm"}}}),
        );
        inv.insert_in(
            1,
            service("base"),
            &json!({"metadata": {"labels": {"app": "vllm"}}}),
        );
        inv.insert_in(
            2,
            service("overlay"),
            &json!({"metadata": {"labels": {"app": "vllm"}}}),
        );
        let seen = |unit: u32| {
            let listed: Vec<String> = inv
                .list_in(unit, "Service", None, "app=vllm")
                .unwrap()
                .into_iter()
                .map(|e| e.reference.name.clone())
                .collect();
            let got: Vec<bool> = ["plain", "base", "overlay"]
                .iter()
                .map(|n| inv.get_in(unit, "Service", Some("default"), n).is_some())
                .collect();
            let mentioned = inv.mentioning_in(unit, "Service", None, "vllm").len();
            (listed, got, mentioned)
        };
        assert_eq!(
            seen(0),
            (vec!["plain".to_string()], vec![true, false, false], 1)
        );
        assert_eq!(
            seen(2),
            (
                vec!["plain".to_string(), "overlay".to_string()],
                vec![true, false, true],
                2
            )
        );
    }

    fn r(kind: &str, ns: Option<&str>, name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: kind.into(),
            namespace: ns.map(Into::into),
            name: name.into(),
        }
    }

    #[test]
    fn get_and_list_with_selectors() {
        let mut inv = Inventory::default();
        inv.insert(
            r("Service", Some("a"), "s1"),
            &json!({"metadata": {"labels": {"app": "vllm"}}}),
        );
        inv.insert(
            r("Service", Some("a"), "s2"),
            &json!({"metadata": {"labels": {"app": "web"}}}),
        );
        inv.insert(r("Service", Some("b"), "s1"), &json!({}));
        inv.insert(r("StorageClass", None, "fast"), &json!({}));
        assert!(inv.get("Service", Some("b"), "s1").is_some());
        assert!(inv.get("Service", Some("c"), "s1").is_none());
        assert!(inv.get("StorageClass", Some("any"), "fast").is_some());
        let names = |v: Vec<&Entry>| {
            v.iter()
                .map(|e| e.reference.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(inv.list("Service", Some("a"), "app=vllm").unwrap()),
            vec!["s1"]
        );
        assert_eq!(
            names(inv.list("Service", Some("a"), "app!=vllm").unwrap()),
            vec!["s2"]
        );
        assert_eq!(
            names(inv.list("Service", None, "!app").unwrap()),
            vec!["s1"]
        );
        assert_eq!(inv.list("Service", None, "").unwrap().len(), 3);
        assert!(inv.list("Service", None, "app in (a)").is_err());
    }

    #[test]
    fn mentioning_finds_string_values_of_the_kind_and_namespace() {
        let mut inv = Inventory::default();
        let mounts = |claim: &str| {
            json!({"spec": {"template": {"spec": {"volumes": [
                {"name": "m", "persistentVolumeClaim": {"claimName": claim}}]}}}})
        };
        inv.insert(r("Deployment", Some("a"), "d1"), &mounts("models"));
        inv.insert(r("Deployment", Some("a"), "d2"), &mounts("other"));
        inv.insert(r("Deployment", Some("b"), "d3"), &mounts("models"));
        inv.insert(r("StatefulSet", Some("a"), "s1"), &mounts("models"));
        inv.insert(
            r("Deployment", Some("a"), "d4"),
            &json!({"metadata": {"labels": {"models": "yes"}}}),
        );
        let names = |v: Vec<&Entry>| {
            v.iter()
                .map(|e| e.reference.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(inv.mentioning("Deployment", Some("a"), "models")),
            vec!["d1"]
        );
        assert_eq!(
            names(inv.mentioning("Deployment", None, "models")),
            vec!["d1", "d3"]
        );
        assert_eq!(
            names(inv.mentioning("StatefulSet", Some("a"), "models")),
            vec!["s1"]
        );
        assert!(inv.mentioning("Deployment", Some("a"), "absent").is_empty());
        // Keys are not values: d4 has a label *named* `models`.
        assert!(!names(inv.mentioning("Deployment", None, "models")).contains(&"d4".to_string()));
        // Equality selectors go through the label index and still honour every term.
        assert_eq!(
            names(inv.list("Deployment", Some("a"), "models=yes").unwrap()),
            vec!["d4"]
        );
        assert!(
            inv.list("Deployment", Some("b"), "models=yes")
                .unwrap()
                .is_empty()
        );
        assert!(
            inv.list("Deployment", None, "models=yes,!models")
                .unwrap()
                .is_empty()
        );
    }
}
