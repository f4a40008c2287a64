//! The `storage` policy: volumes that hold model weights.

mod rules {
    pub mod pvc_size_too_small;
}

use rules::pvc_size_too_small::PvcSizeTooSmall;

kubectl_vllm_sdk::policy!(name: "storage", rules: [PvcSizeTooSmall]);
