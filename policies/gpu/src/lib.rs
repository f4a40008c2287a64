//! The `gpu` policy: GPU requests and GPU scheduling (GKE labels, node pools, taints).

mod rules {
    pub mod gke_accel_count_selector_mismatch;
    pub mod gke_accel_count_unsupported;
    pub mod gke_accel_selector_missing;
    pub mod gke_accel_value_invalid;
    pub mod gke_gpu_toleration;
    pub mod gpu_res_fraction_or_string;
    pub mod gpu_res_in_initcontainer;
    pub mod gpu_res_req_ne_limit;
    pub mod node_selector_unmatched;
    pub mod res_exceeds_node_shape;
    pub mod runtime_class_nvidia_on_gke;
    pub mod taint_not_tolerated;
}

use rules::gke_accel_count_selector_mismatch::GkeAccelCountSelectorMismatch;
use rules::gke_accel_count_unsupported::GkeAccelCountUnsupported;
use rules::gke_accel_selector_missing::GkeAccelSelectorMissing;
use rules::gke_accel_value_invalid::GkeAccelValueInvalid;
use rules::gke_gpu_toleration::GkeGpuToleration;
use rules::gpu_res_fraction_or_string::GpuResFractionOrString;
use rules::gpu_res_in_initcontainer::GpuResInInitcontainer;
use rules::gpu_res_req_ne_limit::GpuResReqNeLimit;
use rules::node_selector_unmatched::NodeSelectorUnmatched;
use rules::res_exceeds_node_shape::ResExceedsNodeShape;
use rules::runtime_class_nvidia_on_gke::RuntimeClassNvidiaOnGke;
use rules::taint_not_tolerated::TaintNotTolerated;

kubectl_vllm_sdk::policy!(
    name: "gpu",
    rules: [
        GpuResReqNeLimit,
        GkeAccelSelectorMissing,
        GkeAccelValueInvalid,
        GkeAccelCountUnsupported,
        GkeGpuToleration,
        GkeAccelCountSelectorMismatch,
        RuntimeClassNvidiaOnGke,
        GpuResFractionOrString,
        GpuResInInitcontainer,
        NodeSelectorUnmatched,
        ResExceedsNodeShape,
        TaintNotTolerated,
    ],
);
