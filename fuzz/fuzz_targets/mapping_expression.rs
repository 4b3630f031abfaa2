//! Fuzz target `mapping_expression`: see provisio_fuzz_harness::mapping_expression (fuzz/harness/src/lib.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| provisio_fuzz_harness::mapping_expression(data));
