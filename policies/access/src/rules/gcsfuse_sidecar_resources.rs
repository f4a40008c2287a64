use kubectl_vllm_sdk::prelude::*;

use crate::common::uses_gcsfuse;

const LIMITS: &[&str] = &[
    "gke-gcsfuse/cpu-limit",
    "gke-gcsfuse/memory-limit",
    "gke-gcsfuse/ephemeral-storage-limit",
];

declare_rule! {
    /// ## What it does
    /// Finds a pod that mounts GCS FUSE without the `gke-gcsfuse/cpu-limit`, `memory-limit` and
    /// `ephemeral-storage-limit` annotations that size the injected sidecar.
    ///
    /// ## Why is this bad?
    /// The sidecar defaults to 250m CPU, 256Mi memory and 5Gi ephemeral storage. Streaming
    /// multi-GB weights runs it out of memory: `Transport endpoint is not connected` in vLLM, or
    /// `ResourceExhausted ... OOMKilled` mount errors.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations: {gke-gcsfuse/volumes: "true"}
    /// ```
    ///
    /// Use instead (Standard): also `gke-gcsfuse/cpu-limit: "0"`, `gke-gcsfuse/memory-limit: "0"`,
    /// `gke-gcsfuse/ephemeral-storage-limit: "0"` (unlimited).
    ///
    /// The finding points at the template's `annotations`.
    ///
    /// ## Fix safety
    /// Safe: on Standard sets the missing limits to `"0"` (unlimited, as GKE's accelerated-platforms
    /// reference does); on Autopilot, which rejects `"0"`, to 2 CPUs, 4Gi memory and 10Gi storage.
    ///
    /// ## Source
    /// gcs-fuse-csi-driver webhook defaults, troubleshooting and issues #185, #170, #314.
    ///
    /// - <https://github.com/GoogleCloudPlatform/gcs-fuse-csi-driver/blob/main/docs/troubleshooting.md>
    pub struct GcsfuseSidecarResources {
        id: "gcsfuse-sidecar-resources",
        severity: Warning,
        fix: Always(Safe),
        providers: [Gke],
        summary: "the GCS FUSE sidecar keeps its small default resources",
    }
}

impl Rule for GcsfuseSidecarResources {
    fn check_pod_spec(&self, cx: &Context, spec: &PodSpec<'_>, out: &mut Findings) {
        if !uses_gcsfuse(cx, spec) {
            return;
        }
        let annotations = spec.metadata.clone().key("annotations");
        let missing: Vec<&str> = LIMITS
            .iter()
            .copied()
            .filter(|k| cx.object.pointer(annotations.key(k).as_str()).is_none())
            .collect();
        if missing.is_empty() {
            return;
        }
        let autopilot = cx.is_autopilot();
        let value = |k: &str| -> &'static str {
            match (autopilot, k) {
                (false, _) => "0",
                (true, "gke-gcsfuse/cpu-limit") => "2",
                (true, "gke-gcsfuse/memory-limit") => "4Gi",
                (true, _) => "10Gi",
            }
        };
        let at = if cx.object.pointer(annotations.as_str()).is_some() {
            annotations.clone()
        } else {
            spec.metadata.clone()
        };
        if !cx.check_provider(out, &at) {
            return;
        }
        out.report(&at, format!("the GCS FUSE sidecar keeps its defaults (250m CPU, 256Mi memory, 5Gi storage): {} not set", missing.join(", ")))
            .help(if autopilot { "set explicit sidecar limits (Autopilot rejects \"0\")" } else { "set the sidecar limits to \"0\" (unlimited) or to sizes that fit the weights" })
            .fix("size the GCS FUSE sidecar", |fix| {
                for key in &missing {
                    fix.set_key(cx.object, &annotations, key, json!(value(key)));
                }
            });
    }
}
