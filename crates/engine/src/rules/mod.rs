//! Rules the engine owns: problems no policy can see (unreadable input, a failing policy,
//! duplicate keys that vanish before a policy sees the object, Secret values hidden from
//! policies, suppression annotations) and the checks policies skipped. Each rule's documentation
//! is its doc comment, next to the code that reports it; `kubectl vllm explain` prints it. The
//! `schema-*` rules live with the validation in `kubectl_vllm_schema::rules`.

mod duplicate_keys;
mod duplicate_objects;
mod input;
mod schema;
mod secrets;
mod skipped;
mod suppression;

pub use duplicate_keys::RuntimeDuplicateKeys;
pub use duplicate_objects::{DuplicateObject, LaterCopy, later_copies};
pub use input::{InputError, PolicyErrorRule};
pub use secrets::SecretValuePlaceholder;
pub use skipped::{AcceleratorUnknown, ModelUnknown, ProviderUnknown, ServerUnparsed};
pub use suppression::{Problem, SuppressionOnPodTemplate, SuppressionWithoutReason, problems};

pub(crate) use duplicate_keys::duplicate_keys;
pub(crate) use duplicate_objects::duplicate_objects;
pub(crate) use input::input_errors;
pub(crate) use schema::schema_findings;
pub(crate) use secrets::secret_values;
pub(crate) use skipped::{describe_hint, skip_findings};
pub(crate) use suppression::suppression_problems;

use kubectl_vllm_schema::rules as schema_rules;

use crate::registry::{Origin, RuleInfo};

/// Every rule the engine and the schema crate own, with how their findings are treated.
#[must_use]
pub fn host_rules() -> Vec<RuleInfo> {
    let host = |info: RuleInfo| info;
    // Input and policy errors always fail the run: they cannot be selected away, re-levelled,
    // ignored or baselined.
    let fatal = |info: RuleInfo| RuleInfo {
        suppressible: false,
        silenced_by_annotations: false,
        ..info
    };
    // An `ignore-all` annotation would hide its own problem.
    let about_suppressions = |info: RuleInfo| RuleInfo {
        silenced_by_annotations: false,
        ..info
    };
    vec![
        fatal(RuleInfo::of::<InputError>(Origin::Host)),
        fatal(RuleInfo::of::<PolicyErrorRule>(Origin::Host)),
        host(RuleInfo::of::<RuntimeDuplicateKeys>(Origin::Host)),
        host(RuleInfo::of::<DuplicateObject>(Origin::Host)),
        host(RuleInfo::of::<ModelUnknown>(Origin::Host)),
        host(RuleInfo::of::<AcceleratorUnknown>(Origin::Host)),
        host(RuleInfo::of::<ProviderUnknown>(Origin::Host)),
        host(RuleInfo::of::<ServerUnparsed>(Origin::Host)),
        host(RuleInfo::of::<SecretValuePlaceholder>(Origin::Host)),
        about_suppressions(RuleInfo::of::<SuppressionWithoutReason>(Origin::Host)),
        about_suppressions(RuleInfo::of::<SuppressionOnPodTemplate>(Origin::Host)),
        RuleInfo::of::<schema_rules::SchemaType>(Origin::Schema),
        RuleInfo::of::<schema_rules::SchemaUnknownField>(Origin::Schema),
        RuleInfo::of::<schema_rules::SchemaEnum>(Origin::Schema),
        RuleInfo::of::<schema_rules::SchemaRequired>(Origin::Schema),
        RuleInfo::of::<schema_rules::SchemaQuantity>(Origin::Schema),
        RuleInfo::of::<schema_rules::SchemaLabel>(Origin::Schema),
        RuleInfo::of::<schema_rules::SchemaName>(Origin::Schema),
        RuleInfo::of::<schema_rules::SchemaRange>(Origin::Schema),
        RuleInfo::of::<schema_rules::SchemaValue>(Origin::Schema),
        RuleInfo::of::<schema_rules::SchemaUnknownKind>(Origin::Schema),
    ]
}
