//! The `access` policy: how the pod reaches its weights and credentials (GCS FUSE, Workload
//! Identity, Secrets).

mod common;

mod rules {
    pub mod gcsfuse_annotation_missing;
    pub mod gcsfuse_cache_volume_fsgroup;
    pub mod gcsfuse_serviceaccount;
    pub mod gcsfuse_sidecar_resources;
    pub mod hf_secret_ref_missing;
    pub mod wi_annotation_format;
    pub mod wi_ksa_annotation;
    pub mod wi_namespace_match;
}

use rules::gcsfuse_annotation_missing::GcsfuseAnnotationMissing;
use rules::gcsfuse_cache_volume_fsgroup::GcsfuseCacheVolumeFsgroup;
use rules::gcsfuse_serviceaccount::GcsfuseServiceaccount;
use rules::gcsfuse_sidecar_resources::GcsfuseSidecarResources;
use rules::hf_secret_ref_missing::HfSecretRefMissing;
use rules::wi_annotation_format::WiAnnotationFormat;
use rules::wi_ksa_annotation::WiKsaAnnotation;
use rules::wi_namespace_match::WiNamespaceMatch;

kubectl_vllm_sdk::policy!(
    name: "access",
    rules: [
        GcsfuseAnnotationMissing,
        GcsfuseServiceaccount,
        GcsfuseSidecarResources,
        GcsfuseCacheVolumeFsgroup,
        WiKsaAnnotation,
        WiAnnotationFormat,
        WiNamespaceMatch,
        HfSecretRefMissing,
    ],
);
