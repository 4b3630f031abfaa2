//! Turning a target's failed HTTP answer into a [`ConnectorError`].
//!
//! The kind and retryability come from the HTTP status
//! ([`ConnectorError::from_status`]); the text and the `scimType` come from
//! the body when it is a SCIM error:
//!
//! - SCIM 2.0 (RFC 7644 §3.12): `{"schemas":[…Error], "status":"400",
//!   "scimType":"invalidValue", "detail":"…"}`; `status` is a string by the
//!   RFC but a number at some servers: both are read.
//! - SCIM 1.1: `{"Errors":[{"description":"…","code":"400"}]}`, `code` a
//!   string or a number.
//! - Anything else (HTML, plain text, OAuth `{"error","error_description"}`,
//!   an empty body) is tolerated: its first line becomes the detail.
//!
//! `Retry-After` (in seconds, or an HTTP date) on a 429 or 503 becomes
//! `retry_after_ms`, so the host waits as long as the target asked.

use provisio_core::ConnectorError;
use provisio_core::host::HttpResponse;
use serde_json::Value;

/// What a SCIM error body says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScimErrorBody {
    /// The `status` (2.0) or `code` (1.1), read from a string or a number.
    pub status: Option<u16>,
    pub scim_type: Option<String>,
    /// `detail` (2.0), `description` (1.1), or the text of a non-SCIM body.
    pub detail: Option<String>,
}

/// A number given as a JSON number or a string of digits.
pub fn lenient_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => {
            n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0).map(|f| f as u64))
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Null | Value::String(_) => None,
        other => Some(other.to_string()),
    }
}

/// Read a SCIM 2.0, SCIM 1.1 or OAuth error body. A body that is not JSON
/// gives its first non-empty line (cut at 300 characters) as the detail.
pub fn parse_error_body(body: &[u8]) -> ScimErrorBody {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        let text = String::from_utf8_lossy(body);
        let line = text.lines().map(str::trim).find(|l| !l.is_empty()).map(|l| l.chars().take(300).collect());
        return ScimErrorBody { detail: line, ..Default::default() };
    };
    // SCIM 1.1: {"Errors": [{"description", "code"}, ...]}
    if let Some(errors) = json.get("Errors").and_then(Value::as_array) {
        let first = errors.first();
        let details: Vec<String> = errors.iter().filter_map(|e| text_of(e.get("description"))).collect();
        return ScimErrorBody {
            status: first.and_then(|e| e.get("code")).and_then(lenient_u64).and_then(|n| u16::try_from(n).ok()),
            scim_type: None,
            detail: (!details.is_empty()).then(|| details.join("; ")),
        };
    }
    let detail = text_of(json.get("detail"))
        .or_else(|| text_of(json.get("error_description")))
        .or_else(|| text_of(json.get("message")))
        .or_else(|| text_of(json.get("error")));
    ScimErrorBody {
        status: json.get("status").and_then(lenient_u64).and_then(|n| u16::try_from(n).ok()),
        scim_type: text_of(json.get("scimType")),
        detail,
    }
}

/// The error for a failed answer to `request` (e.g. `POST https://…/Users`).
///
/// `now_unix_ms` is the host's clock, used to turn an HTTP-date
/// `Retry-After` into a delay.
pub fn error_from_response(request: &str, response: &HttpResponse, now_unix_ms: u64) -> ConnectorError {
    let body = parse_error_body(&response.body);
    let status = response.status;
    let said = body.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
    let detail = match status {
        401 => format!("the target refused the credentials: {request} answered HTTP 401{said}"),
        403 => format!("the target refused the permission: {request} answered HTTP 403{said}"),
        _ => format!("{request} answered HTTP {status}{said}"),
    };
    let mut err = ConnectorError::from_status(status, detail);
    if let Some(t) = body.scim_type {
        err = err.with_scim_type(t);
    }
    if matches!(status, 429 | 503)
        && let Some(ms) = response.header("Retry-After").and_then(|v| retry_after_ms(v, now_unix_ms))
    {
        err = err.with_retry_after_ms(ms);
    }
    if status == 503 || status == 429 {
        err = err.retryable(true);
    }
    err
}

/// A `Retry-After` value in milliseconds: delay-seconds, or an HTTP date
/// (IMF-fixdate, RFC 850 or asctime) minus now (0 when in the past).
pub fn retry_after_ms(value: &str, now_unix_ms: u64) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.saturating_mul(1000));
    }
    let at = parse_http_date(value)?;
    Some(at.saturating_mul(1000).saturating_sub(now_unix_ms))
}

