//! A misbehaving policy for the host's tests: it loops, exhausts memory, traps or returns
//! malformed output when the evaluated object carries the annotation
//! `chaos.kubectl-vllm.dev/mode` set to `loop`, `oom`, `trap`, `malformed`, `report`, `sub-span`
//! or `provider`. It is built with the default policies but never embedded in the binary.
//!
//! It is written against the frozen 0.1 contract (`wit/v0.1/policy.wit`) with bare wit-bindgen,
//! so the host's tests also prove that 0.1 policies keep loading beside the 0.2 built-ins.

#[allow(missing_docs, clippy::pedantic, unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/v0.1/policy.wit",
        world: "policy-world",
    });
}

use bindings::exports::kubectl_vllm::policy::policy::Guest;
use bindings::kubectl_vllm::policy::cluster;
use bindings::kubectl_vllm::policy::types::{
    Applicability, Evaluation, Finding, FixAvailability, PolicyInfo, RuleInfo, Severity, SubSpan,
};
use serde_json::Value;

const DOC: &str = "## What it does\nReports every object annotated `chaos.kubectl-vllm.dev/mode: report`; misbehaves on the\nother modes. Test-only.\n\n## Source\nThe host's sandbox tests.\n";

struct Chaos;

fn finding(rule: &str, pointer: &str, message: &str) -> Finding {
    Finding {
        rule: rule.into(),
        message: message.into(),
        help: None,
        pointer: pointer.into(),
        severity: None,
        sub_span: None,
        fix: None,
    }
}

impl Guest for Chaos {
    fn metadata() -> PolicyInfo {
        PolicyInfo {
            name: "chaos".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            rules: vec![RuleInfo {
                id: "chaos-report".into(),
                default_severity: Severity::Warning,
                fix_availability: FixAvailability::None,
                fix_applicability: Applicability::DisplayOnly,
                summary: "test rule".into(),
                documentation: DOC.into(),
            }],
        }
    }

    fn evaluate(input: Evaluation) -> Result<Vec<Finding>, String> {
        let object: Value = serde_json::from_str(&input.object).map_err(|e| e.to_string())?;
        let mode = object
            .pointer("/metadata/annotations/chaos.kubectl-vllm.dev~1mode")
            .and_then(Value::as_str)
            .unwrap_or("");
        let mut out = Vec::new();
        match mode {
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "oom" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "trap" => panic!("chaos policy asked to trap"),
            "malformed" => out.push(finding("no-such-rule", "spec", "malformed")),
            "report" => out.push(finding("chaos-report", "/metadata/name", "chaos report")),
            // The provider as a 0.1 policy sees it: `gke` or `generic`.
            "provider" => {
                let provider = match cluster::get_profile().provider {
                    cluster::Provider::Gke => "gke",
                    cluster::Provider::Generic => "generic",
                };
                out.push(finding(
                    "chaos-report",
                    "/metadata/name",
                    &format!("provider {provider}"),
                ));
            }
            "sub-span" => {
                // Points at `--flag` inside the string `data.script`.
                let script = object.pointer("/data/script").and_then(Value::as_str);
                if let Some(script) = script
                    && let Some(at) = script.find("--flag")
                    && let Ok(start) = u32::try_from(script[..at].chars().count())
                {
                    let mut f = finding("chaos-report", "/data/script", "flag inside a script");
                    f.sub_span = Some(SubSpan {
                        start,
                        end: start + 6, // `--flag`
                    });
                    out.push(f);
                }
            }
            _ => {}
        }
        Ok(out)
    }
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod export {
    use super::Chaos;
    use super::bindings;
    bindings::export!(Chaos with_types_in bindings);
}
