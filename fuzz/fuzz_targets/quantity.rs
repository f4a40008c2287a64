//! `cargo +nightly fuzz run quantity`: see `kubectl_vllm_fuzzing::quantity` for the property.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kubectl_vllm_fuzzing::quantity(data));
