//! End-to-end tests of the file source: the sample directory in LDIF, CSV and JSON
//! (`tests/data/users.*`, the same entries in each) and malformed files (`tests/data/bad/`).

use std::path::PathBuf;

use provisio_source::{AccountStatus, FileFormat, FileSourceConfig, Snapshot, SourceError, Status, read_file};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn config(file: &str) -> FileSourceConfig {
    let mut c = FileSourceConfig {
        base_dn: Some("dc=example,dc=com".into()),
        ..FileSourceConfig::new(data(file), "entryUUID")
    };
    c.scope.group_filter = Some("(objectClass=groupOfNames)".into());
    c.scope.account_status = AccountStatus::Flag {
        attribute: "nsAccountLock".into(),
        value: "true".into(),
        when_equal: Status::Disabled,
        default: Status::Enabled,
    };
    c
}

/// The snapshot with line numbers cleared (they differ between formats by nature).
fn without_lines(mut s: Snapshot) -> Snapshot {
    s.users.iter_mut().for_each(|u| u.entry.line = 0);
    s.groups.iter_mut().for_each(|g| g.entry.line = 0);
    s
}

fn read(c: &FileSourceConfig) -> Snapshot {
    read_file(c).unwrap_or_else(|e| panic!("{e}"))
}

/// A change to the base configuration.
type Variant = Box<dyn Fn(&mut FileSourceConfig)>;

const FILES: [&str; 3] = ["users.ldif", "users.csv", "users.json"];

#[test]
fn all_three_formats_give_the_same_snapshot() {
    let variants: Vec<Variant> = vec![
        Box::new(|_| {}),
        Box::new(|c| c.scope.member_of_attribute = Some("memberOf".into())),
        Box::new(|c| {
            c.base_dn = Some("ou=people,dc=example,dc=com".into());
            c.scope.user_filter = Some("(employeeNumber>=10)".into());
        }),
        Box::new(|c| {
            c.scope.group_filter = None;
            c.scope.group_dn = Some("cn=Everyone,ou=groups,dc=example,dc=com".into());
            c.scope.user_group_dn = Some("cn=Everyone,ou=groups,dc=example,dc=com".into());
            c.scope.nested = true;
        }),
    ];
    for (i, variant) in variants.iter().enumerate() {
        let snapshots: Vec<Snapshot> = FILES
            .iter()
            .map(|f| {
                let mut c = config(f);
                variant(&mut c);
                without_lines(read(&c))
            })
            .collect();
        assert!(!snapshots[0].users.is_empty(), "variant {i}");
        assert_eq!(snapshots[0], snapshots[1], "LDIF vs CSV, variant {i}");
        assert_eq!(snapshots[0], snapshots[2], "LDIF vs JSON, variant {i}");
    }
}

#[test]
fn the_sample_directory_reads_as_expected() {
    let s = read(&config("users.ldif"));
    let uids: Vec<&str> = s.users.iter().map(|u| u.entry.first("uid").unwrap()).collect();
    assert_eq!(uids, ["zoe", "bob", "ana", "tmp"], "sorted by GUID");
    let zoe = &s.users[0];
    assert_eq!(zoe.guid, "5b3c1a20-0001-4000-8000-000000000001");
    assert_eq!(zoe.entry.first("cn"), Some("Zoë Ünal"));
    assert_eq!(zoe.entry.first("sn"), Some("Ünal"), "base64 decoded to UTF-8");
    assert_eq!(zoe.entry.line, 11);
    assert_eq!(zoe.status, Status::Enabled);
    assert_eq!(zoe.groups, ["cn=Engineering,ou=groups,dc=example,dc=com"]);
    assert_eq!(s.users[1].status, Status::Disabled, "nsAccountLock: true");
    assert_eq!(s.users[1].entry.get("mail").unwrap().len(), 2);
    assert_eq!(s.users[2].status, Status::Enabled, "nsAccountLock: false");
    assert_eq!(s.users[2].entry.first("cn"), Some("Ana Müller, Jr."));
    assert_eq!(s.users[3].status, Status::Enabled, "no nsAccountLock: default");

    let names: Vec<&str> = s.groups.iter().map(|g| g.cn.as_str()).collect();
    assert_eq!(names, ["Engineering", "Platform", "Sales", "Everyone"]);
    let everyone = &s.groups[3];
    assert!(everyone.member_guids.is_empty());
    assert_eq!(everyone.member_group_guids.len(), 2);
    assert_eq!(s.flattened_member_guids(&everyone.guid).len(), 3, "zoe, bob, ana through nested groups");

    let mut people_only = config("users.ldif");
    people_only.base_dn = Some("ou=People,dc=Example,dc=com".into());
    people_only.scope.group_filter = None;
    let s = read(&people_only);
    assert_eq!(s.users.len(), 3, "the contractor is outside ou=people");
    assert!(s.groups.is_empty());
    assert!(s.users.iter().all(|u| u.groups.is_empty()), "groups out of scope are not listed");
}

