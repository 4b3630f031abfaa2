//! LDIF content files (RFC 2849).
//!
//! Accepted: an optional `version: 1` header, `#` comments (folded comments too), entries
//! separated by blank lines, each starting with `dn:` (or `dn::` base64), `attr: value`,
//! `attr:: base64`, folded lines (a line starting with one space continues the previous line),
//! CRLF line ends and a UTF-8 byte order mark.
//!
//! An empty value (`description:`) is no value, as an empty cell is in CSV.
//! `attr:: base64` values are decoded to UTF-8 text. When the bytes are not UTF-8 (a photo, an
//! AD `objectGUID`) or the attribute is declared binary ([`crate::ParseOptions`]), the value is
//! kept as canonical base64 text instead, which is also how CSV and JSON files carry bytes.
//!
//! Refused with a clear error: change records (`changetype:`, `control:`), values by URL
//! (`attr:< file://...`), and every syntax error, with the line it is on.

use std::path::Path;

use base64::Engine as _;

use crate::ParseOptions;
use crate::dn::Dn;
use crate::entry::Entry;
use crate::error::SourceError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// One unfolded line: its first physical line number and its text.
struct Logical {
    line: usize,
    text: String,
}

/// Parse an LDIF file into entries (all or nothing).
#[cfg(test)]
pub(crate) fn parse(text: &str, file: &Path, options: &ParseOptions) -> Result<Vec<Entry>, SourceError> {
    crate::collect(|each| parse_each(text, file, options, each))
}

/// Parse an LDIF file, handing each entry to `each` once parsed; the first
/// error stops the parse. (The file is unfolded whole first.)
pub(crate) fn parse_each(
    text: &str,
    file: &Path,
    options: &ParseOptions,
    each: &mut dyn FnMut(Entry, Dn) -> Result<(), SourceError>,
) -> Result<(), SourceError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = unfold(text, file)?;
    for (index, mut record) in records.into_iter().enumerate() {
        if index == 0 && record.first().is_some_and(|l| attr_name(&l.text).eq_ignore_ascii_case("version")) {
            let version = record.remove(0);
            let value = version.text.split_once(':').map(|(_, v)| v.trim()).unwrap_or("");
            if value != "1" {
                return Err(SourceError::parse(
                    file,
                    version.line,
                    format!(
                        "LDIF version '{value}' is not supported; the only LDIF version is 1 (write 'version: 1' or leave it out)"
                    ),
                ));
            }
            if record.is_empty() {
                continue;
            }
        }
        let (entry, dn) = parse_record(record, file, options)?;
        each(entry, dn)?;
    }
    Ok(())
}

/// The part of a line before its first ':' (the whole line if none).
fn attr_name(text: &str) -> &str {
    text.split_once(':').map_or(text, |(n, _)| n).trim_end()
}

/// Split the text into records of unfolded lines, dropping comments.
fn unfold(text: &str, file: &Path) -> Result<Vec<Vec<Logical>>, SourceError> {
    let mut records: Vec<Vec<Logical>> = Vec::new();
    let mut current: Vec<Logical> = Vec::new();
    // Whether the previous non-continuation line was a comment (its folds are comment too).
    let mut in_comment = false;
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.is_empty() || (line.trim().is_empty() && current.is_empty() && !in_comment) {
            if !current.is_empty() {
                records.push(std::mem::take(&mut current));
            }
            in_comment = false;
            continue;
        }
        if let Some(rest) = line.strip_prefix(' ') {
            if in_comment {
                continue;
            }
            match current.last_mut() {
                Some(last) => last.text.push_str(rest),
                None => {
                    return Err(SourceError::parse(
                        file,
                        line_no,
                        "a continuation line (starting with a space) with no line before it to continue; remove the leading space",
                    ));
                }
            }
            continue;
        }
        if line.starts_with('#') {
            in_comment = true;
            continue;
        }
        in_comment = false;
        current.push(Logical { line: line_no, text: line.to_string() });
    }
    if !current.is_empty() {
        records.push(current);
    }
    Ok(records)
}

