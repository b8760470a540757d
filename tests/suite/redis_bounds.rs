//! Bounded Redis calls and an honest health signal, in the library: a
//! command timeout on the instrumented connection, a health check that PINGs
//! through the service's own `ConnectionManager`, and the reconnect policy
//! that brings that manager back soon after Redis is.

use std::time::{Duration, Instant};

use asdlc_metrics::redis_metrics::{InstrumentedConnection, ReconnectPolicy, RedisHealthCheck};
use asdlc_testkit::exposition::Scrape;
use asdlc_testkit::redis_server::RedisServer;
use redis::aio::ConnectionManager;

use crate::common::redis_state_lock;

/// A hang guard for waits on real processes; never a speed assertion.
const PATIENCE: Duration = Duration::from_secs(30);

fn echo_errors() -> f64 {
    Scrape::parse(&asdlc_metrics::registry().encode_to_string()).sum(
        "asdlc_redis_operation_errors_total",
        &[("operation", "echo")],
    )
}

fn up() -> i64 {
    asdlc_metrics::standard().redis_connection_up.get()
}

async fn wait_until_up_is(expected: i64) {
    let deadline = Instant::now() + PATIENCE;
    while up() != expected {
        assert!(
            Instant::now() < deadline,
            "asdlc_redis_connection_up stayed {}, expected {expected}",
            up()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_command_to_a_hung_redis_fails_with_a_timeout_counted_as_connection_loss() {
    let _serial = redis_state_lock().await;
    let mut server = RedisServer::start().unwrap();
    let client = redis::Client::open(server.url()).unwrap();
    let mut con =
        InstrumentedConnection::new(client.get_multiplexed_async_connection().await.unwrap())
            .timeout(Duration::from_millis(200));
    assert_eq!(con.command_timeout(), Some(Duration::from_millis(200)));
    let echoed: String = redis::cmd("ECHO")
        .arg("hi")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(echoed, "hi");
    assert_eq!(up(), 1);
    let errors_before = echo_errors();

    server.pause(); // SIGSTOP: the socket stays open, nothing answers
    // Without the bound this call would never return: the outer timeout is
    // only the test's hang guard.
    let result: redis::RedisResult<String> = tokio::time::timeout(
        PATIENCE,
        redis::cmd("ECHO").arg("anyone?").query_async(&mut con),
    )
    .await
    .expect("the command timeout did not fire");
    let error = result.expect_err("a paused Redis answered");
    assert!(error.is_timeout(), "{error:?}");
    assert!(error.to_string().contains("200ms"), "{error}");
    assert_eq!(up(), 0, "a timed-out command says the connection is gone");
    assert_eq!(echo_errors(), errors_before + 1.0);
    server.resume();
}

#[tokio::test]
async fn the_health_check_on_the_services_connection_follows_a_kill_and_restart() {
    let _serial = redis_state_lock().await;
    let mut server = RedisServer::start().unwrap();
    let client = redis::Client::open(server.url()).unwrap();
    let timeout = Duration::from_millis(300);
    let config = ReconnectPolicy::new()
        .connection_timeout(timeout)
        .response_timeout(timeout)
        .manager_config();
    let manager = ConnectionManager::new_with_config(client, config)
        .await
        .unwrap();
    let health = RedisHealthCheck::for_connection(manager.clone())
        .interval(Duration::from_millis(100))
        .timeout(timeout)
        .spawn();
    let mut con = InstrumentedConnection::new(manager).timeout(timeout);
    wait_until_up_is(1).await;

    server.kill();
    wait_until_up_is(0).await;
    let refused: redis::RedisResult<String> =
        redis::cmd("ECHO").arg("down").query_async(&mut con).await;
    assert!(refused.is_err());

    server.restart().unwrap();
    wait_until_up_is(1).await;
    // Up means the service's own connection works again, not just that
    // some connection to Redis could be made.
    let echoed: String = redis::cmd("ECHO")
        .arg("back")
        .query_async(&mut con)
        .await
        .expect("the gauge said up but the service's connection is not");
    assert_eq!(echoed, "back");
    assert!(health.is_running());
}

#[test]
fn the_reconnect_policy_caps_the_managers_backoff() {
    let config = ReconnectPolicy::new()
        .max_delay(Duration::from_millis(1500))
        .attempts(3)
        .manager_config();
    let shown = format!("{config:?}");
    // The redis crate's default factor (100) makes its backoff wait up to
    // a minute between attempts; the policy sets a doubling and a cap.
    assert!(shown.contains("factor: 2"), "{shown}");
    assert!(shown.contains("max_delay: Some(1500)"), "{shown}");
    assert!(shown.contains("number_of_retries: 3"), "{shown}");
}