#[test]
fn users_by_group_nested_through_a_cycle() {
    let mut c = config("users.csv");
    c.scope.user_group_dn = Some("cn=engineering,ou=groups,dc=example,dc=com".into());
    let direct: Vec<String> = read(&c).users.into_iter().map(|u| u.dn).collect();
    assert_eq!(direct, ["uid=zoe,ou=people,dc=example,dc=com"]);
    c.scope.nested = true;
    let nested = read(&c);
    let uids: Vec<&str> = nested.users.iter().map(|u| u.entry.first("uid").unwrap()).collect();
    assert_eq!(uids, ["zoe", "bob"], "Engineering and Platform contain each other");
}

#[test]
fn active_directory_export_with_binary_guids() {
    let mut c = FileSourceConfig::new(data("ad.ldif"), "objectGUID");
    c.scope.guid_binary = true;
    c.scope.user_object_class = "user".into();
    c.scope.group_object_class = "group".into();
    c.scope.group_filter = Some("(cn=VPN*)".into());
    c.scope.member_of_attribute = Some("memberOf".into());
    c.scope.account_status = AccountStatus::active_directory();
    let s = read(&c);
    let users: Vec<(&str, &str, Status)> =
        s.users.iter().map(|u| (u.guid.as_str(), u.entry.first("sAMAccountName").unwrap(), u.status)).collect();
    assert_eq!(
        users,
        [
            ("03020100-0504-0706-0809-0a0b0c0d0e0f", "old", Status::Disabled),
            ("c8b5e2b1-2d1e-474f-8a4b-9b3c1d2e3f40", "alee", Status::Enabled),
        ]
    );
    assert_eq!(s.groups[0].guid, "13121110-1514-1716-1819-1a1b1c1d1e1f");
    assert_eq!(s.groups[0].member_guids.len(), 2);
    assert_eq!(s.users[1].groups, ["CN=VPN Users,OU=Groups,DC=corp,DC=example"]);
}

fn error(file: &str) -> SourceError {
    read_file(&config(file)).unwrap_err()
}

#[test]
fn malformed_files_name_file_line_and_problem() {
    let path = |f: &str| data(f).display().to_string();
    let e = error("bad/broken.ldif").to_string();
    assert!(
        e.starts_with(&format!("{} line 7: attribute line without a value separator ':'", path("bad/broken.ldif"))),
        "{e}"
    );
    let e = error("bad/short-row.csv").to_string();
    assert!(e.starts_with(&format!("{} line 4: 5 fields, but the header has 6", path("bad/short-row.csv"))), "{e}");
    let e = error("bad/no-dn.json").to_string();
    assert!(e.starts_with(&format!("{} line 4: entry 3 has no \"dn\"", path("bad/no-dn.json"))), "{e}");
    let e = error("bad/syntax.json");
    assert!(
        matches!(e, SourceError::Parse { position, .. } if position.line == Some(4) && position.column.is_some()),
        "{e}"
    );
    let e = error("bad/missing-guid.ldif").to_string();
    assert_eq!(
        e,
        format!(
            "{} line 5: entry uid=bob,dc=example,dc=com has no entryUUID (the channel's entry GUID attribute); every entry in scope needs one",
            path("bad/missing-guid.ldif")
        )
    );
    let e = error("bad/latin1.ldif").to_string();
    assert!(e.starts_with(&format!("{} line 2: the file is not UTF-8 text", path("bad/latin1.ldif"))), "{e}");
    let e = error("bad/users.txt").to_string();
    assert!(e.contains("cannot tell the file format"), "{e}");
    let mut explicit = config("bad/users.txt");
    explicit.format = Some(FileFormat::Ldif);
    let e = read_file(&explicit).unwrap_err().to_string();
    assert!(
        e.contains("bad/users.txt line 1: the entry starts with 'hello'")
            || e.contains("line 1: attribute line without"),
        "{e}"
    );
}

