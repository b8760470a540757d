//! Redis instrumentation against a real redis-server: the instrumented
//! connection, `#[redis_op]`, and the health check under kill, restart,
//! SIGSTOP and SIGCONT.

use std::time::{Duration, Instant};

use asdlc_metrics::redis_metrics::{InstrumentedConnection, RedisHealthCheck};
use asdlc_metrics::{counted, redis_op};
use asdlc_testkit::exposition::Scrape;
use asdlc_testkit::http;
use asdlc_testkit::redis_server::RedisServer;
use redis::AsyncCommands as _;

use crate::common::{calls, redis_state_lock, scrape};

fn op_count(s: &Scrape, operation: &str) -> f64 {
    s.sum(
        "asdlc_redis_operation_duration_seconds_count",
        &[("operation", operation)],
    )
}

fn op_errors(s: &Scrape, operation: &str) -> f64 {
    s.sum(
        "asdlc_redis_operation_errors_total",
        &[("operation", operation)],
    )
}

fn up() -> i64 {
    asdlc_metrics::standard().redis_connection_up.get()
}

/// A hang guard for waits on the health check; never a speed assertion
/// (how fast a change is noticed is the interval's business, not a test's).
const PATIENCE: Duration = Duration::from_secs(30);

/// Polls until the gauge reads `expected`; panics with `what` when the hang
/// guard runs out first.
async fn wait_for_up(expected: i64, what: &str) {
    let deadline = Instant::now() + PATIENCE;
    while up() != expected {
        assert!(
            Instant::now() < deadline,
            "{what}: the gauge stayed {}",
            up()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_instrumented_connection_records_commands_pipelines_and_failures() {
    let _serial = redis_state_lock().await;
    let server = RedisServer::start().unwrap();
    let client = redis::Client::open(server.url()).unwrap();
    let mut con =
        InstrumentedConnection::new(client.get_multiplexed_async_connection().await.unwrap());
    let before = scrape();

    let id: String = con.xadd("tasks", "*", &[("kind", "demo")]).await.unwrap();
    assert!(id.contains('-'));
    let _: () = con.set("greeting", "hello").await.unwrap();
    let v: String = con.get("greeting").await.unwrap();
    assert_eq!(v, "hello");
    let missing: Option<String> = con.get("nope").await.unwrap();
    assert_eq!(missing, None);
    let (a, b): (i64, i64) = redis::pipe()
        .incr("n", 1)
        .incr("n", 2)
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!((a, b), (1, 3));
    // A failing command: INCRBY (what redis-rs sends for `incr`) on a string.
    let failed: redis::RedisResult<i64> = con.incr("greeting", 1).await;
    assert!(failed.is_err());
    // A command Redis does not know: recorded as `other`, never by its name.
    let unknown: redis::RedisResult<()> = redis::cmd("NOT_A_COMMAND")
        .arg("secret-key")
        .query_async(&mut con)
        .await;
    assert!(unknown.is_err());

    let after = scrape();
    let delta = |f: fn(&Scrape, &str) -> f64, op: &str| f(&after, op) - f(&before, op);
    assert_eq!(delta(op_count, "xadd"), 1.0);
    assert_eq!(delta(op_count, "set"), 1.0);
    assert_eq!(delta(op_count, "get"), 2.0);
    assert_eq!(delta(op_count, "pipeline"), 1.0);
    assert_eq!(delta(op_count, "incrby"), 1.0);
    // `ERR value is not an integer` and `ERR unknown command` are the
    // caller's errors: Redis answered, so they are not failures of it.
    assert_eq!(delta(op_errors, "incrby"), 0.0);
    assert_eq!(delta(op_errors, "get"), 0.0);
    assert_eq!(delta(op_count, "other"), 1.0);
    assert_eq!(delta(op_errors, "other"), 0.0);
    let operations: Vec<&str> = after
        .find("asdlc_redis_operation_duration_seconds_count", &[])
        .filter_map(|s| s.label("operation"))
        .collect();
    assert!(
        !operations
            .iter()
            .any(|o| o.contains("secret") || o.contains("greeting") || o.contains("NOT_A"))
    );
    assert_eq!(up(), 1);
}

#[tokio::test]
async fn the_instrumented_connection_marks_redis_down_when_the_server_dies() {
    let _serial = redis_state_lock().await;
    let mut server = RedisServer::start().unwrap();
    let client = redis::Client::open(server.url()).unwrap();
    let mut con =
        InstrumentedConnection::new(client.get_multiplexed_async_connection().await.unwrap());
    // From "down", so the first assertion shows a success marking it up.
    asdlc_metrics::redis_metrics::set_up(false);
    let _: () = con.set("k", "v").await.unwrap();
    assert_eq!(up(), 1, "a successful command marks Redis up");

    server.kill();
    let lost: redis::RedisResult<String> = con.get("k").await;
    assert!(lost.is_err(), "the server is gone: {lost:?}");
    assert_eq!(up(), 0, "a dropped connection marks Redis down");
}

#[redis_op("xadd_task")]
async fn publish(
    con: &mut redis::aio::MultiplexedConnection,
    kind: &str,
) -> redis::RedisResult<String> {
    con.xadd("events", "*", &[("kind", kind)]).await
}

#[redis_op]
async fn read_task(
    con: &mut redis::aio::MultiplexedConnection,
    key: &str,
) -> redis::RedisResult<String> {
    con.get(key).await
}

#[tokio::test]
async fn redis_op_functions_record_against_a_real_server() {
    let _serial = redis_state_lock().await;
    let mut server = RedisServer::start().unwrap();
    let client = redis::Client::open(server.url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let before = scrape();

    publish(&mut con, "a").await.unwrap();
    publish(&mut con, "b").await.unwrap();
    assert!(
        read_task(&mut con, "missing").await.is_err(),
        "nil is not a String"
    );
    assert_eq!(up(), 1, "a type error is not a connection error");

    server.kill();
    assert!(publish(&mut con, "c").await.is_err());
    assert_eq!(up(), 0, "a dropped connection marks Redis down");

    let after = scrape();
    let delta = |f: fn(&Scrape, &str) -> f64, op: &str| f(&after, op) - f(&before, op);
    assert_eq!(delta(op_count, "xadd_task"), 3.0);
    assert_eq!(delta(op_errors, "xadd_task"), 1.0);
    assert_eq!(delta(op_count, "read_task"), 1.0);
    // A nil read as a String is the caller's type error, not Redis failing.
    assert_eq!(delta(op_errors, "read_task"), 0.0);
}

#[redis_op("push_job")]
#[counted]
async fn push_job(
    con: &mut redis::aio::MultiplexedConnection,
    key: &str,
) -> redis::RedisResult<i64> {
    con.lpush(key, "job").await
}

/// The caller's errors (`WRONGTYPE`, a bad command) leave
/// `asdlc_redis_operation_errors_total` alone but are errors of the
/// function; Redis refusing to work (`OOM` past `maxmemory`) is a failure
/// of the operation — through `#[redis_op]` and the instrumented
/// connection alike.
#[tokio::test]
async fn caller_errors_are_not_failures_of_redis_and_redis_refusing_work_is() {
    let _serial = redis_state_lock().await;
    let server = RedisServer::start().unwrap();
    let client = redis::Client::open(server.url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let mut instrumented = InstrumentedConnection::new(con.clone());
    let before = scrape();

    // Through the instrumented connection: a success marks Redis up.
    let _: () = instrumented.set("a_string", "x").await.unwrap();
    assert_eq!(up(), 1);
    let wrong = push_job(&mut con, "a_string").await.unwrap_err();
    assert_eq!(wrong.code(), Some("WRONGTYPE"), "{wrong:?}");
    let wrong: redis::RedisResult<i64> = instrumented.lpush("a_string", "job").await;
    assert_eq!(wrong.unwrap_err().code(), Some("WRONGTYPE"));
    assert_eq!(
        up(),
        1,
        "a caller's error says nothing about the connection"
    );
    let middle = scrape();
    let delta = |a: &Scrape, b: &Scrape, op: &str| op_errors(b, op) - op_errors(a, op);
    assert_eq!(delta(&before, &middle, "push_job"), 0.0);
    assert_eq!(delta(&before, &middle, "lpush"), 0.0);
    assert_eq!(op_count(&middle, "lpush") - op_count(&before, "lpush"), 1.0);
    assert_eq!(
        calls(&middle, "suite::redis", "push_job", Some("error")),
        1.0,
        "the function failed all the same"
    );

    // Past `maxmemory`, with nothing it may evict, Redis refuses writes.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("noeviction")
        .arg("maxmemory")
        .arg("1")
        .query_async(&mut con)
        .await
        .unwrap();
    let oom = push_job(&mut con, "a_list").await.unwrap_err();
    assert_eq!(oom.code(), Some("OOM"), "{oom:?}");
    let oom: redis::RedisResult<i64> = instrumented.lpush("a_list", "job").await;
    assert_eq!(oom.unwrap_err().code(), Some("OOM"));
    let after = scrape();
    assert_eq!(delta(&middle, &after, "push_job"), 1.0);
    assert_eq!(delta(&middle, &after, "lpush"), 1.0);
    assert_eq!(
        calls(&after, "suite::redis", "push_job", Some("error")),
        2.0
    );
}

const INTERVAL: Duration = Duration::from_millis(500);
const PING_TIMEOUT: Duration = Duration::from_millis(250);

#[tokio::test]
async fn health_check_follows_kill_and_restart() {
    let _serial = redis_state_lock().await;
    let mut server = RedisServer::start().unwrap();
    asdlc_metrics::redis_metrics::set_up(false);
    let health = RedisHealthCheck::new(redis::Client::open(server.url()).unwrap())
        .interval(INTERVAL)
        .timeout(PING_TIMEOUT)
        .spawn();
    // Each wait starts from the opposite value, so none can pass on a gauge
    // left behind by an earlier test: only the health check moves it here.
    wait_for_up(1, "never saw Redis up").await;

    server.kill();
    wait_for_up(0, "kill not noticed").await;

    server.restart().unwrap();
    wait_for_up(1, "restart not noticed").await;
    assert!(health.is_running());
}

#[tokio::test]
async fn a_hung_redis_reads_down_and_scrapes_keep_answering() {
    let _serial = redis_state_lock().await;
    let mut server = RedisServer::start().unwrap();
    asdlc_metrics::redis_metrics::set_up(false);
    let metrics = asdlc_metrics::serve_metrics("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/metrics", metrics.local_addr());
    let _health = RedisHealthCheck::new(redis::Client::open(server.url()).unwrap())
        .interval(INTERVAL)
        .timeout(PING_TIMEOUT)
        .spawn();
    wait_for_up(1, "never saw Redis up").await;

    server.pause();
    // The PING hangs; after its timeout the gauge reads 0.
    wait_for_up(0, "hang not noticed").await;
    // Scrapes never wait on Redis: each answers while it is frozen (the
    // client timeout only guards against a hang; it is not a speed check).
    let http = http::client();
    for _ in 0..3 {
        let response = tokio::time::timeout(Duration::from_secs(5), http.get(&url).send())
            .await
            .expect("a scrape hung while Redis was frozen")
            .unwrap();
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        let s = Scrape::parse(&text);
        assert_eq!(s.value("asdlc_redis_connection_up", &[]), 0.0);
    }

    server.resume();
    wait_for_up(1, "recovery not noticed").await;
    metrics.shutdown().await.unwrap();
}
