//! Fuzz target `config`: see provisio_fuzz_harness::config (fuzz/harness/src/lib.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| provisio_fuzz_harness::config(data));
