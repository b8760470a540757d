//! Parameter parsing and validation, done before anything is forwarded.
//!
//! What passes is forwarded in a normal form (times and steps as decimal
//! seconds), so VictoriaMetrics receives exactly what was checked here
//! rather than a string it might read differently. Parameters other than
//! the documented ones are ignored and never forwarded.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::errors::ApiError;

/// The longest `query` forwarded, in bytes (VictoriaMetrics'
/// `-search.maxQueryLen` default).
pub(crate) const MAX_QUERY_BYTES: usize = 16 * 1024;

/// The most points per series a range query may ask for (Prometheus' limit).
pub(crate) const MAX_POINTS: i64 = 11_000;

/// `step` when the request has none: 15 s.
const DEFAULT_STEP_MS: i64 = 15_000;

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z in milliseconds: the
/// span RFC 3339 can write. Unix seconds are held to the same span, which
/// also keeps every difference and product below well inside `i64`.
const MIN_TIME_MS: i64 = -62_167_219_200_000;
const MAX_TIME_MS: i64 = 253_402_300_799_999;

/// The longest step: the whole span. A longer one could only ever give a
/// single point, and rejecting it keeps the arithmetic bounded.
const MAX_STEP_MS: i64 = MAX_TIME_MS - MIN_TIME_MS;

/// How much of a rejected value an error message quotes.
const QUOTE_CHARS: usize = 64;

/// Query-string extractor whose rejection (for instance a parameter given
/// twice) is the JSON `bad_data` error instead of axum's plain text.
pub(crate) struct Params<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for Params<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::try_from_uri(&parts.uri)
            .map(|Query(params)| Params(params))
            .map_err(|rejection| ApiError::bad_data(rejection.body_text()))
    }
}

/// The raw parameters of `/query_range`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RangeParams {
    pub(crate) query: Option<String>,
    pub(crate) start: Option<String>,
    pub(crate) end: Option<String>,
    pub(crate) step: Option<String>,
}

/// The raw parameters of `/query`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct InstantParams {
    pub(crate) query: Option<String>,
    pub(crate) time: Option<String>,
}

/// A validated range query; times and step in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RangeQuery {
    pub(crate) query: String,
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) step: i64,
}

/// A validated instant query; `time` in milliseconds, `None` for "now".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InstantQuery {
    pub(crate) query: String,
    pub(crate) time: Option<i64>,
}

impl RangeQuery {
    /// Checks every rule; the first broken one is the error.
    pub(crate) fn validate(params: RangeParams) -> Result<Self, ApiError> {
        let query = check_query(params.query)?;
        let now = now_ms();
        let start = parse_time("start", required("start", params.start.as_deref())?, now)?;
        let end = parse_time("end", required("end", params.end.as_deref())?, now)?;
        if end < start {
            return Err(ApiError::bad_data(
                "invalid parameter \"end\": end timestamp must not be before start time",
            ));
        }
        let step = match optional(params.step.as_deref()) {
            Some(step) => parse_step(step)?,
            None => DEFAULT_STEP_MS,
        };
        // Both times lie in the span, so the difference cannot overflow;
        // integer division, as Prometheus counts.
        if (end - start) / step > MAX_POINTS {
            return Err(ApiError::bad_data(
                "exceeded maximum resolution of 11,000 points per timeseries. \
                 Try decreasing the query resolution (?step=XX)",
            ));
        }
        Ok(RangeQuery {
            query,
            start,
            end,
            step,
        })
    }

    /// The parameters VictoriaMetrics receives.
    pub(crate) fn upstream_params(&self) -> [(&'static str, String); 4] {
        [
            ("query", self.query.clone()),
            ("start", seconds(self.start)),
            ("end", seconds(self.end)),
            ("step", seconds(self.step)),
        ]
    }
}

impl InstantQuery {
    /// Checks every rule; the first broken one is the error.
    pub(crate) fn validate(params: InstantParams) -> Result<Self, ApiError> {
        let query = check_query(params.query)?;
        let time = optional(params.time.as_deref())
            .map(|time| parse_time("time", time, now_ms()))
            .transpose()?;
        Ok(InstantQuery { query, time })
    }

