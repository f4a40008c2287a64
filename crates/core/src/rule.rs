//! Rule metadata: what a rule is called, how severe its findings are by default, whether they
//! carry fixes and how safe those are, and where it applies.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// How bad a finding is, ordered `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational: a check that could not run, or a cost.
    Info,
    /// Likely to fail, or fails under some conditions.
    Warning,
    /// Will not work.
    Error,
}

impl Severity {
    /// The lower-case name (`error`, `warning`, `info`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// How safe a fix is, ordered from the safest: `Safe < Unsafe < DisplayOnly`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Changes nothing but the finding; `kubectl vllm fix` applies it.
    Safe,
    /// Changes behaviour or cost; applied with `--unsafe-fixes`.
    Unsafe,
    /// Shown, never applied: a human has to decide.
    DisplayOnly,
}

impl Applicability {
    /// `safe`, `unsafe` or `display-only`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Safe => "safe",
            Self::Unsafe => "unsafe",
            Self::DisplayOnly => "display-only",
        }
    }

    /// Whether `kubectl vllm fix` applies fixes of this applicability (`unsafe_fixes`: the user
    /// passed `--unsafe-fixes`).
    #[must_use]
    pub const fn applied(self, unsafe_fixes: bool) -> bool {
        match self {
            Self::Safe => true,
            Self::Unsafe => unsafe_fixes,
            Self::DisplayOnly => false,
        }
    }
}

impl fmt::Display for Applicability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Whether a rule's findings carry fixes, and how safe they are: a fix may be less safe than
/// declared (an `Unsafe` fix in a case where the rule's fixes are usually `Safe`), never safer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FixAvailability {
    /// Never.
    None,
    /// Some findings.
    Sometimes(Applicability),
    /// Every finding.
    Always(Applicability),
}

impl FixAvailability {
    /// `none`, `sometimes` or `always`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Sometimes(_) => "sometimes",
            Self::Always(_) => "always",
        }
    }

    /// The declared applicability, when the rule has fixes.
    #[must_use]
    pub const fn applicability(self) -> Option<Applicability> {
        match self {
            Self::None => None,
            Self::Sometimes(a) | Self::Always(a) => Some(a),
        }
    }
}

/// The kind of cluster a run targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Google Kubernetes Engine.
    Gke,
    /// Amazon EKS.
    Eks,
    /// Azure AKS.
    Aks,
    /// Red Hat OpenShift.
    Openshift,
    /// Any other Kubernetes, chosen by the user: provider-specific rules do not run.
    Generic,
    /// Nothing said which: provider-specific rules are skipped, and the run says so once.
    Unknown,
}

impl Provider {
    /// How messages name it.
    #[must_use]
    pub const fn display(self) -> &'static str {
        match self {
            Self::Gke => "GKE",
            Self::Eks => "EKS",
            Self::Aks => "AKS",
            Self::Openshift => "OpenShift",
            Self::Generic => "generic Kubernetes",
            Self::Unknown => "an unknown provider",
        }
    }
}

/// A rule id such as `shm-size`: lower-case words joined by `-`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct RuleId(Cow<'static, str>);

impl RuleId {
    /// The id of a rule declared in this program.
    #[must_use]
    pub const fn from_static(id: &'static str) -> Self {
        Self(Cow::Borrowed(id))
    }

    /// An id a policy declared at run time.
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        Self(Cow::Owned(id.into()))
    }

    /// The id text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl PartialEq<str> for RuleId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl AsRef<str> for RuleId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for RuleId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// Static facts about a rule; [`declare_rule!`] implements it from the rule's declaration and
/// doc comment.
pub trait RuleMeta {
    /// The rule id.
    const ID: &'static str;
    /// Default severity.
    const SEVERITY: Severity;
    /// Whether findings carry fixes, and how safe they are.
    const FIX: FixAvailability;
    /// Providers the rule applies to (empty: all).
    const PROVIDERS: &'static [Provider];
    /// Whether the rule needs every input of the run (it concludes an object is missing).
    const COMPLETE_SET: bool;
    /// One-line summary.
    const SUMMARY: &'static str;
    /// The doc comment, as `#[doc]` lines joined with newlines.
    const DOC: &'static str;
}

