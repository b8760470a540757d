//! A Redis outage under traffic, with real processes: redis-server is
//! SIGKILLed while the orchestrator takes a steady stream of task requests,
//! and restarted on the same port a few seconds later. Every request must
//! end quickly (503 with a JSON error while Redis is gone), the services must
//! be back soon after Redis is, and `asdlc_redis_connection_up` must follow
//! the connection the requests actually use.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use asdlc_testkit::net::free_port;
use asdlc_testkit::redis_server::RedisServer;
use serde_json::Value;

use asdlc_testkit::http;

use crate::e2e::{Api, PATIENCE, orchestrator, workers};

/// The bound on any request while Redis is unreachable.
const REQUEST_BOUND: Duration = Duration::from_secs(1);
/// The bound from Redis' restart to the first accepted task.
const RECOVERY_BOUND: Duration = Duration::from_secs(5);
/// How long Redis stays down (the scenario that used to stall for minutes).
const OUTAGE: Duration = Duration::from_secs(4);
/// One request this often, each on its own task, so a slow answer cannot
/// hold back the ones after it.
const CADENCE: Duration = Duration::from_millis(25);

/// One request of the stream, timed from the test's origin.
#[derive(Debug)]
struct Sample {
    sent: Duration,
    took: Duration,
    /// The HTTP status, or `None` when no answer came (client timeout).
    status: Option<u16>,
    body: Value,
}

impl Sample {
    fn done(&self) -> Duration {
        self.sent + self.took
    }
}

/// `asdlc_redis_connection_up` as the service on `port` exports it.
async fn redis_gauge(port: u16) -> Option<f64> {
    let text = http::client()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find(|l| l.starts_with("asdlc_redis_connection_up{"))?
        .rsplit(' ')
        .next()?
        .parse()
        .ok()
}

/// Waits (hang guard only) until both services export `value`.
async fn wait_for_gauge(ports: &[u16], value: f64) {
    let deadline = Instant::now() + PATIENCE;
    for &port in ports {
        loop {
            let now = redis_gauge(port).await;
            if now == Some(value) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "asdlc_redis_connection_up on :{port} is {now:?}, expected {value}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Posts a task every [`CADENCE`] until `stop` is set; every outcome goes
/// to the returned channel.
fn request_stream(
    port: u16,
    origin: Instant,
    stop: Arc<AtomicBool>,
) -> tokio::sync::mpsc::UnboundedReceiver<Sample> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let client = http::client();
    let url = format!("http://127.0.0.1:{port}/api/tasks");
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(CADENCE);
        while !stop.load(Ordering::Relaxed) {
            ticks.tick().await;
            let (client, url, tx) = (client.clone(), url.clone(), tx.clone());
            tokio::spawn(async move {
                let sent = origin.elapsed();
                let response = client
                    .post(url)
                    .json(&serde_json::json!({ "title": "under fire" }))
                    .send()
                    .await;
                let (status, body) = match response {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        (Some(status), r.json().await.unwrap_or(Value::Null))
                    }
                    Err(_) => (None, Value::Null),
                };
                let took = origin.elapsed() - sent;
                let _ = tx.send(Sample {
                    sent,
                    took,
                    status,
                    body,
                });
            });
        }
    });
    rx
}

#[tokio::test]
async fn a_redis_restart_under_traffic_gives_fast_503s_then_recovers_on_both_services() {
    let mut redis = RedisServer::start().unwrap();
    let (orchestrator_port, workers_port) = (free_port(), free_port());
    let ports = [orchestrator_port, workers_port];
    let _orchestrator = orchestrator(orchestrator_port, &redis.url(), "http://127.0.0.1:9");
    let _workers = workers(workers_port, &redis.url(), None);
    let api = Api::new(orchestrator_port);
    wait_for_gauge(&ports, 1.0).await;

    let origin = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let mut samples = request_stream(orchestrator_port, origin, Arc::clone(&stop));
    tokio::time::sleep(Duration::from_secs(1)).await;

    redis.kill();
    let killed_at = origin.elapsed();
    wait_for_gauge(&ports, 0.0).await;
    let down_for = origin.elapsed() - killed_at;
    tokio::time::sleep(OUTAGE.saturating_sub(down_for)).await;

    let restarted_at = origin.elapsed();
    redis.restart().unwrap();
    wait_for_gauge(&ports, 1.0).await;
    // The gauge describes the connection the requests use: once it says up,
    // a request goes through.
    let response = api.post_task("right after the gauge").await;
    assert_eq!(response.status(), 201, "the gauge said up, the API did not");
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);

    // Every request of the stream has answered once the senders are gone
    // (each has the client's 10 s timeout as its own hang guard).
    let mut all = Vec::new();
    while let Some(sample) = samples.recv().await {
        all.push(sample);
    }
    all.sort_by_key(|s| s.sent);

    for s in &all {
        assert!(
            matches!(s.status, Some(201 | 503)),
            "a request got {:?} {} (sent at {:?})",
            s.status,
            s.body,
            s.sent
        );
        assert!(
            s.took < REQUEST_BOUND,
            "a request sent at {:?} took {:?} (status {:?})",
            s.sent,
            s.took,
            s.status
        );
        if s.status == Some(503) {
            let error = s.body["error"].as_str().unwrap_or_default();
            assert!(!error.is_empty(), "a 503 without a JSON error: {}", s.body);
        }
    }
    // While Redis was gone, nothing was accepted, and it said so.
    let during: Vec<&Sample> = all
        .iter()
        .filter(|s| s.sent >= killed_at && s.done() < restarted_at)
        .collect();
    assert!(
        during.len() > 20,
        "only {} requests during the outage",
        during.len()
    );
    assert!(during.iter().all(|s| s.status == Some(503)));
    let slowest = during.iter().map(|s| s.took).max().unwrap_or_default();

    let first_success = all
        .iter()
        .filter(|s| s.sent >= restarted_at && s.status == Some(201))
        .map(|s| s.done() - restarted_at)
        .min()
        .expect("no task was accepted after Redis came back");
    assert!(
        first_success < RECOVERY_BOUND,
        "the first task after the restart was accepted {first_success:?} after it"
    );
    eprintln!(
        "outage figures: {} requests during the outage, all 503, slowest {slowest:?}; \
         first task accepted {first_success:?} after the restart",
        during.len()
    );

    // Every task accepted after the restart is processed by the workers.
    let accepted: Vec<String> = all
        .iter()
        .filter(|s| s.sent >= restarted_at && s.status == Some(201))
        .map(|s| s.body["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!accepted.is_empty());
    api.wait_until_done(&accepted).await;
}

#[tokio::test]
async fn a_hung_redis_gives_fast_503s_and_a_down_gauge_until_it_resumes() {
    let mut redis = RedisServer::start().unwrap();
    let port = free_port();
    let _orchestrator = orchestrator(port, &redis.url(), "http://127.0.0.1:9");
    let api = Api::new(port);
    wait_for_gauge(&[port], 1.0).await;

    redis.pause(); // SIGSTOP: connections stay open, nothing answers
    for _ in 0..5 {
        let sent = Instant::now();
        let response = api.post_task("into the void").await;
        let took = sent.elapsed();
        assert_eq!(response.status(), 503);
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}"
        );
        assert!(
            took < REQUEST_BOUND,
            "a request took {took:?} against a hung Redis"
        );
    }
    wait_for_gauge(&[port], 0.0).await;

    redis.resume();
    wait_for_gauge(&[port], 1.0).await;
    let response = api.post_task("back").await;
    assert_eq!(response.status(), 201);
}
