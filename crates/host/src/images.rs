//! The image fact table: what a container image ships (vLLM release, CUDA, its own
//! `LD_LIBRARY_PATH`, entrypoint), keyed by repository and tag. The built-in rows are
//! `facts/images.yaml`, each with its source; the config may add rows. An image the table does
//! not know, or a fact a row leaves out, stays unknown: rules never conclude from an absence.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Who builds for which devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// NVIDIA GPUs.
    #[default]
    Nvidia,
    /// AMD GPUs.
    Amd,
    /// Intel GPUs and Gaudi.
    Intel,
    /// AWS Inferentia and Trainium.
    Aws,
    /// Google TPUs.
    Google,
}

/// Which tags of a repository a row describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TagMatch {
    /// Release tags whose version (`v0.10.1`, `0.10.1-cu128` → 0.10.1) is at least this.
    #[serde(default, deserialize_with = "version_bound")]
    pub from: Option<String>,
    /// ...and below this.
    #[serde(default, deserialize_with = "version_bound")]
    pub below: Option<String>,
    /// Exactly these tags.
    #[serde(default)]
    pub exact: Vec<String>,
    /// Floating tags (`latest`, `nightly`, none, any tag that is not a release): the row then
    /// describes the newest release, and lookups say the facts are assumed.
    #[serde(default)]
    pub floating: bool,
}

/// A `from`/`below` bound: a version a tag can be compared with, or a located error (a bound
/// that never parses would make its row match nothing, silently).
fn version_bound<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let bound = Option::<String>::deserialize(d)?;
    match &bound {
        Some(text) if tag_version(text).is_none() => Err(serde::de::Error::custom(format!(
            "`{text}` is not a version (`0.10.1`, `v0.9.0`)"
        ))),
        _ => Ok(bound),
    }
}

/// Compares versions as releases do: missing trailing parts are zero (`0.9` = `0.9.0`).
fn compare(a: &[u32], b: &[u32]) -> std::cmp::Ordering {
    let len = a.len().max(b.len());
    let part = |v: &[u32], i: usize| v.get(i).copied().unwrap_or(0);
    (0..len)
        .map(|i| part(a, i).cmp(&part(b, i)))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

/// One row: a repository's tags and what they ship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ImageFact {
    /// Repositories, registry defaults normalised (`vllm/vllm-openai` also matches
    /// `docker.io/vllm/vllm-openai`).
    pub repositories: Vec<String>,
    /// Which tags.
    pub tags: TagMatch,
    /// The vLLM release: `from-tag` (the tag is the vLLM version), a fixed version, or unset
    /// (unknown).
    #[serde(default)]
    pub vllm_version: Option<String>,
    /// CUDA (or ROCm) version.
    #[serde(default)]
    pub cuda: Option<String>,
    /// Whose devices it targets.
    #[serde(default)]
    pub vendor: Vendor,
    /// The image's own `LD_LIBRARY_PATH` (empty: none set); unset: unknown.
    #[serde(default)]
    pub ld_library_path: Option<String>,
    /// Whether the image's `LD_LIBRARY_PATH` holds `/usr/local/nvidia/lib64`, where GKE mounts
    /// the node's driver (default: read from `ld-library-path` when that is known, else
    /// unknown).
    #[serde(default)]
    pub driver_dir: Option<bool>,
    /// The image ships vLLM with its entrypoint modules changed by its vendor (Vertex Model
    /// Garden's `vllm.entrypoints.api_server`): rules about upstream modules do not apply.
    #[serde(default)]
    pub patched: bool,
    /// The image's entrypoint (empty: unknown).
    #[serde(default)]
    pub entrypoint: Vec<String>,
    /// A release tag with these facts that a fix may pin a floating tag to (the oldest release
    /// of the newest row: the same CUDA and driver needs as `latest`).
    #[serde(default)]
    pub pin: Option<String>,
    /// Where these facts come from.
    pub source: String,
    /// What of the row was not verified.
    #[serde(default)]
    pub note: Option<String>,
}

impl ImageFact {
    /// Whether the image's own `LD_LIBRARY_PATH` holds the GKE driver directory.
    #[must_use]
    pub fn driver_dir(&self) -> Option<bool> {
        self.driver_dir.or_else(|| {
            self.ld_library_path.as_deref().map(|p| {
                p.split(':')
                    .any(|d| d.trim_end_matches('/') == "/usr/local/nvidia/lib64")
            })
        })
    }
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLookup<'a> {
    /// The row.
    pub fact: &'a ImageFact,
    /// The normalised repository.
    pub repository: String,
    /// The vLLM release, when known.
    pub vllm_version: Option<String>,
    /// Whether the tag floats (the newest release's facts are assumed).
    pub assumed_newest: bool,
}

/// An image reference split into repository, tag and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// Repository with registry defaults removed (`docker.io/`, `index.docker.io/`, `library/`).
    pub repository: String,
    /// Tag, if any.
    pub tag: Option<&'a str>,
    /// Digest, if any.
    pub digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    /// Parses `registry/repo:tag@digest`.
    #[must_use]
    pub fn parse(reference: &'a str) -> Self {
        let (name, digest) = match reference.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (reference, None),
        };
        let (repository, tag) = match name.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
            _ => (name, None),
        };
        let mut repository = repository.to_ascii_lowercase();
        for prefix in ["docker.io/", "index.docker.io/", "registry-1.docker.io/"] {
            if let Some(rest) = repository.strip_prefix(prefix) {
                repository = rest.to_string();
            }
        }
        if let Some(rest) = repository.strip_prefix("library/") {
            repository = rest.to_string();
        }
        Self {
            repository,
            tag,
            digest,
        }
    }
}