/// The id of rule `T`, typed.
#[must_use]
pub const fn rule_id<T: RuleMeta>() -> RuleId {
    RuleId::from_static(T::ID)
}

/// A doc comment as Markdown: doc attributes keep the space after `///`, which is dropped.
#[must_use]
pub fn unindent_doc(doc: &str) -> String {
    let mut out = String::with_capacity(doc.len());
    for line in doc.lines() {
        out.push_str(line.strip_prefix(' ').unwrap_or(line));
        out.push('\n');
    }
    out.trim().to_string() + "\n"
}

/// Declares a rule: a unit struct whose doc comment is the rule's documentation (what
/// `kubectl vllm explain` prints), implementing [`RuleMeta`].
///
/// `fix` is `None`, `Sometimes(Safe|Unsafe|DisplayOnly)` or `Always(...)`. `providers: [Gke, ...]`
/// makes the rule provider-specific; `complete_set: true` keeps it from running while any input
/// failed to load.
///
/// ```
/// kubectl_vllm_core::declare_rule! {
///     /// ## What it does
///     /// Finds a thing.
///     pub struct ThingMissing {
///         id: "thing-missing",
///         severity: Warning,
///         fix: Always(Safe),
///         summary: "a thing is missing",
///     }
/// }
/// use kubectl_vllm_core::RuleMeta as _;
/// assert_eq!(ThingMissing::ID, "thing-missing");
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident {
            id: $id:literal,
            severity: $severity:ident,
            fix: $fix:ident $(($applicability:ident))?,
            $(providers: [$($provider:ident),* $(,)?],)?
            $(complete_set: $complete:literal,)?
            summary: $summary:literal $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, Default)]
        $vis struct $name;

        impl $crate::RuleMeta for $name {
            const ID: &'static str = $id;
            const SEVERITY: $crate::Severity = $crate::Severity::$severity;
            const FIX: $crate::FixAvailability =
                $crate::declare_rule!(@fix $fix $($applicability)?);
            const PROVIDERS: &'static [$crate::Provider] =
                &[$($($crate::Provider::$provider),*)?];
            const COMPLETE_SET: bool = $crate::declare_rule!(@complete $($complete)?);
            const SUMMARY: &'static str = $summary;
            const DOC: &'static str = concat!($($doc, "\n"),*);
        }
    };
    (@fix None) => { $crate::FixAvailability::None };
    (@fix $fix:ident $a:ident) => { $crate::FixAvailability::$fix($crate::Applicability::$a) };
    (@complete) => { false };
    (@complete $c:literal) => { $c };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_and_names() {
        assert!(Severity::Error > Severity::Warning && Severity::Warning > Severity::Info);
        assert!(Applicability::Safe < Applicability::Unsafe);
        assert!(Applicability::Unsafe < Applicability::DisplayOnly);
        assert_eq!(Applicability::DisplayOnly.to_string(), "display-only");
        assert!(Applicability::Safe.applied(false));
        assert!(!Applicability::Unsafe.applied(false) && Applicability::Unsafe.applied(true));
        assert!(!Applicability::DisplayOnly.applied(true));
        assert_eq!(
            serde_json::to_string(&Applicability::DisplayOnly).unwrap(),
            "\"display-only\""
        );
        assert_eq!(
            FixAvailability::Sometimes(Applicability::Unsafe).applicability(),
            Some(Applicability::Unsafe)
        );
        let id = RuleId::from_static("shm-size");
        assert_eq!(id, RuleId::new("shm-size"));
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"shm-size\"");
    }

    #[test]
    fn doc_comments_lose_the_space_after_the_slashes() {
        assert_eq!(
            unindent_doc(" ## What\n one\n\n two \n"),
            "## What\none\n\ntwo\n"
        );
    }
}
