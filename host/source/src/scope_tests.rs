//! Tests of scope, membership, GUIDs and status over parsed entries.

use super::*;
use crate::{FileFormat, parse_entries_with};
use std::path::Path;

/// A small directory: people, groups with a nesting cycle, and an entry outside the base.
const DIR: &str = "\
dn: uid=ann,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: ann
cn: Ann
entryUUID: u-ann
memberOf: cn=eng,ou=groups,dc=example,dc=com

dn: uid=bob,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: bob
cn: Bob
entryUUID: u-bob
nsAccountLock: true
memberOf: cn=platform,ou=groups,dc=example,dc=com

dn: uid=cat,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: cat
cn: Cat
entryUUID: u-cat
nsAccountLock: false
memberOf: cn=sales,ou=groups,dc=example,dc=com

dn: cn=printer,ou=devices,dc=example,dc=com
objectClass: device
cn: printer

dn: cn=eng,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: Engineering
entryUUID: g-eng
member: uid=ann,ou=people,dc=example,dc=com
member: CN=Platform, OU=Groups,DC=Example,DC=com
memberOf: cn=all,ou=groups,dc=example,dc=com
memberOf: cn=platform,ou=groups,dc=example,dc=com

dn: cn=platform,ou=groups,dc=example,dc=com
objectClass: groupOfNames
entryUUID: g-plat
member: uid=bob,ou=people,dc=example,dc=com
member: cn=eng,ou=groups,dc=example,dc=com
member: uid=zed,dc=elsewhere,dc=org
memberOf: cn=eng,ou=groups,dc=example,dc=com

dn: cn=sales,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: Sales
entryUUID: g-sales
member: u-cat
memberOf: cn=all,ou=groups,dc=example,dc=com

dn: cn=all,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: All
entryUUID: g-all
member: cn=eng,ou=groups,dc=example,dc=com
member: cn=sales,ou=groups,dc=example,dc=com

dn: uid=zed,dc=elsewhere,dc=org
objectClass: inetOrgPerson
uid: zed
entryUUID: u-zed
memberOf: cn=eng,ou=groups,dc=example,dc=com
";

fn entries(text: &str) -> Vec<Entry> {
    parse_entries_with(text, FileFormat::Ldif, Path::new("dir.ldif"), &Default::default()).unwrap()
}

fn cfg() -> FileSourceConfig {
    FileSourceConfig { base_dn: Some("dc=example,dc=com".into()), ..FileSourceConfig::new("dir.ldif", "entryUUID") }
}

fn snap(c: &FileSourceConfig) -> Snapshot {
    build_snapshot(entries(DIR), c, "dir.ldif").unwrap_or_else(|e| panic!("{e}"))
}

fn fail(c: &FileSourceConfig, text: &str) -> String {
    build_snapshot(entries(text), c, "dir.ldif").unwrap_err().to_string()
}

fn user_guids(s: &Snapshot) -> Vec<&str> {
    s.users.iter().map(|u| u.guid.as_str()).collect()
}

fn group_guids(s: &Snapshot) -> Vec<&str> {
    s.groups.iter().map(|g| g.guid.as_str()).collect()
}

#[test]
fn base_dn_scopes_users() {
    let s = snap(&cfg());
    assert_eq!(user_guids(&s), ["u-ann", "u-bob", "u-cat"], "zed is outside the base DN");
    assert!(s.groups.is_empty(), "no group selection: no groups");
    let mut c = cfg();
    c.base_dn = Some(" OU=People , dc=Example,dc=COM ".into());
    assert_eq!(user_guids(&snap(&c)), ["u-ann", "u-bob", "u-cat"]);
    c.base_dn = None;
    assert_eq!(user_guids(&snap(&c)), ["u-ann", "u-bob", "u-cat", "u-zed"]);
    c.base_dn = Some("ou=nobody,dc=example,dc=com".into());
    assert!(snap(&c).users.is_empty());
}

