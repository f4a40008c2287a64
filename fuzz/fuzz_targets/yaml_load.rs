//! `cargo +nightly fuzz run yaml_load`: see `kubectl_vllm_fuzzing::yaml_load` for the property.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kubectl_vllm_fuzzing::yaml_load(data));
