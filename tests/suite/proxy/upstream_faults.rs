//! Every upstream failure, against a fake upstream the test controls:
//! closed port, stall, 5xx, non-JSON, oversized answers; pass-through of
//! success and 4xx bodies (plain-text ones as JSON errors with their
//! status); health and the services fallback.

use std::time::Instant;

use asdlc_metrics::proxy::{FALLBACK_HEADER, ProxyConfig, router};
use asdlc_testkit::net::{free_port, loopback};
use asdlc_testkit::upstream::{FakeUpstream, Reply};
use axum::http::header;
use serde_json::json;

use super::{HANG_GUARD, call, params_of, short_timeouts};

#[tokio::test]
async fn a_closed_upstream_port_is_503_unavailable() {
    let app = router(short_timeouts(&format!("http://{}", loopback(free_port()))));
    for path in [
        "/api/metrics/query?query=up",
        "/api/metrics/query_range?query=up&start=1&end=2",
    ] {
        let message = call(&app, path).await.error(503, "unavailable");
        assert!(message.contains("unreachable"), "{message}");
    }
    let health = call(&app, "/api/metrics/health").await;
    assert_eq!(health.status, 200);
    let json = health.json();
    assert_eq!(json["status"], "unhealthy", "{json}");
    assert!(
        json["error"].as_str().unwrap().contains("refused"),
        "{json}"
    );
}

#[tokio::test]
async fn a_stalled_upstream_is_504_within_the_timeout() {
    let stub = FakeUpstream::start(Reply::Stall).await;
    let app = router(short_timeouts(&stub.url()));
    for path in [
        "/api/metrics/query?query=up",
        "/api/metrics/query_range?query=up&start=1&end=2",
    ] {
        let started = Instant::now();
        let message = call(&app, path).await.error(504, "timeout");
        assert!(started.elapsed() < HANG_GUARD, "{path} hung");
        assert!(message.contains("within 300ms"), "{message}");
    }
    let started = Instant::now();
    let health = call(&app, "/api/metrics/health").await;
    assert!(started.elapsed() < HANG_GUARD, "/health hung");
    assert_eq!(
        health.json(),
        json!({"status": "unhealthy", "error": "VictoriaMetrics did not answer within 300ms"})
    );
    assert_eq!(stub.requests().len(), 3);
}

#[tokio::test]
async fn upstream_5xx_is_502_quoting_its_message() {
    let stub = FakeUpstream::start(Reply::json(
        500,
        r#"{"status":"error","errorType":"500","error":"cannot open storage"}"#,
    ))
    .await;
    let app = router(ProxyConfig::new(&stub.url()).unwrap());
    let message = call(&app, "/api/metrics/query?query=up")
        .await
        .error(502, "bad_gateway");
    assert!(message.contains("500"), "{message}");
    assert!(message.contains("cannot open storage"), "{message}");

    let text = FakeUpstream::start(Reply::Fixed(
        503,
        "text/plain",
        b"overloaded, retry later".to_vec(),
    ))
    .await;
    let app = router(ProxyConfig::new(&text.url()).unwrap());
    let message = call(&app, "/api/metrics/query?query=up")
        .await
        .error(502, "bad_gateway");
    assert!(message.contains("overloaded, retry later"), "{message}");
}

#[tokio::test]
async fn an_answer_that_is_not_json_is_502() {
    for reply in [
        Reply::Fixed(
            200,
            "application/json",
            b"{\"status\":\"success\",".to_vec(),
        ),
        Reply::Fixed(200, "text/html", b"<html>login</html>".to_vec()),
        Reply::Fixed(200, "application/json", Vec::new()),
    ] {
        let stub = FakeUpstream::start(reply).await;
        let app = router(ProxyConfig::new(&stub.url()).unwrap());
        let message = call(&app, "/api/metrics/query?query=up")
            .await
            .error(502, "bad_gateway");
        assert!(message.contains("not JSON"), "{message}");
    }
}

#[tokio::test]
async fn a_plain_text_4xx_keeps_its_status_as_a_json_error() {
    for (status, error_type) in [
        (404, "not_found"),
        (401, "unauthorized"),
        (403, "forbidden"),
    ] {
        let stub = FakeUpstream::start(Reply::Fixed(
            status,
            "text/plain",
            b"unsupported path requested".to_vec(),
        ))
        .await;
        let app = router(ProxyConfig::new(&stub.url()).unwrap());
        let message = call(&app, "/api/metrics/query?query=up")
            .await
            .error(status, error_type);
        assert_eq!(
            message,
            format!(
                "VictoriaMetrics answered {}: unsupported path requested",
                axum::http::StatusCode::from_u16(status).unwrap()
            )
        );
    }
}

