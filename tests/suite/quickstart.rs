//! The quickstart example, run as the README tells a newcomer to: it serves
//! /metrics that promtool accepts, with all nine standard families.

use std::process::Command;
use std::time::Duration;

use asdlc_metrics_workspace::exposition::Scrape;
use asdlc_metrics_workspace::process::{Process, example_binary};
use asdlc_metrics_workspace::promtool;

use crate::common::{gunzip, raw_client, standard_families_exported_at_start};

#[tokio::test]
async fn quickstart_serves_all_nine_standard_families_clean_under_promtool() {
    let mut command = Command::new(example_binary("quickstart").unwrap());
    command
        .args(["--addr", "127.0.0.1:0"])
        .env("RUST_LOG", "warn");
    let mut process = Process::spawn(command).unwrap();
    let url = process
        .wait_for_line("metrics: ", Duration::from_secs(30))
        .unwrap();

    // Let the simulated traffic run through every family (~100 ms a round).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let response = raw_client()
        .get(&url)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let body = gunzip(&response.bytes().await.unwrap());
    promtool::check_metrics(&body).unwrap();

    let scrape = Scrape::parse(std::str::from_utf8(&body).unwrap());
    for name in standard_families_exported_at_start() {
        assert!(scrape.types.contains_key(name), "{name} missing");
    }
    for name in [
        "asdlc_function_duration_seconds",
        "asdlc_function_calls_total",
    ] {
        assert!(
            scrape.types.contains_key(name),
            "{name} missing: the quickstart uses the macros"
        );
    }
    assert!(
        scrape
            .samples
            .iter()
            .all(|s| s.label("service") == Some("quickstart"))
    );
    assert!(
        scrape.sum(
            "asdlc_function_calls_total",
            &[("function", "handle_request")]
        ) >= 5.0
    );
}
