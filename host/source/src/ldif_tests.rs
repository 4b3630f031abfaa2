//! Tests of the LDIF parser.

use super::*;
use std::path::PathBuf;

fn file() -> PathBuf {
    PathBuf::from("users.ldif")
}

fn ok(text: &str) -> Vec<Entry> {
    parse(text, &file(), &ParseOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn fail(text: &str) -> String {
    parse(text, &file(), &ParseOptions::default()).unwrap_err().to_string()
}

#[test]
fn happy_path_with_version_comments_folding_and_base64() {
    let text = "version: 1\n\
                # people\n\
                #  a folded comment line\n\
                \n\
                dn: uid=ann,ou=people,dc=example,dc=com\n\
                objectClass: top\n\
                objectClass: inetOrgPerson\n\
                uid: ann\n\
                cn:: Wm/DqyDDnG5hbA==\n\
                description: a long description that was\n  folded across two lines\n\
                mail:ann@example.com\n\
                \n\
                \n\
                # bob\n\
                dn: uid=bob,ou=people,dc=example,dc=com\n\
                objectclass: inetOrgPerson\n\
                UID: bob\n";
    let entries = ok(text);
    assert_eq!(entries.len(), 2);
    let ann = &entries[0];
    assert_eq!(ann.dn, "uid=ann,ou=people,dc=example,dc=com");
    assert_eq!(ann.line, 5);
    assert_eq!(ann.object_classes(), ["top", "inetOrgPerson"]);
    assert_eq!(ann.first("cn"), Some("Zoë Ünal"));
    assert_eq!(ann.first("description"), Some("a long description that was folded across two lines"));
    assert_eq!(ann.first("mail"), Some("ann@example.com"));
    let bob = &entries[1];
    assert_eq!(bob.line, 16);
    assert_eq!(bob.first("uid"), Some("bob"));
}

#[test]
fn crlf_bom_and_no_version() {
    let text = "\u{feff}dn: cn=a,dc=x\r\ncn: a\r\n\r\ndn: cn=b,dc=x\r\ncn: b\r\n";
    let entries = ok(text);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].first("cn"), Some("a"));
    assert_eq!(entries[1].line, 4);
}

#[test]
fn version_directly_followed_by_an_entry() {
    let entries = ok("version: 1\ndn: cn=a,dc=x\ncn: a\n");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].line, 2);
    assert!(fail("version: 2\n\ndn: cn=a,dc=x\n").starts_with("users.ldif line 1: LDIF version '2' is not supported"));
}

#[test]
fn base64_dn_and_folded_dn() {
    // "cn=Zoë,dc=x"
    let entries = ok("dn:: Y249Wm/DqyxkYz14\ncn: x\n\ndn: cn=long,ou=people,\n dc=example,dc=com\n");
    assert_eq!(entries[0].dn, "cn=Zoë,dc=x");
    assert_eq!(entries[1].dn, "cn=long,ou=people,dc=example,dc=com");
}

#[test]
fn binary_values_stay_base64() {
    // 16 bytes, not UTF-8: kept as base64 text.
    let text = "dn: cn=a,dc=x\nobjectGUID:: seK1yB4tT0eKS5s8HS4/QA==\nphoto:: /9j/4A==\ncn:: YQ==\n";
    let entries = ok(text);
    assert_eq!(entries[0].first("objectguid"), Some("seK1yB4tT0eKS5s8HS4/QA=="));
    assert_eq!(entries[0].first("photo"), Some("/9j/4A=="));
    assert_eq!(entries[0].first("cn"), Some("a"));
    // Declared binary: even UTF-8 bytes (and plain values) stay base64.
    let options = ParseOptions { binary_attributes: vec!["objectGUID".into()], ..Default::default() };
    let text = "dn: cn=a,dc=x\nobjectGUID:: YWJj\n\ndn: cn=b,dc=x\nobjectGUID: abc\n";
    let entries = parse(text, &file(), &options).unwrap();
    assert_eq!(entries[0].first("objectGUID"), Some("YWJj"));
    assert_eq!(entries[1].first("objectGUID"), Some("YWJj"));
}

#[test]
fn attribute_options_and_empty_values() {
    let entries = ok("dn: cn=a,dc=x\ncn;lang-fr: Jean\ndescription:\n");
    assert_eq!(entries[0].first("cn;lang-fr"), Some("Jean"));
    assert_eq!(entries[0].get("description"), None, "an empty value is no value");
    assert!(!entries[0].attributes.contains_key("description"));
}

#[test]
fn missing_separator_names_the_line() {
    let text = "dn: cn=a,dc=x\ncn: a\n\ndn: cn=b,dc=x\ncn b\n";
    assert_eq!(
        fail(text),
        "users.ldif line 5: attribute line without a value separator ':' (it starts with 'cn'); write 'attribute: value', and start a continued line with one space"
    );
    // The value is never quoted: it may be a secret written with '=' for ':'.
    let e = fail("dn: cn=a,dc=x\nuserPassword=s3cr3t-value\n");
    assert!(e.contains("(it starts with 'userPassword')") && !e.contains("s3cr3t"), "{e}");
    let e = fail("dn: cn=a,dc=x\n=s3cr3t-value\n");
    assert!(e.contains("separator ':'; write") && !e.contains("s3cr3t"), "{e}");
}

