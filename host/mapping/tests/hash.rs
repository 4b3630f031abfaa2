//! The update hash: stable, sensitive to what an update pushes, blind to
//! create-only fields, keyed, and never revealing a masked value in plain
//! text, hex or base64.

use std::collections::BTreeSet;

use provisio_mapping::{AttributeValue, FieldMapping, Mapped, MappingSet};

const KEY: &[u8] = b"state-store-secret";

fn mapped(password: &str, title: &str) -> Mapped {
    let mut m = Mapped::default();
    m.values.insert("userName".into(), "ada".into());
    m.values.insert("title".into(), title.into());
    m.values.insert("password".into(), password.into());
    m.values.insert("roles".into(), AttributeValue::Multi(vec!["admin".into(), "staff".into()]));
    m
}

fn set(xs: &[&str]) -> BTreeSet<String> {
    xs.iter().map(|x| x.to_string()).collect()
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn same_input_same_hash() {
    let none = set(&[]);
    let a = mapped("pw", "CTO").update_hash(&none, KEY);
    assert_eq!(a, mapped("pw", "CTO").update_hash(&none, KEY));
    assert_eq!(a.len(), 64);
    assert!(a.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    // Independent of the order fields were inserted in.
    let mut b = Mapped::default();
    for (k, v) in mapped("pw", "CTO").values.into_iter().rev() {
        b.values.insert(k, v);
    }
    assert_eq!(a, b.update_hash(&none, KEY));
    // Warnings and the `empty` list do not change what is pushed.
    let mut c = mapped("pw", "CTO");
    c.warnings.push("w".into());
    c.empty.push("department".into());
    assert_eq!(a, c.update_hash(&none, KEY));
}

#[test]
fn pinned_value() {
    // The encoding is persisted in state stores: changing it forces a
    // round of updates, so it must change only on purpose. The expected
    // value was computed independently (HMAC-SHA256 over the documented
    // length-prefixed encoding).
    let mut m = Mapped::default();
    m.values.insert("userName".into(), "ada".into());
    m.values.insert("roles".into(), AttributeValue::Multi(vec!["x".into(), "y".into()]));
    m.clear.push("department".into());
    assert_eq!(m.update_hash(&set(&[]), b"k"), "7ff075d4900457043470320db8aa283c75460547559ebc62e1ab44d2d9be6777");
}

#[test]
fn changes_that_matter_change_the_hash() {
    let none = set(&[]);
    let base = mapped("pw", "CTO").update_hash(&none, KEY);
    assert_ne!(base, mapped("pw2", "CTO").update_hash(&none, KEY), "masked value change");
    assert_ne!(base, mapped("pw", "CEO").update_hash(&none, KEY));
    assert_ne!(base, mapped("pw", "CTO").update_hash(&none, b"other key"));
    let mut m = mapped("pw", "CTO");
    m.values.insert("roles".into(), AttributeValue::Multi(vec!["staff".into(), "admin".into()]));
    assert_ne!(base, m.update_hash(&none, KEY), "list order matters");
    let mut m = mapped("pw", "CTO");
    m.values.insert("roles".into(), AttributeValue::Multi(vec!["admin".into()]));
    assert_ne!(base, m.update_hash(&none, KEY));
    // Single "a" and a one-entry list ["a"] are different pushes.
    let mut s = Mapped::default();
    s.values.insert("x".into(), "a".into());
    let mut l = Mapped::default();
    l.values.insert("x".into(), AttributeValue::Multi(vec!["a".into()]));
    assert_ne!(s.update_hash(&none, KEY), l.update_hash(&none, KEY));
    // Length prefixes: moving a boundary changes the hash.
    let mut p = Mapped::default();
    p.values.insert("ab".into(), "c".into());
    let mut q = Mapped::default();
    q.values.insert("a".into(), "bc".into());
    assert_ne!(p.update_hash(&none, KEY), q.update_hash(&none, KEY));
    // A field to clear is part of the push.
    let mut c = mapped("pw", "CTO");
    c.clear.push("department".into());
    assert_ne!(base, c.update_hash(&none, KEY));
}

#[test]
fn create_only_fields_are_excluded() {
    let co = set(&["password"]);
    let a = mapped("pw", "CTO").update_hash(&co, KEY);
    assert_eq!(a, mapped("changed", "CTO").update_hash(&co, KEY));
    let mut without = mapped("pw", "CTO");
    without.values.remove("password");
    assert_eq!(a, without.update_hash(&co, KEY));
    assert_ne!(a, mapped("pw", "CEO").update_hash(&co, KEY));
    let mut c = mapped("pw", "CTO");
    c.clear.push("password".into());
    assert_eq!(a, c.update_hash(&co, KEY));
}

#[test]
fn hash_never_reveals_a_masked_value() {
    for secret in ["hunter2", "a", "ab", "0", "ff", "c0ffee", "P@ssw0rd-日本", "6869"] {
        for key in [KEY, b"" as &[u8]] {
            let h = mapped(secret, "CTO").update_hash(&set(&[]), key);
            let forms = [secret.to_string(), hex(secret.as_bytes()), base64(secret.as_bytes())];
            for f in forms.iter().filter(|f| f.len() >= 4) {
                assert!(!h.contains(f.as_str()), "{h} contains {f}");
                assert!(!h.contains(&f.to_lowercase()), "{h} contains {f}");
            }
        }
    }
    assert_eq!(base64(b"hunter2"), "aHVudGVyMg");
}

#[test]
fn from_a_mapping_set() {
    let fields = [
        FieldMapping::new("userName", &["uid"]),
        FieldMapping { create_only: true, masked: true, ..FieldMapping::new("password", &["userPassword"]) },
        FieldMapping { masked: true, ..FieldMapping::new("pin", &["pin"]) },
    ];
    let set = MappingSet::compile(&fields, &|_| false).unwrap();
    let run = |pw: &str, pin: &str| {
        let (pw, pin) = (pw.to_string(), pin.to_string());
        set.apply(&move |n| match n {
            "uid" => Some(vec!["ada".into()]),
            "userPassword" => Some(vec![pw.clone()]),
            "pin" => Some(vec![pin.clone()]),
            _ => None,
        })
        .update_hash(&set.create_only_fields(), KEY)
    };
    assert_eq!(run("a", "1234"), run("b", "1234"), "password is create-only");
    assert_ne!(run("a", "1234"), run("a", "4321"), "a masked value change is an update");
}
