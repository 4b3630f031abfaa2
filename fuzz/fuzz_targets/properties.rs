//! Fuzz target `properties`: see provisio_fuzz_harness::properties (fuzz/harness/src/lib.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| provisio_fuzz_harness::properties(data));
