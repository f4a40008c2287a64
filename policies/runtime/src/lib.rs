//! The `runtime` policy: the container runtime environment vLLM needs.

mod rules {
    pub mod runtime_ld_library_path_gke;
}

use rules::runtime_ld_library_path_gke::RuntimeLdLibraryPathGke;

kubectl_vllm_sdk::policy!(name: "runtime", rules: [RuntimeLdLibraryPathGke]);