#[test]
fn users_by_filter() {
    let mut c = cfg();
    c.scope.user_filter = Some("(|(uid=ann)(nsAccountLock=TRUE))".into());
    assert_eq!(user_guids(&snap(&c)), ["u-ann", "u-bob"]);
    c.scope.user_filter = Some("(!(nsAccountLock=*))".into());
    assert_eq!(user_guids(&snap(&c)), ["u-ann"]);
    // The filter is ANDed with the user object class: a device never becomes a user.
    c.scope.user_filter = Some("(cn=printer)".into());
    assert!(snap(&c).users.is_empty());
    c.scope.user_object_class = "device".into();
    c.scope.guid_attribute = "cn".into();
    assert_eq!(user_guids(&snap(&c)), ["printer"]);
}

#[test]
fn users_by_group_dn_direct_and_nested_with_a_cycle() {
    let mut c = cfg();
    c.scope.user_group_dn = Some("cn=all,ou=groups,dc=example,dc=com".into());
    assert!(snap(&c).users.is_empty(), "all has only groups as direct members");
    c.scope.nested = true;
    assert_eq!(user_guids(&snap(&c)), ["u-ann", "u-bob", "u-cat"]);
    c.scope.user_group_dn = Some("cn=eng,ou=groups,dc=example,dc=com".into());
    c.scope.nested = false;
    assert_eq!(user_guids(&snap(&c)), ["u-ann"]);
    c.scope.nested = true;
    // eng -> platform -> eng is a cycle; zed (outside the base) is ignored.
    assert_eq!(user_guids(&snap(&c)), ["u-ann", "u-bob"]);
}

#[test]
fn users_by_group_dn_with_member_of() {
    let mut c = cfg();
    c.scope.member_of_attribute = Some("memberOf".into());
    c.scope.user_group_dn = Some("cn=eng,ou=groups,dc=example,dc=com".into());
    assert_eq!(user_guids(&snap(&c)), ["u-ann"]);
    c.scope.nested = true;
    assert_eq!(user_guids(&snap(&c)), ["u-ann", "u-bob"]);
    c.scope.user_group_dn = Some("cn=all,ou=groups,dc=example,dc=com".into());
    assert_eq!(user_guids(&snap(&c)), ["u-ann", "u-bob", "u-cat"]);
}

#[test]
fn group_dn_problems() {
    let mut c = cfg();
    c.scope.user_group_dn = Some("cn=nope,dc=example,dc=com".into());
    let e = build_snapshot(entries(DIR), &c, "dir.ldif").unwrap_err();
    assert!(matches!(e, SourceError::GroupNotFound { field: "user_group_dn", .. }));
    assert_eq!(
        e.to_string(),
        "user_group_dn cn=nope,dc=example,dc=com: no entry with this DN in dir.ldif; check the DN (compared case-insensitively)"
    );
    c.scope.user_group_dn = Some("uid=ann,ou=people,dc=example,dc=com".into());
    assert!(fail(&c, DIR).contains("is not a group (it has no objectClass groupOfNames)"));
    c.scope.user_group_dn = None;
    c.scope.group_dn = Some("uid=zed,dc=elsewhere,dc=org".into());
    let e = fail(&c, DIR);
    assert!(e.starts_with("group_dn uid=zed,dc=elsewhere,dc=org: is outside base_dn"), "{e}");
}

#[test]
fn groups_by_filter_with_direct_membership() {
    let mut c = cfg();
    c.scope.group_filter = Some("(objectClass=*)".into());
    let s = snap(&c);
    assert_eq!(group_guids(&s), ["g-all", "g-eng", "g-plat", "g-sales"]);
    let eng = s.group("g-eng").unwrap();
    assert_eq!(eng.cn, "Engineering");
    assert_eq!(eng.member_guids, ["u-ann"]);
    assert_eq!(eng.member_group_guids, ["g-plat"], "member given with other case and spacing");
    let plat = s.group("g-plat").unwrap();
    assert_eq!(plat.cn, "platform", "no cn: the DN's first RDN value");
    assert_eq!(plat.member_guids, ["u-bob"], "zed is outside the base DN");
    assert_eq!(plat.member_group_guids, ["g-eng"]);
    assert_eq!(s.group("g-sales").unwrap().member_guids, ["u-cat"], "member given by GUID");
    assert_eq!(s.group("g-all").unwrap().member_group_guids, ["g-eng", "g-sales"]);
    assert!(s.group("g-all").unwrap().member_guids.is_empty());
    assert_eq!(s.user("u-ann").unwrap().groups, ["cn=eng,ou=groups,dc=example,dc=com"]);
    assert_eq!(s.user("u-bob").unwrap().groups, ["cn=platform,ou=groups,dc=example,dc=com"]);
    assert_eq!(s.flattened_member_guids("g-all"), ["u-ann", "u-bob", "u-cat"]);
    assert_eq!(s.flattened_member_guids("g-eng"), ["u-ann", "u-bob"], "cycle-safe");
    assert!(s.flattened_member_guids("nope").is_empty());

    c.scope.group_filter = Some("(cn=S*)".into());
    let s = snap(&c);
    assert_eq!(group_guids(&s), ["g-sales"]);
    assert!(s.user("u-ann").unwrap().groups.is_empty(), "only in-scope groups are listed");
}

