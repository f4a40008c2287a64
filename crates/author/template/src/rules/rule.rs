use kubectl_vllm_sdk::prelude::*;

/// The label every vLLM pod must carry, and its value: replace with your platform's.
const LABEL: &str = "example.com/workload";
const VALUE: &str = "inference";

declare_rule! {
    /// ## What it does
    /// Finds a pod template that runs a vLLM server without the label `example.com/workload:
    /// inference` (an example: edit `LABEL` and `VALUE` for your platform's convention).
    ///
    /// ## Why is this bad?
    /// The platform selects inference pods by this label: cost allocation, the GPU node pools'
    /// admission rules and the dashboards miss pods without it.
    ///
    /// ## Example
    /// ```yaml
    /// template:
    ///   metadata:
    ///     labels: {app: llama}
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// template:
    ///   metadata:
    ///     labels: {app: llama, example.com/workload: inference}
    /// ```
    ///
    /// ## Fix safety
    /// Safe: sets the one label on the pod template; nothing else changes.
    ///
    /// ## Source
    /// The platform team's labelling convention (replace with a link to yours).
    pub struct {{rule_type}} {
        id: "{{rule}}",
        severity: Warning,
        fix: Always(Safe),
        summary: "a vLLM pod template lacks the platform's workload label",
    }
}

impl Rule for {{rule_type}} {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        // Only pod templates that run vLLM: `cx.servers` reads each container's command line.
        if cx.servers(spec).is_empty() {
            return;
        }
        let labels = spec.metadata.key("labels");
        let value = cx.object.pointer(labels.key(LABEL).as_str());
        if value.and_then(Value::as_str) == Some(VALUE) {
            return;
        }
        let has_metadata = cx.object.pointer(spec.metadata.as_str()).is_some();
        // Where the finding points: the wrong value, else the pods' metadata, else the template.
        let at = match (value, has_metadata) {
            (Some(_), _) => labels.key(LABEL),
            (None, true) => spec.metadata.clone(),
            (None, false) => spec.pointer.clone(),
        };
        let message = format!(
            "the vLLM pods of `{}` lack the label `{LABEL}: {VALUE}`",
            cx.name()
        );
        out.report(&at, message)
            .help(format!("add `{LABEL}: {VALUE}` to the pod template's labels"))
            .fix(format!("label the pods `{LABEL}: {VALUE}`"), |fix| {
                if has_metadata {
                    fix.set_key(cx.object, &labels, LABEL, json!(VALUE));
                } else {
                    fix.add(&spec.metadata, &json!({"labels": {LABEL: VALUE}}));
                }
            });
    }
}
