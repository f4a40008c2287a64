//! RFC 6901 JSON Pointers: the one implementation of escaping (`~` → `~0`, `/` → `~1`) and
//! unescaping in the workspace. Policies build them, the host validates and locates them, the
//! schema checks and the patch code walk them.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A valid RFC 6901 JSON Pointer: empty (the whole document) or `/`-separated reference tokens
/// with `~` and `/` escaped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct Pointer(String);

/// Text that is not an RFC 6901 JSON Pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointerError {
    pointer: String,
    problem: &'static str,
}

impl fmt::Display for PointerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JSON Pointer `{}` {}", self.pointer, self.problem)
    }
}

impl std::error::Error for PointerError {}

impl Pointer {
    /// The whole document (the empty pointer).
    #[must_use]
    pub const fn root() -> Self {
        Self(String::new())
    }

    /// Checks `text`: a non-empty pointer starts with `/`, and `~` is followed by `0` or `1`.
    ///
    /// # Errors
    /// When `text` breaks either rule.
    pub fn parse(text: &str) -> Result<Self, PointerError> {
        let error = |problem| PointerError {
            pointer: text.to_string(),
            problem,
        };
        if !text.is_empty() && !text.starts_with('/') {
            return Err(error("does not start with `/`"));
        }
        let mut bytes = text.bytes();
        while let Some(b) = bytes.next() {
            if b == b'~' && !matches!(bytes.next(), Some(b'0' | b'1')) {
                return Err(error("has a bad `~` escape"));
            }
        }
        Ok(Self(text.to_string()))
    }

    /// A pointer written out in the code, such as `"/spec/template"` (no token needs escaping).
    ///
    /// # Panics
    /// When `path` is not a valid pointer: a bug at the call site.
    #[must_use]
    pub fn from_path(path: &str) -> Self {
        Self::parse(path).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Escapes one reference token.
    #[must_use]
    pub fn escape(token: &str) -> Cow<'_, str> {
        if token.contains(['~', '/']) {
            Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
        } else {
            Cow::Borrowed(token)
        }
    }

    /// Unescapes one reference token of a valid pointer (`~1` → `/`, then `~0` → `~`).
    #[must_use]
    pub fn unescape(token: &str) -> Cow<'_, str> {
        if token.contains('~') {
            Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
        } else {
            Cow::Borrowed(token)
        }
    }

    /// This pointer with mapping key `key` appended.
    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        let mut out = self.clone();
        out.push_key(key);
        out
    }

    /// This pointer with sequence index `i` appended.
    #[must_use]
    pub fn index(&self, i: usize) -> Self {
        let mut out = self.clone();
        out.push_index(i);
        out
    }

    /// This pointer with `-` (the end of a sequence, for `add`) appended.
    #[must_use]
    pub fn end(&self) -> Self {
        Self(format!("{}/-", self.0))
    }

    /// Appends mapping key `key`.
    pub fn push_key(&mut self, key: &str) {
        self.0.push('/');
        self.0.push_str(&Self::escape(key));
    }

    /// Appends sequence index `i`.
    pub fn push_index(&mut self, i: usize) {
        use fmt::Write as _;
        let _ = write!(self.0, "/{i}");
    }

    /// `relative` resolved under this pointer (`/items/2` + `/spec` = `/items/2/spec`).
    #[must_use]
    pub fn join(&self, relative: &Self) -> Self {
        Self(format!("{}{}", self.0, relative.0))
    }

    /// The pointer text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the whole document.
    #[must_use]
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The unescaped reference tokens.
    pub fn tokens(&self) -> impl Iterator<Item = Cow<'_, str>> {
        self.0
            .split('/')
            .skip(1) // the empty text before the leading `/`
            .map(Self::unescape)
    }

    /// The last reference token, unescaped (`None` for the root).
    #[must_use]
    pub fn last(&self) -> Option<Cow<'_, str>> {
        let (_, last) = self.0.rsplit_once('/')?;
        Some(Self::unescape(last))
    }

    /// The pointer without its last token (`None` for the root).
    #[must_use]
    pub fn parent(&self) -> Option<Self> {
        let (parent, _) = self.0.rsplit_once('/')?;
        Some(Self(parent.to_string()))
    }

    /// Whether `prefix` is this pointer or one of its ancestors (token by token: `/a` is not a
    /// prefix of `/ab`).
    #[must_use]
    pub fn starts_with(&self, prefix: &Self) -> bool {
        self.strip_prefix(prefix).is_some()
    }

    /// This pointer relative to `prefix`, when `prefix` is this pointer or an ancestor.
    #[must_use]
    pub fn strip_prefix(&self, prefix: &Self) -> Option<Self> {
        let rest = self.0.strip_prefix(&prefix.0)?;
        (rest.is_empty() || rest.starts_with('/')).then(|| Self(rest.to_string()))
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl std::str::FromStr for Pointer {
    type Err = PointerError;

    fn from_str(text: &str) -> Result<Self, PointerError> {
        Self::parse(text)
    }
}

impl<'de> Deserialize<'de> for Pointer {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl AsRef<str> for Pointer {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        let p = Pointer::root()
            .key("metadata")
            .key("annotations")
            .key("a/b~c")
            .index(3);
        assert_eq!(p.as_str(), "/metadata/annotations/a~1b~0c/3");
        let tokens: Vec<_> = p.tokens().collect();
        assert_eq!(tokens, ["metadata", "annotations", "a/b~c", "3"]);
        assert_eq!(p.last().as_deref(), Some("3"));
        assert_eq!(p.parent().unwrap().last().as_deref(), Some("a/b~c"));
        // `~01` is `~1` unescaped, not `/`.
        assert_eq!(Pointer::unescape("~01"), "~1");
        assert_eq!(Pointer::root().tokens().count(), 0);
        assert_eq!(Pointer::from_path("/").tokens().collect::<Vec<_>>(), [""]);
    }

    #[test]
    fn parse_rejects_what_rfc_6901_forbids() {
        assert_eq!(
            Pointer::parse("spec").unwrap_err().to_string(),
            "JSON Pointer `spec` does not start with `/`"
        );
        assert_eq!(
            Pointer::parse("/a~2").unwrap_err().to_string(),
            "JSON Pointer `/a~2` has a bad `~` escape"
        );
        assert!(Pointer::parse("/a~").is_err());
        assert!(Pointer::parse("").unwrap().is_root());
        assert!(serde_json::from_str::<Pointer>("\"x\"").is_err());
    }

    #[test]
    fn prefixes_are_token_wise() {
        let item = Pointer::from_path("/items/2");
        let full = Pointer::from_path("/items/2/spec");
        assert_eq!(full.strip_prefix(&item), Some(Pointer::from_path("/spec")));
        assert!(!Pointer::from_path("/items/23").starts_with(&item));
        assert_eq!(item.join(&Pointer::from_path("/spec")), full);
        assert_eq!(item.strip_prefix(&item), Some(Pointer::root()));
    }
}
