//! Prometheus naming rules, written once and used twice: by the
//! `asdlc-metrics-macros` crate to reject bad names at compile time (with a
//! span on the offending token) and by the `asdlc-metrics` runtime to reject
//! them at registration time.
//!
//! The rules are those of the Prometheus data model plus the lints that
//! `promtool check metrics` applies, so that anything accepted here exports
//! cleanly:
//!
//! ```
//! use asdlc_metrics_naming::{check_metric_name, Kind};
//!
//! assert!(check_metric_name("asdlc_http_requests_total", Kind::Counter).is_ok());
//! let err = check_metric_name("asdlc_latency_ms", Kind::Histogram).unwrap_err();
//! assert!(err.to_string().contains("base unit"));
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::fmt;

/// The type of a metric, as far as naming rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A monotonically increasing counter: its name ends in `_total`.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// A histogram: `_bucket`, `_sum` and `_count` series are derived from its name.
    Histogram,
}

impl Kind {
    /// The lower-case name Prometheus uses in `# TYPE` lines.
    ///
    /// ```
    /// assert_eq!(asdlc_metrics_naming::Kind::Histogram.as_str(), "histogram");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// Why a name was rejected, with a hint on how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError {
    /// What is wrong, e.g. `counter names must end in "_total"`.
    pub message: String,
    /// A suggestion, e.g. `rename it to "jobs_total"`.
    pub hint: Option<String>,
}

