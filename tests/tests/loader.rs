//! The connector loader against real libraries.
//!
//! - the five connector libraries built by this workspace load with the
//!   right ids;
//! - each broken fixture library of `tests/plugins` (one per refusal case),
//!   placed next to the good ones, is refused with the right [`Refusal`] in
//!   one line naming the file, and the good ones still load;
//! - a duplicate id is refused naming both files;
//! - the example third-party connector loads from its own directory;
//! - through the binary: `provisio connectors list` lists what loaded and
//!   prints one `refused <file>: <reason>` line per refused library.
//!
//! The fixtures come from `PROVISIO_TEST_PLUGINS` (see `scripts/test` and
//! `scripts/build-test-plugins`); a missing fixture fails the test.

use provisio_e2e::{
    connector_library, dir_with, fixture_library, fixture_plugins_dir, library_file_name, provisio, stderr, stdout,
};
use provisio_runtime::loader::{LoadReport, Refusal, Rejected, load_dirs};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The connector libraries this workspace builds, and their ids.
const BUILT: [(&str, &str); 5] = [
    ("provisio_scim", "scim"),
    ("provisio_contentful", "contentful"),
    ("provisio_code42", "code42"),
    ("provisio_aquera", "aquera"),
    ("provisio_pingid", "pingid"),
];

/// The example third-party connector's library.
const EXAMPLE: &str = "provisio_example";

fn built_libraries() -> Vec<PathBuf> {
    BUILT.iter().map(|(lib, _)| connector_library(lib)).collect()
}

/// A fixture library by crate library name (`fixture_no_handshake`).
fn fixture(lib: &str) -> PathBuf {
    fixture_library(&library_file_name(lib))
}

fn file_name(path: &Path) -> String {
    path.file_name().expect("a file name").to_string_lossy().into_owned()
}

fn ids(report: &LoadReport) -> BTreeSet<&str> {
    report.connectors.keys().map(String::as_str).collect()
}

fn describe(report: &LoadReport) -> String {
    let mut s = format!("loaded {:?}", ids(report));
    for r in &report.rejected {
        s.push_str(&format!("\n  refused {r}"));
    }
    s
}

/// The five built connectors are loaded, each from its own library.
fn assert_built_loaded(report: &LoadReport) {
    for (lib, id) in BUILT {
        let loaded = report.get(id).unwrap_or_else(|| panic!("connector '{id}' did not load: {}", describe(report)));
        assert_eq!(file_name(&loaded.path), library_file_name(lib), "connector '{id}' came from the wrong file");
        assert_eq!(loaded.manifest.id, id);
    }
}

/// Fixture `lib` copied next to the five built connectors, loaded as one
/// directory: the good ones load, and the fixture is the one refusal.
fn refused_next_to_built(lib: &str) -> Rejected {
    let bad = fixture(lib);
    let mut files = built_libraries();
    files.push(bad.clone());
    let dir = dir_with(&files);
    let report = load_dirs(&[dir.path().to_owned()]);
    assert_built_loaded(&report);
    assert_eq!(report.connectors.len(), BUILT.len(), "only the built connectors load: {}", describe(&report));
    assert_eq!(report.rejected.len(), 1, "exactly one refusal: {}", describe(&report));
    let rejected = report.rejected[0].clone();
    assert_eq!(rejected.path, dir.path().join(file_name(&bad)), "the refusal names the fixture's file");
    assert_one_line_naming(&rejected, &rejected.path);
    rejected
}

/// A refusal is one line that starts with the file it refuses.
fn assert_one_line_naming(rejected: &Rejected, file: &Path) {
    let line = rejected.to_string();
    assert!(!line.contains('\n'), "a refusal is one line, not:\n{line}");
    assert!(line.starts_with(&format!("{}: ", file.display())), "the refusal names {}: {line}", file.display());
}

