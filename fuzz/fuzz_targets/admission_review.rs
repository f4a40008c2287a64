//! `cargo +nightly fuzz run admission_review`: see `kubectl_vllm_fuzzing::admission_review` for the property.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kubectl_vllm_fuzzing::admission_review(data));
