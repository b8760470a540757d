//! Failure reasons (issue 15): functions whose error type derives
//! `LabelValue` count their errors by variant in
//! `asdlc_function_errors_total{function, module, reason}`, expected
//! variants count as `result="ok"`, and any other error type adds no
//! series — in every form a function can take. Generated code must add no
//! warning to user code, as in `macro_forms`.
#![deny(warnings, clippy::pedantic)]
// Counts are small integers carried in f64: exact comparison is right.
#![allow(clippy::float_cmp)]

use std::future::Future;

use asdlc_metrics::{ErrorReason, LabelValue, counted, in_flight, redis_op, timed};
use asdlc_testkit::exposition::Scrape;

use crate::common::{calls, redis_state_lock, scrape, timings};

const MODULE: &str = "suite::reasons";

/// A typical error enum: a variant with fields, one renamed, one expected.
#[derive(Debug, LabelValue)]
enum FetchError {
    /// The caller asks for keys that may not exist: not a failure.
    #[label(expected)]
    NotFound,
    Timeout {
        #[allow(dead_code)]
        after_ms: u64,
    },
    #[label(rename = "db")]
    Database(#[allow(dead_code)] String),
}

/// What a call is made to return.
#[derive(Clone, Copy)]
enum Ask {
    Ok,
    Missing,
    Slow,
    Broken,
}

/// `answer`, after giving the executor a turn (a real await point).
async fn answer_soon(ask: Ask) -> Result<u8, FetchError> {
    tokio::task::yield_now().await;
    answer(ask)
}

fn answer(ask: Ask) -> Result<u8, FetchError> {
    match ask {
        Ask::Ok => Ok(1),
        Ask::Missing => Err(FetchError::NotFound),
        Ask::Slow => Err(FetchError::Timeout { after_ms: 500 }),
        Ask::Broken => Err(FetchError::Database("connection reset".to_owned())),
    }
}

/// The calls every form is given: 2 ok, 1 expected, 1 timeout, 2 db.
const ASKS: [Ask; 6] = [
    Ask::Ok,
    Ask::Missing,
    Ask::Slow,
    Ask::Broken,
    Ask::Ok,
    Ask::Broken,
];

/// `asdlc_function_errors_total` of `function` for `reason`, or `None`
/// when that series does not exist.
fn reason(s: &Scrape, function: &str, reason: &str) -> Option<f64> {
    let labels = [
        ("function", function),
        ("module", MODULE),
        ("reason", reason),
    ];
    s.find("asdlc_function_errors_total", &labels)
        .next()
        .map(|sample| sample.value)
}

/// Every reason series of `function`.
fn reasons_of(s: &Scrape, function: &str) -> Vec<String> {
    s.find("asdlc_function_errors_total", &[("function", function)])
        .filter_map(|sample| sample.label("reason").map(str::to_owned))
        .collect()
}

/// What `ASKS` must leave behind for `function`, counted by `#[counted]`
/// (and `#[timed]`, when `timed`).
fn assert_counted_by_reason(function: &str, timed: bool) {
    let s = scrape();
    assert_eq!(
        calls(&s, MODULE, function, Some("ok")),
        3.0,
        "{function}: 2 ok + the expected error"
    );
    assert_eq!(
        calls(&s, MODULE, function, Some("error")),
        3.0,
        "{function}"
    );
    if timed {
        assert_eq!(timings(&s, MODULE, function, Some("ok")), 3.0, "{function}");
        assert_eq!(
            timings(&s, MODULE, function, Some("error")),
            3.0,
            "{function}"
        );
    }
    assert_eq!(reason(&s, function, "timeout"), Some(1.0), "{function}");
    assert_eq!(reason(&s, function, "db"), Some(2.0), "{function}");
    let mut names = reasons_of(&s, function);
    names.sort();
    assert_eq!(
        names,
        ["db", "timeout"],
        "{function}: no series for the expected variant"
    );
}

#[timed]
#[counted]
fn fetch_sync(ask: Ask) -> Result<u8, FetchError> {
    let value = answer(ask)?;
    Ok(value)
}

#[test]
fn sync_functions_count_errors_by_variant() {
    for ask in ASKS {
        let _ = fetch_sync(ask);
    }
    assert_counted_by_reason("fetch_sync", true);
}

#[counted]
async fn fetch_async(ask: Ask) -> Result<u8, FetchError> {
    answer_soon(ask).await
}

#[tokio::test]
async fn async_functions_count_errors_by_variant() {
    for ask in ASKS {
        let _ = fetch_async(ask).await;
    }
    assert_counted_by_reason("fetch_async", false);
}

#[timed]
fn fetch_later(ask: Ask) -> impl Future<Output = Result<u8, FetchError>> {
    answer_soon(ask)
}

#[tokio::test]
async fn impl_future_functions_count_errors_by_variant_under_timed_alone() {
    for ask in ASKS {
        let _ = fetch_later(ask).await;
    }
    let s = scrape();
    assert_eq!(timings(&s, MODULE, "fetch_later", Some("ok")), 3.0);
    assert_eq!(timings(&s, MODULE, "fetch_later", Some("error")), 3.0);
    assert_eq!(reason(&s, "fetch_later", "timeout"), Some(1.0));
    assert_eq!(reason(&s, "fetch_later", "db"), Some(2.0));
    assert_eq!(reason(&s, "fetch_later", "not_found"), None);
}

#[async_trait::async_trait]
trait Store {
    async fn fetch(&self, ask: Ask) -> Result<u8, FetchError>;
    async fn load(&self, fail: bool) -> anyhow::Result<u8>;
}

struct Memory;

#[async_trait::async_trait]
impl Store for Memory {
    #[counted]
    #[timed]
    async fn fetch(&self, ask: Ask) -> Result<u8, FetchError> {
        answer_soon(ask).await
    }

