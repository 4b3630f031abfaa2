//! Tests of the expression language through its public face: evaluation of
//! each construct, precedence, absence rules, UTF-8, and a no-panic loop
//! over many generated and garbage inputs.

use super::*;
use std::collections::BTreeMap;

fn entry(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs.iter().map(|(k, vs)| (k.to_string(), vs.iter().map(|v| v.to_string()).collect())).collect()
}

fn run(src: &str, e: &BTreeMap<String, Vec<String>>) -> Option<String> {
    let x = Expression::parse(src).unwrap_or_else(|err| panic!("{src}: {err}"));
    x.eval(&|n| e.get(n).cloned()).unwrap()
}

#[test]
fn references_and_literals() {
    let e = entry(&[("givenName", &["Ada"]), ("sn", &["Lovelace"]), ("blank", &[""]), ("multi", &["", "b", "c"])]);
    assert_eq!(run("${givenName}", &e).as_deref(), Some("Ada"));
    assert_eq!(run("${missing}", &e), None);
    assert_eq!(run("${blank}", &e), None);
    assert_eq!(run("${multi}", &e).as_deref(), Some("b"), "first non-empty value of a multi-valued attribute");
    assert_eq!(run("'x'", &e).as_deref(), Some("x"));
    assert_eq!(run("\"\"", &e).as_deref(), Some(""));
}

#[test]
fn concatenation_and_absence() {
    let e = entry(&[("givenName", &["Ada"]), ("sn", &["Lovelace"])]);
    assert_eq!(run("${givenName} + ' ' + ${sn}", &e).as_deref(), Some("Ada Lovelace"));
    assert_eq!(run("${givenName} + ' ' + ${middle}", &e), None, "one absent reference makes the concat absent");
    assert_eq!(run("'a' + '' + 'b'", &e).as_deref(), Some("ab"));
    assert_eq!(run("${givenName} + (${middle} ?? '')", &e).as_deref(), Some("Ada"));
}

#[test]
fn fallback_and_precedence() {
    let e = entry(&[("mail", &["ada@example.org"]), ("blank", &[""]), ("sn", &["L"])]);
    assert_eq!(run("${nick} ?? ${mail}", &e).as_deref(), Some("ada@example.org"));
    assert_eq!(run("${blank} ?? '' ?? 'z'", &e).as_deref(), Some("z"), "empty values fall through");
    assert_eq!(run("${nick} ?? ${other}", &e), None);
    // `+` binds tighter: (${nick} + 'x') ?? (${sn} + 'y')
    assert_eq!(run("${nick} + 'x' ?? ${sn} + 'y'", &e).as_deref(), Some("Ly"));
    assert_eq!(run("(${nick} ?? 'n') + 'x'", &e).as_deref(), Some("nx"));
    assert_eq!(run("${sn} + 'x' ?? 'never'", &e).as_deref(), Some("Lx"));
}

#[test]
fn functions() {
    let e = entry(&[("cn", &["  Ada Lovelace  "]), ("absent_is_not_here", &[])]);
    assert_eq!(run("trim(${cn})", &e).as_deref(), Some("Ada Lovelace"));
    assert_eq!(run("upper(trim(${cn}))", &e).as_deref(), Some("ADA LOVELACE"));
    assert_eq!(run("lower(trim(${cn}))", &e).as_deref(), Some("ada lovelace"));
    assert_eq!(run("substring(trim(${cn}), 4)", &e).as_deref(), Some("Lovelace"));
    assert_eq!(run("substring(trim(${cn}), 0, 3)", &e).as_deref(), Some("Ada"));
    assert_eq!(run("substring('abc', 10)", &e).as_deref(), Some(""), "start past the end is clamped");
    assert_eq!(run("substring('abc', 1, 1000)", &e).as_deref(), Some("bc"), "length is clamped");
    assert_eq!(run("substring('abc', 99999999999999999999999, 1)", &e).as_deref(), Some(""));
    assert_eq!(run("lower(${absent_is_not_here})", &e), None);
    assert_eq!(run("trim('   ') ?? 'fallback'", &e).as_deref(), Some("fallback"));
}