/// A release version from a tag: `v0.10.1` → `[0, 10, 1]`, `0.10.1.1-cu128` → `[0, 10, 1, 1]`;
/// `None` for `latest`, `nightly` or anything that does not start with digits and dots.
#[must_use]
pub fn tag_version(tag: &str) -> Option<Vec<u32>> {
    let tag = tag.strip_prefix('v').unwrap_or(tag);
    let core = tag.split(['-', '+']).next()?;
    let parts: Option<Vec<u32>> = core.split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| p.len() >= 2)
}

fn version_text(version: &[u32]) -> String {
    version
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

impl TagMatch {
    fn matches(&self, tag: Option<&str>) -> bool {
        let Some(tag) = tag else {
            return self.floating;
        };
        if self.exact.iter().any(|t| t == tag) {
            return true;
        }
        let Some(version) = tag_version(tag) else {
            return self.floating;
        };
        let bound = |b: &Option<String>| b.as_deref().and_then(tag_version);
        let lower = bound(&self.from);
        let upper = bound(&self.below);
        (lower.is_some() || upper.is_some())
            && lower.is_none_or(|l| compare(&version, &l).is_ge())
            && upper.is_none_or(|u| compare(&version, &u).is_lt())
    }
}

/// Finds the row for `reference` in `table` (the last matching row wins, so config rows added
/// after the built-in ones override them).
#[must_use]
pub fn lookup<'a>(table: &'a [ImageFact], reference: &str) -> Option<ImageLookup<'a>> {
    let image = ImageRef::parse(reference);
    // A digest without a tag is some release we cannot name: its facts stay unknown.
    if image.digest.is_some() && image.tag.is_none() {
        return None;
    }
    let tag = image.tag;
    let fact = table
        .iter()
        .rev()
        .find(|f| f.repositories.contains(&image.repository) && f.tags.matches(tag))?;
    let version = tag.and_then(tag_version);
    let exact = tag.is_some_and(|t| fact.tags.exact.iter().any(|e| e == t));
    let assumed_newest = !exact && version.is_none() && image.digest.is_none();
    let vllm_version = match fact.vllm_version.as_deref() {
        Some("from-tag") => version.map(|v| version_text(&v)),
        Some(fixed) => Some(fixed.to_string()),
        None => None,
    };
    Some(ImageLookup {
        fact,
        repository: image.repository,
        vllm_version,
        assumed_newest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(from: Option<&str>, below: Option<&str>, floating: bool, ld: &str) -> ImageFact {
        ImageFact {
            repositories: vec!["vllm/vllm-openai".into()],
            tags: TagMatch {
                from: from.map(Into::into),
                below: below.map(Into::into),
                exact: vec![],
                floating,
            },
            vllm_version: Some("from-tag".into()),
            cuda: None,
            vendor: Vendor::Nvidia,
            ld_library_path: Some(ld.into()),
            driver_dir: None,
            patched: false,
            entrypoint: vec![],
            pin: None,
            source: "test".into(),
            note: None,
        }
    }

    #[test]
    fn references_parse_and_rows_match_by_version() {
        let r = ImageRef::parse("docker.io/vllm/vllm-openai:v0.10.1@sha256:ab");
        assert_eq!(r.repository, "vllm/vllm-openai");
        assert_eq!(r.tag, Some("v0.10.1"));
        assert_eq!(ImageRef::parse("localhost:5000/x").tag, None);
        assert_eq!(tag_version("v0.10.1.1-cu128"), Some(vec![0, 10, 1, 1]));
        assert_eq!(tag_version("latest"), None);
        assert_eq!(tag_version("25.09-py3"), Some(vec![25, 9]));
        let table = vec![
            row(None, Some("0.9.0"), false, "old"),
            row(Some("0.9.0"), None, true, "new"),
        ];
        let old = lookup(&table, "vllm/vllm-openai:v0.8.5").unwrap();
        assert_eq!(old.fact.ld_library_path.as_deref(), Some("old"));
        assert_eq!(old.vllm_version.as_deref(), Some("0.8.5"));
        assert!(!old.assumed_newest);
        let latest = lookup(&table, "vllm/vllm-openai:latest").unwrap();
        assert_eq!(latest.fact.ld_library_path.as_deref(), Some("new"));
        assert!(latest.assumed_newest);
        assert_eq!(latest.vllm_version, None);
        assert!(lookup(&table, "vllm/vllm-openai").unwrap().assumed_newest);
        assert!(lookup(&table, "vllm/vllm-openai@sha256:ab").is_none());
        assert!(lookup(&table, "example/vllm:v0.10.0").is_none());
        // Missing trailing parts are zero: `v0.9` is 0.9.0, not below it.
        let short = lookup(&table, "vllm/vllm-openai:v0.9").unwrap();
        assert_eq!(short.fact.ld_library_path.as_deref(), Some("new"));
        assert!(!short.assumed_newest);
    }

    #[test]
    fn a_bound_that_is_not_a_version_is_an_error() {
        let bad: Result<TagMatch, _> = serde_json::from_str(r#"{"from": "abc"}"#);
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("`abc` is not a version")
        );
        let good: TagMatch =
            serde_json::from_str(r#"{"from": "v0.9", "below": "0.10.1"}"#).unwrap();
        assert_eq!(good.from.as_deref(), Some("v0.9"));
    }
}
