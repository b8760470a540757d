//! The rules in deploy/rules/, checked by the real evaluators: promtool's
//! syntax check and unit tests, and a real vmalert evaluating them against
//! VictoriaMetrics while the reference services run, notifying a real
//! Alertmanager.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use asdlc_testkit::net::free_port;
use asdlc_testkit::process::Process;
use asdlc_testkit::tools::{ALERTMANAGER, PROMTOOL, VMALERT};
use serde_json::Value;

use asdlc_testkit::http;

use crate::common::eventually;
use crate::e2e::Stack;

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/rules")
}

/// `deploy/rules/*.yml` (the rule files; their tests live in tests/).
fn rule_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(rules_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
}

fn promtool(args: &[&str], files: &[PathBuf]) -> String {
    let out = Command::new(PROMTOOL.path().unwrap())
        .args(args)
        .args(files)
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{report}");
    report
}

/// The names after `- alert:` in a rule file.
fn alert_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("- alert:"))
        .map(|name| name.trim().to_owned())
        .collect()
}

#[test]
fn every_rule_file_passes_promtool_check_and_its_unit_tests() {
    let files = rule_files();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "asdlc-alerts.yml",
            "asdlc-objectives.yml",
            "asdlc-recording.yml"
        ]
    );
    let report = promtool(&["check", "rules"], &files);
    assert_eq!(report.matches("SUCCESS").count(), files.len(), "{report}");

    let mut tests: Vec<PathBuf> = std::fs::read_dir(rules_dir().join("tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    tests.sort();
    assert!(!tests.is_empty());
    let report = promtool(&["test", "rules"], &tests);
    assert_eq!(report.matches("SUCCESS").count(), tests.len(), "{report}");
    assert!(!report.contains("FAILED"), "{report}");
}

#[test]
fn every_alert_has_a_firing_and_a_silent_unit_test_and_full_annotations() {
    let tests: String = std::fs::read_dir(rules_dir().join("tests"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    let mut alerts = Vec::new();
    for file in rule_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let names = alert_names(&text);
        // Every alert rule carries the three annotations and a severity.
        for key in ["summary:", "description:", "runbook:", "severity:"] {
            assert_eq!(
                text.matches(key).count(),
                names.len(),
                "{}: every alert needs `{key}`",
                file.display()
            );
        }
        alerts.extend(names);
    }
    assert!(alerts.len() >= 6, "{alerts:?}");
    for alert in &alerts {
        let cases = tests.matches(&format!("alertname: {alert}\n")).count();
        assert!(
            cases >= 2,
            "{alert} has {cases} unit test(s); it needs one firing and one silent"
        );
        assert!(
            tests.contains(&format!("- name: '{alert}: fires")),
            "{alert} has no firing case"
        );
        assert!(
            tests.contains(&format!("- name: '{alert}: silent")),
            "{alert} has no silent case"
        );
    }
}

/// A real Alertmanager on a free loopback port that routes everything to a
/// receiver with no integrations (the test reads its API instead).
struct Alertmanager {
    _process: Process,
    _dir: tempfile::TempDir,
    url: String,
}

impl Alertmanager {
    async fn start() -> Alertmanager {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(
            &config,
            "route:\n  receiver: log\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: log\n",
        )
        .unwrap();
        let port = free_port();
        let mut command = Command::new(ALERTMANAGER.path().unwrap());
        command
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", dir.path().display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // No gossip: it would listen on 0.0.0.0:9094.
            .arg("--cluster.listen-address=");
        let process = Process::spawn(command).unwrap();
        let url = format!("http://127.0.0.1:{port}");
        wait_until_ready(&format!("{url}/-/ready")).await;
        Alertmanager {
            _process: process,
            _dir: dir,
            url,
        }
    }

    /// The alerts Alertmanager holds as active (not resolved).
    async fn alerts(&self) -> Vec<Value> {
        get_json(&format!("{}/api/v2/alerts?active=true", self.url))
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// A real vmalert evaluating deploy/rules/ every second against
/// `datasource`, notifying `notifier`.
async fn start_vmalert(datasource: &str, notifier: &str) -> (Process, String) {
    let port = free_port();
    let mut command = Command::new(VMALERT.path().unwrap());
    command
        .arg(format!("-rule={}/*.yml", rules_dir().display()))
        .arg(format!("-datasource.url={datasource}"))
        // Recording rules' results go back into the same VictoriaMetrics.
        .arg(format!("-remoteWrite.url={datasource}"))
        .arg(format!("-notifier.url={notifier}"))
        .arg("-evaluationInterval=1s")
        .arg(format!("-httpListenAddr=127.0.0.1:{port}"));
    let process = Process::spawn(command).unwrap();
    let url = format!("http://127.0.0.1:{port}");
    wait_until_ready(&format!("{url}/health")).await;
    (process, url)
}

async fn get_json(url: &str) -> Value {
    let response = http::client().get(url).send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

async fn wait_until_ready(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http::client().get(url).send().await {
            if r.status().is_success() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{url} never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// vmalert's alerts named `name`, as (state, labels).
async fn vmalert_alerts(vmalert: &str, name: &str) -> Vec<(String, Value)> {
    let body = get_json(&format!("{vmalert}/api/v1/alerts")).await;
    body["data"]["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a["name"] == name)
        .map(|a| {
            (
                a["state"].as_str().unwrap_or_default().to_owned(),
                a["labels"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn killing_redis_fires_the_redis_down_alert_through_vmalert_into_alertmanager() {
    let mut stack = Stack::start().await;
    let alertmanager = Alertmanager::start().await;
    let (_vmalert, vmalert) = start_vmalert(&stack.victoria.url(), &alertmanager.url).await;

    // Both services scraped with Redis up; nothing fires.
    let up = r#"min(asdlc_redis_connection_up{service=~"orchestrator|workers"})"#;
    let count = r#"count(asdlc_redis_connection_up{service=~"orchestrator|workers"})"#;
    eventually(
        "both services scraped with Redis up",
        Duration::from_secs(60),
        || async {
            let ok = stack.victoria.query_value(up).await == Some(1.0)
                && stack.victoria.query_value(count).await == Some(2.0);
            ok.then_some(())
        },
    )
    .await;
    assert!(vmalert_alerts(&vmalert, "AsdlcRedisDown").await.is_empty());

    stack.redis.kill();
    let killed = Instant::now();
    // A burst of failing task requests (503 while Redis is gone) against the
    // route that serves the `tasks_api` objective.
    let api = stack.api();
    let burst = tokio::spawn(async move {
        for _ in 0..600 {
            let _ = api.post_task("while redis is down").await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    // `for: 1m`, evaluated every second, on samples scraped every second:
    // pending first, then firing within `for` plus two evaluation intervals
    // (plus this loop's own 250 ms polling, once at each end).
    let pending_since: std::cell::Cell<Option<Instant>> = std::cell::Cell::new(None);
    let firing = eventually(
        "AsdlcRedisDown firing in vmalert",
        Duration::from_secs(150),
        || {
            let vmalert = vmalert.clone();
            let pending_since = &pending_since;
            async move {
                let alerts = vmalert_alerts(&vmalert, "AsdlcRedisDown").await;
                if pending_since.get().is_none()
                    && alerts.iter().any(|(state, _)| state == "pending")
                {
                    pending_since.set(Some(Instant::now()));
                }
                let firing: Vec<Value> = alerts
                    .into_iter()
                    .filter(|(state, _)| state == "firing")
                    .map(|(_, labels)| labels)
                    .collect();
                (firing.len() == 2).then_some(firing)
            }
        },
    )
    .await;
    let fired_after = killed.elapsed();
    let pending_since = pending_since
        .get()
        .expect("the alert fired without being seen pending");
    let pending_for = pending_since.elapsed();
    assert!(
        pending_for <= Duration::from_secs(60 + 2) + Duration::from_millis(500),
        "fired {pending_for:?} after it went pending"
    );
    let mut services: Vec<&str> = firing
        .iter()
        .filter_map(|l| l["service"].as_str())
        .collect();
    services.sort_unstable();
    assert_eq!(services, ["orchestrator", "workers"]);
    assert!(firing.iter().all(|l| l["severity"] == "page"));

    let in_alertmanager = eventually(
        "AsdlcRedisDown in Alertmanager",
        Duration::from_secs(30),
        || async {
            let alerts: Vec<Value> = alertmanager
                .alerts()
                .await
                .into_iter()
                .filter(|a| a["labels"]["alertname"] == "AsdlcRedisDown")
                .collect();
            (alerts.len() == 2).then_some(alerts)
        },
    )
    .await;
    for alert in &in_alertmanager {
        assert!(
            alert["annotations"]["summary"]
                .as_str()
                .is_some_and(|s| s.ends_with("cannot reach Redis")),
            "{alert}"
        );
        assert!(alert["annotations"]["runbook"].is_string(), "{alert}");
    }

    // The objectives' fast burn fires on the same burst: the route's
    // (`tasks_api`, from MetricsLayer) and the handler's (`task_creation`,
    // from `#[counted(objective = ..)]`), with their labels.
    let burning = eventually(
        "AsdlcObjectiveErrorBudgetFastBurn firing in vmalert for both objectives",
        Duration::from_secs(120),
        || async {
            let mut names: Vec<String> =
                vmalert_alerts(&vmalert, "AsdlcObjectiveErrorBudgetFastBurn")
                    .await
                    .into_iter()
                    .filter(|(state, labels)| {
                        state == "firing"
                            && labels["service"] == "orchestrator"
                            && labels["severity"] == "page"
                    })
                    .filter_map(|(_, labels)| labels["objective_name"].as_str().map(str::to_owned))
                    .collect();
            names.sort();
            (names.len() == 2).then_some(names)
        },
    )
    .await;
    assert_eq!(burning, ["task_creation", "tasks_api"]);
    let burn_after = killed.elapsed();
    burst.abort();
    stack.redis.restart().unwrap();
    let restarted = Instant::now();
    eventually(
        "AsdlcRedisDown resolved in vmalert",
        Duration::from_secs(90),
        || async {
            vmalert_alerts(&vmalert, "AsdlcRedisDown")
                .await
                .is_empty()
                .then_some(())
        },
    )
    .await;
    eventually(
        "AsdlcRedisDown resolved in Alertmanager",
        Duration::from_secs(90),
        || async {
            let active = alertmanager
                .alerts()
                .await
                .into_iter()
                .any(|a| a["labels"]["alertname"] == "AsdlcRedisDown");
            (!active).then_some(())
        },
    )
    .await;
    eprintln!(
        "alert figures: AsdlcRedisDown firing {fired_after:?} after the kill (for: 1m), \
         {pending_for:?} after it went pending; resolved {:?} after the restart; \
         AsdlcObjectiveErrorBudgetFastBurn firing {burn_after:?} after the failing burst began",
        restarted.elapsed()
    );
}
