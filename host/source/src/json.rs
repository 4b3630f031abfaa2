//! JSON files: an array of entry objects, or `{"entries": [...]}`.
//!
//! Each entry is an object with a string `"dn"` (case-insensitive key) and attributes whose
//! values are a string, a number, a boolean, or an array of those (multi-valued). Numbers and
//! booleans become their JSON text (`42`, `true`); `null` and `""` (alone or in an array) mean no
//! value.
//! Objects and nested arrays are refused. Binary values are written as base64 text.
//! Syntax errors carry serde_json's line and column; entry errors the line where the entry
//! starts (`people.json line 17: entry 3 has no "dn"`).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use serde_json::value::RawValue;

use crate::dn::Dn;
use crate::entry::Entry;
use crate::error::SourceError;
use crate::lines::Lines;

/// A serde_json error in a slice starting at `base` (a byte offset in the file), placed in the
/// file, with serde_json's own "at line L column C" dropped from the text.
fn syntax(file: &Path, lines: &Lines, base: usize, e: &serde_json::Error, what: &str) -> SourceError {
    let message = format!("{what}: {e}").replace(&format!(" at line {} column {}", e.line(), e.column()), "");
    let base_line = lines.line(base);
    let line = base_line + e.line().saturating_sub(1);
    let column = if e.line() <= 1 { base - lines.starts[base_line - 1] + e.column() } else { e.column() };
    SourceError::parse_at(file, line, column, message)
}

/// Parse a JSON file into entries (all or nothing).
#[cfg(test)]
pub(crate) fn parse(text: &str, file: &Path) -> Result<Vec<Entry>, SourceError> {
    crate::collect(|each| parse_each(text, file, each))
}

