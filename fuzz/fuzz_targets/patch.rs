//! `cargo +nightly fuzz run patch`: see `kubectl_vllm_fuzzing::patch_ops` for the property.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kubectl_vllm_fuzzing::patch_ops(data));