    /// The parameters VictoriaMetrics receives (no `time`: its "now").
    pub(crate) fn upstream_params(&self) -> Vec<(&'static str, String)> {
        let mut params = vec![("query", self.query.clone())];
        if let Some(time) = self.time {
            params.push(("time", seconds(time)));
        }
        params
    }
}

fn check_query(query: Option<String>) -> Result<String, ApiError> {
    let query = query.ok_or_else(|| ApiError::bad_data("missing parameter \"query\""))?;
    if query.trim().is_empty() {
        return Err(ApiError::bad_data(
            "invalid parameter \"query\": it is empty",
        ));
    }
    if query.len() > MAX_QUERY_BYTES {
        return Err(ApiError::bad_data(format!(
            "invalid parameter \"query\": {} bytes long, the limit is {MAX_QUERY_BYTES}",
            query.len()
        )));
    }
    Ok(query)
}

/// A required parameter: absent and empty are both missing.
fn required<'a>(name: &str, value: Option<&'a str>) -> Result<&'a str, ApiError> {
    optional(value).ok_or_else(|| ApiError::bad_data(format!("missing parameter \"{name}\"")))
}

/// An optional parameter: empty counts as absent, as in Prometheus.
fn optional(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// `value`, cut to [`QUOTE_CHARS`] characters for an error message (a
/// rejected parameter may be megabytes long).
fn quote(value: &str) -> String {
    match value.char_indices().nth(QUOTE_CHARS) {
        Some((cut, _)) => format!("{:?}…", &value[..cut]),
        None => format!("{value:?}"),
    }
}

/// The wall clock in milliseconds since the epoch, for relative times.
fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(MAX_TIME_MS)
}

/// Parses an RFC 3339 time, unix seconds (a float is allowed) or a time
/// relative to `now` (`-1h`, `-5m30s`: a Prometheus duration ago, as
/// VictoriaMetrics reads it) into milliseconds since the epoch.
pub(crate) fn parse_time(name: &str, value: &str, now: i64) -> Result<i64, ApiError> {
    let relative = value
        .strip_prefix('-')
        .filter(|rest| rest.bytes().last().is_some_and(|b| b.is_ascii_alphabetic()))
        .and_then(parse_duration_ms);
    let parsed = if let Some(ago) = relative {
        now.checked_sub(ago)
            .filter(|ms| (MIN_TIME_MS..=MAX_TIME_MS).contains(ms))
    } else if looks_numeric(value) {
        // In range, so a whole number the cast keeps exactly.
        number_ms(value)
            .filter(|ms| (MIN_TIME_MS as f64..=MAX_TIME_MS as f64).contains(ms))
            .map(|ms| ms as i64)
    } else {
        parse_rfc3339(value).filter(|ms| (MIN_TIME_MS..=MAX_TIME_MS).contains(ms))
    };
    match parsed {
        Some(ms) => Ok(ms),
        None => Err(ApiError::bad_data(format!(
            "invalid parameter \"{name}\": cannot parse {} as an RFC 3339 time, unix seconds \
             or a duration ago such as -1h (years 0000 to 9999)",
            quote(value)
        ))),
    }
}

/// Parses a positive step — a Prometheus duration (`15s`, `1m30s`,
/// `500ms`; units y w d h m s ms, largest first, each at most once) or a
/// number of seconds — into milliseconds, at least 1.
pub(crate) fn parse_step(value: &str) -> Result<i64, ApiError> {
    let parsed = if looks_numeric(value) {
        // Below 1 ms is refused, not rounded up: the minimum is documented.
        exact_ms(value)
            .filter(|ms| *ms >= 1.0)
            .and_then(|_| number_ms(value))
            .filter(|ms| *ms <= MAX_STEP_MS as f64)
            .map(|ms| ms as i64)
    } else {
        parse_duration_ms(value).filter(|ms| *ms <= MAX_STEP_MS)
    };
    match parsed {
        Some(ms) if ms >= 1 => Ok(ms),
        _ => Err(ApiError::bad_data(format!(
            "invalid parameter \"step\": cannot parse {} as a positive duration \
             (15s, 1m30s, 500ms; at least 1ms) or number of seconds",
            quote(value)
        ))),
    }
}

/// Only digits, sign, point and exponent: the strings [`number_ms`] may
/// read. Keeps Rust's `inf`, `NaN` and `infinity` out.
fn looks_numeric(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'+' | b'-' | b'e' | b'E'))
}

/// Seconds as a float, to whole milliseconds (rounded); `None` when not a
/// finite number.
fn number_ms(value: &str) -> Option<f64> {
    exact_ms(value).map(f64::round)
}

/// Seconds as a float, in milliseconds (not rounded); `None` when not a
/// finite number.
fn exact_ms(value: &str) -> Option<f64> {
    let seconds: f64 = value.parse().ok()?;
    let ms = seconds * 1000.0;
    ms.is_finite().then_some(ms)
}

