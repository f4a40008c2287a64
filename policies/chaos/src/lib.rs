//! A misbehaving policy for the host's tests: it loops, exhausts memory, traps or returns
//! malformed output when the evaluated object carries the annotation
//! `chaos.kubectl-vllm.dev/mode` set to `loop`, `oom`, `trap`, `malformed`, `report` or `sub-span`.
//! It is built with the default policies but never embedded in the binary.

use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Reports every object annotated `chaos.kubectl-vllm.dev/mode: report`; misbehaves on the
    /// other modes. Test-only.
    ///
    /// ## Source
    /// The host's sandbox tests.
    pub struct ChaosReport {
        id: "chaos-report",
        severity: Warning,
        fix: None,
        summary: "test rule",
    }
}

impl Rule for ChaosReport {
    fn check(&self, cx: &Context, out: &mut Findings) {
        let mode = cx
            .object
            .pointer("/metadata/annotations/chaos.kubectl-vllm.dev~1mode")
            .and_then(Value::as_str)
            .unwrap_or("");
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
            "malformed" => {
                out.report_as("no-such-rule", &Pointer::from_path("spec"), "malformed");
            }
            "report" => {
                out.report(&Pointer::from_path("/metadata/name"), "chaos report");
            }
            "sub-span" => {
                // Points at `--flag` inside the string `data.script`.
                let script = cx.object.pointer("/data/script").and_then(Value::as_str);
                if let Some(at) = script.and_then(|s| s.find("--flag")) {
                    let start = script.unwrap()[..at].chars().count();
                    out.report(&Pointer::from_path("/data/script"), "flag inside a script")
                        .sub_span(start, start + "--flag".len());
                }
            }
            _ => {}
        }
    }
}

kubectl_vllm_sdk::policy!(name: "chaos", rules: [ChaosReport]);
