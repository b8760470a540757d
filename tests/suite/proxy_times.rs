//! The query proxy's time and step rules against a real victoria-metrics:
//! relative times (`-1h`, as VictoriaMetrics reads them) are accepted and
//! forwarded as absolute seconds; a step below 1 ms is refused, not
//! rounded.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use asdlc_metrics::proxy::{ProxyConfig, router};
use asdlc_testkit::victoria::VictoriaMetrics;
use axum::Router;
use serde_json::Value;

/// A hang guard, never a speed assertion.
const PATIENCE: Duration = Duration::from_secs(30);

/// How far the evaluation time may be from what the test expects: the
/// proxy and the test read the clock at slightly different moments (and
/// a loaded machine may stretch that); an unconverted or misread relative
/// time is off by hours.
const CLOCK_SLACK: f64 = 60.0;

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The proxy in front of `victoria`, served on a loopback port.
async fn proxy(victoria: &VictoriaMetrics) -> String {
    let app: Router = router(ProxyConfig::new(&victoria.url()).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(asdlc_metrics::serve_app(
        listener,
        app,
        asdlc_metrics::ServerConfig::new(),
        std::future::pending(),
    ));
    format!("http://{addr}/api/metrics")
}

async fn get(url: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let client = reqwest::Client::builder()
        .timeout(PATIENCE)
        .build()
        .unwrap();
    let answer = client.get(url).query(params).send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap())
}

/// The `[time, value]` pairs of the first series of a query answer.
fn points(body: &Value) -> Vec<(f64, f64)> {
    let result = &body["data"]["result"][0];
    let values = match result.get("values") {
        Some(values) => values.as_array().unwrap().clone(),
        None => vec![result["value"].clone()],
    };
    values
        .iter()
        .map(|pair| {
            let value: f64 = pair[1].as_str().unwrap().parse().unwrap();
            (pair[0].as_f64().unwrap(), value)
        })
        .collect()
}

#[tokio::test]
async fn relative_times_are_answered_and_sub_millisecond_steps_refused() {
    let victoria = VictoriaMetrics::start().await.unwrap();
    let base = proxy(&victoria).await;

    // `time()` evaluates to the evaluation time: it shows what was sent.
    let (status, body) = get(
        &format!("{base}/query"),
        &[("query", "time()"), ("time", "-5m")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let [(at, value)] = points(&body)[..] else {
        panic!("one point: {body}")
    };
    assert_eq!(at, value, "{body}");
    let expected = now() - 300.0;
    assert!(
        (at - expected).abs() < CLOCK_SLACK,
        "{at} vs {expected}: {body}"
    );

    let (status, body) = get(
        &format!("{base}/query_range"),
        &[
            ("query", "time()"),
            ("start", "-1h"),
            ("end", "-0s"),
            ("step", "15m"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let points = points(&body);
    assert_eq!(points.len(), 5, "{body}");
    let expected = now() - 3600.0;
    assert!(
        (points[0].0 - expected).abs() < CLOCK_SLACK,
        "{} vs {expected}: {body}",
        points[0].0
    );

    for bad in ["-1x", "now", "--1h"] {
        let (status, body) = get(
            &format!("{base}/query"),
            &[("query", "time()"), ("time", bad)],
        )
        .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["errorType"], "bad_data", "{bad}: {body}");
    }

    for (step, status_wanted) in [
        ("0.0005", 400),
        ("0.0009", 400),
        ("0.001", 200),
        ("1ms", 200),
    ] {
        let (status, body) = get(
            &format!("{base}/query_range"),
            &[("query", "1"), ("start", "0"), ("end", "1"), ("step", step)],
        )
        .await;
        assert_eq!(status, status_wanted, "step {step}: {body}");
        if status == 400 {
            assert!(
                body["error"].as_str().unwrap().contains("at least 1ms"),
                "{body}"
            );
        }
    }
}
