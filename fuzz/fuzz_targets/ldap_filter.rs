//! Fuzz target `ldap_filter`: see provisio_fuzz_harness::ldap_filter (fuzz/harness/src/lib.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| provisio_fuzz_harness::ldap_filter(data));