impl NameError {
    fn new(message: impl Into<String>) -> Self {
        NameError {
            message: message.into(),
            hint: None,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for NameError {}

/// Label names a user may not set: `le` and `quantile` belong to histograms
/// and summaries, `service` is added to every series by asdlc-metrics itself.
pub const RESERVED_LABELS: &[&str] = &["le", "quantile", "service"];

/// Base units promtool accepts, and the base unit of each non-base unit it knows.
const UNITS: &[(&str, &str)] = &[
    ("amperes", "amperes"),
    ("bytes", "bytes"),
    ("celsius", "celsius"),
    ("grams", "grams"),
    ("joules", "joules"),
    ("kelvin", "kelvin"),
    ("meters", "meters"),
    ("metres", "metres"),
    ("seconds", "seconds"),
    ("volts", "volts"),
    ("minutes", "seconds"),
    ("hours", "seconds"),
    ("days", "seconds"),
    ("weeks", "seconds"),
    ("kelvins", "kelvin"),
    ("fahrenheit", "celsius"),
    ("rankine", "celsius"),
    ("inches", "meters"),
    ("yards", "meters"),
    ("miles", "meters"),
    ("bits", "bytes"),
    ("calories", "joules"),
    ("pounds", "grams"),
    ("ounces", "grams"),
];

const UNIT_PREFIXES: &[&str] = &[
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega",
    "mibi", "giga", "gibi", "tera", "tebi", "peta", "pebi",
];

/// Abbreviated units promtool rejects, with the base unit to use instead.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("s", "seconds"),
    ("ms", "seconds"),
    ("us", "seconds"),
    ("ns", "seconds"),
    ("sec", "seconds"),
    ("secs", "seconds"),
    ("b", "bytes"),
    ("kb", "bytes"),
    ("mb", "bytes"),
    ("gb", "bytes"),
    ("tb", "bytes"),
    ("pb", "bytes"),
    ("m", "meters"),
    ("h", "seconds"),
    ("d", "seconds"),
];

const TYPE_WORDS: &[&str] = &["counter", "gauge", "histogram", "summary", "untyped"];

/// Checks a metric family name against the data model and promtool's lints
/// for a metric of type `kind`.
///
/// ```
/// use asdlc_metrics_naming::{check_metric_name, Kind};
///
/// assert!(check_metric_name("asdlc_active_tasks", Kind::Gauge).is_ok());
/// assert!(check_metric_name("asdlc_jobs", Kind::Counter).is_err()); // no `_total`
/// assert!(check_metric_name("asdlc_jobs_total", Kind::Gauge).is_err()); // `_total` on a gauge
/// ```
pub fn check_metric_name(name: &str, kind: Kind) -> Result<(), NameError> {
    check_syntax(name, "metric", true)?;
    if name.contains(':') {
        return Err(NameError::new(format!(
            "metric name `{name}` contains `:`, which is reserved for recording rules"
        ))
        .hint(format!("use `{}`", name.replace(':', "_"))));
    }
    if name.starts_with("__") {
        return Err(NameError::new(format!(
            "metric name `{name}` starts with `__`, which is reserved for Prometheus' internal use"
        )));
    }
    check_snake_case(name, "metric")?;
    let words: Vec<&str> = name.split('_').collect();
    for word in &words {
        if let Some((_, base)) = ABBREVIATIONS.iter().find(|(a, _)| a == word) {
            return Err(NameError::new(format!(
                "metric name `{name}` contains the abbreviated unit `{word}`"
            ))
            .hint(format!("use base unit \"{base}\" instead")));
        }
        if let Some((unit, base)) = unit_of(word) {
            if unit != base {
                return Err(
                    NameError::new(format!("metric name `{name}` uses the unit `{unit}`"))
                        .hint(format!("use base unit \"{base}\" instead of \"{unit}\"")),
                );
            }
        }
        if TYPE_WORDS.contains(word) {
            return Err(NameError::new(format!(
                "metric name `{name}` contains the metric type `{word}`"
            ))
            .hint("the type is exported in the `# TYPE` line; leave it out of the name"));
        }
    }
    let total = name.ends_with("_total");
    match kind {
        Kind::Counter if !total => {
            return Err(
                NameError::new(format!("counter name `{name}` must end in `_total`"))
                    .hint(format!("rename it to `{name}_total`")),
            );
        }
        Kind::Gauge | Kind::Histogram if total => {
            return Err(NameError::new(format!(
                "{} name `{name}` must not end in `_total`, which marks counters",
                kind.as_str()
            ))
            .hint(format!(
                "rename it to `{}`",
                name.trim_end_matches("_total")
            )));
        }
        _ => {}
    }
    for suffix in ["_bucket", "_count", "_sum"] {
        if name.ends_with(suffix) {
            return Err(NameError::new(format!(
                "metric name `{name}` ends in `{suffix}`, a suffix reserved for histogram and summary series"
            ))
            .hint(format!("rename it to `{}`", name.trim_end_matches(suffix))));
        }
    }
    Ok(())
}

/// Checks a label name: syntax, snake_case, and the reserved names
/// (`__*`, [`RESERVED_LABELS`]).
///
/// ```
/// use asdlc_metrics_naming::check_label_name;
///
/// assert!(check_label_name("event_type").is_ok());
/// assert!(check_label_name("le").is_err());
/// assert!(check_label_name("__name__").is_err());
/// ```
pub fn check_label_name(name: &str) -> Result<(), NameError> {
    check_syntax(name, "label", false)?;
    if name.starts_with("__") {
        return Err(NameError::new(format!(
            "label name `{name}` starts with `__`, which is reserved for Prometheus' internal use"
        )));
    }
    if RESERVED_LABELS.contains(&name) {
        let why = if name == "service" {
            "asdlc-metrics adds `service` to every series itself (set it with `asdlc_metrics::init`)"
        } else {
            "histograms use it for bucket bounds and summaries for quantiles"
        };
        return Err(NameError::new(format!(
            "label name `{name}` is reserved: {why}"
        )));
    }
    check_snake_case(name, "label")
}

/// Label names the function instrumentation (`#[timed]`, `#[counted]`) sets
/// on its families itself, in this order; a user-given constant label may
/// not reuse them.
pub const FUNCTION_LABELS: [&str; 3] = ["function", "module", "result"];

/// The default histogram buckets (Prometheus' request-latency defaults, in
/// seconds): the runtime's `DEFAULT_BUCKETS`, and what the macros check an
/// objective's latency threshold against when `#[timed]` has no `buckets`.
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Checks a label value: it must not be empty, since Prometheus treats an
/// empty label value as an absent label.
///
/// ```
/// use asdlc_metrics_naming::check_label_value;
///
/// assert!(check_label_value("xadd").is_ok());
/// assert!(check_label_value("").is_err());
/// ```
pub fn check_label_value(value: &str) -> Result<(), NameError> {
    if value.is_empty() {
        return Err(NameError::new(
            "label value must not be empty (Prometheus treats an empty label value as no label)",
        ));
    }
    Ok(())
}

/// Checks the name of a family that records durations (a `#[timed]`
/// histogram): the rules of [`check_metric_name`] for a histogram, and the
/// base unit `_seconds` at the end, since the recorded values are seconds.
///
/// ```
/// use asdlc_metrics_naming::check_duration_name;
///
/// assert!(check_duration_name("asdlc_import_duration_seconds").is_ok());
/// let err = check_duration_name("asdlc_import_duration").unwrap_err();
/// assert_eq!(err.hint.as_deref(), Some("rename it to `asdlc_import_duration_seconds`"));
/// ```
pub fn check_duration_name(name: &str) -> Result<(), NameError> {
    check_metric_name(name, Kind::Histogram)?;
    if !name.ends_with("_seconds") {
        return Err(NameError::new(
            "#[timed] records seconds, so its family name must end in `_seconds`",
        )
        .hint(format!("rename it to `{name}_seconds`")));
    }
    Ok(())
}

/// Checks histogram bucket upper bounds: at least one, all finite, strictly
/// increasing. On error, returns the index of the offending bound (0 for an
/// empty list) with the reason.
///
/// ```
/// use asdlc_metrics_naming::check_buckets;
///
/// assert!(check_buckets(&[0.1, 0.5, 1.0]).is_ok());
/// assert_eq!(check_buckets(&[0.1, 0.1]).unwrap_err().0, 1);
/// ```
pub fn check_buckets(bounds: &[f64]) -> Result<(), (usize, NameError)> {
    if bounds.is_empty() {
        return Err((
            0,
            NameError::new("a histogram needs at least one bucket bound")
                .hint("for example `buckets = [0.01, 0.1, 1.0]`"),
        ));
    }
    for (i, &b) in bounds.iter().enumerate() {
        if !b.is_finite() {
            return Err((
                i,
                NameError::new(format!("bucket bound {b} is not finite"))
                    .hint("the `+Inf` bucket is always added; list only finite bounds"),
            ));
        }
        if i > 0 && b <= bounds[i - 1] {
            return Err((
                i,
                NameError::new(format!(
                    "bucket bounds must be strictly increasing, but {b} follows {}",
                    bounds[i - 1]
                )),
            ));
        }
    }
    Ok(())
}

fn check_syntax(name: &str, what: &str, colon_allowed: bool) -> Result<(), NameError> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err(NameError::new(format!("{what} name is empty")));
    };
    let valid_first =
        first.is_ascii_alphabetic() || first == '_' || (colon_allowed && first == ':');
    if !valid_first {
        return Err(NameError::new(format!(
            "{what} name `{name}` must start with a letter or `_`"
        )));
    }
    if let Some(bad) =
        chars.find(|&c| !(c.is_ascii_alphanumeric() || c == '_' || (colon_allowed && c == ':')))
    {
        return Err(NameError::new(format!(
            "{what} name `{name}` contains `{bad}`; only ASCII letters, digits and `_` are allowed"
        )));
    }
    Ok(())
}

