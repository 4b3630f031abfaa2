//! Fuzz target `csv`: see provisio_fuzz_harness::csv (fuzz/harness/src/lib.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| provisio_fuzz_harness::csv(data));
