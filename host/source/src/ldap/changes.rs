//! Change detection (spec a.4.3, Changed Users Algorithm): which entries changed since the stored
//! high-water mark, and what the next mark is.
//!
//! * `timestamp` (PingFederate's TIMESTAMP, "not older than the last check"): the search adds
//!   `(!(attr<=M-1s))`, which is `attr >= M` at one-second precision and overlaps the mark's own
//!   second. Entries without the attribute match too (the negation of an absent value is true),
//!   so they are read every cycle.
//! * `timestamp_no_negation` (TIMESTAMP_NO_NEGATION, for servers that evaluate negations badly,
//!   e.g. Oracle Directory Server): `(attr>=M)`. Entries without the attribute never match.
//! * `usn` (ACTIVE_DIRECTORY_USN): `(attr>=M)` on an integer counter such as `uSNChanged`.
//!
//! Every form includes the mark itself (`>=`): an entry changed in the same second as (or with
//! the same counter as) the last entry of the previous read is read again, and the engine's
//! hash comparison skips what it already pushed. The next mark is the highest value *seen in
//! the read* (never the clock), so a change the read did not see is never behind the mark.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

use crate::filter::escape_value;

/// The algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAlgorithm {
    /// Generalized-time attribute, negated filter (`(!(attr<=M-1s))`).
    Timestamp,
    /// Generalized-time attribute, plain filter (`(attr>=M)`).
    TimestampNoNegation,
    /// An integer update sequence number, e.g. AD's `uSNChanged`.
    Usn,
}

/// `change_detection = { algorithm = "...", attribute = "..." }`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeDetection {
    /// How changed entries are searched.
    pub algorithm: ChangeAlgorithm,
    /// The attribute: default `modifyTimestamp` for the timestamp algorithms, `uSNChanged`
    /// for `usn`. `whenChanged` is Active Directory's timestamp.
    #[serde(default)]
    pub attribute: Option<String>,
}

impl ChangeDetection {
    /// The attribute, after defaults.
    pub fn attribute(&self) -> &str {
        match (&self.attribute, self.algorithm) {
            (Some(a), _) => a.trim(),
            (None, ChangeAlgorithm::Usn) => "uSNChanged",
            (None, _) => "modifyTimestamp",
        }
    }

    /// Whether `mark` is a value this algorithm can search from.
    pub fn check_mark(&self, mark: &str) -> Result<(), String> {
        match self.algorithm {
            ChangeAlgorithm::Usn => {
                mark.trim().parse::<u64>().map(|_| ()).map_err(|_| format!("'{mark}' is not an update sequence number"))
            }
            _ => parse_time(mark).map(|_| ()).ok_or_else(|| format!("'{mark}' is not a generalized time")),
        }
    }

    /// The filter component that selects entries changed at or after `mark`.
    pub fn filter_since(&self, mark: &str) -> String {
        let attr = self.attribute();
        match self.algorithm {
            ChangeAlgorithm::Usn | ChangeAlgorithm::TimestampNoNegation => {
                format!("({attr}>={})", escape_value(mark.trim()))
            }
            ChangeAlgorithm::Timestamp => {
                let before = parse_time(mark).map(|t| format_time(t - 1)).unwrap_or_else(|| mark.trim().to_string());
                format!("(!({attr}<={}))", escape_value(&before))
            }
        }
    }

    /// Order two values of the change attribute; values that do not parse sort first.
    pub fn compare(&self, a: &str, b: &str) -> Ordering {
        match self.algorithm {
            ChangeAlgorithm::Usn => a.trim().parse::<u64>().ok().cmp(&b.trim().parse::<u64>().ok()),
            _ => time_key(a).cmp(&time_key(b)),
        }
    }

    /// The highest of `values` that the algorithm can search from.
    pub fn max<'a>(&self, values: impl IntoIterator<Item = &'a str>) -> Option<String> {
        values
            .into_iter()
            .filter(|v| self.check_mark(v).is_ok())
            .max_by(|a, b| self.compare(a, b))
            .map(|v| v.trim().to_string())
    }
}

