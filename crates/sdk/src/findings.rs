//! Where a rule records its outcomes ([`Findings`]): findings, with help, a severity, a sub-span
//! and fixes ([`FindingBuilder`], [`FixBuilder`]), and skipped checks ([`SkipBuilder`]), each at
//! a [`Location`].

use serde_json::Value;

use crate::boundary;
use crate::{
    Applicability, Finding, Fix, Outcome, PatchOp, PathValue, Pointer, Severity, Skip, SkipReason,
    SubSpan,
};

/// Where a rule records an outcome: a field, narrowed to characters of its scalar for a word of
/// a shell script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The field.
    pub pointer: Pointer,
    /// Characters `start..end` of the scalar at `pointer`, when only they are meant.
    pub sub_span: Option<(usize, usize)>,
}

impl From<&Pointer> for Location {
    fn from(pointer: &Pointer) -> Self {
        Self {
            pointer: pointer.clone(),
            sub_span: None,
        }
    }
}

/// Outcomes of one evaluation: findings and skipped checks.
#[derive(Default)]
pub struct Findings {
    pub(crate) items: Vec<Outcome>,
    pub(crate) current: &'static str,
    /// The current rule's declared fix applicability (`None`: the rule declares no fix).
    pub(crate) fix_applicability: Option<Applicability>,
}

impl Findings {
    /// Starts a finding of the current rule at `pointer`.
    pub fn report(&mut self, pointer: &Pointer, message: impl Into<String>) -> FindingBuilder<'_> {
        let applicability = self.fix_applicability;
        self.items.push(Outcome::Finding(Finding {
            rule: self.current.to_string(),
            message: message.into(),
            help: None,
            pointer: pointer.as_str().to_string(),
            severity: None,
            sub_span: None,
            fix: None,
        }));
        let Some(Outcome::Finding(finding)) = self.items.last_mut() else {
            unreachable!("just pushed")
        };
        FindingBuilder {
            finding,
            applicability,
        }
    }

    /// Records that the current rule skipped its check at `pointer`, and why (the host reports
    /// each skipped check once however often it is recorded).
    pub fn skip(&mut self, reason: SkipReason, pointer: &Pointer) -> SkipBuilder<'_> {
        self.items.push(Outcome::Skipped(Skip {
            rule: self.current.to_string(),
            reason,
            pointer: pointer.as_str().to_string(),
            sub_span: None,
        }));
        let Some(Outcome::Skipped(skip)) = self.items.last_mut() else {
            unreachable!("just pushed")
        };
        SkipBuilder { skip }
    }

    /// [`Self::skip`] at a location that may be narrowed to part of its scalar.
    pub(crate) fn skip_at(&mut self, reason: SkipReason, at: &Location) {
        let skip = self.skip(reason, &at.pointer);
        if let Some((start, end)) = at.sub_span {
            skip.sub_span(start, end);
        }
    }

    /// The outcomes so far.
    #[must_use]
    pub fn into_vec(self) -> Vec<Outcome> {
        self.items
    }
}

/// Narrows a skip's location.
pub struct SkipBuilder<'a> {
    skip: &'a mut Skip,
}

impl SkipBuilder<'_> {
    /// Narrows the location to characters `start..end` of the scalar.
    pub fn sub_span(self, start: usize, end: usize) {
        self.skip.sub_span = Some(SubSpan {
            start: start as u32,
            end: end as u32,
        });
    }
}

/// Adds details to a finding.
pub struct FindingBuilder<'a> {
    finding: &'a mut Finding,
    applicability: Option<Applicability>,
}

// The builder edits the finding in place, so dropping it after any call is fine: rules write
// `out.report(..).help(..);` as a statement.
#[allow(clippy::must_use_candidate, clippy::return_self_not_must_use)]
impl FindingBuilder<'_> {
    /// How to repair it.
    pub fn help(self, help: impl Into<String>) -> Self {
        self.finding.help = Some(help.into());
        self
    }

    /// A severity for this case, overriding the rule's default.
    pub fn severity(self, severity: Severity) -> Self {
        self.finding.severity = Some(boundary::severity(severity));
        self
    }

    /// Narrows the location to characters `start..end` of the scalar.
    pub fn sub_span(self, start: usize, end: usize) -> Self {
        self.finding.sub_span = Some(SubSpan {
            start: start as u32,
            end: end as u32,
        });
        self
    }

    /// Attaches a fix with the rule's declared applicability.
    ///
    /// # Panics
    /// When the rule declares no fix (a bug in the rule, caught by its tests).
    pub fn fix(self, title: impl Into<String>, build: impl FnOnce(&mut FixBuilder)) -> Self {
        let applicability = self
            .applicability
            .expect("a rule that declares `fix: None` offered a fix");
        self.fix_as(applicability, title, build)
    }

    /// Attaches a fix that is less safe than the rule's declared applicability in this case
    /// (`Unsafe` where the rule's fixes are usually `Safe`). The host refuses a safer one.
    pub fn fix_as(
        self,
        applicability: Applicability,
        title: impl Into<String>,
        build: impl FnOnce(&mut FixBuilder),
    ) -> Self {
        let mut fix = FixBuilder::default();
        build(&mut fix);
        self.finding.fix = Some(Fix {
            title: title.into(),
            applicability: boundary::applicability(applicability),
            operations: fix.operations,
        });
        self
    }
}

/// Collects the operations of a fix.
#[derive(Default)]
pub struct FixBuilder {
    operations: Vec<PatchOp>,
}

impl FixBuilder {
    /// Replace the value at `path`.
    pub fn replace(&mut self, path: &Pointer, value: &Value) -> &mut Self {
        self.operations.push(PatchOp::Replace(PathValue {
            path: path.as_str().to_string(),
            value: value.to_string(),
        }));
        self
    }

    /// Add a key (or append with a path ending in `-`).
    pub fn add(&mut self, path: &Pointer, value: &Value) -> &mut Self {
        self.operations.push(PatchOp::Add(PathValue {
            path: path.as_str().to_string(),
            value: value.to_string(),
        }));
        self
    }

    /// Remove the value at `path`.
    pub fn remove(&mut self, path: &Pointer) -> &mut Self {
        self.operations
            .push(PatchOp::Remove(path.as_str().to_string()));
        self
    }

    /// Sets `key` in the mapping at `parent`: adds the mapping itself when it is missing.
    pub fn set_key(
        &mut self,
        object: &Value,
        parent: &Pointer,
        key: &str,
        value: Value,
    ) -> &mut Self {
        match object.pointer(parent.as_str()) {
            Some(Value::Object(map)) if map.contains_key(key) => {
                self.replace(&parent.key(key), &value)
            }
            Some(Value::Object(_)) => self.add(&parent.key(key), &value),
            _ => {
                let mut map = serde_json::Map::new();
                map.insert(key.to_string(), value);
                self.add(parent, &Value::Object(map))
            }
        }
    }

    /// Appends `item` to the sequence at `list`, creating the sequence when it is missing.
    pub fn push(&mut self, object: &Value, list: &Pointer, item: Value) -> &mut Self {
        match object.pointer(list.as_str()) {
            Some(Value::Array(_)) => self.add(&list.end(), &item),
            _ => self.add(list, &Value::Array(vec![item])),
        }
    }
}