#[test]
fn utf8_is_character_based() {
    let e = entry(&[("name", &["Zoë Ærøskøbing 日本語"])]);
    assert_eq!(run("substring(${name}, 2, 1)", &e).as_deref(), Some("ë"));
    assert_eq!(run("substring(${name}, 4, 3)", &e).as_deref(), Some("Ærø"));
    assert_eq!(run("substring(${name}, 15)", &e).as_deref(), Some("日本語"));
    assert_eq!(run("substring(${name}, 16, 1)", &e).as_deref(), Some("本"));
    assert_eq!(run("upper(${name})", &e).as_deref(), Some("ZOË ÆRØSKØBING 日本語"));
    assert_eq!(run("'é' + \"ß\"", &e).as_deref(), Some("éß"));
    // Columns count characters, not bytes.
    assert_eq!(Expression::parse("'日本' + %").unwrap_err().column, 8);
}

#[test]
fn references_are_collected() {
    let x = Expression::parse("lower(${a}) + (${b} ?? substring(${c}, 1)) + ${a}").unwrap();
    assert_eq!(x.references().into_iter().collect::<Vec<_>>(), vec!["a", "b", "c"]);
    assert_eq!(x.source(), "lower(${a}) + (${b} ?? substring(${c}, 1)) + ${a}");
    assert!(!format!("{x:?}").contains("${a}"));
}

#[test]
fn oversized_values_fail_at_run_time() {
    let big = "x".repeat(MAX_VALUE_BYTES / 2 + 1);
    let x = Expression::parse("${a} + ${a}").unwrap();
    let err = x.eval(&|_| Some(vec![big.clone()])).unwrap_err();
    assert!(err.message.contains("longer than"));
    assert!(!err.message.contains("xxx"));
    let x = Expression::parse("${a}").unwrap();
    assert!(x.eval(&|_| Some(vec!["y".repeat(MAX_VALUE_BYTES + 1)])).is_err());
}

/// A small deterministic generator (xorshift64*), so the loop needs no
/// extra dependency and every failure is reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "${",
    "}",
    "${a}",
    "${b}",
    "${ c }",
    "$",
    "{",
    "(",
    ")",
    ",",
    "+",
    "??",
    "?",
    "'",
    "\"",
    "\\",
    "\\n",
    "\\'",
    "lower",
    "upper",
    "trim",
    "substring",
    "frob",
    "LOWER",
    "0",
    "1",
    "42",
    "-1",
    "99999999999999999999",
    " ",
    "\t",
    "\n",
    "é",
    "日本",
    "\u{0}",
    "\u{7f}",
    "🦀",
    "x",
    "'str'",
    "\"s\\\"q\"",
    "(${a} ?? 'd')",
    "substring(${a}, 1, 2)",
    ";",
    ".",
];

fn generate(rng: &mut Rng) -> String {
    let n = rng.below(24);
    let mut s = String::new();
    for _ in 0..n {
        if rng.below(8) == 0 {
            // Arbitrary code point (char::from_u32 rejects surrogates).
            if let Some(c) = char::from_u32((rng.next() % 0x11_0000) as u32) {
                s.push(c);
            }
        } else {
            s.push_str(PIECES[rng.below(PIECES.len())]);
        }
    }
    s
}