#[tokio::test]
async fn an_answer_over_the_cap_is_502_and_reading_stops_there() {
    let cap = 1024;
    let within = format!(
        r#"{{"status":"success","data":"{}"}}"#,
        "x".repeat(cap - 30)
    );
    let over = format!(r#"{{"status":"success","data":"{}"}}"#, "x".repeat(cap));
    assert!(within.len() <= cap && over.len() > cap);

    let stub = FakeUpstream::start(Reply::json(200, &within)).await;
    let app = router(
        ProxyConfig::new(&stub.url())
            .unwrap()
            .max_response_bytes(cap),
    );
    assert_eq!(
        call(&app, "/api/metrics/query?query=up").await.body,
        within.as_bytes()
    );

    // Announced by Content-Length.
    let stub = FakeUpstream::start(Reply::json(200, &over)).await;
    let app = router(
        ProxyConfig::new(&stub.url())
            .unwrap()
            .max_response_bytes(cap),
    );
    let message = call(&app, "/api/metrics/query?query=up")
        .await
        .error(502, "bad_gateway");
    assert!(message.contains("larger than 1024 bytes"), "{message}");

    // Chunked and endless: only stopping at the cap can answer 502 here; a
    // proxy that buffered everything would run into its timeout instead.
    let stub = FakeUpstream::start(Reply::Endless).await;
    let app = router(
        ProxyConfig::new(&stub.url())
            .unwrap()
            .max_response_bytes(cap)
            .instant_timeout(HANG_GUARD),
    );
    let message = call(&app, "/api/metrics/query?query=up")
        .await
        .error(502, "bad_gateway");
    assert!(message.contains("larger than 1024 bytes"), "{message}");
}

#[tokio::test]
async fn success_and_4xx_bodies_pass_through_byte_for_byte() {
    // Odd spacing and key order: re-serialising would change them.
    let body = "{ \"data\" : {\"result\":[], \"resultType\":\"vector\"},\"status\":\"success\" }\n";
    let stub = FakeUpstream::start(Reply::json(200, body)).await;
    let app = router(ProxyConfig::new(&stub.url()).unwrap());
    let answer = call(&app, "/api/metrics/query?query=up").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(answer.body, body.as_bytes());

    let rejected = r#"{"status":"error","errorType":"bad_data","error":"too many series"}"#;
    for status in [400, 422, 429] {
        let stub = FakeUpstream::start(Reply::json(status, rejected)).await;
        let app = router(ProxyConfig::new(&stub.url()).unwrap());
        let answer = call(&app, "/api/metrics/query?query=up").await;
        assert_eq!(answer.status, status);
        assert_eq!(answer.headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(answer.body, rejected.as_bytes());
    }
}

#[tokio::test]
async fn health_reports_a_degraded_upstream_status() {
    let stub = FakeUpstream::start(Reply::Fixed(503, "text/plain", b"busy".to_vec())).await;
    let app = router(ProxyConfig::new(&stub.url()).unwrap());
    let health = call(&app, "/api/metrics/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(
        health.json(),
        json!({"status": "degraded", "upstream_status": 503})
    );
    assert_eq!(stub.requests(), ["/health"]);
}

#[tokio::test]
async fn services_fall_back_when_the_upstream_is_down() {
    let down = format!("http://{}", loopback(free_port()));
    let app = router(short_timeouts(&down));
    let answer = call(&app, "/api/metrics/services").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.headers[FALLBACK_HEADER], "true");
    assert_eq!(answer.json(), json!(["orchestrator", "workers"]));

    // A stalled or failing upstream falls back too, with the list configured.
    for reply in [Reply::Stall, Reply::json(422, r#"{"status":"error"}"#)] {
        let stub = FakeUpstream::start(reply).await;
        let app = router(short_timeouts(&stub.url()).fallback_services(["workers", "api", "api"]));
        let answer = call(&app, "/api/metrics/services").await;
        assert_eq!(answer.headers[FALLBACK_HEADER], "true");
        assert_eq!(answer.json(), json!(["api", "workers"]));
        assert_eq!(
            stub.requests()
                .iter()
                .map(|t| params_of(t))
                .collect::<Vec<_>>(),
            [vec![(
                "query".to_owned(),
                "group by (service) (asdlc_service_info)".to_owned()
            )]]
        );
    }
}
