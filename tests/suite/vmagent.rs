//! The distributed shape, end to end: a real vmagent (config derived from
//! deploy/vmagent-remote-write.yml) scrapes the reference services and
//! remote-writes to a central victoria-metrics that scrapes nothing itself;
//! the tasks' events show through the orchestrator's proxy, and a 15 s
//! outage of the central store leaves no gap, because vmagent buffers on
//! disk what it scrapes meanwhile.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use asdlc_testkit::net::free_port;
use asdlc_testkit::redis_server::RedisServer;
use asdlc_testkit::victoria::VictoriaMetrics;
use asdlc_testkit::vmagent::VmAgent;

use crate::e2e::{Api, PATIENCE, deploy_config, orchestrator, workers};

/// How long the central store is down.
const OUTAGE: Duration = Duration::from_secs(15);

/// The longest distance between two points of a 1 s-step range query that
/// still counts as "no gap": a few of the test's 1 s scrape intervals.
const MAX_GAP_SECONDS: f64 = 4.0;

/// deploy/vmagent-remote-write.yml with the two services on local ports,
/// scraped every second.
fn remote_write_config(orchestrator: u16, workers: u16) -> String {
    deploy_config(
        "vmagent-remote-write.yml",
        [
            ("127.0.0.1:8080", orchestrator),
            ("127.0.0.1:8081", workers),
        ],
    )
}

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The timestamps of the one series `promql` selects over `[start, end]`
/// at a 1 s step, through the proxy.
async fn points(api: &Api, promql: &str, start: u64, end: u64) -> Vec<f64> {
    let (start, end) = (start.to_string(), end.to_string());
    let answer = api
        .get_json(
            "/api/metrics/query_range",
            &[
                ("query", promql),
                ("start", &start),
                ("end", &end),
                ("step", "1s"),
            ],
        )
        .await;
    assert_eq!(answer["status"], "success", "{answer}");
    answer["data"]["result"][0]["values"]
        .as_array()
        .map(|values| values.iter().filter_map(|v| v[0].as_f64()).collect())
        .unwrap_or_default()
}

/// The largest distance between neighbouring points, counting the window's
/// edges as points (so missing data at either end is a gap too).
fn largest_gap(points: &[f64], start: u64, end: u64) -> f64 {
    let mut edges = vec![start as f64];
    edges.extend_from_slice(points);
    edges.push(end as f64);
    edges.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max)
}

#[tokio::test]
async fn vmagent_remote_writes_the_services_and_buffers_through_a_central_outage() {
    let redis = RedisServer::start().unwrap();
    let mut central = VictoriaMetrics::start().await.unwrap();
    let (orchestrator_port, workers_port) = (free_port(), free_port());
    let _orchestrator = orchestrator(orchestrator_port, &redis.url(), &central.url());
    let _workers = workers(workers_port, &redis.url(), None);
    let agent = VmAgent::start(
        &remote_write_config(orchestrator_port, workers_port),
        &format!("{}/api/v1/write", central.url()),
        Duration::from_millis(200),
    )
    .await
    .unwrap();
    let api = Api::new(orchestrator_port);

    // The central store scrapes nothing: what it holds came from vmagent,
    // which also added the config's external label.
    let ids = api.post_tasks(20).await;
    api.wait_until_done(&ids).await;
    let events =
        r#"sum(asdlc_events_processed_total{service="workers",status="success",node="node-1"})"#;
    api.wait_for_query(events, 20.0).await;

    // The central store goes away for 15 s while work goes on and vmagent
    // keeps scraping.
    let outage_start = now_seconds();
    central.stop();
    let stopped = Instant::now();
    let during = api.post_tasks(10).await;
    api.wait_until_done(&during).await;
    tokio::time::sleep(OUTAGE.saturating_sub(stopped.elapsed())).await;
    let outage_end = now_seconds();
    central.restart().await.unwrap();

    // The events of the outage arrive, and the samples scraped during it
    // fill the window: no gap longer than a few scrape intervals.
    api.wait_for_query(events, 30.0).await;
    let (start, end) = (outage_start - 5, outage_end + 5);
    let series = r#"asdlc_service_info{service="workers",node="node-1"}"#;
    let deadline = Instant::now() + PATIENCE;
    loop {
        // Past the window's end, so the newest point is not still in flight.
        if now_seconds() > end + 2 {
            let got = points(&api, series, start, end).await;
            let gap = largest_gap(&got, start, end);
            if gap <= MAX_GAP_SECONDS {
                assert!(got.len() as u64 >= (end - start) / 2, "{got:?}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "a {gap} s gap in {series} over the outage [{outage_start}, {outage_end}]: \
                 points {got:?}\nvmagent's log:\n{}",
                agent.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[test]
fn a_gap_is_measured_between_points_and_at_the_edges() {
    assert_eq!(largest_gap(&[1.0, 2.0, 3.0], 0, 4), 1.0);
    assert_eq!(largest_gap(&[1.0, 2.0, 9.0, 10.0], 0, 10), 7.0);
    assert_eq!(largest_gap(&[], 0, 10), 10.0);
    assert_eq!(largest_gap(&[5.0], 0, 6), 5.0);
}

#[test]
fn the_config_is_deploy_vmagent_remote_write_with_local_targets() {
    let config = remote_write_config(1111, 2222);
    assert!(config.contains("127.0.0.1:1111") && config.contains("127.0.0.1:2222"));
    assert!(config.contains("node: \"node-1\""), "{config}");
    assert!(!config.contains("15s"), "{config}");
}