/// A Prometheus duration in milliseconds; `None` on bad syntax or overflow.
fn parse_duration_ms(value: &str) -> Option<i64> {
    const DAY: i64 = 86_400_000;
    // Largest first; the index orders them.
    const UNITS: [(&str, i64); 7] = [
        ("y", 365 * DAY),
        ("w", 7 * DAY),
        ("d", DAY),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let mut rest = value;
    let mut next_unit = 0;
    let mut total: i64 = 0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        // The digits are ASCII, so `digits` is a char boundary.
        let (number, after) = rest.split_at(digits);
        let number: i64 = number.parse().ok()?;
        // "ms" before "m": the longer unit wins.
        let unit = UNITS
            .iter()
            .enumerate()
            .rev()
            .find(|(_, (suffix, _))| after.starts_with(suffix))?;
        let (index, (suffix, factor)) = unit;
        if index < next_unit {
            return None;
        }
        next_unit = index + 1;
        total = total.checked_add(number.checked_mul(*factor)?)?;
        rest = &after[suffix.len()..];
    }
    Some(total)
}

/// RFC 3339 (`2024-05-01T12:00:00Z`, `2024-05-01T14:00:00.250+02:00`) in
/// milliseconds since the epoch; fractional seconds beyond milliseconds are
/// cut, as Prometheus does. `None` unless the whole string is one valid
/// date-time.
///
/// The `time` crate reads the fields, the calendar and the offset. Two
/// rules that RFC 3339 leaves to applications stay as Prometheus (Go) reads
/// them, where `time` is more lenient: a `T` (or `t`) between date and
/// time, not any character; at most nine fractional digits. A leap second
/// (`23:59:60` at the end of June or December, UTC), which the RFC allows,
/// reads as the last millisecond before it.
fn parse_rfc3339(value: &str) -> Option<i64> {
    let b = value.as_bytes();
    if !matches!(b.get(10), Some(b'T' | b't')) || fraction_digits(b) > 9 {
        return None;
    }
    let at = OffsetDateTime::parse(value, &Rfc3339).ok()?;
    Some(at.unix_timestamp() * 1_000 + i64::from(at.millisecond()))
}

/// How many digits follow the `.` after the seconds (0 without one).
fn fraction_digits(b: &[u8]) -> usize {
    match b.get(19) {
        Some(b'.') => b[20..].iter().take_while(|c| c.is_ascii_digit()).count(),
        _ => 0,
    }
}