/// Parse a JSON file, handing each entry to `each` as soon as it is read;
/// the first error stops the parse.
pub(crate) fn parse_each(
    text: &str,
    file: &Path,
    each: &mut dyn FnMut(Entry, Dn) -> Result<(), SourceError>,
) -> Result<(), SourceError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = Lines::new(text);
    let offset = |raw: &RawValue| raw.get().as_ptr() as usize - text.as_ptr() as usize;
    let top: &RawValue = serde_json::from_str(text).map_err(|e| syntax(file, &lines, 0, &e, "invalid JSON"))?;
    let top_text = top.get();
    let list: Vec<&RawValue> = if top_text.starts_with('[') {
        serde_json::from_str(top_text).map_err(|e| syntax(file, &lines, offset(top), &e, "invalid JSON"))?
    } else if top_text.starts_with('{') {
        let object: BTreeMap<String, &RawValue> =
            serde_json::from_str(top_text).map_err(|e| syntax(file, &lines, offset(top), &e, "invalid JSON"))?;
        match object.get("entries") {
            Some(raw) if raw.get().starts_with('[') => {
                serde_json::from_str(raw.get()).map_err(|e| syntax(file, &lines, offset(raw), &e, "invalid JSON"))?
            }
            _ => {
                return Err(SourceError::parse(
                    file,
                    lines.line(offset(top)),
                    "expected an array of entries, or an object with an \"entries\" array: [{\"dn\": \"uid=bob,...\", \"cn\": \"Bob\"}, ...]",
                ));
            }
        }
    } else {
        return Err(SourceError::parse(
            file,
            lines.line(offset(top)),
            "expected an array of entries, or an object with an \"entries\" array",
        ));
    };
    for (index, raw) in list.into_iter().enumerate() {
        let number = index + 1;
        let line = lines.line(offset(raw));
        if !raw.get().starts_with('{') {
            return Err(SourceError::parse(
                file,
                line,
                format!(
                    "entry {number} is not an object; each entry is {{\"dn\": \"...\", \"attribute\": \"value\" or [\"v1\", \"v2\"]}}"
                ),
            ));
        }
        // Borrowed raw values keep each attribute's position; duplicate keys are merged below
        // by the case-insensitive name, but serde keeps the last of exact duplicates.
        let object: Vec<(String, &RawValue)> = serde_json::from_str::<BTreeMap<String, &RawValue>>(raw.get())
            .map_err(|e| syntax(file, &lines, offset(raw), &e, &format!("entry {number}")))?
            .into_iter()
            .collect();
        let mut dn = None;
        for (key, value) in &object {
            if key.eq_ignore_ascii_case("dn") {
                match serde_json::from_str::<Value>(value.get()) {
                    Ok(Value::String(s)) if !s.trim().is_empty() => dn = Some(s.trim().to_string()),
                    _ => {
                        return Err(SourceError::parse(
                            file,
                            lines.line(offset(value)),
                            format!("entry {number}: \"dn\" must be a non-empty string with the entry's DN"),
                        ));
                    }
                }
            }
        }
        let Some(dn) = dn else {
            return Err(SourceError::parse(
                file,
                line,
                format!(
                    "entry {number} has no \"dn\"; every entry needs its DN, e.g. \"dn\": \"uid=bob,ou=people,dc=example,dc=com\""
                ),
            ));
        };
        let parsed =
            crate::dn::Dn::parse(&dn).map_err(|e| SourceError::parse(file, line, format!("entry {number}: {e}")))?;
        let mut entry = Entry::new(dn, line);
        for (key, raw_value) in object {
            if key.eq_ignore_ascii_case("dn") {
                continue;
            }
            // The attribute's line, for messages only.
            let at = || lines.line(offset(raw_value));
            if key.is_empty()
                || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ';' || c == '.' || c == '_')
            {
                return Err(SourceError::parse(
                    file,
                    at(),
                    format!("entry {number}: \"{key}\" is not an attribute name (letters, digits, '-', ';options')"),
                ));
            }
            let value: Value = serde_json::from_str(raw_value.get()).map_err(|e| {
                syntax(file, &lines, offset(raw_value), &e, &format!("entry {number}: attribute \"{key}\""))
            })?;
            let bad = |what: &str| {
                SourceError::parse(
                    file,
                    at(),
                    format!(
                        "entry {number}: attribute \"{key}\" has {what}; values must be strings, numbers, booleans or an array of them"
                    ),
                )
            };
            let mut push = |v: Value| -> Result<(), SourceError> {
                match v {
                    Value::Null => {}
                    Value::String(s) => {
                        if !s.is_empty() {
                            entry.push(&key, s);
                        }
                    }
                    Value::Number(n) => entry.push(&key, n.to_string()),
                    Value::Bool(b) => entry.push(&key, b.to_string()),
                    Value::Array(_) => return Err(bad("an array inside an array")),
                    Value::Object(_) => return Err(bad("an object")),
                }
                Ok(())
            };
            match value {
                Value::Array(items) => items.into_iter().try_for_each(&mut push)?,
                other => push(other)?,
            }
        }
        each(entry, parsed)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn file() -> PathBuf {
        PathBuf::from("people.json")
    }

    #[test]
    fn array_form() {
        let text = r#"[
  {"dn": "uid=ann,ou=people,dc=example,dc=com", "objectClass": ["top", "inetOrgPerson"],
   "cn": "Ann Åberg", "employeeNumber": 42, "nsAccountLock": false, "description": null},
  {"DN": "uid=bob,ou=people,dc=example,dc=com", "mail": ["bob@example.com", null]}
]"#;
        let entries = parse(text, &file()).unwrap();
        assert_eq!(entries.len(), 2);
        let ann = &entries[0];
        assert_eq!(ann.line, 2);
        assert_eq!(ann.object_classes(), ["top", "inetOrgPerson"]);
        assert_eq!(ann.first("cn"), Some("Ann Åberg"));
        assert_eq!(ann.first("employeenumber"), Some("42"));
        assert_eq!(ann.first("nsaccountlock"), Some("false"));
        assert_eq!(ann.get("description"), None);
        assert_eq!(entries[1].line, 4);
        assert_eq!(entries[1].get("mail").unwrap(), ["bob@example.com"]);
    }

    #[test]
    fn entries_object_form() {
        let text = "{\"entries\": [\n {\"dn\": \"cn=a,dc=x\", \"cn\": \"a\"}\n]}";
        let entries = parse(text, &file()).unwrap();
        assert_eq!(entries[0].dn, "cn=a,dc=x");
        assert_eq!(entries[0].line, 2);
        let e = parse("{\"people\": []}", &file()).unwrap_err().to_string();
        assert!(e.contains("expected an array of entries"), "{e}");
        let e = parse("\"x\"", &file()).unwrap_err().to_string();
        assert!(e.contains("expected an array of entries"), "{e}");
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let text = "[\n  {\"dn\": \"cn=a,dc=x\",\n   \"cn\": \"a\",,\n  }\n]";
        let e = parse(text, &file()).unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("people.json line 3 column "), "{s}");
        assert!(!s.contains("at line"), "{s}");
    }

    #[test]
    fn entry_without_dn_names_number_and_line() {
        let text = "[\n{\"dn\": \"cn=a,dc=x\"},\n{\"dn\": \"cn=b,dc=x\"},\n\n  {\"cn\": \"c\"}\n]";
        let e = parse(text, &file()).unwrap_err().to_string();
        assert!(e.starts_with("people.json line 5: entry 3 has no \"dn\""), "{e}");
    }

    #[test]
    fn bad_values() {
        let text = "[{\"dn\": \"cn=a,dc=x\",\n \"manager\": {\"dn\": \"cn=b\"}}]";
        let e = parse(text, &file()).unwrap_err().to_string();
        assert!(e.starts_with("people.json line 2: entry 1: attribute \"manager\" has an object"), "{e}");
        let e = parse("[{\"dn\": 5}]", &file()).unwrap_err().to_string();
        assert!(e.contains("\"dn\" must be a non-empty string"), "{e}");
        let e = parse("[{\"dn\": \"cn=a\", \"x\": [[1]]}]", &file()).unwrap_err().to_string();
        assert!(e.contains("an array inside an array"), "{e}");
        let e = parse("[{\"dn\": \"cn=a\"}, 7]", &file()).unwrap_err().to_string();
        assert!(e.contains("entry 2 is not an object"), "{e}");
        let e = parse("[{\"dn\": \"nodn\"}]", &file()).unwrap_err().to_string();
        assert!(e.contains("entry 1: 'nodn' is not a distinguished name"), "{e}");
    }
}