#[test]
fn a_mis_folded_masked_value_is_not_quoted() {
    let options = ParseOptions { masked_attributes: vec!["userPassword".into()], ..Default::default() };
    for broken in ["Tok-Sandbox-Secret-1234-and-rest-of-pw", "rest of:the-pw"] {
        let text = format!("dn: cn=a,dc=x\nuserPassword: first-half-\n{broken}\ncn: a\n");
        let e = parse(&text, Path::new("users.ldif"), &options).unwrap_err().to_string();
        assert!(e.starts_with("users.ldif line 3: "), "{e}");
        assert!(e.contains("right after a userPassword line") && e.contains("start it with one space"), "{e}");
        assert!(!e.contains("Tok-") && !e.contains("rest") && !e.contains("first-half"), "{e}");
    }
    let e =
        parse("dn: cn=a,dc=x\nuserPassword:: c2VjcmV0!!\n", Path::new("users.ldif"), &options).unwrap_err().to_string();
    assert!(e.ends_with("the '::' value is not valid base64"), "{e}");
    // Not masked: the start is quoted as before.
    let e = fail("dn: cn=a,dc=x\ndescription: first-half-\nsecond-half\n");
    assert!(e.contains("(it starts with 'second-half')"), "{e}");
}

#[test]
fn change_records_are_refused() {
    let e = fail("dn: cn=a,dc=x\nchangetype: modify\nreplace: cn\ncn: b\n");
    assert!(e.starts_with("users.ldif line 2: entry cn=a,dc=x is a change record ('changetype:')"), "{e}");
    assert!(e.contains("content records"), "{e}");
    let e = fail("dn: cn=a,dc=x\ncontrol: 1.2.3 true\nchangetype: delete\n");
    assert!(e.starts_with("users.ldif line 2: entry cn=a,dc=x is a change record ('control:')"), "{e}");
}

#[test]
fn url_values_are_refused() {
    let e = fail("dn: cn=a,dc=x\njpegPhoto:< file:///tmp/photo.jpg\n");
    assert!(e.starts_with("users.ldif line 2: attribute jpegPhoto takes its value from a URL"), "{e}");
    assert!(e.contains("not supported"), "{e}");
}

#[test]
fn record_structure_errors() {
    let e = fail("cn: a\ndn: cn=a,dc=x\n");
    assert!(
        e.starts_with("users.ldif line 1: the entry starts with 'cn', but every entry must start with a 'dn:' line"),
        "{e}"
    );
    let e = fail("dn: cn=a,dc=x\ncn: a\ndn: cn=b,dc=x\n");
    assert!(e.starts_with("users.ldif line 3: a second 'dn:' line inside one entry"), "{e}");
    let e = fail(" folded: nothing\n");
    assert!(e.starts_with("users.ldif line 1: "), "{e}");
    let e = fail("dn: cn=a,dc=x\n\n continued\n");
    assert!(e.contains("line 3"), "{e}");
    let e = fail("dn:\ncn: a\n");
    assert!(e.starts_with("users.ldif line 1: the entry's DN is empty"), "{e}");
    let e = fail("dn: not a dn\n");
    assert!(e.starts_with("users.ldif line 1: 'not a dn' is not a distinguished name"), "{e}");
    let e = fail("dn: cn=a,dc=x\nfirst name: a\n");
    assert!(e.starts_with("users.ldif line 2 column 1: 'first name' is not an attribute name"), "{e}");
}

#[test]
fn bad_base64_names_line_and_attribute() {
    let e = fail("dn: cn=a,dc=x\ncn: a\nmail:: !!!\n");
    assert!(e.starts_with("users.ldif line 3: attribute mail: the '::' value is not valid base64"), "{e}");
    let e = fail("dn:: //79\ncn: a\n");
    assert!(e.starts_with("users.ldif line 1: the base64 DN is not UTF-8 text"), "{e}");
}

#[test]
fn an_error_anywhere_returns_nothing() {
    let mut text = String::new();
    for i in 0..50 {
        text.push_str(&format!("dn: uid=u{i},dc=x\nuid: u{i}\n\n"));
    }
    text.push_str("dn: uid=bad,dc=x\nbroken line\n");
    assert!(parse(&text, &file(), &ParseOptions::default()).is_err());
}

#[test]
fn whitespace_only_separator_lines_and_trailing_blank_lines() {
    let entries = ok("dn: cn=a,dc=x\ncn: a\n\n   \n\ndn: cn=b,dc=x\ncn: b\n\n\n");
    assert_eq!(entries.len(), 2);
    assert!(ok("").is_empty());
    assert!(ok("# only a comment\n").is_empty());
    assert!(ok("version: 1\n").is_empty());
}