#[test]
fn the_five_built_connectors_load_with_their_ids() {
    let dir = dir_with(&built_libraries());
    let report = load_dirs(&[dir.path().to_owned()]);
    assert_eq!(report.rejected, vec![], "nothing is refused: {}", describe(&report));
    assert_built_loaded(&report);
    assert_eq!(ids(&report), BUILT.iter().map(|(_, id)| *id).collect());
    for c in report.connectors.values() {
        assert_eq!(c.manifest.sdk_version, provisio_core::ffi::SDK_VERSION, "{} reports its SDK", c.manifest.id);
        assert_eq!(c.manifest.protocol.major, provisio_core::ffi::PROTOCOL_MAJOR);
    }
}

#[test]
fn a_file_that_is_not_a_library_is_refused() {
    let rejected = refused_next_to_built("fixture_not_a_library");
    assert!(matches!(rejected.reason, Refusal::NotALibrary(_)), "{rejected}");
}

#[test]
fn a_library_without_the_handshake_symbol_is_refused() {
    let rejected = refused_next_to_built("fixture_no_handshake");
    assert_eq!(rejected.reason, Refusal::NoHandshake { symbol: "provisio_connector_handshake" });
}

#[test]
fn an_abi_major_mismatch_is_refused_from_the_handshake() {
    let rejected = refused_next_to_built("fixture_abi_mismatch");
    match &rejected.reason {
        Refusal::AbiMismatch { found: 99, expected: 1, sdk } => assert_eq!(sdk, provisio_core::ffi::SDK_VERSION),
        other => panic!("expected an ABI mismatch (99 vs 1), got: {other}"),
    }
    assert!(rejected.to_string().contains("ABI 99.x"), "{rejected}");
}

#[test]
fn a_protocol_major_mismatch_is_refused_from_the_handshake() {
    let rejected = refused_next_to_built("fixture_protocol_mismatch");
    assert!(
        matches!(rejected.reason, Refusal::ProtocolMismatch { found: 2, expected: 1, .. }),
        "expected a protocol mismatch (2 vs 1), got: {rejected}"
    );
}

#[test]
fn a_manifest_that_does_not_parse_is_refused() {
    let rejected = refused_next_to_built("fixture_manifest_unparseable");
    let Refusal::Describe(why) = &rejected.reason else { panic!("expected a describe refusal, got: {rejected}") };
    // The required setting `api_token` has no kind.
    assert!(why.contains("fixture_manifest_unparseable") && why.contains("kind"), "{rejected}");
}

#[test]
fn a_manifest_that_breaks_the_contract_is_refused_with_every_broken_rule() {
    let rejected = refused_next_to_built("fixture_manifest_breaks_contract");
    let Refusal::Contract { id, problems } = &rejected.reason else {
        panic!("expected a contract refusal, got: {rejected}")
    };
    assert_eq!(id, "fixture_manifest_breaks_contract");
    for at in ["remove_user.default", "settings.api_token", "settings.region"] {
        assert!(problems.contains(&format!("{at}: ")), "the refusal names the rule broken at {at}: {rejected}");
    }
}

#[test]
fn a_library_that_panics_while_describing_itself_is_refused_and_loading_goes_on() {
    let rejected = refused_next_to_built("fixture_panics_describing");
    let Refusal::Describe(why) = &rejected.reason else { panic!("expected a describe refusal, got: {rejected}") };
    assert!(why.contains("panicked while describing itself"), "{rejected}");
    assert!(why.contains("fixture: this connector cannot describe itself"), "the panic message travels: {rejected}");
}

