//! CSV files: one entry per row.
//!
//! * The first row is the header: the attribute names. One column must be `dn`
//!   (case-insensitive); two columns with the same name (case-insensitive) add to one attribute.
//! * Cells are taken as written (no trimming). An empty cell means the attribute is absent.
//! * A cell holds several values separated by `|`, e.g. `top|person|inetOrgPerson`; write `\|`
//!   for a `|` inside a value. Every other backslash is kept as is, so DNs such as
//!   `cn=Smith\, John,...` need no extra escaping. The `dn` column is never split.
//! * Binary values (such as a binary GUID) are written as base64 text.
//! * Quoting follows RFC 4180 (the `csv` crate): a quoted cell may hold commas and line breaks.
//!
//! Every row must have as many fields as the header; a row that does not is an error naming its
//! line.

use std::path::Path;

use crate::dn::Dn;
use crate::entry::Entry;
use crate::error::SourceError;
use crate::lines::Lines;

/// Split a cell into values at unescaped `|` (see the module documentation).
pub fn split_values(cell: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut current = String::new();
    let mut chars = cell.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                current.push('|');
                chars.next();
            }
            '|' => values.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    values.push(current);
    values.retain(|v| !v.is_empty());
    values
}

/// The 1-based line where the record at a byte offset starts. The `csv` crate's own line count
/// skips blank lines, and its record offset may point at the blank lines before the record.
fn line_of(text: &str, lines: &Lines, byte: u64) -> usize {
    let bytes = text.as_bytes();
    let mut end = (byte as usize).min(text.len());
    while end < bytes.len() && (bytes[end] == b'\n' || bytes[end] == b'\r') {
        end += 1;
    }
    lines.line(end)
}

fn csv_error(text: &str, file: &Path, error: &::csv::Error, header_len: usize) -> SourceError {
    let line = error.position().map(|p| line_of(text, &Lines::new(text), p.byte())).unwrap_or(1);
    match error.kind() {
        ::csv::ErrorKind::UnequalLengths { len, .. } => SourceError::parse(
            file,
            line,
            format!(
                "{len} fields, but the header has {header_len}; every row needs one field per header column (quote a value that contains a comma)"
            ),
        ),
        ::csv::ErrorKind::Utf8 { .. } => {
            SourceError::parse(file, line, "the row is not UTF-8 text; save the file as UTF-8")
        }
        _ => SourceError::parse(file, line, format!("cannot read the row: {error}")),
    }
}

/// Parse a CSV file into entries (all or nothing).
#[cfg(test)]
pub(crate) fn parse(text: &str, file: &Path) -> Result<Vec<Entry>, SourceError> {
    crate::collect(|each| parse_each(text, file, each))
}