/// Seconds since the Unix epoch of an HTTP date (RFC 9110 §5.6.7):
/// `Sun, 06 Nov 1994 08:49:37 GMT`, `Sunday, 06-Nov-94 08:49:37 GMT` or
/// `Sun Nov  6 08:49:37 1994`.
pub fn parse_http_date(value: &str) -> Option<u64> {
    let words: Vec<&str> = value.split_whitespace().collect();
    let (day, month, year, time) = match words.as_slice() {
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        [_, d, m, y, t, "GMT"] => (d.parse().ok()?, *m, y.parse::<i64>().ok()?, *t),
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        [_, dmy, t, "GMT"] => {
            let mut p = dmy.split('-');
            let d = p.next()?.parse().ok()?;
            let m = p.next()?;
            let y: i64 = p.next()?.parse().ok()?;
            (
                d,
                m,
                if y < 70 {
                    2000 + y
                } else if y < 100 {
                    1900 + y
                } else {
                    y
                },
                *t,
            )
        }
        // asctime: Sun Nov  6 08:49:37 1994
        [_, m, d, t, y] => (d.parse().ok()?, *m, y.parse().ok()?, *t),
        _ => return None,
    };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as i64 + 1;
    let mut hms = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, s) = (hms.next()??, hms.next()??, hms.next()??);
    let day: i64 = day;
    // Four-digit years only (RFC 9110): a huge year overflowed the day count.
    if !(1..=9999).contains(&year)
        || !(1..=31).contains(&day)
        || !(0..24).contains(&h)
        || !(0..60).contains(&mi)
        || !(0..=60).contains(&s)
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    u64::try_from(days * 86_400 + h * 3600 + mi * 60 + s).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whether an error means the target does not implement the request
/// (501 Not Implemented, or 405 Method Not Allowed).
pub fn is_not_implemented(err: &ConnectorError) -> bool {
    matches!(err.status, Some(501) | Some(405))
}

#[cfg(test)]
mod tests {
    use super::*;
    use provisio_core::ErrorKind;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn scim_2_status_as_string_or_number() {
        let b = parse_error_body(br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"taken"}"#);
        assert_eq!(
            b,
            ScimErrorBody { status: Some(409), scim_type: Some("uniqueness".into()), detail: Some("taken".into()) }
        );
        let b = parse_error_body(br#"{"status":400,"scimType":"invalidFilter","detail":"bad"}"#);
        assert_eq!(b.status, Some(400));
        assert_eq!(b.scim_type.as_deref(), Some("invalidFilter"));
    }

    #[test]
    fn scim_1_1_errors() {
        let b = parse_error_body(br#"{"Errors":[{"description":"Resource 42 not found","code":"404"}]}"#);
        assert_eq!(b.status, Some(404));
        assert_eq!(b.detail.as_deref(), Some("Resource 42 not found"));
        let b = parse_error_body(br#"{"Errors":[{"description":"a","code":400},{"description":"b"}]}"#);
        assert_eq!(b.status, Some(400));
        assert_eq!(b.detail.as_deref(), Some("a; b"));
    }

    #[test]
    fn non_json_bodies_are_tolerated() {
        assert_eq!(
            parse_error_body(b"\n<html>Bad Gateway</html>\n").detail.as_deref(),
            Some("<html>Bad Gateway</html>")
        );
        assert_eq!(parse_error_body(b"").detail, None);
        let b = parse_error_body(br#"{"error":"invalid_client","error_description":"unknown client"}"#);
        assert_eq!(b.detail.as_deref(), Some("unknown client"));
    }

    #[test]
    fn errors_carry_kind_status_scim_type_and_text() {
        let r = response(409, &[], r#"{"status":"409","scimType":"uniqueness","detail":"userName taken"}"#);
        let e = error_from_response("POST https://t/Users", &r, 0);
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert_eq!(e.status, Some(409));
        assert_eq!(e.scim_type.as_deref(), Some("uniqueness"));
        assert_eq!(e.detail, "POST https://t/Users answered HTTP 409: userName taken");
        assert!(!e.retryable);
        let e = error_from_response("GET https://t/Users", &response(401, &[], ""), 0);
        assert_eq!(e.kind, ErrorKind::Auth);
        assert!(
            e.detail.contains("refused the credentials") && e.detail.contains("GET https://t/Users"),
            "{}",
            e.detail
        );
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let e = error_from_response("GET u", &response(429, &[("Retry-After", "7")], ""), 0);
        assert_eq!((e.kind, e.retry_after_ms, e.retryable), (ErrorKind::RateLimited, Some(7000), true));
        // 2026-01-01T00:00:00Z is 1_767_225_600 s.
        let now = 1_767_225_600_000;
        let e =
            error_from_response("GET u", &response(503, &[("retry-after", "Thu, 01 Jan 2026 00:00:30 GMT")], ""), now);
        assert_eq!((e.kind, e.retry_after_ms, e.retryable), (ErrorKind::Target, Some(30_000), true));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(784_111_777));
        assert_eq!(retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(0));
        assert_eq!(retry_after_ms("soon", now), None);
    }

    /// Found by the `scim_response` fuzz target
    /// (fuzz/corpus/scim_response/crash-huge-year): a year of 19 digits
    /// overflowed the day arithmetic (a panic with overflow checks, a wrapped
    /// delay without).
    #[test]
    fn dates_with_years_beyond_four_digits_are_not_dates() {
        assert_eq!(parse_http_date("Sunday, 06-Nov-1024819115206086200 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 9223372036854775807 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 -9223372036854775808"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 0000 08:49:37 GMT"), None);
        assert_eq!(retry_after_ms("Sun, 06 Nov 10000 08:49:37 GMT", 0), None);
        assert_eq!(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"), Some(253_402_300_799));
    }

    #[test]
    fn lenient_numbers() {
        assert_eq!(lenient_u64(&serde_json::json!("12")), Some(12));
        assert_eq!(lenient_u64(&serde_json::json!(12)), Some(12));
        assert_eq!(lenient_u64(&serde_json::json!(12.0)), Some(12));
        assert_eq!(lenient_u64(&serde_json::json!("x")), None);
        assert_eq!(lenient_u64(&serde_json::json!(-1)), None);
    }
}