fn check_snake_case(name: &str, what: &str) -> Result<(), NameError> {
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(
            NameError::new(format!("{what} name `{name}` is not snake_case"))
                .hint(format!("use `{}`", to_snake_case(name))),
        );
    }
    Ok(())
}

/// The base unit a metric family name ends in (its last `_` word), as
/// OpenMetrics' `# UNIT` line declares it; `None` for names without one.
/// Counters are asked without their `_total` suffix.
///
/// ```
/// use asdlc_metrics_naming::base_unit;
///
/// assert_eq!(base_unit("asdlc_http_request_duration_seconds"), Some("seconds"));
/// assert_eq!(base_unit("asdlc_process_memory_bytes"), Some("bytes"));
/// assert_eq!(base_unit("asdlc_active_tasks"), None);
/// assert_eq!(base_unit("seconds"), None); // a unit alone is not a name with a unit
/// ```
pub fn base_unit(family: &str) -> Option<&'static str> {
    let (_, last) = family.rsplit_once('_')?;
    UNITS
        .iter()
        .find(|&&(unit, base)| unit == base && unit == last)
        .map(|&(unit, _)| unit)
}

fn unit_of(word: &str) -> Option<(&str, &'static str)> {
    UNITS.iter().find_map(|&(unit, base)| {
        if word == unit {
            return Some((word, base));
        }
        UNIT_PREFIXES
            .iter()
            .any(|p| word.strip_prefix(p) == Some(unit))
            .then_some((word, base))
    })
}

