//! Fuzz target `scim_response`: see provisio_fuzz_harness::scim_response (fuzz/harness/src/lib.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| provisio_fuzz_harness::scim_response(data));