#[test]
fn settings_are_checked_before_the_file_is_read() {
    let mut c = config("does-not-exist.ldif");
    c.scope.user_filter = Some("(uid=a)(uid=b)".into());
    let e = read_file(&c).unwrap_err().to_string();
    assert_eq!(
        e,
        "user_filter: column 8: unexpected text after the end of the filter; combine several filters with (&...) or (|...)"
    );
    let mut c = config("users.ldif");
    c.scope.user_filter = Some("(uid=a)".into());
    c.scope.user_group_dn = Some("cn=Sales,ou=groups,dc=example,dc=com".into());
    assert!(read_file(&c).unwrap_err().to_string().contains("user_filter and user_group_dn are both set"));
    let mut c = config("users.json");
    c.scope.group_filter = None;
    c.scope.group_dn = Some("cn=Nobody,ou=groups,dc=example,dc=com".into());
    let e = read_file(&c).unwrap_err().to_string();
    assert!(e.starts_with("group_dn cn=Nobody,ou=groups,dc=example,dc=com: no entry with this DN in "), "{e}");
}

/// Users handed over by `stream_file`, sorted by GUID.
fn streamed(c: &FileSourceConfig) -> Result<(Vec<provisio_source::SourceUser>, usize), SourceError> {
    let mut users = Vec::new();
    let groups = provisio_source::stream_file(c, &mut |u| {
        users.push(u);
        Ok(())
    })?;
    users.sort_by(|a, b| a.guid.cmp(&b.guid));
    Ok((users, groups.len()))
}

#[test]
fn streaming_hands_over_the_same_users_as_a_whole_read() {
    for file in FILES {
        // Local scope (users by filter, no groups): streamed entry by entry.
        let mut local = config(file);
        local.scope.group_filter = None;
        local.scope.user_filter = Some("(|(uid=a*)(uid=b*)(nsAccountLock=true))".into());
        let whole = read(&local);
        let (users, groups) = streamed(&local).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!whole.users.is_empty(), "{file}: the filter should select someone");
        assert_eq!(users, whole.users, "{file}");
        assert_eq!(groups, 0);
        // With groups, the file is resolved whole and the groups come back.
        let (users, groups) = streamed(&config(file)).unwrap();
        let whole = read(&config(file));
        assert_eq!(users, whole.users, "{file}");
        assert_eq!(groups, whole.groups.len());
        assert!(groups > 0);
    }
}

#[test]
fn streaming_refuses_what_a_whole_read_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let mut c = FileSourceConfig::new(path, "entryUUID");
        c.scope.user_filter = Some("(uid=*)".into());
        c
    };
    let person = |uid: &str, guid: &str| {
        format!(
            "{{\"dn\": \"uid={uid},dc=x\", \"objectClass\": \"inetOrgPerson\", \"uid\": \"{uid}\", \"entryUUID\": \"{guid}\"}}"
        )
    };
    let cases = [
        ("dup-guid.json", format!("[{}, {}]", person("a", "G1"), person("b", "g1"))),
        ("dup-dn.json", format!("[{}, {}]", person("a", "G1"), person("A", "G2"))),
        ("no-guid.json", "[{\"dn\": \"uid=a,dc=x\", \"objectClass\": \"inetOrgPerson\", \"uid\": \"a\"}]".to_owned()),
    ];
    for (name, text) in cases {
        let c = write(name, &text);
        let whole = read_file(&c).expect_err(name).to_string();
        let stream = streamed(&c).expect_err(name).to_string();
        assert_eq!(stream, whole, "{name}");
    }
}