/// Milliseconds as decimal seconds: `1714564800`, `-1.5`, `0.25`.
pub(crate) fn seconds(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let abs = ms.unsigned_abs();
    let (whole, frac) = (abs / 1000, abs % 1000);
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let frac = format!("{frac:03}");
        format!("{sign}{whole}.{}", frac.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The "now" relative times are read against in these tests.
    const NOW: i64 = 1_714_564_800_000;

    fn time(value: &str) -> Option<i64> {
        parse_time("time", value, NOW).ok()
    }

    fn step(value: &str) -> Option<i64> {
        parse_step(value).ok()
    }

    #[test]
    fn parses_rfc3339() {
        assert_eq!(time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(time("2024-05-01T12:00:00Z"), Some(1_714_564_800_000));
        assert_eq!(time("2024-05-01T14:00:00+02:00"), Some(1_714_564_800_000));
        assert_eq!(time("2024-05-01T11:30:00.5-00:30"), Some(1_714_564_800_500));
        assert_eq!(
            time("2024-05-01t12:00:00.123456789z"),
            Some(1_714_564_800_123)
        );
        assert_eq!(time("2000-02-29T00:00:00Z"), Some(951_782_400_000));
        assert_eq!(time("1969-12-31T23:59:59Z"), Some(-1_000));
        assert_eq!(time("0000-01-01T00:00:00Z"), Some(MIN_TIME_MS));
        assert_eq!(time("9999-12-31T23:59:59.999Z"), Some(MAX_TIME_MS));
        // A leap second reads as the last millisecond before it.
        assert_eq!(time("2016-12-31T23:59:60Z"), Some(1_483_228_799_999));
        assert_eq!(time("2016-12-31T18:59:60-05:00"), Some(1_483_228_799_999));
    }

    #[test]
    fn rejects_broken_rfc3339() {
        for bad in [
            "2024-05-01",
            "2024-05-01T12:00:00",
            "2024-05-01 12:00:00Z",
            "2024-05-01X12:00:00Z",
            "2024-05-01T23:59:60Z",
            "9999-12-31T23:59:59-00:01",
            "2024-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T12:60:00Z",
            "2024-05-01T12:00:60Z",
            "2024-05-01T12:00:00.Z",
            "2024-05-01T12:00:00.1234567890Z",
            "2024-05-01T12:00:00+2:00",
            "2024-05-01T12:00:00+24:00",
            "2024-05-01T12:00:00+02:60",
            "2024-05-01T12:00:00Zjunk",
            "0000-01-01T00:00:00+00:01",
            "+2024-05-01T12:00:00Z",
            "２０２４-05-01T12:00:00Z",
            "now",
            "",
        ] {
            assert_eq!(time(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_times_relative_to_now() {
        assert_eq!(time("-1h"), Some(NOW - 3_600_000));
        assert_eq!(time("-5m"), Some(NOW - 300_000));
        assert_eq!(time("-1h30m"), Some(NOW - 5_400_000));
        assert_eq!(time("-0s"), Some(NOW));
        for bad in [
            "-", "-h", "-1x", "--1h", "-1h-", "1h", "-20000y", "now", "now-1h",
        ] {
            assert_eq!(time(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_unix_seconds() {
        assert_eq!(time("1714564800"), Some(1_714_564_800_000));
        assert_eq!(time("1714564800.25"), Some(1_714_564_800_250));
        assert_eq!(time("1.7145648e9"), Some(1_714_564_800_000));
        assert_eq!(time("-1.5"), Some(-1_500));
        assert_eq!(time("0.0004"), Some(0));
        for bad in [
            "inf", "NaN", "1e400", "1e13", "--1", ".", "e", "1.2.3", "0x10",
        ] {
            assert_eq!(time(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_steps() {
        assert_eq!(step("15s"), Some(15_000));
        assert_eq!(step("1m30s"), Some(90_000));
        assert_eq!(step("500ms"), Some(500));
        assert_eq!(step("1h1ms"), Some(3_600_001));
        assert_eq!(step("1y2w3d4h5m6s7ms"), Some(33_019_506_007));
        assert_eq!(step("15"), Some(15_000));
        assert_eq!(step("0.5"), Some(500));
        assert_eq!(step("1e-3"), Some(1));
        assert_eq!(step("0.0015"), Some(2));
        for bad in [
            "0.0009",
            "0.0005",
            "1e-4",
            "0s",
            "0",
            "-15s",
            "-1",
            "0.0001",
            "s",
            "1.5s",
            "1s1m",
            "1m1m",
            "1mms",
            "15 s",
            "1S",
            "inf",
            "",
            "99999999999999999999s",
            "20000y",
            "1e300",
        ] {
            assert_eq!(step(bad), None, "{bad}");
        }
    }

    #[test]
    fn range_rules() {
        let params = |query: &str, start: &str, end: &str, step: Option<&str>| RangeParams {
            query: Some(query.into()),
            start: Some(start.into()),
            end: Some(end.into()),
            step: step.map(Into::into),
        };
        let ok = RangeQuery::validate(params("up", "1000", "1060.5", None)).unwrap();
        assert_eq!(
            ok.upstream_params(),
            [
                ("query", "up".to_owned()),
                ("start", "1000".to_owned()),
                ("end", "1060.5".to_owned()),
                ("step", "15".to_owned()),
            ]
        );
        // Exactly 11,000 steps is allowed; one more point is not.
        assert!(RangeQuery::validate(params("up", "0", "11000", Some("1s"))).is_ok());
        assert!(RangeQuery::validate(params("up", "0", "11001", Some("1s"))).is_err());
        assert!(RangeQuery::validate(params("up", "10", "9", None)).is_err());
        assert!(RangeQuery::validate(params("up", "10", "10", None)).is_ok());
        assert!(RangeQuery::validate(params(" \t", "1", "2", None)).is_err());
        assert!(RangeQuery::validate(params(&"x".repeat(MAX_QUERY_BYTES), "1", "2", None)).is_ok());
        assert!(
            RangeQuery::validate(params(&"x".repeat(MAX_QUERY_BYTES + 1), "1", "2", None)).is_err()
        );
        assert!(RangeQuery::validate(RangeParams::default()).is_err());
    }

    #[test]
    fn formats_seconds() {
        assert_eq!(seconds(0), "0");
        assert_eq!(seconds(1_500), "1.5");
        assert_eq!(seconds(-1_500), "-1.5");
        assert_eq!(seconds(1_001), "1.001");
        assert_eq!(seconds(250), "0.25");
        assert_eq!(seconds(MIN_TIME_MS), "-62167219200");
    }

    #[test]
    fn quotes_long_values_briefly() {
        let long = "é".repeat(1000);
        let message = parse_time("start", &long, NOW).unwrap_err().message;
        assert!(message.len() < 300, "{message}");
        assert!(message.contains('…'));
    }
}
