use kubectl_vllm_sdk::Accelerator;
use kubectl_vllm_sdk::prelude::*;

declare_rule! {
    /// ## What it does
    /// Checks that the value of `cloud.google.com/gke-accelerator` (in `nodeSelector` or a required
    /// node affinity) is a GPU type GKE actually labels nodes with.
    ///
    /// ## Why is this bad?
    /// No node ever carries a misspelt label, so the pod stays Pending forever (`didn't match Pod's
    /// node affinity/selector`), and neither node auto-provisioning nor Autopilot can create one.
    /// Common typos: `nvidia-a100`, `nvidia-tesla-a100-80gb`, `nvidia-h100`, `nvidia-tesla-l4`,
    /// `nvidia-h200`.
    ///
    /// ## Example
    /// ```yaml
    /// nodeSelector:
    ///   cloud.google.com/gke-accelerator: nvidia-tesla-l4
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// nodeSelector:
    ///   cloud.google.com/gke-accelerator: nvidia-l4
    /// ```
    ///
    /// The finding points at the value's key.
    ///
    /// ## Fix safety
    /// Safe, and offered only when the value is a known typo of one type (the accelerator table's
    /// `typos` column), or exactly one known type matches it ignoring `tesla-` and a missing memory
    /// suffix: `nvidia-tesla-l4` → `nvidia-l4`, `nvidia-h100` → `nvidia-h100-80gb`. Ambiguous
    /// values such as `nvidia-a100` (40 or 80 GB?) list the candidates instead.
    ///
    /// ## Source
    /// Catalogue table 1.1 (GKE "About GPUs", "Deploy GPU workloads in Autopilot").
    ///
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/gpus>
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/autopilot-gpus>
    pub struct GkeAccelValueInvalid {
        id: "gke-accel-value-invalid",
        severity: Error,
        fix: Sometimes(Safe),
        providers: [Gke],
        summary: "cloud.google.com/gke-accelerator names a GPU type that does not exist",
    }
}

impl Rule for GkeAccelValueInvalid {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        let mut values = spec.required_affinity_values(k8s::GKE_ACCELERATOR);
        if let Some(value) = spec.node_selector(k8s::GKE_ACCELERATOR) {
            values.insert(
                0,
                (
                    value.to_string(),
                    spec.at().key("nodeSelector").key(k8s::GKE_ACCELERATOR),
                ),
            );
        }
        if values.is_empty() || !cx.check_provider(out, &values[0].1) {
            return;
        }
        let known: Vec<Accelerator> = cx
            .env
            .accelerators()
            .into_iter()
            .filter(|a| a.on_gke)
            .collect();
        for (value, at) in values {
            if known.iter().any(|a| a.id == value) {
                continue;
            }
            let candidates = suggestions(&value, &known);
            let finding = out.report(
                &at,
                format!("`{value}` is not a GKE accelerator type; no node will ever match it"),
            );
            match candidates.as_slice() {
                [one] => {
                    let one = one.clone();
                    finding.help(format!("did you mean `{one}`?")).fix(
                        format!("replace with `{one}`"),
                        |fix| {
                            fix.replace(&at, &Value::String(one.clone()));
                        },
                    );
                }
                [] => {
                    let mut labels: Vec<&str> = known.iter().map(|a| a.id.as_str()).collect();
                    labels.sort_unstable();
                    finding.help(format!("known types: {}", labels.join(", ")));
                }
                many => {
                    finding.help(format!("did you mean one of: {}?", many.join(", ")));
                }
            }
        }
    }
}

fn normalize(label: &str) -> String {
    label.to_ascii_lowercase().replace("tesla-", "")
}

/// The accelerator whose table row lists `value` as a typo; else known labels equal to `value`
/// once `tesla-` is ignored, or equal to it plus a memory suffix.
fn suggestions(value: &str, known: &[Accelerator]) -> Vec<String> {
    if let Some(listed) = known.iter().find(|a| a.typos.iter().any(|t| t == value)) {
        return vec![listed.id.clone()];
    }
    let wanted = normalize(value);
    let mut out: Vec<String> = known
        .iter()
        .filter(|a| {
            let candidate = normalize(&a.id);
            candidate == wanted
                || candidate.strip_prefix(&wanted).is_some_and(|rest| {
                    rest.strip_prefix('-')
                        .and_then(|r| r.strip_suffix("gb"))
                        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                })
        })
        .map(|a| a.id.clone())
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(label: &str) -> Accelerator {
        Accelerator {
            id: label.into(),
            name: String::new(),
            vendor: kubectl_vllm_sdk::Vendor::Nvidia,
            on_gke: true,
            memory_mib: 0,
            compute_capability: 0,
            bf16: true,
            fp8: false,
            gpus_per_node: vec![],
            autopilot_counts: vec![],
            typos: if label == "nvidia-tesla-a100" {
                vec!["nvidia-a100-40gb".into()]
            } else {
                vec![]
            },
            source: String::new(),
        }
    }

    #[test]
    fn typo_suggestions() {
        let known: Vec<_> = [
            "nvidia-l4",
            "nvidia-tesla-a100",
            "nvidia-a100-80gb",
            "nvidia-h100-80gb",
            "nvidia-h100-mega-80gb",
            "nvidia-h200-141gb",
        ]
        .into_iter()
        .map(acc)
        .collect();
        assert_eq!(suggestions("nvidia-tesla-l4", &known), vec!["nvidia-l4"]);
        assert_eq!(suggestions("nvidia-h100", &known), vec!["nvidia-h100-80gb"]);
        assert_eq!(
            suggestions("nvidia-h200", &known),
            vec!["nvidia-h200-141gb"]
        );
        assert_eq!(
            suggestions("nvidia-tesla-a100-80gb", &known),
            vec!["nvidia-a100-80gb"]
        );
        assert_eq!(
            suggestions("nvidia-a100", &known),
            vec!["nvidia-a100-80gb", "nvidia-tesla-a100"]
        );
        assert!(suggestions("amd-mi300", &known).is_empty());
        assert_eq!(
            suggestions("nvidia-a100-40gb", &known),
            vec!["nvidia-tesla-a100"]
        );
    }
}
