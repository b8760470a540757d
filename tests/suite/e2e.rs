//! End to end, with real processes: redis-server, the orchestrator and
//! workers examples, and victoria-metrics scraping both (its config derived
//! from deploy/vmagent.yml), queried through the orchestrator's proxy.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use asdlc_testkit::exposition::Scrape;
use asdlc_testkit::http;
use asdlc_testkit::net::{free_port, loopback};
use asdlc_testkit::process::{Process, example_binary};
use asdlc_testkit::redis_server::RedisServer;
use asdlc_testkit::victoria::{Options, VictoriaMetrics};
use serde_json::Value;
use tokio::sync::Semaphore;

use asdlc_testkit::upstream::{FakeUpstream, Reply};

/// A hang guard for waits on real processes; never a speed assertion.
pub(crate) const PATIENCE: Duration = Duration::from_secs(60);

pub(crate) fn orchestrator(port: u16, redis: &str, victoria: &str) -> Process {
    let mut command = Command::new(example_binary("orchestrator").unwrap());
    command
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .env("REDIS_URL", redis)
        .env("VICTORIAMETRICS_URL", victoria)
        .env("RUST_LOG", "warn");
    let mut process = Process::spawn(command).unwrap();
    process
        .wait_for_line("listening: ", Duration::from_secs(30))
        .unwrap();
    process
}

pub(crate) fn workers(port: u16, redis: &str, work_ms: Option<u64>) -> Process {
    let mut command = Command::new(example_binary("workers").unwrap());
    command
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .env("REDIS_URL", redis)
        .env("WORKERS", "4")
        .env("RUST_LOG", "warn");
    if let Some(ms) = work_ms {
        command.env("WORK_MS", ms.to_string());
    }
    let mut process = Process::spawn(command).unwrap();
    process
        .wait_for_line("metrics: ", Duration::from_secs(30))
        .unwrap();
    process
}

/// deploy/vmagent.yml with the two services on local ports, scraped every second.
pub(crate) fn scrape_config(orchestrator: u16, workers: u16) -> String {
    deploy_config(
        "vmagent.yml",
        [
            ("orchestrator:8080", orchestrator),
            ("workers:8081", workers),
        ],
    )
}

/// `deploy/<file>` with each target (`host:port`, which must be there)
/// moved to `127.0.0.1:<port>`, and 15 s / 10 s intervals made 1 s.
pub(crate) fn deploy_config(file: &str, targets: [(&str, u16); 2]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(file);
    let mut config = std::fs::read_to_string(path).unwrap();
    for (target, port) in targets {
        assert!(config.contains(target), "{file} has no {target}");
        config = config.replace(target, &format!("127.0.0.1:{port}"));
    }
    config.replace("15s", "1s").replace("10s", "1s")
}

/// The whole reference deployment on loopback: a redis-server, both
/// services, and a VictoriaMetrics scraping them every second (its config
/// derived from deploy/vmagent.yml). Everything is killed on drop.
pub(crate) struct Stack {
    pub(crate) redis: RedisServer,
    pub(crate) victoria: VictoriaMetrics,
    pub(crate) orchestrator_port: u16,
    _orchestrator: Process,
    _workers: Process,
}

impl Stack {
    pub(crate) async fn start() -> Stack {
        let redis = RedisServer::start().unwrap();
        let (orchestrator_port, workers_port) = (free_port(), free_port());
        let victoria = VictoriaMetrics::start_with(
            Options::default().scrape_config(scrape_config(orchestrator_port, workers_port)),
        )
        .await
        .unwrap();
        let _orchestrator = orchestrator(orchestrator_port, &redis.url(), &victoria.url());
        let _workers = workers(workers_port, &redis.url(), None);
        Stack {
            redis,
            victoria,
            orchestrator_port,
            _orchestrator,
            _workers,
        }
    }

    /// The orchestrator's API (tasks, and the query proxy).
    pub(crate) fn api(&self) -> Api {
        Api::new(self.orchestrator_port)
    }
}