#[test]
fn membership_from_member_of_matches_member_attribute() {
    let mut by_member = cfg();
    by_member.scope.group_filter = Some("(objectClass=*)".into());
    let mut by_member_of = by_member.clone();
    by_member_of.scope.member_of_attribute = Some("memberOf".into());
    let a = snap(&by_member);
    let b = snap(&by_member_of);
    for g in &a.groups {
        let other = b.group(&g.guid).unwrap();
        assert_eq!(g.member_guids, other.member_guids, "{}", g.dn);
        assert_eq!(g.member_group_guids, other.member_group_guids, "{}", g.dn);
    }
    for u in &a.users {
        assert_eq!(u.groups, b.user(&u.guid).unwrap().groups);
    }
    // memberOf is what counts once configured: drop ann's memberOf and she is in no group.
    let text = DIR.replace("memberOf: cn=eng,ou=groups,dc=example,dc=com\n\ndn: uid=bob", "\ndn: uid=bob");
    let s = build_snapshot(entries(&text), &by_member_of, "dir.ldif").unwrap();
    assert!(s.user("u-ann").unwrap().groups.is_empty());
    assert!(s.group("g-eng").unwrap().member_guids.is_empty());
    let s = build_snapshot(entries(&text), &by_member, "dir.ldif").unwrap();
    assert_eq!(s.group("g-eng").unwrap().member_guids, ["u-ann"]);
}

#[test]
fn groups_by_group_dn() {
    let mut c = cfg();
    c.scope.group_dn = Some("cn=all,ou=groups,dc=example,dc=com".into());
    assert_eq!(group_guids(&snap(&c)), ["g-eng", "g-sales"], "the container group itself is not provisioned");
    c.scope.nested = true;
    assert_eq!(group_guids(&snap(&c)), ["g-eng", "g-plat", "g-sales"]);
    c.scope.group_dn = Some("cn=eng,ou=groups,dc=example,dc=com".into());
    assert_eq!(group_guids(&snap(&c)), ["g-plat"], "the cycle back to eng does not add eng");
}

#[test]
fn account_status_is_applied() {
    let mut c = cfg();
    c.scope.account_status = AccountStatus::Flag {
        attribute: "nsAccountLock".into(),
        value: "true".into(),
        when_equal: Status::Disabled,
        default: Status::Enabled,
    };
    let s = snap(&c);
    let status: Vec<Status> = s.users.iter().map(|u| u.status).collect();
    assert_eq!(status, [Status::Enabled, Status::Disabled, Status::Enabled]);
}

#[test]
fn status_errors_name_the_entry() {
    let mut c = cfg();
    c.scope.account_status = AccountStatus::active_directory();
    let text = "dn: uid=a,dc=example,dc=com\nobjectClass: inetOrgPerson\nentryUUID: 1\nuserAccountControl: x\n";
    let e = fail(&c, text);
    assert!(
        e.starts_with(
            "dir.ldif line 1: entry uid=a,dc=example,dc=com has userAccountControl 'x', which is not an integer"
        ),
        "{e}"
    );
}

#[test]
fn guid_errors() {
    let text = "dn: uid=a,dc=example,dc=com\nobjectClass: inetOrgPerson\nentryUUID: 1\n\n\
                dn: uid=bob,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: bob\n";
    assert_eq!(
        fail(&cfg(), text),
        "dir.ldif line 5: entry uid=bob,dc=example,dc=com has no entryUUID (the channel's entry GUID attribute); every entry in scope needs one"
    );
    // Out of scope entries need no GUID.
    let mut c = cfg();
    c.scope.user_filter = Some("(!(uid=bob))".into());
    assert_eq!(build_snapshot(entries(text), &c, "dir.ldif").unwrap().users.len(), 1);

    let text = "dn: uid=a,dc=example,dc=com\nobjectClass: inetOrgPerson\nentryUUID: 1\nentryUUID: 2\n";
    assert!(
        fail(&cfg(), text).contains("has 2 values of entryUUID; the entry GUID attribute must have exactly one value")
    );
}

