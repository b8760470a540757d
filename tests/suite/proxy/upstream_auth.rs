//! The upstream shapes of a distributed set-up, with real processes: a
//! `…/prometheus` path prefix (vmselect's `/select/<tenant>/prometheus`),
//! tried against single-node VictoriaMetrics' own `/prometheus/api/v1/…`
//! routes, and a real vmauth in front of it taking a bearer token or basic
//! auth. Credentials never show in answers or logs.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use asdlc_metrics::proxy::{ProxyConfig, router};
use asdlc_testkit::net::free_port;
use asdlc_testkit::process::{Process, example_binary};
use asdlc_testkit::victoria::VictoriaMetrics;
use asdlc_testkit::vmauth::VmAuth;
use serde_json::json;

use super::{T0, call, uri};

/// The right token, vmauth's only bearer user.
const TOKEN: &str = "right-token-4f1c";
/// Credentials vmauth does not know.
const WRONG_TOKEN: &str = "wrong-token-9b2e";
/// vmauth's basic-auth user.
const BASIC_USER: &str = "grafana";
const BASIC_PASSWORD: &str = "pass-7d3a";

/// A victoria-metrics holding one sample of `asdlc_jobs_total` per service.
async fn victoria_with_data() -> VictoriaMetrics {
    let vm = VictoriaMetrics::start().await.unwrap();
    let mut lines = String::new();
    for (service, value) in [("orchestrator", 3), ("workers", 7)] {
        writeln!(
            lines,
            "asdlc_jobs_total{{service=\"{service}\"}} {value} {}",
            T0 * 1000
        )
        .unwrap();
        writeln!(
            lines,
            "asdlc_service_info{{service=\"{service}\",version=\"1\"}} 1 {}",
            super::ten_seconds_ago_ms()
        )
        .unwrap();
    }
    vm.import_prometheus(&lines).await.unwrap();
    vm
}

/// `sum(asdlc_jobs_total)` at T0, the proxy's request target.
fn sum_at_t0() -> String {
    uri(
        "/api/metrics/query",
        &[
            ("query", "sum(asdlc_jobs_total)"),
            ("time", &T0.to_string()),
        ],
    )
}

/// A vmauth routing both the bearer user and the basic user to `vm`'s
/// `/prometheus` routes.
async fn vmauth_in_front_of(vm: &VictoriaMetrics) -> VmAuth {
    let prefix = format!("{}/prometheus", vm.url());
    VmAuth::start(&format!(
        "users:\n  - bearer_token: {TOKEN:?}\n    url_prefix: {prefix:?}\n  \
         - username: {BASIC_USER:?}\n    password: {BASIC_PASSWORD:?}\n    url_prefix: {prefix:?}\n"
    ))
    .await
    .unwrap()
}

#[tokio::test]
async fn a_prometheus_path_prefix_reaches_victoria_metrics_routes() {
    let vm = victoria_with_data().await;
    let app = router(ProxyConfig::new(&format!("{}/prometheus", vm.url())).unwrap());

    let answer = call(&app, &sum_at_t0()).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.json()["data"]["result"][0]["value"],
        json!([T0, "10"])
    );
    let range = call(
        &app,
        &uri(
            "/api/metrics/query_range",
            &[
                ("query", "asdlc_jobs_total{service=\"workers\"}"),
                ("start", &T0.to_string()),
                ("end", &(T0 + 30).to_string()),
                ("step", "15s"),
            ],
        ),
    )
    .await;
    assert_eq!(range.status, 200, "{}", range.text());
    assert_eq!(
        range.json()["data"]["result"][0]["values"][0],
        json!([T0, "7"])
    );
    // There is no `/prometheus/health`: under a prefix, health asks a query.
    let health = call(&app, "/api/metrics/health").await;
    assert_eq!(health.json(), json!({"status": "healthy"}));

    // A prefix the upstream does not serve: its plain-text 400 keeps its
    // status, as a JSON error quoting it.
    let wrong = router(ProxyConfig::new(&format!("{}/nowhere", vm.url())).unwrap());
    let message = call(&wrong, &sum_at_t0()).await.error(400, "bad_data");
    assert!(message.contains("unsupported path"), "{message}");
}

