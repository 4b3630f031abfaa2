//! Fuzz target `json_source`: see provisio_fuzz_harness::json_source (fuzz/harness/src/lib.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| provisio_fuzz_harness::json_source(data));