/// A value as written after the attribute name.
enum Value<'a> {
    Text(&'a str),
    Base64(&'a str),
}

/// Split `name: value`, `name:: base64`; refuse `name:< url`.
/// `after_masked`: the previous line's attribute, when its values are
/// secrets. A broken line right after one may be the mis-folded rest of
/// that value, so nothing of it is quoted.
fn split_line<'a>(
    l: &'a Logical,
    file: &Path,
    after_masked: Option<&str>,
) -> Result<(&'a str, Value<'a>), SourceError> {
    let broken_fold = |what: &str| {
        after_masked.map(|masked| {
            SourceError::parse(
                file,
                l.line,
                format!(
                    "{what} right after a {masked} line (not quoted: {masked} is masked); if it continues that value, \
                     start it with one space, otherwise write 'attribute: value'"
                ),
            )
        })
    };
    let Some((name, rest)) = l.text.split_once(':') else {
        if let Some(e) = broken_fold("attribute line without a value separator ':'") {
            return Err(e);
        }
        // Only what looks like the attribute name is quoted: the rest of the
        // line is a value, and values may be secrets (a password written with
        // '=' instead of ':').
        let shown: String = l
            .text
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ';' | '.' | '_'))
            .take(40)
            .collect();
        let starts = if shown.is_empty() { String::new() } else { format!(" (it starts with '{shown}')") };
        return Err(SourceError::parse(
            file,
            l.line,
            format!(
                "attribute line without a value separator ':'{starts}; write 'attribute: value', and start a continued line with one space"
            ),
        ));
    };
    let name = name.trim_end();
    if name.is_empty()
        || !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ';' || c == '.' || c == '_')
    {
        if let Some(e) = broken_fold("a line that does not start with an attribute name") {
            return Err(e);
        }
        return Err(SourceError::parse_at(
            file,
            l.line,
            1,
            format!("'{name}' is not an attribute name (letters, digits, '-', and ';options')"),
        ));
    }
    if let Some(b64) = rest.strip_prefix(':') {
        return Ok((name, Value::Base64(b64.trim())));
    }
    if rest.starts_with('<') {
        return Err(SourceError::parse(
            file,
            l.line,
            format!(
                "attribute {name} takes its value from a URL ('{name}:<'), which is not supported; put the value in the file (base64 with '{name}:: ...' for bytes)"
            ),
        ));
    }
    Ok((name, Value::Text(rest.trim_start_matches(' '))))
}

/// `masked`: the value is a secret, so the decoder's complaint (which
/// quotes a byte of it) is left out.
fn decode_b64(name: &str, b64: &str, l: &Logical, file: &Path, masked: bool) -> Result<Vec<u8>, SourceError> {
    B64.decode(b64).map_err(|e| {
        let why = if masked { String::new() } else { format!(" ({e})") };
        SourceError::parse(file, l.line, format!("attribute {name}: the '::' value is not valid base64{why}"))
    })
}

fn parse_record(record: Vec<Logical>, file: &Path, options: &ParseOptions) -> Result<(Entry, Dn), SourceError> {
    let mut lines = record.into_iter();
    let Some(first) = lines.next() else {
        return Err(SourceError::parse(file, 1, "empty record"));
    };
    let (name, value) = split_line(&first, file, None)?;
    if !name.eq_ignore_ascii_case("dn") {
        return Err(SourceError::parse(
            file,
            first.line,
            format!(
                "the entry starts with '{name}', but every entry must start with a 'dn:' line; separate entries with one blank line and do not put blank lines inside an entry"
            ),
        ));
    }
    let dn = match value {
        Value::Text(t) => t.trim().to_string(),
        Value::Base64(b) => String::from_utf8(decode_b64("dn", b, &first, file, false)?)
            .map_err(|_| SourceError::parse(file, first.line, "the base64 DN is not UTF-8 text"))?
            .trim()
            .to_string(),
    };
    if dn.is_empty() {
        return Err(SourceError::parse(file, first.line, "the entry's DN is empty; give the entry's full DN"));
    }
    let parsed = crate::dn::Dn::parse(&dn).map_err(|e| SourceError::parse(file, first.line, e.to_string()))?;
    let mut entry = Entry::new(dn, first.line);
    let mut previous_masked: Option<String> = None;
    for l in lines {
        let (name, value) = split_line(&l, file, previous_masked.as_deref())?;
        previous_masked = options.is_masked(name).then(|| name.to_owned());
        if name.eq_ignore_ascii_case("changetype") || name.eq_ignore_ascii_case("control") {
            return Err(SourceError::parse(
                file,
                l.line,
                format!(
                    "entry {} is a change record ('{name}:'); a source file must hold entries as they are (content records, as ldapsearch or slapcat write them), not changes",
                    entry.dn
                ),
            ));
        }
        if name.eq_ignore_ascii_case("dn") {
            return Err(SourceError::parse(
                file,
                l.line,
                "a second 'dn:' line inside one entry; separate entries with a blank line",
            ));
        }
        let binary = options.is_binary(name);
        let stored = match value {
            Value::Text(t) if binary => B64.encode(t.as_bytes()),
            Value::Text(t) => t.to_string(),
            Value::Base64(b) => {
                let bytes = decode_b64(name, b, &l, file, options.is_masked(name))?;
                if binary {
                    B64.encode(&bytes)
                } else {
                    match String::from_utf8(bytes) {
                        Ok(text) => text,
                        Err(e) => B64.encode(e.into_bytes()),
                    }
                }
            }
        };
        // An empty value is no value, as an empty CSV cell or JSON string is.
        if !stored.is_empty() {
            entry.push(name, stored);
        }
    }
    Ok((entry, parsed))
}

#[cfg(test)]
#[path = "ldif_tests.rs"]
mod tests;