#[tokio::test]
async fn vmauth_gives_data_to_the_right_credentials_and_its_refusal_to_others() {
    let vm = victoria_with_data().await;
    let vmauth = vmauth_in_front_of(&vm).await;

    let with_token = router(
        ProxyConfig::new(&vmauth.url())
            .unwrap()
            .upstream_bearer_token(TOKEN),
    );
    let answer = call(&with_token, &sum_at_t0()).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.json()["data"]["result"][0]["value"],
        json!([T0, "10"])
    );
    let services = call(&with_token, "/api/metrics/services").await;
    assert_eq!(services.json(), json!(["orchestrator", "workers"]));

    let basic_url = vmauth
        .url()
        .replace("http://", &format!("http://{BASIC_USER}:{BASIC_PASSWORD}@"));
    let with_basic = router(ProxyConfig::new(&basic_url).unwrap());
    let answer = call(&with_basic, &sum_at_t0()).await;
    assert_eq!(answer.status, 200, "{}", answer.text());

    // No credentials: vmauth's 401, passed through as a JSON error.
    let without = router(ProxyConfig::new(&vmauth.url()).unwrap());
    let message = call(&without, &sum_at_t0())
        .await
        .error(401, "unauthorized");
    assert!(message.contains("Authorization"), "{message}");

    // Credentials vmauth does not know: this vmauth (1.79) answers 400 and
    // quotes them; the status is passed on, the secret is not.
    for wrong in [
        router(
            ProxyConfig::new(&vmauth.url())
                .unwrap()
                .upstream_bearer_token(WRONG_TOKEN),
        ),
        router(ProxyConfig::new(&basic_url.replace(BASIC_PASSWORD, WRONG_TOKEN)).unwrap()),
    ] {
        let answer = call(&wrong, &sum_at_t0()).await;
        assert!(answer.status.is_client_error(), "{}", answer.text());
        let message = answer.error(answer.status.as_u16(), "bad_data");
        // vmauth quoted the credentials it refused; the proxy redacted them
        // (the token, or the `Basic` header's base64 of the password).
        assert!(
            message.contains("auth token") && message.contains("***"),
            "{message}"
        );
        assert!(!answer.text().contains(WRONG_TOKEN), "{}", answer.text());
    }
}

#[tokio::test]
async fn credentials_never_reach_the_logs() {
    let vm = victoria_with_data().await;
    let vmauth = vmauth_in_front_of(&vm).await;
    let log = tempfile::NamedTempFile::new().unwrap();
    let port = free_port();
    // Basic auth with a password vmauth does not know: every query fails,
    // and the failure is logged.
    let url = vmauth
        .url()
        .replace("http://", &format!("http://{BASIC_USER}:{WRONG_TOKEN}@"));
    let mut command = Command::new(example_binary("orchestrator").unwrap());
    command
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .env("REDIS_URL", format!("redis://127.0.0.1:{}", free_port()))
        .env("VICTORIAMETRICS_URL", &url)
        .env("RUST_LOG", "debug");
    let mut orchestrator = Process::spawn_with_stderr(command, log.reopen().unwrap()).unwrap();
    orchestrator
        .wait_for_line("listening: ", Duration::from_secs(30))
        .unwrap();

    let answer = super::fetch(&format!("http://127.0.0.1:{port}{}", sum_at_t0())).await;
    assert!(answer.status.is_client_error(), "{}", answer.text());
    assert!(!answer.text().contains(WRONG_TOKEN), "{}", answer.text());
    orchestrator.signal(libc::SIGTERM);
    assert!(
        orchestrator.wait_timeout(Duration::from_secs(30)).is_some(),
        "no exit after SIGTERM"
    );

    let text = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        text.contains("query proxy"),
        "the failure was not logged: {text}"
    );
    assert!(
        !text.contains(WRONG_TOKEN),
        "the password is in the log: {text}"
    );
    // vmauth quoted the `Basic` header it refused; the log has it redacted.
    assert!(text.contains("Basic ***"), "{text}");
}