pub(crate) struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    pub(crate) fn new(port: u16) -> Api {
        Api {
            base: format!("http://127.0.0.1:{port}"),
            http: http::client(),
        }
    }

    pub(crate) async fn post_task(&self, title: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/tasks", self.base))
            .json(&serde_json::json!({ "title": title }))
            .send()
            .await
            .unwrap()
    }

    /// Posts `n` tasks and returns their ids.
    pub(crate) async fn post_tasks(&self, n: usize) -> Vec<String> {
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let response = self.post_task(&format!("task {i}")).await;
            assert_eq!(response.status(), 201);
            let body: Value = response.json().await.unwrap();
            ids.push(body["id"].as_str().unwrap().to_owned());
        }
        ids
    }

    /// `GET path?query` on the orchestrator, as JSON.
    pub(crate) async fn get_json(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .query(query)
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    /// `GET path` on the orchestrator.
    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn task(&self, id: &str) -> Value {
        let response = self.get(&format!("/api/tasks/{id}")).await;
        assert_eq!(response.status(), 200, "task {id}");
        response.json().await.unwrap()
    }

    async fn done_count(&self, ids: &[String]) -> usize {
        let mut done = 0;
        for id in ids {
            if self.task(id).await["state"] == "done" {
                done += 1;
            }
        }
        done
    }

    /// Waits until at least `n` of `ids` are done.
    async fn wait_until_done_count(&self, ids: &[String], n: usize) {
        let deadline = Instant::now() + PATIENCE;
        while self.done_count(ids).await < n {
            assert!(
                Instant::now() < deadline,
                "only {} of {n} tasks processed",
                self.done_count(ids).await
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) async fn wait_until_done(&self, ids: &[String]) {
        self.wait_until_done_count(ids, ids.len()).await;
    }

    /// The single value of an instant PromQL query, through the proxy.
    pub(crate) async fn query(&self, promql: &str) -> Option<f64> {
        let response = self
            .http
            .get(format!("{}/api/metrics/query", self.base))
            .query(&[("query", promql)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        let result = body["data"]["result"].as_array()?;
        let value = result.first()?["value"][1].as_str()?;
        value.parse().ok()
    }

    pub(crate) async fn wait_for_query(&self, promql: &str, expected: f64) {
        let what = format!("{promql} reaching {expected}");
        crate::common::eventually(&what, PATIENCE, || async {
            (self.query(promql).await == Some(expected)).then_some(())
        })
        .await;
    }
}

#[tokio::test]
async fn fifty_tasks_flow_through_both_services_and_show_up_in_victoria_metrics() {
    let stack = Stack::start().await;
    let api = stack.api();

    let ids = api.post_tasks(50).await;
    api.wait_until_done(&ids).await;

    // Once victoria-metrics has scraped the final values, the proxy shows them.
    let posts = r#"sum(asdlc_http_requests_total{service="orchestrator",method="POST",endpoint="/api/tasks"})"#;
    api.wait_for_query(posts, 50.0).await;
    let created =
        r#"sum(asdlc_http_requests_total{method="POST",endpoint="/api/tasks",status="201"})"#;
    assert_eq!(api.query(created).await, Some(50.0));
    let events = r#"sum(asdlc_events_processed_total{service="workers",status="success"})"#;
    api.wait_for_query(events, 50.0).await;

    // The same through query_range: the last point of the series is 50.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (start, end) = ((now - 120).to_string(), now.to_string());
    let response = api
        .get_json(
            "/api/metrics/query_range",
            &[
                ("query", events),
                ("start", &start),
                ("end", &end),
                ("step", "1s"),
            ],
        )
        .await;
    assert_eq!(response["status"], "success");
    let values = response["data"]["result"][0]["values"].as_array().unwrap();
    let last: f64 = values.last().unwrap()[1].as_str().unwrap().parse().unwrap();
    assert_eq!(last, 50.0);

    let services = api.get_json("/api/metrics/services", &[]).await;
    assert_eq!(services, serde_json::json!(["orchestrator", "workers"]));
}

/// Connects to the test's Redis directly, to inspect the stream.
async fn pending(redis: &RedisServer) -> i64 {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let summary: redis::Value = redis::cmd("XPENDING")
        .arg("asdlc:tasks")
        .arg("asdlc-workers")
        .query_async(&mut con)
        .await
        .unwrap();
    match summary {
        redis::Value::Array(items) => match items.first() {
            Some(redis::Value::Int(n)) => *n,
            other => panic!("unexpected XPENDING reply {other:?}"),
        },
        other => panic!("unexpected XPENDING reply {other:?}"),
    }
}

async fn assert_each_processed_once(api: &Api, ids: &[String]) {
    for id in ids {
        let task = api.task(id).await;
        assert_eq!(task["state"], "done", "{task}");
        assert_eq!(
            task["processed"], 1,
            "task {id} committed {} times",
            task["processed"]
        );
    }
}

#[tokio::test]
async fn killed_or_stopped_workers_lose_no_task_and_process_each_once() {
    let redis = RedisServer::start().unwrap();
    let (orchestrator_port, workers_port) = (free_port(), free_port());
    let _orchestrator = orchestrator(orchestrator_port, &redis.url(), "http://127.0.0.1:9");
    let api = Api::new(orchestrator_port);
    // Slow work (100 ms an event, 4 workers) so the kill lands mid-run.
    let mut running = workers(workers_port, &redis.url(), Some(100));

    let ids = api.post_tasks(50).await;
    api.wait_until_done_count(&ids, 5).await;
    running.kill(); // SIGKILL: events in hand are left pending, unacknowledged
    let done_at_kill = api.done_count(&ids).await;
    assert!(
        done_at_kill < ids.len(),
        "the kill came too late to test anything"
    );
    // Events were in hand when the workers died, so what follows shows
    // that they are redelivered, not merely that later ones get processed.
    let in_hand = pending(&redis).await;
    assert!(in_hand > 0, "no event was pending at the kill");

    let mut running = workers(workers_port, &redis.url(), Some(100));
    api.wait_until_done(&ids).await;
    assert_each_processed_once(&api, &ids).await;
    assert_eq!(pending(&redis).await, 0);

    // A graceful stop (SIGTERM) mid-run: events in hand finish or stay pending.
    let more = api.post_tasks(30).await;
    api.wait_until_done_count(&more, 3).await;
    running.signal(libc::SIGTERM);
    let status = running
        .wait_timeout(Duration::from_secs(20))
        .expect("workers did not stop on SIGTERM");
    assert!(status.success(), "workers exited with {status}");
    let _restarted = workers(workers_port, &redis.url(), Some(10));
    api.wait_until_done(&more).await;
    assert_each_processed_once(&api, &more).await;
    assert_eq!(pending(&redis).await, 0);
}

#[tokio::test]
async fn both_services_start_while_redis_is_down_and_connect_when_it_comes_up() {
    let mut redis = RedisServer::stopped().unwrap();
    let (orchestrator_port, workers_port) = (free_port(), free_port());
    let mut orchestrator = orchestrator(orchestrator_port, &redis.url(), "http://127.0.0.1:9");
    let mut workers = workers(workers_port, &redis.url(), None);
    let api = Api::new(orchestrator_port);

    let refused = api.post_task("too early").await;
    assert_eq!(refused.status(), 503);
    for port in [orchestrator_port, workers_port] {
        let up = scrape_service(port).await;
        assert_eq!(up.value("asdlc_redis_connection_up", &[]), 0.0, ":{port}");
    }

    redis.restart().unwrap();
    // Both reconnect with backoff (at most 5 s between attempts).
    let deadline = Instant::now() + PATIENCE;
    let id = loop {
        let response = api.post_task("on time").await;
        if response.status() == 201 {
            let body: Value = response.json().await.unwrap();
            break body["id"].as_str().unwrap().to_owned();
        }
        assert_eq!(response.status(), 503);
        assert!(
            Instant::now() < deadline,
            "the orchestrator never connected"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    api.wait_until_done(&[id]).await;
    // Both report the connection they now use: the gauge is back at 1.
    for port in [orchestrator_port, workers_port] {
        wait_for_redis_gauge(port, 1.0).await;
    }
    assert!(orchestrator.is_running(), "orchestrator exited");
    assert!(workers.is_running(), "workers exited");
}

/// `/metrics` of the service on `port`, parsed.
async fn scrape_service(port: u16) -> Scrape {
    let url = format!("http://127.0.0.1:{port}/metrics");
    let response = http::client().get(&url).send().await.unwrap();
    Scrape::parse(&response.text().await.unwrap())
}

/// Waits until `asdlc_redis_connection_up` on the service at `port` reads
/// `expected`.
async fn wait_for_redis_gauge(port: u16, expected: f64) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let value = scrape_service(port)
            .await
            .value("asdlc_redis_connection_up", &[]);
        if value == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "asdlc_redis_connection_up on :{port} stayed {value}, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the stand-in VictoriaMetrics answers once released.
const EMPTY_VECTOR: &str = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;

#[tokio::test]
async fn sigterm_answers_the_request_in_flight_and_exits_zero() {
    let redis = RedisServer::start().unwrap();
    // The upstream holds every query until released, so a request is
    // provably in flight inside the orchestrator when SIGTERM arrives.
    let gate = Arc::new(Semaphore::new(0));
    let upstream = FakeUpstream::start(Reply::Gated(Arc::clone(&gate), EMPTY_VECTOR)).await;
    let port = free_port();
    let mut orchestrator = orchestrator(port, &redis.url(), &upstream.url());
    let api = Api::new(port);

    let url = format!("{}/api/metrics/query", api.base);
    let client = api.http.clone();
    let in_flight = tokio::spawn(async move {
        let response = client.get(url).query(&[("query", "up")]).send().await?;
        let status = response.status();
        Ok::<_, reqwest::Error>((status, response.text().await?))
    });
    let deadline = Instant::now() + PATIENCE;
    while upstream.requests().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the query never reached the upstream"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    orchestrator.signal(libc::SIGTERM);
    // Shutdown has begun once the listener is closed: new connections are
    // refused while the request in flight is still waiting.
    while std::net::TcpStream::connect(loopback(port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "SIGTERM did not close the listener"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        orchestrator.is_running(),
        "the orchestrator exited with a request in flight"
    );

    gate.add_permits(1);
    let (status, body) = in_flight
        .await
        .unwrap()
        .expect("the request in flight was answered");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, EMPTY_VECTOR);
    let exit = orchestrator
        .wait_timeout(PATIENCE)
        .expect("the orchestrator did not exit after its last request");
    assert!(exit.success(), "the orchestrator exited with {exit}");
}
