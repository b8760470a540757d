//! Behaviour of the attribute macros: the exported series and values after
//! calls, for every outcome.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Waker};
use std::time::Duration;

use crate::common::{calls, scrape, timings};
use asdlc_metrics::{counted, in_flight, redis_op, timed};

const MODULE: &str = "suite::macros";

#[counted]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[test]
fn counted_counts_ok_calls_with_function_and_module_labels() {
    for i in 0..3 {
        assert_eq!(add(i, 1), i + 1);
    }
    let s = scrape();
    assert_eq!(calls(&s, MODULE, "add", Some("ok")), 3.0);
    assert_eq!(
        s.find(
            "asdlc_function_calls_total",
            &[("function", "add"), ("result", "error")]
        )
        .count(),
        0
    );
    assert_eq!(s.types["asdlc_function_calls_total"], "counter");
}

#[timed]
#[counted]
fn parse_port(text: &str) -> Result<u16, std::num::ParseIntError> {
    let port = text.trim().parse::<u16>()?;
    if port == 0 {
        return Ok(8080);
    }
    Ok(port)
}

#[test]
fn results_are_ok_or_error_including_early_return_and_question_mark() {
    assert_eq!(parse_port("80"), Ok(80));
    assert_eq!(parse_port("0"), Ok(8080));
    assert!(parse_port("nope").is_err());
    let s = scrape();
    assert_eq!(calls(&s, MODULE, "parse_port", Some("ok")), 2.0);
    assert_eq!(calls(&s, MODULE, "parse_port", Some("error")), 1.0);
    assert_eq!(timings(&s, MODULE, "parse_port", Some("ok")), 2.0);
    assert_eq!(timings(&s, MODULE, "parse_port", Some("error")), 1.0);
    let buckets: Vec<&str> = s
        .find(
            "asdlc_function_duration_seconds_bucket",
            &[("function", "parse_port"), ("result", "ok")],
        )
        .map(|b| b.label("le").unwrap())
        .collect();
    assert_eq!(
        buckets,
        [
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"
        ]
    );
}

#[counted]
fn read_config(fail: bool) -> std::io::Result<String> {
    if fail {
        Err(std::io::Error::other("missing"))
    } else {
        Ok("cfg".to_owned())
    }
}

#[counted]
fn load_anyhow(fail: bool) -> anyhow::Result<u8> {
    anyhow::ensure!(!fail, "failed on purpose");
    Ok(1)
}

#[test]
fn io_and_anyhow_results_are_classified() {
    read_config(false).unwrap();
    read_config(true).unwrap_err();
    load_anyhow(true).unwrap_err();
    load_anyhow(true).unwrap_err();
    load_anyhow(false).unwrap();
    let s = scrape();
    assert_eq!(calls(&s, MODULE, "read_config", Some("ok")), 1.0);
    assert_eq!(calls(&s, MODULE, "read_config", Some("error")), 1.0);
    assert_eq!(calls(&s, MODULE, "load_anyhow", Some("error")), 2.0);
    assert_eq!(calls(&s, MODULE, "load_anyhow", Some("ok")), 1.0);
}

#[timed]
#[counted]
fn explode(really: bool) -> u8 {
    assert!(!really, "boom");
    1
}

#[test]
fn a_panicking_call_records_panic() {
    assert_eq!(explode(false), 1);
    let caught = std::panic::catch_unwind(|| explode(true));
    assert!(caught.is_err());
    let s = scrape();
    assert_eq!(calls(&s, MODULE, "explode", Some("panic")), 1.0);
    assert_eq!(calls(&s, MODULE, "explode", Some("ok")), 1.0);
    assert_eq!(timings(&s, MODULE, "explode", Some("panic")), 1.0);
}

#[counted]
async fn explode_async() -> u8 {
    tokio::task::yield_now().await;
    panic!("async boom");
}

#[tokio::test]
async fn a_panicking_async_call_records_panic_even_when_the_executor_drops_it_later() {
    // tokio catches the panic, then drops the task's future after unwinding
    // has finished, so `thread::panicking()` is false at that point.
    let joined = tokio::spawn(explode_async()).await;
    assert!(joined.unwrap_err().is_panic());
    let s = scrape();
    assert_eq!(calls(&s, MODULE, "explode_async", Some("panic")), 1.0);
    assert_eq!(calls(&s, MODULE, "explode_async", Some("cancelled")), 0.0);
}

#[timed]
#[counted]
#[in_flight(name = "asdlc_macros_test_in_flight")]
async fn wait_forever() -> Result<(), String> {
    std::future::pending::<()>().await;
    Ok(())
}

fn in_flight_now() -> f64 {
    scrape().value("asdlc_macros_test_in_flight", &[])
}

#[tokio::test]
async fn a_dropped_future_records_cancelled_and_the_gauge_comes_back_down() {
    // Dropped while pending.
    {
        let mut future = pin!(wait_forever());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert_eq!(in_flight_now(), 1.0);
    }
    assert_eq!(in_flight_now(), 0.0);

    // A timeout that expires.
    let timed_out = tokio::time::timeout(Duration::from_millis(5), wait_forever()).await;
    assert!(timed_out.is_err());

    // Created but never polled: the call never started, nothing recorded.
    drop(wait_forever());

    for _ in 0..1000 {
        let mut future = pin!(wait_forever());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
    }
    let s = scrape();
    assert_eq!(calls(&s, MODULE, "wait_forever", Some("cancelled")), 1002.0);
    assert_eq!(
        timings(&s, MODULE, "wait_forever", Some("cancelled")),
        1002.0
    );
    assert_eq!(calls(&s, MODULE, "wait_forever", Some("ok")), 0.0);
    assert_eq!(s.value("asdlc_macros_test_in_flight", &[]), 0.0);
}

