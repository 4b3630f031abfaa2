//! The parsers never panic: pseudo-random inputs built from the characters that matter to each
//! format must give entries or an error, never a crash.

use std::path::Path;

use provisio_source::{FileFormat, Filter, parse_entries};

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn text(&mut self, alphabet: &[&str], max_len: usize) -> String {
        let len = (self.next() % max_len as u64) as usize;
        (0..len).map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize]).collect()
    }
}

#[test]
fn filters_never_panic_and_round_trip() {
    let alphabet =
        ["(", ")", "&", "|", "!", "=", "*", "~", ">", "<", "\\", "2a", "c3", "ab", "cn", "a", " ", "é", ":", "\0"];
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let s = rng.text(&alphabet, 24);
        if let Ok(f) = s.parse::<Filter>() {
            parsed += 1;
            let again: Filter = f.to_string().parse().unwrap_or_else(|e| panic!("{s} -> {f}: {e}"));
            assert_eq!(again, f, "{s}");
        }
    }
    assert!(parsed > 0);
}

#[test]
fn file_parsers_never_panic() {
    let ldif = [
        "dn",
        ":",
        "::",
        ":<",
        " ",
        "\n",
        "\r\n",
        "#",
        "cn",
        "=",
        ",",
        "a",
        "YQ==",
        "changetype",
        "version",
        "é",
        "\\",
    ];
    let csv = ["dn", ",", "\"", "\n", "|", "\\", "cn", "=", "a", " ", "é", "\r\n"];
    let json = [
        "[",
        "]",
        "{",
        "}",
        "\"dn\"",
        "\"cn\"",
        ":",
        ",",
        "\"cn=a\"",
        "1",
        "null",
        "true",
        "\"x\"",
        " ",
        "\n",
        "\"entries\"",
    ];
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    for (format, alphabet) in
        [(FileFormat::Ldif, &ldif[..]), (FileFormat::Csv, &csv[..]), (FileFormat::Json, &json[..])]
    {
        for _ in 0..5_000 {
            let text = rng.text(alphabet, 40);
            let _ = parse_entries(&text, format, Path::new("fuzz"));
        }
    }
}
