//! A hostile policy for the host's tests, one misbehaviour per value of the evaluated object's
//! annotation `hostile.kubectl-vllm.dev/mode`:
//!
//! - `huge-output`: a one-gigabyte message (stopped at the memory cap);
//! - `flood`: 50,000 findings for one object;
//! - `long-message`: one 1 MiB message;
//! - `recursion`: unbounded recursion (the wasm stack overflows);
//! - `bad-pointer` / `bad-escape`: pointers that are not RFC 6901 (`spec/replicas`, `/a/~2`);
//! - `foreign-patch`: a fix that renames the object (it would edit another object);
//! - `bad-json-patch`: a fix whose value is not JSON;
//! - `deep-patch`: a fix whose value nests 2,000 levels deep (its YAML would not load);
//! - `spin`: a loop that only the deadline stops;
//! - `trap-at-reset`: a normal finding, and the next `lifecycle.reset` (the host reusing the
//!   instance for another input set) traps;
//! - `report`: a normal finding (the control).
//!
//! Its metadata declares `hostile-one` and `hostile-two`; the tests byte-patch the built component
//! into liars (two rules with one id, a severity enum with a case the contract does not have).
//! Built with the default policies, never embedded.

#[allow(missing_docs, clippy::pedantic, unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/policy.wit",
        world: "reusable-policy-world",
    });
}

use std::sync::atomic::{AtomicBool, Ordering};

use bindings::exports::kubectl_vllm::policy::lifecycle;
use bindings::exports::kubectl_vllm::policy::policy::Guest;
use bindings::kubectl_vllm::policy::types::{
    Applicability, Evaluation, Finding, Fix, FixAvailability, Outcome, PatchOp, PathValue,
    PolicyInfo, Requirements, RuleInfo, Severity,
};
use serde_json::Value;

const DOC: &str = "## What it does\nMisbehaves on purpose, as the annotation `hostile.kubectl-vllm.dev/mode` says. Test-only.\n\n## Source\nThe host's hardening tests.\n";

struct Hostile;

/// Set by `trap-at-reset`: the next `lifecycle.reset` traps.
static TRAP_AT_RESET: AtomicBool = AtomicBool::new(false);

fn rule(id: &str) -> RuleInfo {
    RuleInfo {
        id: id.into(),
        default_severity: Severity::Warning,
        fix: FixAvailability::Sometimes(Applicability::Safe),
        requires: Requirements {
            providers: Vec::new(),
            complete_set: false,
        },
        summary: "test rule".into(),
        documentation: DOC.into(),
    }
}

fn finding(pointer: &str, message: String) -> Finding {
    Finding {
        rule: "hostile-one".into(),
        message,
        help: None,
        pointer: pointer.into(),
        severity: None,
        sub_span: None,
        fix: None,
    }
}

fn with_fix(mut f: Finding, path: &str, value: String) -> Finding {
    f.fix = Some(Fix {
        title: "hostile fix".into(),
        applicability: Applicability::Safe,
        operations: vec![PatchOp::Replace(PathValue {
            path: path.into(),
            value,
        })],
    });
    f
}

/// Recurses until the wasm stack is exhausted (`black_box` keeps it from becoming a loop).
fn recurse(depth: u64) -> u64 {
    if std::hint::black_box(depth) == u64::MAX {
        return 0;
    }
    let mut frame = [depth; 16];
    std::hint::black_box(&mut frame);
    recurse(depth + 1) + frame[3]
}

impl Guest for Hostile {
    fn metadata() -> PolicyInfo {
        PolicyInfo {
            name: "hostile".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            rules: vec![rule("hostile-one"), rule("hostile-two")],
        }
    }

    fn evaluate(input: Evaluation) -> Result<Vec<Outcome>, String> {
        let object: Value = serde_json::from_str(&input.object).map_err(|e| e.to_string())?;
        let mode = object
            .pointer("/metadata/annotations/hostile.kubectl-vllm.dev~1mode")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = "/metadata/name";
        let out = match mode {
            "huge-output" => vec![finding(name, "x".repeat(1 << 30))],
            "flood" => (0..50_000)
                .map(|i| finding(name, format!("finding {i}")))
                .collect(),
            "long-message" => vec![finding(name, "x".repeat(1 << 20))],
            "recursion" => vec![finding(name, format!("depth {}", recurse(0)))],
            "bad-pointer" => vec![finding("metadata/name", "no leading slash".into())],
            "bad-escape" => vec![finding("/metadata/~2name", "bad escape".into())],
            "foreign-patch" => vec![with_fix(
                finding(name, "renames the object".into()),
                "/metadata/name",
                "\"someone-else\"".into(),
            )],
            "bad-json-patch" => vec![with_fix(
                finding(name, "a value that is not JSON".into()),
                "/metadata/labels",
                "{not json".into(),
            )],
            "deep-patch" => vec![with_fix(
                finding(name, "a value 2,000 levels deep".into()),
                "/metadata/labels",
                format!(
                    "{}{}",
                    "{\"a\":".repeat(2_000),
                    "1".to_string() + &"}".repeat(2_000)
                ),
            )],
            "spin" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "report" => vec![finding(name, "hostile report".into())],
            "trap-at-reset" => {
                TRAP_AT_RESET.store(true, Ordering::Relaxed);
                vec![finding(name, "armed: the next reset traps".into())]
            }
            _ => Vec::new(),
        };
        Ok(out.into_iter().map(Outcome::Finding).collect())
    }
}

impl lifecycle::Guest for Hostile {
    fn reset() {
        assert!(
            !TRAP_AT_RESET.load(Ordering::Relaxed),
            "hostile policy asked to trap at reset"
        );
    }
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    use super::Hostile;
    use super::bindings;
    bindings::export!(Hostile with_types_in bindings);
}
