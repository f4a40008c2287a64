//! The input set as policies see it through `inventory.get` / `inventory.list`: indexed once, so a
//! lookup costs a hash probe, never a copy of the whole set into every call.

use std::collections::HashMap;

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
}

/// Every object of one invocation.
#[derive(Debug, Default)]
pub struct Inventory {
    entries: Vec<Entry>,
    by_kind: HashMap<String, Vec<usize>>,
    /// `get` lookups that found nothing: (kind, namespace, name). With `--cluster`, the host
    /// reads these from the cluster and evaluates again.
    misses: std::sync::Mutex<std::collections::BTreeSet<(String, Option<String>, String)>>,
}

impl Inventory {
    /// Adds an object.
    pub fn insert(&mut self, reference: ObjectRef, object: &Value) {
        let labels = object
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let index = self.entries.len();
        self.by_kind
            .entry(reference.kind.clone())
            .or_default()
            .push(index);
        self.entries.push(Entry {
            reference,
            json: object.to_string(),
            labels,
        });
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

    /// The object with this kind, namespace and name. A miss is remembered ([`Self::misses`]).
    #[must_use]
    pub fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<&Entry> {
        let found = self.of_kind(kind).find(|e| {
            e.reference.name == name
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

    /// Objects of `kind` in `namespace` matching `selector`.
    pub fn list<'a>(
        &'a self,
        kind: &str,
        namespace: Option<&'a str>,
        selector: &str,
    ) -> Result<Vec<&'a Entry>, String> {
        let requirements = parse_selector(selector)?;
        Ok(self
            .of_kind(kind)
            .filter(|e| namespace.is_none() || e.reference.namespace.as_deref() == namespace)
            .filter(|e| requirements.iter().all(|r| r.matches(&e.labels)))
            .collect())
    }

    fn of_kind<'a>(&'a self, kind: &str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.by_kind
            .get(kind)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&i| &self.entries[i])
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
}
