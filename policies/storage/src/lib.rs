//! The `storage` policy: volumes that hold model weights, their classes and bindings, and the
//! initContainer that copies the weights onto them.

mod claims;
mod copy;

mod rules {
    pub mod init_copy_extra_weights;
    pub mod init_copy_not_idempotent;
    pub mod init_copy_path_mismatch;
    pub mod pv_pvc_static_binding;
    pub mod pvc_empty_class_without_pv;
    pub mod pvc_rwo_multi_replica;
    pub mod pvc_size_too_small;
    pub mod pvc_size_waste;
    pub mod rollout_strategy_gpu;
    pub mod sc_binding_mode;
    pub mod sc_not_found;
    pub mod sc_pd_standard_for_weights;
}

use rules::init_copy_extra_weights::InitCopyExtraWeights;
use rules::init_copy_not_idempotent::InitCopyNotIdempotent;
use rules::init_copy_path_mismatch::InitCopyPathMismatch;
use rules::pv_pvc_static_binding::PvPvcStaticBinding;
use rules::pvc_empty_class_without_pv::PvcEmptyClassWithoutPv;
use rules::pvc_rwo_multi_replica::PvcRwoMultiReplica;
use rules::pvc_size_too_small::PvcSizeTooSmall;
use rules::pvc_size_waste::PvcSizeWaste;
use rules::rollout_strategy_gpu::RolloutStrategyGpu;
use rules::sc_binding_mode::ScBindingMode;
use rules::sc_not_found::ScNotFound;
use rules::sc_pd_standard_for_weights::ScPdStandardForWeights;

kubectl_vllm_sdk::policy!(
    name: "storage",
    rules: [
        ScNotFound,
        ScPdStandardForWeights,
        ScBindingMode,
        PvcRwoMultiReplica,
        PvcSizeTooSmall,
        PvcSizeWaste,
        PvcEmptyClassWithoutPv,
        PvPvcStaticBinding,
        RolloutStrategyGpu,
        InitCopyPathMismatch,
        InitCopyNotIdempotent,
        InitCopyExtraWeights,
    ],
);