#[test]
fn a_duplicate_id_in_a_later_directory_is_refused_naming_both_files() {
    let example_dir = dir_with(&[fixture(EXAMPLE)]);
    let duplicate_dir = dir_with(&[fixture("fixture_duplicate_id")]);
    let report = load_dirs(&[example_dir.path().to_owned(), duplicate_dir.path().to_owned()]);
    let first = example_dir.path().join(library_file_name(EXAMPLE));
    let second = duplicate_dir.path().join(library_file_name("fixture_duplicate_id"));

    assert_eq!(report.get("acme").map(|c| c.path.clone()), Some(first.clone()), "the first directory wins");
    assert_eq!(report.get("acme").unwrap().manifest.display_name, "Acme Directory");
    assert_eq!(report.rejected.len(), 1, "{}", describe(&report));
    let rejected = &report.rejected[0];
    assert_eq!(rejected.reason, Refusal::Duplicate { id: "acme".into(), first: first.display().to_string() });
    assert_one_line_naming(rejected, &second);
    assert!(rejected.to_string().contains(&first.display().to_string()), "both files are named: {rejected}");
}

#[test]
fn within_one_directory_the_first_file_by_name_wins_a_duplicate_id() {
    let dir = dir_with(&[fixture(EXAMPLE), fixture("fixture_duplicate_id")]);
    let report = load_dirs(&[dir.path().to_owned()]);
    // libfixture_duplicate_id sorts before libprovisio_example.
    let first = dir.path().join(library_file_name("fixture_duplicate_id"));
    let second = dir.path().join(library_file_name(EXAMPLE));
    assert_eq!(report.get("acme").map(|c| c.path.clone()), Some(first.clone()), "{}", describe(&report));
    assert_eq!(report.rejected.len(), 1, "{}", describe(&report));
    assert_eq!(report.rejected[0].reason, Refusal::Duplicate { id: "acme".into(), first: first.display().to_string() });
    assert_one_line_naming(&report.rejected[0], &second);
}

#[test]
fn the_example_connector_loads_from_its_own_directory() {
    let dir = dir_with(&[fixture(EXAMPLE)]);
    let report = load_dirs(&[dir.path().to_owned()]);
    assert_eq!(report.rejected, vec![], "{}", describe(&report));
    assert_eq!(ids(&report), BTreeSet::from(["acme"]));
    let acme = report.get("acme").unwrap();
    assert_eq!(acme.path, dir.path().join(library_file_name(EXAMPLE)));
    let m = &acme.manifest;
    assert_eq!(m.display_name, "Acme Directory");
    assert_eq!(m.sdk_version, provisio_core::ffi::SDK_VERSION, "the SDK fills in its version");
    assert!(m.setting("api_token").is_some_and(|s| s.secret), "the API token is a secret setting");
    assert!(m.supports(provisio_core::manifest::Capability::UserCreate));
}

#[test]
fn the_example_connector_loads_alongside_the_built_ones() {
    let built = dir_with(&built_libraries());
    let example = dir_with(&[fixture(EXAMPLE)]);
    let report = load_dirs(&[built.path().to_owned(), example.path().to_owned()]);
    assert_eq!(report.rejected, vec![], "{}", describe(&report));
    assert_built_loaded(&report);
    assert_eq!(report.get("acme").map(|c| c.path.clone()), Some(example.path().join(library_file_name(EXAMPLE))));
}

/// The fixture directory as the build step leaves it: everything in one
/// place. The well-formed libraries load, every broken one is refused.
#[test]
fn the_whole_fixture_directory_loads_what_it_can() {
    let dir = fixture_plugins_dir();
    let report = load_dirs(std::slice::from_ref(&dir));
    // The misbehaving library registers two connectors: misbehaving and stuck.
    assert_eq!(ids(&report), BTreeSet::from(["acme", "garbage", "misbehaving", "stuck"]), "{}", describe(&report));
    assert_eq!(report.get("misbehaving").map(|c| c.path.clone()), report.get("stuck").map(|c| c.path.clone()));
    let refused: BTreeSet<String> = report.rejected.iter().map(|r| file_name(&r.path)).collect();
    let expected: BTreeSet<String> = [
        "fixture_not_a_library",
        "fixture_no_handshake",
        "fixture_abi_mismatch",
        "fixture_protocol_mismatch",
        "fixture_manifest_unparseable",
        "fixture_manifest_breaks_contract",
        "fixture_panics_describing",
        // Its id is taken by libfixture_duplicate_id, which sorts first.
        EXAMPLE,
    ]
    .into_iter()
    .map(library_file_name)
    .collect();
    assert_eq!(refused, expected, "{}", describe(&report));
    assert_eq!(report.rejected.len(), expected.len(), "one refusal per file: {}", describe(&report));
}