    #[timed]
    #[counted]
    async fn load(&self, fail: bool) -> anyhow::Result<u8> {
        anyhow::ensure!(!fail, "no luck");
        Ok(1)
    }
}

#[tokio::test]
async fn async_trait_methods_count_errors_by_variant_and_anyhow_adds_nothing() {
    let store: Box<dyn Store + Send + Sync> = Box::new(Memory);
    for ask in ASKS {
        let _ = store.fetch(ask).await;
    }
    assert_counted_by_reason("fetch", true);
    assert!(store.load(false).await.is_ok());
    assert!(store.load(true).await.is_err());
    let s = scrape();
    assert_eq!(calls(&s, MODULE, "load", Some("error")), 1.0);
    assert!(reasons_of(&s, "load").is_empty());
}

#[counted]
fn read_file(fail: bool) -> std::io::Result<u8> {
    if fail {
        return Err(std::io::Error::other("disk on fire"));
    }
    Ok(1)
}

#[counted]
async fn boxed(fail: bool) -> Result<u8, Box<dyn std::error::Error + Send + Sync>> {
    if fail {
        return Err("boxed failure".into());
    }
    Ok(1)
}

#[timed]
fn boxed_later(fail: bool) -> impl Future<Output = Result<u8, Box<dyn std::error::Error>>> {
    async move {
        if fail {
            return Err("boxed failure".into());
        }
        Ok(1)
    }
}

#[tokio::test]
async fn errors_of_other_types_keep_ok_and_error_and_add_no_series() {
    let _ = read_file(true);
    let _ = read_file(false);
    let _ = boxed(true).await;
    let _ = boxed_later(true).await;
    let s = scrape();
    assert_eq!(calls(&s, MODULE, "read_file", Some("error")), 1.0);
    assert_eq!(calls(&s, MODULE, "read_file", Some("ok")), 1.0);
    assert_eq!(calls(&s, MODULE, "boxed", Some("error")), 1.0);
    assert_eq!(timings(&s, MODULE, "boxed_later", Some("error")), 1.0);
    for function in ["read_file", "boxed", "boxed_later"] {
        assert!(reasons_of(&s, function).is_empty(), "{function}");
    }
}

/// Only the outer `Result` decides the outcome: an inner `Result` is the
/// function's value, whatever it holds.
#[counted]
fn nested(outer: bool, inner: Ask) -> Result<Result<u8, FetchError>, FetchError> {
    if outer {
        return Err(FetchError::Timeout { after_ms: 1 });
    }
    Ok(answer(inner))
}

/// `Option` is a value, never an error: `None` counts as ok.
#[counted]
fn maybe(some: bool) -> Option<FetchError> {
    some.then_some(FetchError::Timeout { after_ms: 1 })
}

#[test]
fn nested_results_and_options_behave_as_documented() {
    let _ = nested(false, Ask::Broken);
    let _ = nested(false, Ask::Ok);
    let _ = nested(true, Ask::Ok);
    let _ = maybe(true);
    let _ = maybe(false);
    let s = scrape();
    assert_eq!(calls(&s, MODULE, "nested", Some("ok")), 2.0);
    assert_eq!(calls(&s, MODULE, "nested", Some("error")), 1.0);
    assert_eq!(reasons_of(&s, "nested"), ["timeout"]);
    assert_eq!(calls(&s, MODULE, "maybe", Some("ok")), 2.0);
    assert!(reasons_of(&s, "maybe").is_empty());
}

#[derive(Debug, LabelValue)]
enum ParseError {
    Empty,
    NotANumber,
}

/// One call site, two error types (the site's `static` is shared by every
/// instance of a generic function): each error counts under its own
/// reasons. The bound is what lets the classification, resolved where the
/// function is defined, see that `E` names reasons.
#[counted]
fn generic<E: ErrorReason>(error: Option<E>) -> Result<(), E> {
    error.map_or(Ok(()), Err)
}

/// Without the bound, `E` is just some error there: no reasons.
#[counted]
fn generic_unbounded<E>(error: Option<E>) -> Result<(), E> {
    error.map_or(Ok(()), Err)
}

#[test]
fn a_generic_function_counts_each_error_type_by_its_own_reasons() {
    let _ = generic(Some(FetchError::Timeout { after_ms: 1 }));
    let _ = generic(Some(ParseError::NotANumber));
    let _ = generic(Some(ParseError::Empty));
    let _ = generic(Some(ParseError::NotANumber));
    let _ = generic(Some(FetchError::NotFound));
    let _ = generic::<ParseError>(None);
    let s = scrape();
    assert_eq!(reason(&s, "generic", "timeout"), Some(1.0));
    assert_eq!(reason(&s, "generic", "not_a_number"), Some(2.0));
    assert_eq!(reason(&s, "generic", "empty"), Some(1.0));
    assert_eq!(reasons_of(&s, "generic").len(), 3);
    assert_eq!(calls(&s, MODULE, "generic", Some("error")), 4.0);
    assert_eq!(calls(&s, MODULE, "generic", Some("ok")), 2.0);

    let _ = generic_unbounded(Some(ParseError::Empty));
    let _ = generic_unbounded(Some(FetchError::NotFound));
    let s = scrape();
    assert_eq!(calls(&s, MODULE, "generic_unbounded", Some("error")), 2.0);
    assert!(reasons_of(&s, "generic_unbounded").is_empty());
}

/// `#[in_flight]` alone records no outcome, so no reason either.
#[in_flight]
fn in_flight_only(ask: Ask) -> Result<u8, FetchError> {
    answer(ask)
}

/// `#[redis_op]` alone: the enum's expected variant is no failure of the
/// operation, the others are; no reason series (it has no `result`).
#[redis_op("cache_lookup")]
fn cache_lookup(ask: Ask) -> Result<u8, FetchError> {
    answer(ask)
}

#[tokio::test]
async fn in_flight_and_redis_op_alone_add_no_reason_series_and_redis_op_skips_expected_errors() {
    // `#[redis_op]` outcomes move the process-wide Redis gauge.
    let _serial = redis_state_lock().await;
    let errors = || {
        scrape().sum(
            "asdlc_redis_operation_errors_total",
            &[("operation", "cache_lookup")],
        )
    };
    let before = errors();
    for ask in ASKS {
        let _ = in_flight_only(ask);
        let _ = cache_lookup(ask);
    }
    let s = scrape();
    assert!(reasons_of(&s, "in_flight_only").is_empty());
    assert!(reasons_of(&s, "cache_lookup").is_empty());
    assert_eq!(
        errors() - before,
        3.0,
        "timeout and two db errors; not the expected miss"
    );
}

/// A hand-written reason type: 404 is expected, and a code it has no
/// reason for (an index out of its `REASONS`) is an error with no reason.
#[derive(Debug)]
struct Status(u16);

impl ErrorReason for Status {
    const REASONS: &'static [&'static str] = &["client", "server"];
    fn reason(&self) -> Option<usize> {
        match self.0 {
            404 => None,
            400..=499 => Some(0),
            500..=599 => Some(1),
            _ => Some(7),
        }
    }
}

