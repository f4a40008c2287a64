//! Input that could not be linted, and policies that failed.

use kubectl_vllm_core::{Pointer, declare_rule};
use kubectl_vllm_manifest::{Manifests, ObjectId};

use crate::locate::region;
use crate::report::Finding;

declare_rule! {
    /// ## What it does
    /// Reports input that cannot be linted: an unreadable path, a file that is not UTF-8, invalid
    /// YAML or JSON (with the parser's position), a document that is not a mapping, or an object
    /// without `apiVersion` or `kind`.
    ///
    /// ## Why is this bad?
    /// `kubectl apply` would reject the file, and every rule is blind to what could not be read.
    /// The other files, and the documents before and after a syntax error, are still linted; while
    /// any input failed, "referenced object not found" checks stay quiet because the set is
    /// incomplete.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["--model=/models/x"
    /// ```
    ///
    /// ## Fix safety
    /// No fix. Exit code 2; cannot be suppressed.
    ///
    /// ## Source
    /// product.md, "Rule ids".
    pub struct InputError {
        id: "input-error",
        severity: Error,
        fix: None,
        summary: "a file could not be read or parsed, or an object has no apiVersion/kind",
    }
}

declare_rule! {
    /// ## What it does
    /// Reports a policy that failed: it could not be loaded, trapped (panicked), exceeded its time
    /// or memory limit, or returned output the contract does not allow. The message names the
    /// policy and the object it was evaluating.
    ///
    /// ## Why is this bad?
    /// The policy's rules did not run on that object, so a clean report would be a lie. The other
    /// policies and objects are still evaluated; the failed instance is replaced for the next one.
    ///
    /// ## Example
    /// `policy `gpu` exceeded its time limit of 2s while evaluating Deployment default/vllm`
    ///
    /// ## Fix safety
    /// No fix. Exit code 2; cannot be suppressed. Report it to the policy's authors.
    ///
    /// ## Source
    /// product.md, "Rule ids".
    pub struct PolicyErrorRule {
        id: "policy-error",
        severity: Error,
        fix: None,
        summary: "a policy failed to load, trapped, timed out, ran out of memory or returned malformed output",
    }
}

/// One `input-error` per file or document that could not be read or loaded.
pub(crate) fn input_errors(manifests: &Manifests, findings: &mut Vec<Finding>) {
    for error in &manifests.errors {
        let mut finding = Finding::of::<InputError>(error.name.clone(), error.message.clone());
        if let (Some(file), Some(span)) = (error.file, error.span) {
            finding.region = Some(region(&manifests.files[file].source, file, span, false));
            finding.object = error.document.map(|document| ObjectId {
                file,
                document,
                item: Pointer::root(),
            });
        }
        findings.push(finding);
    }
}
