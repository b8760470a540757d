//! A proxy scoped to one service, against a real victoria-metrics holding
//! two services' data: it cannot read the other's series, whatever the
//! query says.

use std::fmt::Write as _;

use asdlc_metrics::proxy::{ProxyConfig, router};
use asdlc_testkit::victoria::VictoriaMetrics;
use serde_json::{Value, json};

use super::{T0, call, ten_seconds_ago_ms, uri};

/// The `service` labels of the series a query returns, in order.
fn services_of(answer: &Value) -> Vec<String> {
    answer["data"]["result"]
        .as_array()
        .unwrap_or_else(|| panic!("no result: {answer}"))
        .iter()
        .map(|series| {
            series["metric"]["service"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

async fn instant(app: &axum::Router, query: &str) -> Value {
    let answer = call(
        app,
        &uri(
            "/api/metrics/query",
            &[("query", query), ("time", &T0.to_string())],
        ),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()
}

#[tokio::test]
async fn a_scoped_proxy_cannot_read_another_services_series() {
    let vm = VictoriaMetrics::start().await.unwrap();
    let mut lines = String::new();
    for (service, value) in [("orchestrator", 3), ("workers", 7), ("billing", 11)] {
        let ms = T0 * 1000;
        writeln!(
            lines,
            "asdlc_jobs_total{{service=\"{service}\"}} {value} {ms}"
        )
        .unwrap();
        // At "now" (ten seconds ago), where `/services` looks.
        writeln!(
            lines,
            "asdlc_service_info{{service=\"{service}\",version=\"1\"}} 1 {}",
            ten_seconds_ago_ms()
        )
        .unwrap();
    }
    vm.import_prometheus(&lines).await.unwrap();

    // Unscoped, as a control: every service is there.
    let open = router(ProxyConfig::new(&vm.url()).unwrap());
    assert_eq!(
        services_of(&instant(&open, "sort_by_label(asdlc_jobs_total, \"service\")").await),
        ["billing", "orchestrator", "workers"]
    );

    let scoped = router(
        ProxyConfig::new(&vm.url())
            .unwrap()
            .scope_to_services(["orchestrator"]),
    );
    assert_eq!(
        services_of(&instant(&scoped, "asdlc_jobs_total").await),
        ["orchestrator"]
    );
    // Naming the other service, matching it by regex or by name alone,
    // aggregating it away: nothing of it comes back.
    for query in [
        r#"asdlc_jobs_total{service="workers"}"#,
        r#"asdlc_jobs_total{service=~"work.*"}"#,
        r#"{__name__=~".+", service!="orchestrator"}"#,
    ] {
        let answer = instant(&scoped, query).await;
        assert_eq!(answer["data"]["result"], json!([]), "{query}: {answer}");
    }
    let total = instant(&scoped, "sum(asdlc_jobs_total)").await;
    assert_eq!(total["data"]["result"][0]["value"], json!([T0, "3"]));
    let everything = instant(&scoped, r#"{__name__=~"asdlc_.+"}"#).await;
    assert!(
        services_of(&everything).iter().all(|s| s == "orchestrator"),
        "{everything}"
    );
    let range = call(
        &scoped,
        &uri(
            "/api/metrics/query_range",
            &[
                (
                    "query",
                    r#"asdlc_jobs_total{service="workers"} or asdlc_jobs_total"#,
                ),
                ("start", &T0.to_string()),
                ("end", &(T0 + 60).to_string()),
            ],
        ),
    )
    .await;
    assert_eq!(
        services_of(&range.json()),
        ["orchestrator"],
        "{}",
        range.text()
    );
    assert_eq!(
        call(&scoped, "/api/metrics/services").await.json(),
        json!(["orchestrator"])
    );

    // A scope of two is their union, and still not the third.
    let two = router(
        ProxyConfig::new(&vm.url())
            .unwrap()
            .scope_to_services(["workers", "orchestrator"]),
    );
    assert_eq!(
        services_of(&instant(&two, "sort_by_label(asdlc_jobs_total, \"service\")").await),
        ["orchestrator", "workers"]
    );
}
