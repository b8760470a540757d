//! `serve_metrics` over real HTTP: content type, gzip, promtool, /health,
//! bad addresses, shutdown.

use asdlc_metrics::{
    CounterVec, HistogramVec, Registry, ServeError, serve_metrics, serve_registry,
};
use asdlc_testkit::http;
use asdlc_testkit::{exposition::Scrape, promtool};
use reqwest::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, VARY};

use crate::common::{gunzip, init_global, standard_families_exported_at_start};

/// A registry whose output does not change between scrapes.
fn fixed_registry() -> Registry {
    let r = Registry::with_service("fixed");
    let c = r
        .register(&CounterVec::new("asdlc_fixed_total", "Fixed.", &["k"]).unwrap())
        .unwrap();
    for i in 0..200 {
        c.with_label_values(&[&format!("value_{i}")]).inc_by(i);
    }
    let h = r
        .register(&HistogramVec::new("asdlc_fixed_seconds", "Fixed.", &["k"]).unwrap())
        .unwrap();
    h.with_label_values(&["a"]).observe(0.3);
    r
}

#[tokio::test]
async fn gzip_and_plain_bodies_are_the_same_exposition() {
    let server = serve_registry("127.0.0.1:0", fixed_registry())
        .await
        .unwrap();
    let url = format!("http://{}/metrics", server.local_addr());
    let client = http::client();

    let plain = client.get(&url).send().await.unwrap();
    assert_eq!(plain.status(), 200);
    assert_eq!(
        plain.headers()[CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(plain.headers()[VARY], "accept, accept-encoding");
    let plain = plain.bytes().await.unwrap();

    let zipped = client
        .get(&url)
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.status(), 200);
    assert_eq!(zipped.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(
        zipped.headers()[CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert_eq!(zipped.headers()[VARY], "accept, accept-encoding");
    let zipped = zipped.bytes().await.unwrap();
    assert!(
        zipped.len() < plain.len() / 3,
        "gzip {} vs plain {}",
        zipped.len(),
        plain.len()
    );
    assert_eq!(gunzip(&zipped), plain.to_vec());

    let refused = client
        .get(&url)
        .header(ACCEPT_ENCODING, "gzip;q=0, identity")
        .send()
        .await
        .unwrap();
    assert!(refused.headers().get(CONTENT_ENCODING).is_none());

    server.shutdown().await.unwrap();
}

/// What Prometheus 2.x sends.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

#[tokio::test]
async fn openmetrics_is_served_to_who_asks_for_it_and_text_is_unchanged() {
    let registry = fixed_registry();
    let legacy =
        prometheus::IntCounter::new("legacy_requests", "A prometheus crate counter.").unwrap();
    legacy.inc_by(4);
    registry.register_prometheus_collector("legacy", Box::new(legacy));
    let server = serve_registry("127.0.0.1:0", registry.clone())
        .await
        .unwrap();
    let url = format!("http://{}/metrics", server.local_addr());
    let client = http::client();

    let om = client
        .get(&url)
        .header(ACCEPT, PROMETHEUS_ACCEPT)
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(
        om.headers()[CONTENT_TYPE],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert_eq!(om.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(om.headers()[VARY], "accept, accept-encoding");
    let om = String::from_utf8(gunzip(&om.bytes().await.unwrap())).unwrap();
    assert!(om.ends_with("# EOF\n"), "{om}");
    assert!(om.contains("# TYPE asdlc_fixed counter\n"), "{om}");
    assert!(
        om.contains("asdlc_fixed_total{service=\"fixed\",k=\"value_3\"} 3\n"),
        "{om}"
    );
    assert!(om.contains("# UNIT asdlc_fixed_seconds seconds\n"), "{om}");
    // The prometheus crate's counter, named without `_total`: the family
    // keeps its name and the sample gets the suffix OpenMetrics requires.
    assert!(om.contains("# TYPE legacy_requests counter\n"), "{om}");
    assert!(
        om.contains("legacy_requests_total{service=\"fixed\"} 4\n"),
        "{om}"
    );

    // Without OpenMetrics in Accept (or with it ranked lower), the text
    // body is byte for byte the registry's text encoding.
    for accept in [
        None,
        Some("text/plain"),
        Some("application/openmetrics-text;q=0.2,text/plain;q=0.9"),
    ] {
        let mut request = client.get(&url);
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        let text = request.send().await.unwrap();
        assert_eq!(
            text.headers()[CONTENT_TYPE],
            "text/plain; version=0.0.4; charset=utf-8",
            "{accept:?}"
        );
        assert_eq!(
            text.bytes().await.unwrap(),
            registry.encode_to_vec(),
            "{accept:?}"
        );
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_global_endpoint_passes_promtool_with_and_without_gzip() {
    init_global();
    let m = asdlc_metrics::standard();
    m.http_requests_total
        .with_label_values(&["GET", "/promtool", "200"])
        .inc();
    m.http_request_duration_seconds
        .with_label_values(&["GET", "/promtool"])
        .observe(0.2);
    m.events_processed_total
        .with_label_values(&["promtool", "success"])
        .inc();
    m.redis_operation_duration_seconds
        .with_label_values(&["promtool"])
        .observe(0.02);

    let server = serve_metrics("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/metrics", server.local_addr());
    let client = http::client();
    let plain = client
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    promtool::check_metrics(&plain).unwrap();
    let zipped = client
        .get(&url)
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let unzipped = gunzip(&zipped);
    promtool::check_metrics(&unzipped).unwrap();

    let scrape = Scrape::parse(std::str::from_utf8(&unzipped).unwrap());
    for name in standard_families_exported_at_start() {
        #[cfg(not(target_os = "linux"))]
        if name == "asdlc_process_memory_bytes" {
            continue;
        }
        assert!(scrape.types.contains_key(name), "{name} missing");
    }
    assert!(
        scrape
            .samples
            .iter()
            .all(|s| s.label("service") == Some("suite"))
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn health_reports_the_service() {
    let server = serve_registry("127.0.0.1:0", Registry::with_service("healthy-svc"))
        .await
        .unwrap();
    let url = format!("http://{}/health", server.local_addr());
    let body: serde_json::Value = http::client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        serde_json::json!({"status": "ok", "service": "healthy-svc"})
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unusable_address_is_an_error_value() {
    for addr in ["not an address", "127.0.0.1:99999", "203.0.113.7:0"] {
        let err = serve_metrics(addr).await.unwrap_err();
        assert!(matches!(err, ServeError::Bind { .. }), "{addr}: {err}");
        assert!(err.to_string().contains("cannot serve metrics"), "{err}");
    }
    let first = serve_metrics("127.0.0.1:0").await.unwrap();
    let taken = first.local_addr().to_string();
    let err = serve_metrics(taken.as_str()).await.unwrap_err();
    assert!(
        matches!(&err, ServeError::Bind { addr, .. } if *addr == taken),
        "{err}"
    );
    first.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_stops_listening() {
    let server = serve_metrics("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    server.shutdown().await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
