//! The `vllm` policy: the vLLM server's command line, parallelism, shared memory, image and ports.

mod common;

mod rules {
    pub mod image_tag_floating;
    pub mod image_vllm_min_version;
    pub mod net_port_mismatch;
    pub mod net_service_named_vllm;
    pub mod shm_missing;
    pub mod shm_size;
    pub mod vllm_entrypoint_double_serve;
    pub mod vllm_entrypoint_legacy_api_server;
    pub mod vllm_flag_gpu_mem_util;
    pub mod vllm_flag_host_localhost;
    pub mod vllm_flag_max_model_len_exceeds;
    pub mod vllm_flag_served_name;
    pub mod vllm_tp_heads;
    pub mod vllm_tp_oversized;
    pub mod vllm_tp_pp_gpu_mismatch;
}

use rules::image_tag_floating::ImageTagFloating;
use rules::image_vllm_min_version::ImageVllmMinVersion;
use rules::net_port_mismatch::NetPortMismatch;
use rules::net_service_named_vllm::NetServiceNamedVllm;
use rules::shm_missing::ShmMissing;
use rules::shm_size::ShmSize;
use rules::vllm_entrypoint_double_serve::VllmEntrypointDoubleServe;
use rules::vllm_entrypoint_legacy_api_server::VllmEntrypointLegacyApiServer;
use rules::vllm_flag_gpu_mem_util::VllmFlagGpuMemUtil;
use rules::vllm_flag_host_localhost::VllmFlagHostLocalhost;
use rules::vllm_flag_max_model_len_exceeds::VllmFlagMaxModelLenExceeds;
use rules::vllm_flag_served_name::VllmFlagServedName;
use rules::vllm_tp_heads::VllmTpHeads;
use rules::vllm_tp_oversized::VllmTpOversized;
use rules::vllm_tp_pp_gpu_mismatch::VllmTpPpGpuMismatch;

kubectl_vllm_sdk::policy!(
    name: "vllm",
    rules: [
        VllmTpPpGpuMismatch,
        VllmTpHeads,
        VllmTpOversized,
        ShmMissing,
        ShmSize,
        VllmFlagMaxModelLenExceeds,
        VllmFlagGpuMemUtil,
        VllmFlagHostLocalhost,
        VllmFlagServedName,
        VllmEntrypointLegacyApiServer,
        VllmEntrypointDoubleServe,
        ImageTagFloating,
        ImageVllmMinVersion,
        NetPortMismatch,
        NetServiceNamedVllm,
    ],
);