/// Converts `CamelCase` or `camelCase` to `snake_case`, as used for label
/// values derived from enum variants.
///
/// ```
/// assert_eq!(asdlc_metrics_naming::to_snake_case("TaskCreated"), "task_created");
/// assert_eq!(asdlc_metrics_naming::to_snake_case("HTTPError"), "http_error");
/// ```
pub fn to_snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = match prev {
                None | Some('_') => false,
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) => p.is_uppercase() && next.is_some_and(|n| n.is_lowercase()),
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_names_pass() {
        for (name, kind) in [
            ("asdlc_service_info", Kind::Gauge),
            ("asdlc_http_requests_total", Kind::Counter),
            ("asdlc_http_request_duration_seconds", Kind::Histogram),
            ("asdlc_events_processed_total", Kind::Counter),
            ("asdlc_active_tasks", Kind::Gauge),
            ("asdlc_active_workers", Kind::Gauge),
            ("asdlc_redis_connection_up", Kind::Gauge),
            ("asdlc_redis_operation_duration_seconds", Kind::Histogram),
            ("asdlc_process_memory_bytes", Kind::Gauge),
            ("process_cpu_seconds_total", Kind::Counter),
        ] {
            assert_eq!(check_metric_name(name, kind), Ok(()), "{name}");
        }
    }

    #[test]
    fn bad_names_are_rejected_with_reasons() {
        let cases = [
            ("", Kind::Gauge, "empty"),
            ("9lives", Kind::Gauge, "start with"),
            ("a-b", Kind::Gauge, "contains `-`"),
            ("a:b", Kind::Gauge, "recording rules"),
            ("__x", Kind::Gauge, "reserved"),
            ("fooBar", Kind::Gauge, "snake_case"),
            ("latency_ms", Kind::Histogram, "abbreviated unit `ms`"),
            ("size_kb", Kind::Gauge, "abbreviated unit `kb`"),
            (
                "latency_milliseconds",
                Kind::Histogram,
                "unit `milliseconds`",
            ),
            ("size_kilobytes", Kind::Gauge, "unit `kilobytes`"),
            ("uptime_hours", Kind::Gauge, "unit `hours`"),
            ("jobs", Kind::Counter, "must end in `_total`"),
            ("jobs_total", Kind::Gauge, "must not end in `_total`"),
            ("jobs_counter_total", Kind::Counter, "metric type"),
            ("queue_count", Kind::Gauge, "`_count`"),
            ("x_bucket", Kind::Gauge, "`_bucket`"),
        ];
        for (name, kind, needle) in cases {
            let err = check_metric_name(name, kind).expect_err(name);
            assert!(err.to_string().contains(needle), "{name}: {err}");
        }
    }

    #[test]
    fn labels() {
        assert!(check_label_name("endpoint").is_ok());
        for bad in [
            "",
            "le",
            "quantile",
            "service",
            "__x",
            "eventType",
            "a b",
            "a:b",
        ] {
            assert!(check_label_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn buckets() {
        assert!(check_buckets(&[0.005, 0.01]).is_ok());
        assert_eq!(check_buckets(&[]).unwrap_err().0, 0);
        assert_eq!(check_buckets(&[1.0, f64::INFINITY]).unwrap_err().0, 1);
        assert_eq!(check_buckets(&[f64::NAN]).unwrap_err().0, 0);
        assert_eq!(check_buckets(&[1.0, 2.0, 1.5]).unwrap_err().0, 2);
    }

    #[test]
    fn snake_case() {
        assert_eq!(to_snake_case("Ok"), "ok");
        assert_eq!(to_snake_case("TaskCreated"), "task_created");
        assert_eq!(to_snake_case("Http2Error"), "http2_error");
        assert_eq!(to_snake_case("IOError"), "io_error");
    }
}
