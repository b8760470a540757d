//! Redis instrumentation against a real redis-server: the instrumented
//! connection, `#[redis_op]`, and the health check under kill, restart,
//! SIGSTOP and SIGCONT.

use std::time::{Duration, Instant};

use asdlc_metrics::redis_metrics::{InstrumentedConnection, RedisHealthCheck};
use asdlc_metrics::redis_op;
use asdlc_metrics_workspace::exposition::Scrape;
use asdlc_metrics_workspace::redis_server::RedisServer;
use redis::AsyncCommands as _;

use crate::common::{raw_client, redis_state_lock};

fn scrape() -> Scrape {
    Scrape::parse(&asdlc_metrics::registry().encode_to_string())
}

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

/// Polls `condition` every 20 ms until it holds or `limit` passes.
async fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    condition()
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
    assert_eq!(delta(op_errors, "incrby"), 1.0);
    assert_eq!(delta(op_errors, "get"), 0.0);
    assert_eq!(delta(op_count, "other"), 1.0);
    assert_eq!(delta(op_errors, "other"), 1.0);
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
    assert_eq!(delta(op_errors, "read_task"), 1.0);
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
    assert!(
        eventually(2 * INTERVAL + PING_TIMEOUT, || up() == 1).await,
        "never saw Redis up"
    );

    server.kill();
    assert!(
        eventually(2 * INTERVAL + PING_TIMEOUT, || up() == 0).await,
        "kill not noticed within two intervals"
    );

    server.restart().unwrap();
    assert!(
        eventually(2 * INTERVAL + PING_TIMEOUT, || up() == 1).await,
        "restart not noticed within two intervals"
    );
    assert!(health.is_running());
}

#[tokio::test]
async fn a_hung_redis_reads_down_and_scrapes_keep_answering() {
    let _serial = redis_state_lock().await;
    let server = RedisServer::start().unwrap();
    let metrics = asdlc_metrics::serve_metrics("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/metrics", metrics.local_addr());
    let _health = RedisHealthCheck::new(redis::Client::open(server.url()).unwrap())
        .interval(INTERVAL)
        .timeout(PING_TIMEOUT)
        .spawn();
    assert!(eventually(2 * INTERVAL + PING_TIMEOUT, || up() == 1).await);

    server.pause();
    // The PING hangs; after its timeout the gauge reads 0.
    assert!(
        eventually(2 * INTERVAL + 2 * PING_TIMEOUT, || up() == 0).await,
        "hang not noticed"
    );
    // Scrapes never wait on Redis: each answers while it is frozen (the
    // client timeout only guards against a hang; it is not a speed check).
    let http = raw_client();
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
    assert!(
        eventually(2 * INTERVAL + PING_TIMEOUT, || up() == 1).await,
        "recovery not noticed"
    );
    metrics.shutdown().await.unwrap();
}
