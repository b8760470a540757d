//! Every validation rule is a 400 in the Prometheus error shape, and
//! nothing invalid is forwarded; what passes is forwarded normalised.

use asdlc_metrics::proxy::{ProxyConfig, router};
use asdlc_testkit::upstream::{FakeUpstream, Reply};

use super::{call, params_of, uri};

#[tokio::test]
async fn each_validation_rule_is_a_400_and_nothing_is_forwarded() {
    let stub = FakeUpstream::start(Reply::empty_matrix()).await;
    let app = router(ProxyConfig::new(&stub.url()).unwrap());
    let range = "/api/metrics/query_range";
    let instant = "/api/metrics/query";
    let long = "x".repeat(16 * 1024 + 1);
    let q = ("query", "up");
    let cases = vec![
        (
            "query missing",
            range,
            vec![("start", "1"), ("end", "2")],
            "missing parameter \"query\"",
        ),
        (
            "query missing",
            instant,
            vec![],
            "missing parameter \"query\"",
        ),
        ("query empty", instant, vec![("query", "")], "it is empty"),
        (
            "query blank",
            range,
            vec![("query", " \n"), ("start", "1"), ("end", "2")],
            "it is empty",
        ),
        (
            "query over 16 KiB",
            instant,
            vec![("query", &long)],
            "16385 bytes long",
        ),
        (
            "start missing",
            range,
            vec![q, ("end", "2")],
            "missing parameter \"start\"",
        ),
        (
            "end missing",
            range,
            vec![q, ("start", "1")],
            "missing parameter \"end\"",
        ),
        (
            "start not a time",
            range,
            vec![q, ("start", "yesterday"), ("end", "2")],
            "invalid parameter \"start\"",
        ),
        (
            "end not a time",
            range,
            vec![q, ("start", "1"), ("end", "2024-13-01T00:00:00Z")],
            "invalid parameter \"end\"",
        ),
        (
            "time not a time",
            instant,
            vec![q, ("time", "12:00")],
            "invalid parameter \"time\"",
        ),
        (
            "time not finite",
            instant,
            vec![q, ("time", "inf")],
            "invalid parameter \"time\"",
        ),
        (
            "end before start",
            range,
            vec![
                q,
                ("start", "2024-05-01T12:00:00Z"),
                ("end", "1714564799.999"),
            ],
            "end timestamp must not be before start time",
        ),
        (
            "step not a duration",
            range,
            vec![q, ("start", "1"), ("end", "2"), ("step", "fast")],
            "invalid parameter \"step\"",
        ),
        (
            "step zero",
            range,
            vec![q, ("start", "1"), ("end", "2"), ("step", "0s")],
            "invalid parameter \"step\"",
        ),
        (
            "step negative",
            range,
            vec![q, ("start", "1"), ("end", "2"), ("step", "-15")],
            "invalid parameter \"step\"",
        ),
        (
            "more than 11,000 points",
            range,
            vec![q, ("start", "0"), ("end", "11001"), ("step", "1s")],
            "exceeded maximum resolution of 11,000 points",
        ),
    ];
    for (rule, path, params, expected) in cases {
        let message = call(&app, &uri(path, &params)).await.error(400, "bad_data");
        assert!(message.contains(expected), "{rule}: {message}");
    }
    assert_eq!(stub.requests(), Vec::<String>::new());

    // The same app does forward what is valid (11,000 points is the limit).
    let ok = call(
        &app,
        &uri(
            range,
            &[q, ("start", "0"), ("end", "11000"), ("step", "1s")],
        ),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(stub.requests().len(), 1);
}

#[tokio::test]
async fn extractor_rejections_are_json_too() {
    let stub = FakeUpstream::start(Reply::empty_matrix()).await;
    let app = router(ProxyConfig::new(&stub.url()).unwrap());
    let answer = call(&app, "/api/metrics/query?query=up&query=down").await;
    let message = answer.error(400, "bad_data");
    assert!(message.contains("duplicate field `query`"), "{message}");
    assert!(stub.requests().is_empty());
}

#[tokio::test]
async fn valid_parameters_are_forwarded_normalised() {
    let stub = FakeUpstream::start(Reply::empty_matrix()).await;
    let app = router(ProxyConfig::new(&stub.url()).unwrap());
    let answer = call(
        &app,
        &uri(
            "/api/metrics/query_range",
            &[
                (
                    "query",
                    "rate(asdlc_http_requests_total{endpoint=\"/api/tasks/{id}\"}[5m]) ≥ é",
                ),
                ("start", "2024-05-01T14:00:00.250+02:00"),
                ("end", "1714568400"),
                ("step", "1m30s"),
                ("nocache", "1"),
            ],
        ),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = call(&app, "/api/metrics/query?query=up&time=").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let forwarded: Vec<(String, Vec<(String, String)>)> = stub
        .requests()
        .iter()
        .map(|t| (t.split('?').next().unwrap().to_owned(), params_of(t)))
        .collect();
    let owned = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        forwarded,
        [
            (
                "/api/v1/query_range".to_owned(),
                owned(&[
                    (
                        "query",
                        "rate(asdlc_http_requests_total{endpoint=\"/api/tasks/{id}\"}[5m]) ≥ é"
                    ),
                    ("start", "1714564800.25"),
                    ("end", "1714568400"),
                    ("step", "90"),
                ])
            ),
            // An empty `time` means now: none is forwarded.
            ("/api/v1/query".to_owned(), owned(&[("query", "up")])),
        ]
    );
}