/// Parse a CSV file, handing each row's entry to `each` as soon as it is
/// read; the first error stops the parse.
pub(crate) fn parse_each(
    text: &str,
    file: &Path,
    each: &mut dyn FnMut(Entry, Dn) -> Result<(), SourceError>,
) -> Result<(), SourceError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(::csv::Trim::None)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| csv_error(text, file, &e, 0))?.clone();
    if header.is_empty() || header.iter().all(|h| h.trim().is_empty()) {
        return Err(SourceError::parse(
            file,
            1,
            "the file has no header row; the first row must name the attributes, one of them dn",
        ));
    }
    let mut names = Vec::with_capacity(header.len());
    for (i, name) in header.iter().enumerate() {
        let name = name.trim();
        if name.is_empty() {
            return Err(SourceError::parse(
                file,
                1,
                format!("header column {} has no name; name every column after the attribute it holds", i + 1),
            ));
        }
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ';' || c == '.' || c == '_') {
            return Err(SourceError::parse(
                file,
                1,
                format!("header column {} '{name}' is not an attribute name (letters, digits, '-', ';options')", i + 1),
            ));
        }
        names.push(name.to_string());
    }
    let Some(dn_col) = names.iter().position(|n| n.eq_ignore_ascii_case("dn")) else {
        return Err(SourceError::parse(
            file,
            1,
            format!("the header has no dn column ({}); add a dn column with each entry's DN", names.join(",")),
        ));
    };
    let lines = Lines::new(text);
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(text, file, &e, names.len()))?;
        let line = record.position().map(|p| line_of(text, &lines, p.byte())).unwrap_or(0);
        if record.iter().all(|cell| cell.is_empty()) {
            continue;
        }
        let dn = record.get(dn_col).unwrap_or("").trim();
        if dn.is_empty() {
            return Err(SourceError::parse(file, line, "the dn cell is empty; every row needs its entry's DN"));
        }
        let parsed = crate::dn::Dn::parse(dn).map_err(|e| SourceError::parse(file, line, e.to_string()))?;
        let mut entry = Entry::new(dn, line);
        for (i, cell) in record.iter().enumerate() {
            if i == dn_col {
                continue;
            }
            for value in split_values(cell) {
                entry.push(&names[i], value);
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
        PathBuf::from("people.csv")
    }

    #[test]
    fn happy_path() {
        let text = "dn,objectClass,cn,mail,entryUUID\n\
                    \"uid=ann,ou=people,dc=example,dc=com\",top|person|inetOrgPerson,Ann Åberg,ann@example.com,1\n\
                    \"cn=Smith\\, John,ou=people,dc=example,dc=com\",inetOrgPerson,\"Smith, John\",,2\n";
        let entries = parse(text, &file()).unwrap();
        assert_eq!(entries.len(), 2);
        let ann = &entries[0];
        assert_eq!(ann.dn, "uid=ann,ou=people,dc=example,dc=com");
        assert_eq!(ann.line, 2);
        assert_eq!(ann.object_classes(), ["top", "person", "inetOrgPerson"]);
        assert_eq!(ann.first("cn"), Some("Ann Åberg"));
        let john = &entries[1];
        assert_eq!(john.dn, r"cn=Smith\, John,ou=people,dc=example,dc=com");
        assert_eq!(john.first("cn"), Some("Smith, John"));
        assert_eq!(john.get("mail"), None, "an empty cell is an absent attribute");
        assert_eq!(john.line, 3);
        assert!(!john.attributes.contains_key("dn"));
    }

    #[test]
    fn pipes_and_escapes() {
        assert_eq!(split_values("a|b||c"), ["a", "b", "c"]);
        assert_eq!(split_values(r"a\|b|c"), ["a|b", "c"]);
        assert_eq!(split_values(r"cn=x\,y"), [r"cn=x\,y"]);
        assert!(split_values("").is_empty());
    }

    #[test]
    fn quoted_cells_with_line_breaks_keep_record_lines() {
        let text = "dn,description\ncn=a,\"two\nlines\"\ncn=b,x\n";
        let entries = parse(text, &file()).unwrap();
        assert_eq!(entries[0].first("description"), Some("two\nlines"));
        assert_eq!(entries[1].line, 4);
    }

    #[test]
    fn wrong_field_count_names_the_line() {
        let text = "dn,cn,sn,mail,uid,entryUUID\ncn=a,a,a,a,a,1\ncn=b,b,b,b,b,2\ncn=c,c,c,c,3\n";
        let e = parse(text, &file()).unwrap_err().to_string();
        assert_eq!(
            e,
            "people.csv line 4: 5 fields, but the header has 6; every row needs one field per header column (quote a value that contains a comma)"
        );
    }

    #[test]
    fn header_problems() {
        let e = parse("cn,mail\nx,y\n", &file()).unwrap_err().to_string();
        assert!(e.starts_with("people.csv line 1: the header has no dn column (cn,mail)"), "{e}");
        let e = parse("dn,,mail\nx,y,z\n", &file()).unwrap_err().to_string();
        assert!(e.starts_with("people.csv line 1: header column 2 has no name"), "{e}");
        let e = parse("dn,first name\ncn=a,b\n", &file()).unwrap_err().to_string();
        assert!(e.contains("'first name' is not an attribute name"), "{e}");
        let e = parse("", &file()).unwrap_err().to_string();
        assert!(e.contains("no header row"), "{e}");
    }

    #[test]
    fn row_problems() {
        let e = parse("dn,cn\n,x\n", &file()).unwrap_err().to_string();
        assert_eq!(e, "people.csv line 2: the dn cell is empty; every row needs its entry's DN");
        let e = parse("dn,cn\ncn=a,x\nbob,y\n", &file()).unwrap_err().to_string();
        assert!(e.starts_with("people.csv line 3: 'bob' is not a distinguished name"), "{e}");
    }

    #[test]
    fn blank_lines_are_skipped() {
        let entries = parse("dn,cn\n\ncn=a,a\n\n\ncn=b,b\n\ncn=c\n", &file()).unwrap_err().to_string();
        assert!(entries.starts_with("people.csv line 8: 1 fields, but the header has 2"), "{entries}");
        let entries = parse("dn,cn\n\ncn=a,a\n\n\ncn=b,b\n", &file()).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].line, 3);
        assert_eq!(entries[1].line, 6);
    }

    #[test]
    fn duplicate_columns_merge_and_bom_is_ignored() {
        let text = "\u{feff}DN,objectClass,OBJECTCLASS\ncn=a,top,person\n";
        let entries = parse(text, &file()).unwrap();
        assert_eq!(entries[0].object_classes(), ["top", "person"]);
    }
}