#[test]
fn never_panics_on_garbage() {
    let values = [
        vec!["Ada".to_owned()],
        vec![],
        vec![String::new(), "日本語".to_owned()],
        vec!["  padded  ".to_owned(), "second".to_owned()],
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut parsed = 0;
    for i in 0..30_000 {
        let src = generate(&mut rng);
        let v = values[i % values.len()].clone();
        match Expression::parse(&src) {
            Ok(x) => {
                parsed += 1;
                let _ = x.eval(&|_| Some(v.clone()));
                let _ = x.eval(&|_| None);
                let _ = x.references();
            }
            Err(e) => {
                let len = src.chars().count();
                assert!(e.column >= 1 && e.column <= len + 1, "column {} out of range for {src:?}", e.column);
                assert!(!e.message.is_empty());
            }
        }
    }
    assert!(parsed > 100, "the generator should also produce valid expressions ({parsed})");
    // Every prefix of valid expressions, and deep nesting.
    for src in ["substring(upper(${a} + 'é'), 1, 2) ?? (trim(\"x\\\"\") + ${b})", "lower(lower(lower(${a})))"] {
        for (i, _) in src.char_indices() {
            let _ = Expression::parse(&src[..i]);
        }
    }
    for n in [MAX_DEPTH, MAX_DEPTH + 1, 10_000] {
        let _ = Expression::parse(&format!("{}${{a}}{}", "(".repeat(n), ")".repeat(n)));
        let _ = Expression::parse(&format!("{}${{a}}{}", "trim(".repeat(n), ")".repeat(n)));
        let _ = Expression::parse(&"${a} + ".repeat(n));
        let _ = Expression::parse(&"(".repeat(n));
    }
}

/// The examples of `docs/mapping-expressions.md`, kept in step by hand.
#[test]
fn documented_examples() {
    let cases: &[(&str, &[(&str, &[&str])], Option<&str>)] = &[
        ("${mail}", &[("mail", &["ada@example.org"])], Some("ada@example.org")),
        ("${nickname} ?? ${givenName}", &[("givenName", &["Ada"])], Some("Ada")),
        ("${givenName} + \" \" + ${sn}", &[("givenName", &["Ada"]), ("sn", &["Lovelace"])], Some("Ada Lovelace")),
        ("${givenName} + \" \" + ${sn}", &[("givenName", &["Ada"])], None),
        (
            "${givenName} + \" \" + ${sn} ?? ${cn}",
            &[("givenName", &["Ada"]), ("cn", &["A. Lovelace"])],
            Some("A. Lovelace"),
        ),
        ("lower(${uid}) + \"@example.org\"", &[("uid", &["ALovelace"])], Some("alovelace@example.org")),
        (
            "upper(substring(${givenName}, 0, 1)) + substring(${sn}, 0, 7)",
            &[("givenName", &["ada"]), ("sn", &["lovelace"])],
            Some("Alovelac"),
        ),
        ("substring(${cn}, 4, 3)", &[("cn", &["Zoë Ærøskøbing"])], Some("Ærø")),
        ("trim(${title}) ?? \"Staff\"", &[("title", &["   "])], Some("Staff")),
        (r#""it's" + ' "quoted"' + "\ttab""#, &[], Some("it's \"quoted\"\ttab")),
        (
            "${givenName} + (\" \" + ${initials} ?? \"\") + \" \" + ${sn}",
            &[("givenName", &["Ada"]), ("sn", &["Lovelace"])],
            Some("Ada Lovelace"),
        ),
        (
            "${givenName} + (\" \" + ${initials} ?? \"\") + \" \" + ${sn}",
            &[("givenName", &["Ada"]), ("sn", &["Lovelace"]), ("initials", &["A."])],
            Some("Ada A. Lovelace"),
        ),
    ];
    for (src, e, want) in cases {
        assert_eq!(run(src, &entry(e)).as_deref(), *want, "{src}");
    }
    let errs = [
        ("substring(${displayName}, 0", 28),
        ("frob(${a})", 1),
        ("lower(${a}, ${b})", 1),
        ("\"abc", 1),
        ("'x' + ${abc", 7),
        ("'x' + ${a#}", 10),
        ("${a} + 12", 8),
    ];
    for (src, col) in errs {
        assert_eq!(Expression::parse(src).unwrap_err().column, col, "{src}");
    }
}
