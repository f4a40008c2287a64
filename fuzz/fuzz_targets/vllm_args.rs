//! `cargo +nightly fuzz run vllm_args`: see `kubectl_vllm_fuzzing::vllm_args` for the property.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kubectl_vllm_fuzzing::vllm_args(data));
