//! Replays the checked-in fuzz corpus (`fuzz/corpus/<target>/*`) through the
//! functions the fuzz targets call, as ordinary tests: every seed and every
//! input a fuzzer once crashed on must pass through without a panic.
//!
//! One test per target, so a failure names the target and the file.

use std::path::PathBuf;

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus").join(target)
}

fn replay(target: &str) {
    let (_, run) = provisio_fuzz_harness::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no fuzz target {target}"));
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; the corpus is checked in with the fuzz targets", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no seed", dir.display());
    for file in &files {
        let data = std::fs::read(file).expect("read a corpus file");
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "fuzz target {target} panicked on {}", file.display());
    }
}

#[test]
fn every_target_has_a_corpus_test() {
    let tested =
        ["config", "ldif", "csv", "json_source", "ldap_filter", "mapping_expression", "scim_response", "properties"];
    let targets: Vec<&str> = provisio_fuzz_harness::TARGETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(targets, tested);
    for t in tested {
        let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz_targets").join(format!("{t}.rs"));
        assert!(bin.is_file(), "{} is missing", bin.display());
    }
}

#[test]
fn config() {
    replay("config");
}

#[test]
fn ldif() {
    replay("ldif");
}

#[test]
fn csv() {
    replay("csv");
}

#[test]
fn json_source() {
    replay("json_source");
}

#[test]
fn ldap_filter() {
    replay("ldap_filter");
}

#[test]
fn mapping_expression() {
    replay("mapping_expression");
}

#[test]
fn scim_response() {
    replay("scim_response");
}

#[test]
fn properties() {
    replay("properties");
}