/// A generalized time (`YYYYMMDDHHMMSS[.fff]Z`, or with a `+hhmm`/`-hhmm` offset) as seconds
/// since 1970 (UTC). Minutes-only and hours-only forms are accepted too.
pub fn parse_time(value: &str) -> Option<i64> {
    let v = value.trim();
    let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 10 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| digits.get(r).and_then(|s| s.parse::<i64>().ok());
    let (year, month, day, hour) = (num(0..4)?, num(4..6)?, num(6..8)?, num(8..10)?);
    let minute = num(10..12).unwrap_or(0);
    let second = num(12..14).unwrap_or(0);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let rest = &v[digits.len()..];
    let rest =
        rest.strip_prefix(['.', ',']).map(|r| r.trim_start_matches(|c: char| c.is_ascii_digit())).unwrap_or(rest);
    let offset = match rest {
        "Z" | "z" => 0,
        r if (r.starts_with('+') || r.starts_with('-')) && r.len() == 5 => {
            let h: i64 = r[1..3].parse().ok()?;
            let m: i64 = r[3..5].parse().ok()?;
            let o = h * 3600 + m * 60;
            if r.starts_with('+') { o } else { -o }
        }
        _ => return None,
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Seconds since 1970 as `YYYYMMDDHHMMSSZ`.
pub fn format_time(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}{m:02}{d:02}{:02}{:02}{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// A sortable key: UTC seconds, then the fraction's digits padded.
fn time_key(value: &str) -> Option<(i64, String)> {
    let secs = parse_time(value)?;
    let fraction: String = value
        .trim()
        .split_once(['.', ','])
        .map(|(_, f)| f.chars().take_while(char::is_ascii_digit).collect())
        .unwrap_or_default();
    Some((secs, format!("{fraction:0<9}")))
}

// Howard Hinnant's civil-date algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cd(algorithm: ChangeAlgorithm, attribute: Option<&str>) -> ChangeDetection {
        ChangeDetection { algorithm, attribute: attribute.map(str::to_string) }
    }

    #[test]
    fn times_parse_and_format() {
        assert_eq!(parse_time("19700101000000Z"), Some(0));
        assert_eq!(parse_time("20240229235959Z").map(format_time).as_deref(), Some("20240229235959Z"));
        assert_eq!(parse_time("20240301000000Z").map(|t| format_time(t - 1)).as_deref(), Some("20240229235959Z"));
        assert_eq!(parse_time("20240101120000.0Z"), parse_time("20240101120000Z"));
        assert_eq!(parse_time("20240101130000+0100"), parse_time("20240101120000Z"));
        assert_eq!(parse_time("2024010112Z"), parse_time("20240101120000Z"));
        assert_eq!(parse_time("20241301000000Z"), None);
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("20240101120000"), None, "a time zone is required");
    }

    #[test]
    fn filters_overlap_the_mark() {
        let ts = cd(ChangeAlgorithm::Timestamp, None);
        assert_eq!(ts.filter_since("20240301000000Z"), "(!(modifyTimestamp<=20240229235959Z))");
        let nn = cd(ChangeAlgorithm::TimestampNoNegation, Some("whenChanged"));
        assert_eq!(nn.filter_since("20240301000000.0Z"), "(whenChanged>=20240301000000.0Z)");
        let usn = cd(ChangeAlgorithm::Usn, None);
        assert_eq!(usn.attribute(), "uSNChanged");
        assert_eq!(usn.filter_since("1234"), "(uSNChanged>=1234)");
    }

    #[test]
    fn the_mark_is_the_highest_value_seen() {
        let ts = cd(ChangeAlgorithm::Timestamp, None);
        let max = ts.max(["20240101120000Z", "20240101120000.5Z", "garbage", "20231231235959Z"]);
        assert_eq!(max.as_deref(), Some("20240101120000.5Z"));
        let usn = cd(ChangeAlgorithm::Usn, None);
        assert_eq!(usn.max(["9", "10", "x"]).as_deref(), Some("10"), "numeric, not lexicographic");
        assert_eq!(usn.max([]), None);
        assert!(usn.check_mark("12").is_ok());
        assert!(usn.check_mark("20240101120000Z").is_err());
        assert!(ts.check_mark("12").is_err());
    }
}
