//! Real data through a real victoria-metrics: samples come back through
//! `query_range` and `query`, scraped services are listed, and
//! VictoriaMetrics' own 422 answers pass through.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use asdlc_metrics::proxy::{FALLBACK_HEADER, ProxyConfig, router};
use asdlc_metrics::{Registry, StandardMetrics, serve_registry};
use asdlc_testkit::victoria::{Options, VictoriaMetrics};
use axum::http::header;
use serde_json::{Value, json};

use super::{T0, call, fetch, serve, uri};

#[tokio::test]
async fn real_samples_come_back_through_query_range_and_query() {
    let vm = VictoriaMetrics::start().await.unwrap();
    let mut lines = String::new();
    for i in 0..5 {
        let ms = (T0 + 15 * i) * 1000;
        writeln!(
            lines,
            "asdlc_jobs_total{{service=\"workers\",kind=\"import\"}} {} {ms}",
            (i + 1) * 10
        )
        .unwrap();
        writeln!(
            lines,
            "asdlc_jobs_total{{service=\"workers\",kind=\"export\"}} {i} {ms}"
        )
        .unwrap();
    }
    vm.import_prometheus(&lines).await.unwrap();
    let proxy = serve(router(ProxyConfig::new(&vm.url()).unwrap())).await;

    // RFC 3339 times (one with an offset), default step.
    let selector = r#"asdlc_jobs_total{kind="import"}"#;
    let range = fetch(&format!(
        "http://{proxy}{}",
        uri(
            "/api/metrics/query_range",
            &[
                ("query", selector),
                ("start", "2024-05-01T12:00:00Z"),
                ("end", "2024-05-01T14:01:00+02:00"),
            ]
        )
    ))
    .await;
    assert_eq!(range.status, 200, "{}", range.text());
    assert_eq!(range.headers[header::CONTENT_TYPE], "application/json");
    let json = range.json();
    assert_eq!(json["status"], "success");
    assert_eq!(json["data"]["resultType"], "matrix");
    assert_eq!(
        json["data"]["result"],
        json!([{
            "metric": {"__name__": "asdlc_jobs_total", "service": "workers", "kind": "import"},
            "values": [[T0, "10"], [T0 + 15, "20"], [T0 + 30, "30"], [T0 + 45, "40"], [T0 + 60, "50"]]
        }])
    );

    // The bytes are VictoriaMetrics' own: the same query asked directly
    // (with the times the proxy forwards) gives the same body.
    let direct = fetch(&format!(
        "{}{}",
        vm.url(),
        uri(
            "/api/v1/query_range",
            &[
                ("query", selector),
                ("start", &T0.to_string()),
                ("end", &(T0 + 60).to_string()),
                ("step", "15"),
            ]
        )
    ))
    .await;
    assert_eq!(direct.status, 200);
    assert_eq!(range.body, direct.body);

    // Unix seconds with a fraction; an aggregation over both series.
    let instant = fetch(&format!(
        "http://{proxy}{}",
        uri(
            "/api/metrics/query",
            &[
                ("query", "sum by (kind) (asdlc_jobs_total)"),
                ("time", &format!("{}.0", T0 + 30)),
            ]
        )
    ))
    .await;
    assert_eq!(instant.status, 200, "{}", instant.text());
    let json = instant.json();
    assert_eq!(json["data"]["resultType"], "vector");
    let mut samples: Vec<(String, Value)> = json["data"]["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|s| {
            (
                s["metric"]["kind"].as_str().unwrap().to_owned(),
                s["value"].clone(),
            )
        })
        .collect();
    samples.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        samples,
        [
            ("export".to_owned(), json!([T0 + 30, "2"])),
            ("import".to_owned(), json!([T0 + 30, "30"])),
        ]
    );
}

#[tokio::test]
async fn scraped_services_are_listed_queried_and_healthy() {
    let mut targets = Vec::new();
    let mut servers = Vec::new();
    for (service, version) in [("e2e-workers", "2.0.0"), ("e2e-orchestrator", "1.0.0")] {
        let registry = Registry::with_service(service);
        let standard = StandardMetrics::register(&registry).unwrap();
        standard.service_info.with_label_values(&[version]).set(1);
        let server = serve_registry("127.0.0.1:0", registry).await.unwrap();
        targets.push(server.local_addr());
        servers.push(server);
    }
    let options = Options::default().scrape("asdlc", &targets, Duration::from_millis(500));
    let vm = VictoriaMetrics::start_with(options).await.unwrap();
    let app = router(ProxyConfig::new(&vm.url()).unwrap());

    // Scraping is asynchronous: wait, bounded, until both services show.
    let deadline = Instant::now() + Duration::from_secs(60);
    let services = loop {
        let answer = call(&app, "/api/metrics/services").await;
        assert_eq!(answer.status, 200);
        if answer.headers.get(FALLBACK_HEADER).is_none()
            && answer.json().as_array().unwrap().len() == 2
        {
            break answer;
        }
        assert!(
            Instant::now() < deadline,
            "the scraped services never showed up; last answer: {}",
            answer.text()
        );
        // Scraped samples become searchable on VictoriaMetrics' own flush
        // (seconds); forcing it keeps the wait short.
        vm.force_flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(services.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(services.json(), json!(["e2e-orchestrator", "e2e-workers"]));

    let info = call(&app, "/api/metrics/query?query=asdlc_service_info").await;
    assert_eq!(info.status, 200, "{}", info.text());
    let found: BTreeSet<(String, String, String)> = info.json()["data"]["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|s| {
            let label = |name: &str| s["metric"][name].as_str().unwrap_or_default().to_owned();
            (
                label("service"),
                label("version"),
                s["value"][1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        BTreeSet::from([
            ("e2e-orchestrator".into(), "1.0.0".into(), "1".into()),
            ("e2e-workers".into(), "2.0.0".into(), "1".into()),
        ])
    );

    let health = call(&app, "/api/metrics/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json(), json!({"status": "healthy"}));
    drop(servers);
}

#[tokio::test]
async fn invalid_promql_keeps_victoria_metrics_422_and_body() {
    let vm = VictoriaMetrics::start().await.unwrap();
    let app = router(ProxyConfig::new(&vm.url()).unwrap());
    let t0 = T0.to_string();
    let t1 = (T0 + 60).to_string();
    let cases = [
        (
            uri("/api/metrics/query", &[("query", "sum(("), ("time", &t0)]),
            uri("/api/v1/query", &[("query", "sum(("), ("time", &t0)]),
        ),
        (
            uri(
                "/api/metrics/query_range",
                &[
                    ("query", "rate(x[5m]"),
                    ("start", &t0),
                    ("end", &t1),
                    ("step", "1m"),
                ],
            ),
            uri(
                "/api/v1/query_range",
                &[
                    ("query", "rate(x[5m]"),
                    ("start", &t0),
                    ("end", &t1),
                    ("step", "60"),
                ],
            ),
        ),
    ];
    for (through_proxy, straight) in cases {
        let proxied = call(&app, &through_proxy).await;
        let direct = fetch(&format!("{}{straight}", vm.url())).await;
        assert_eq!(direct.status, 422, "{}", direct.text());
        assert_eq!(proxied.status, 422, "{}", proxied.text());
        assert_eq!(proxied.headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(proxied.text(), direct.text());
        assert_eq!(proxied.json()["status"], "error");
    }
}