#[in_flight]
async fn hold_a_task() {
    std::future::pending::<()>().await;
}

#[in_flight]
fn sync_task(active: &dyn Fn() -> i64) -> i64 {
    active()
}

#[test]
fn bare_in_flight_moves_the_standard_active_tasks_gauge() {
    // The exported standard gauge, not a detached copy; no other test in
    // the suite moves it, and deltas keep this one honest regardless.
    let exported = || scrape().value("asdlc_active_tasks", &[]);
    let before = exported();
    {
        let mut task = pin!(hold_a_task());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(task.as_mut().poll(&mut cx).is_pending());
        assert_eq!(exported(), before + 1.0, "up by one while the call runs");
    }
    assert_eq!(exported(), before, "down again when the call ends");

    let active = || asdlc_metrics::standard().active_tasks.get();
    let during = sync_task(&active);
    assert_eq!(during, active() + 1, "a sync call holds one task too");
}

#[timed(name = "asdlc_macros_custom_duration_seconds", help = "Custom timing.", buckets = [0.1, 1], labels(team = "core", tier = "gold"))]
#[counted(
    name = "asdlc_macros_custom_calls_total",
    help = "Custom calls.",
    labels(team = "core")
)]
fn custom_options() -> bool {
    true
}

#[test]
fn custom_names_buckets_help_and_constant_labels() {
    assert!(custom_options());
    let s = scrape();
    let labels = [
        ("function", "custom_options"),
        ("result", "ok"),
        ("team", "core"),
        ("tier", "gold"),
    ];
    let les: Vec<&str> = s
        .find("asdlc_macros_custom_duration_seconds_bucket", &labels)
        .map(|b| b.label("le").unwrap())
        .collect();
    assert_eq!(les, ["0.1", "1", "+Inf"]);
    assert_eq!(
        s.help["asdlc_macros_custom_duration_seconds"],
        "Custom timing."
    );
    assert_eq!(
        s.value(
            "asdlc_macros_custom_calls_total",
            &[("function", "custom_options"), ("team", "core")]
        ),
        1.0
    );
    assert_eq!(s.help["asdlc_macros_custom_calls_total"], "Custom calls.");
}

#[timed(buckets = [0.5, 2.5])]
fn default_family_custom_buckets() {}

#[test]
fn per_function_buckets_in_the_default_family() {
    default_family_custom_buckets();
    let s = scrape();
    let les: Vec<&str> = s
        .find(
            "asdlc_function_duration_seconds_bucket",
            &[("function", "default_family_custom_buckets")],
        )
        .map(|b| b.label("le").unwrap())
        .collect();
    assert_eq!(les, ["0.5", "2.5", "+Inf"]);
}

#[redis_op("macros_xadd")]
async fn fake_xadd(fail: Option<redis::ErrorKind>) -> redis::RedisResult<String> {
    match fail {
        None => Ok("1-0".to_owned()),
        Some(kind) => Err((kind, "injected").into()),
    }
}

#[redis_op]
fn macros_refused() -> redis::RedisResult<()> {
    Err(std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into())
}

#[tokio::test]
async fn redis_op_records_duration_errors_and_connection_state() {
    let _serial = crate::common::redis_state_lock().await;
    let up = || asdlc_metrics::standard().redis_connection_up.get();
    // From "down", so the first check cannot pass on a gauge left at 1.
    asdlc_metrics::redis_metrics::set_up(false);
    fake_xadd(None).await.unwrap();
    assert_eq!(up(), 1);
    // The caller's error (a reply of another type): not a failure of Redis.
    fake_xadd(Some(redis::ErrorKind::TypeError))
        .await
        .unwrap_err();
    // Redis refusing work while it loads its data set: a failure.
    fake_xadd(Some(redis::ErrorKind::BusyLoadingError))
        .await
        .unwrap_err();
    assert_eq!(up(), 1, "a command error says nothing about the connection");
    macros_refused().unwrap_err();
    assert_eq!(up(), 0, "a refused connection marks Redis down");
    fake_xadd(None).await.unwrap();
    assert_eq!(up(), 1);

    let s = scrape();
    assert_eq!(
        s.value(
            "asdlc_redis_operation_duration_seconds_count",
            &[("operation", "macros_xadd")]
        ),
        4.0
    );
    assert_eq!(
        s.value(
            "asdlc_redis_operation_errors_total",
            &[("operation", "macros_xadd")]
        ),
        1.0
    );
    assert_eq!(
        s.value(
            "asdlc_redis_operation_errors_total",
            &[("operation", "macros_refused")]
        ),
        1.0
    );
    assert_eq!(
        s.value(
            "asdlc_redis_operation_duration_seconds_count",
            &[("operation", "macros_refused")]
        ),
        1.0
    );
}

// `labels` on `#[in_flight]` need a name (without one it is a compile error,
// see the macros' UI tests): the gauge is then a family of its own.
#[in_flight(
    name = "asdlc_macros_test_queue_in_flight",
    help = "Jobs running, by queue.",
    labels(queue = "main")
)]
fn run_queue_job() -> f64 {
    scrape().value("asdlc_macros_test_queue_in_flight", &[("queue", "main")])
}

#[test]
fn in_flight_with_labels_and_a_name_exports_its_labelled_gauge() {
    assert_eq!(run_queue_job(), 1.0, "up while the call runs");
    let s = scrape();
    assert_eq!(
        s.value("asdlc_macros_test_queue_in_flight", &[("queue", "main")]),
        0.0
    );
    assert_eq!(s.types["asdlc_macros_test_queue_in_flight"], "gauge");
}
