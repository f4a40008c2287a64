//! The `runtime` policy: the container environment, resources and probes vLLM needs.

mod rules {
    pub mod probe_health_path;
    pub mod probe_liveness_without_startup;
    pub mod probe_missing_readiness;
    pub mod probes;
    pub mod res_cpu_mem_requests_missing;
    pub mod runtime_env_dollar_brace;
    pub mod runtime_ld_library_path_gke;
}

use rules::probe_health_path::ProbeHealthPath;
use rules::probe_liveness_without_startup::ProbeLivenessWithoutStartup;
use rules::probe_missing_readiness::ProbeMissingReadiness;
use rules::res_cpu_mem_requests_missing::ResCpuMemRequestsMissing;
use rules::runtime_env_dollar_brace::RuntimeEnvDollarBrace;
use rules::runtime_ld_library_path_gke::RuntimeLdLibraryPathGke;

kubectl_vllm_sdk::policy!(
    name: "runtime",
    rules: [
        RuntimeLdLibraryPathGke,
        RuntimeEnvDollarBrace,
        ResCpuMemRequestsMissing,
        ProbeMissingReadiness,
        ProbeLivenessWithoutStartup,
        ProbeHealthPath,
    ],
);