#[timed]
#[counted]
fn mixed_timed<E: ErrorReason>(error: Option<E>) -> Result<(), E> {
    error.map_or(Ok(()), Err)
}

#[counted]
fn mixed_counted<E: ErrorReason>(error: Option<E>) -> Result<(), E> {
    error.map_or(Ok(()), Err)
}

/// An error with a reason is counted once, in its reason's series, and the
/// call counter's `result="error"` adds those up with the errors that name
/// no reason: what a scrape shows must be what counting each error twice
/// showed. On a `#[timed] #[counted]` site and a `#[counted]` one, each
/// generic (one site shared by two error types, whose second type is
/// counted without the site's reason slots), with a trace on one error.
#[test]
fn the_error_count_is_the_sum_of_reasons_and_errors_without_one() {
    use asdlc_metrics::encoding::Format;
    use asdlc_metrics::exemplar::TraceIdLayer;
    use tracing_subscriber::layer::SubscriberExt as _;

    const TRACE: &str = "5bf92f3577b34da6a3ce929d0e0e4737";
    fn calls_of(function: &str, s: &Scrape) -> [f64; 2] {
        [
            calls(s, MODULE, function, Some("ok")),
            calls(s, MODULE, function, Some("error")),
        ]
    }
    fn mix(call: fn(Option<Status>), other: fn(Option<FetchError>)) {
        // 2 client, 1 server, 1 without a reason (999), 1 expected (404), 1 ok.
        for code in [400, 500, 999, 404, 401] {
            call(Some(Status(code)));
        }
        call(None);
        // The second type: 1 timeout, 1 db, 1 expected.
        other(Some(FetchError::Timeout { after_ms: 1 }));
        other(Some(FetchError::Database(String::new())));
        other(Some(FetchError::NotFound));
    }
    mix(|e| drop(mixed_timed(e)), |e| drop(mixed_timed(e)));
    mix(|e| drop(mixed_counted(e)), |e| drop(mixed_counted(e)));
    // A traced error: its trace rides on the call's `result="error"`.
    let subscriber = tracing_subscriber::registry().with(TraceIdLayer::new());
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("job", trace_id = TRACE)
            .in_scope(|| drop(mixed_timed(Some(Status(503)))));
    });

    let s = scrape();
    for (function, server) in [("mixed_timed", 2.0), ("mixed_counted", 1.0)] {
        let by_reason = ["client", "server", "timeout", "db"].map(|r| reason(&s, function, r));
        assert_eq!(
            by_reason,
            [Some(2.0), Some(server), Some(1.0), Some(1.0)],
            "{function}"
        );
        let reasons: f64 = by_reason.iter().flatten().sum();
        assert_eq!(
            calls_of(function, &s),
            [3.0, reasons + 1.0],
            "{function}: ok = 1 ok + 2 expected; error = reasons + the one without"
        );
    }
    assert_eq!(timings(&s, MODULE, "mixed_timed", Some("error")), 7.0);

    let open = String::from_utf8(asdlc_metrics::registry().encode_format(Format::OpenMetrics))
        .expect("utf-8");
    let error_line = open
        .lines()
        .find(|l| {
            l.starts_with("asdlc_function_calls_total{")
                && l.contains(r#"function="mixed_timed""#)
                && l.contains(r#"result="error""#)
        })
        .expect("the error series");
    assert!(
        error_line.contains(&format!(r#"# {{trace_id="{TRACE}""#)),
        "{error_line}"
    );
}
