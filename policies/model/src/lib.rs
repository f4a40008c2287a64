//! The `model` policy: whether the model fits and runs on the chosen GPUs, and reaches its weights.

mod common;

mod rules {
    pub mod hf_gated_no_token;
    pub mod hf_offline_local_path;
    pub mod model_bf16_pre_ampere;
    pub mod model_gemma_fp16;
    pub mod model_kv_for_max_len;
    pub mod model_mxfp4_min_cc;
    pub mod model_weights_exceed_gpu_mem;
}

use rules::hf_gated_no_token::HfGatedNoToken;
use rules::hf_offline_local_path::HfOfflineLocalPath;
use rules::model_bf16_pre_ampere::ModelBf16PreAmpere;
use rules::model_gemma_fp16::ModelGemmaFp16;
use rules::model_kv_for_max_len::ModelKvForMaxLen;
use rules::model_mxfp4_min_cc::ModelMxfp4MinCc;
use rules::model_weights_exceed_gpu_mem::ModelWeightsExceedGpuMem;

kubectl_vllm_sdk::policy!(
    name: "model",
    rules: [
        ModelBf16PreAmpere,
        ModelGemmaFp16,
        ModelMxfp4MinCc,
        ModelWeightsExceedGpuMem,
        ModelKvForMaxLen,
        HfGatedNoToken,
        HfOfflineLocalPath,
    ],
);