#[test]
fn duplicate_guids_name_both_dns() {
    let text = "dn: uid=a,dc=example,dc=com\nobjectClass: inetOrgPerson\nentryUUID: same\n\n\
                dn: cn=g,dc=example,dc=com\nobjectClass: groupOfNames\nentryUUID: SAME\n";
    let mut c = cfg();
    c.scope.group_filter = Some("(cn=*)".into());
    // cn absent on the group: the filter does not match, so no clash.
    assert!(build_snapshot(entries(text), &c, "dir.ldif").is_ok());
    c.scope.group_filter = Some("(objectClass=*)".into());
    assert_eq!(
        fail(&c, text),
        "dir.ldif: entries uid=a,dc=example,dc=com (line 1) and cn=g,dc=example,dc=com (line 5) have the same entryUUID SAME; the entry GUID must be unique"
    );
}

#[test]
fn binary_guids() {
    // objectGUID bytes b1 e2 b5 c8 1e 2d 4f 47 8a 4b 9b 3c 1d 2e 3f 40
    let text = "dn: cn=Ann,ou=users,dc=corp,dc=example\nobjectClass: user\nobjectGUID:: seK1yB4tT0eKS5s8HS4/QA==\nuserAccountControl: 514\n";
    let mut c = FileSourceConfig::new("ad.ldif", "objectGUID");
    c.scope.guid_binary = true;
    c.scope.user_object_class = "user".into();
    c.scope.account_status = AccountStatus::active_directory();
    let parsed = parse_entries_with(text, FileFormat::Ldif, Path::new("ad.ldif"), &c.parse_options()).unwrap();
    let s = build_snapshot(parsed, &c, "ad.ldif").unwrap();
    assert_eq!(s.users[0].guid, "c8b5e2b1-2d1e-474f-8a4b-9b3c1d2e3f40");
    assert_eq!(s.users[0].status, Status::Disabled);
    let bad = "dn: cn=Ann,dc=x\nobjectClass: user\nobjectGUID: not*base64\n";
    let parsed = parse_entries_with(bad, FileFormat::Csv, Path::new("x"), &Default::default());
    assert!(parsed.is_err(), "an LDIF text read as CSV fails");
    let e = build_snapshot(entries(bad), &c, "ad.ldif").unwrap_err().to_string();
    assert!(e.contains("is not base64"), "{e}");
}

#[test]
fn configuration_problems_are_all_listed() {
    let c = FileSourceConfig {
        scope: DirectoryScope {
            guid_attribute: " ".into(),
            user_filter: Some("(uid=a".into()),
            user_group_dn: Some("cn=g,dc=x".into()),
            group_filter: Some("(cn=*)".into()),
            group_dn: Some("nonsense".into()),
            ..Default::default()
        },
        base_dn: Some("also nonsense".into()),
        ..FileSourceConfig::new("x.ldif", "entryUUID")
    };
    let problems: Vec<String> = c.check().iter().map(ToString::to_string).collect();
    let joined = problems.join("\n");
    assert!(joined.contains("guid_attribute: is empty"), "{joined}");
    assert!(joined.contains("user_filter: column 7: expected ')'"), "{joined}");
    assert!(joined.contains("user_filter: user_filter and user_group_dn are both set"), "{joined}");
    assert!(joined.contains("group_filter: group_filter and group_dn are both set"), "{joined}");
    assert!(joined.contains("group_dn: 'nonsense' is not a distinguished name"), "{joined}");
    assert!(joined.contains("base_dn: 'also nonsense' is not a distinguished name"), "{joined}");
    assert_eq!(problems.len(), 6, "{joined}");
    assert!(FileSourceConfig::new("x.ldif", "entryUUID").check().is_empty());
    // build_snapshot reports the first one.
    assert!(build_snapshot(vec![], &c, "x").unwrap_err().to_string().starts_with("guid_attribute"));
}