/// The broken fixtures with the part of the CLI's reason that identifies them.
const BROKEN: [(&str, &str); 7] = [
    ("fixture_not_a_library", "not a loadable library"),
    ("fixture_no_handshake", "provisio_connector_handshake"),
    ("fixture_abi_mismatch", "ABI 99.x"),
    ("fixture_protocol_mismatch", "protocol 2.x"),
    ("fixture_manifest_unparseable", "kind"),
    ("fixture_manifest_breaks_contract", "remove_user.default"),
    ("fixture_panics_describing", "panicked while describing itself"),
];

/// The lines of `text` that report a refused library.
fn refused_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("refused ")).collect()
}

#[test]
fn connectors_list_lists_the_good_and_names_each_refused_library() {
    let mut files: Vec<PathBuf> = BROKEN.iter().map(|(lib, _)| fixture(lib)).collect();
    files.push(fixture(EXAMPLE));
    let dir = dir_with(&files);
    let later = dir_with(&[fixture("fixture_duplicate_id")]);
    let (dir_arg, later_arg) = (dir.path().display().to_string(), later.path().display().to_string());

    // The five built connectors come from the binary's own directory.
    let out = provisio(&["--connector-dir", &dir_arg, "--connector-dir", &later_arg, "connectors", "list"]);
    let (out_text, err_text) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "connectors list fails:\n{out_text}\n{err_text}");
    for id in BUILT.iter().map(|(_, id)| *id).chain(["acme"]) {
        assert!(out_text.lines().any(|l| l.contains(id)), "'{id}' is not listed:\n{out_text}");
    }
    assert!(out_text.contains("Acme Directory"), "the example is listed:\n{out_text}");

    let lines = refused_lines(&err_text);
    assert_eq!(lines.len(), BROKEN.len() + 1, "one line per refused library:\n{err_text}");
    for (lib, reason) in BROKEN {
        let path = dir.path().join(library_file_name(lib));
        let prefix = format!("refused {}: ", path.display());
        let line = lines
            .iter()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no line for {}:\n{err_text}", path.display()));
        assert!(line.contains(reason), "the line for {lib} gives the reason ('{reason}'): {line}");
    }
    let duplicate = later.path().join(library_file_name("fixture_duplicate_id"));
    let line = lines
        .iter()
        .find(|l| l.starts_with(&format!("refused {}: ", duplicate.display())))
        .unwrap_or_else(|| panic!("no line for the duplicate:\n{err_text}"));
    assert!(
        line.contains("'acme'") && line.contains(&dir.path().join(library_file_name(EXAMPLE)).display().to_string()),
        "{line}"
    );
}

#[test]
fn connectors_list_json_shows_the_example_from_its_directory() {
    let dir = dir_with(&[fixture(EXAMPLE)]);
    let out = provisio(&["--connector-dir", &dir.path().display().to_string(), "connectors", "list", "--json"]);
    assert!(out.status.success(), "connectors list --json fails:\n{}", stderr(&out));
    let listed: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("connectors list --json prints JSON");
    let acme = listed["connectors"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == "acme"))
        .unwrap_or_else(|| panic!("acme is not listed: {listed}"));
    assert_eq!(acme["file"], dir.path().join(library_file_name(EXAMPLE)).display().to_string());
    assert_eq!(acme["display_name"], "Acme Directory");
}
