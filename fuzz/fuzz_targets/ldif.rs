//! Fuzz target `ldif`: see provisio_fuzz_harness::ldif (fuzz/harness/src/lib.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| provisio_fuzz_harness::ldif(data));
