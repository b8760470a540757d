//! The Grafana dashboards in deploy/grafana/: their JSON follows Grafana's
//! conventions (a `${datasource}` variable every query uses, the template
//! variables each dashboard filters by, the current schema, a grid without
//! overlaps), and every panel's expression, with its variables substituted
//! as Grafana substitutes them, runs through the orchestrator's query proxy
//! against a VictoriaMetrics scraping the reference services after traffic:
//! it parses (no 422) and returns data.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::e2e::{Api, Stack};

/// The classic dashboard model's schema version written by Grafana 12, and
/// read by every Grafana since 10 (older ones migrate it on import).
const SCHEMA_VERSION: u64 = 41;

/// What Grafana's `$__rate_interval` becomes here: four 1 s scrape
/// intervals would do; 30 s keeps a few samples in every window.
const RATE_INTERVAL: &str = "30s";

struct Dashboard {
    file: String,
    json: Value,
}

impl Dashboard {
    /// The panels that hold queries (rows only group them).
    fn panels(&self) -> impl Iterator<Item = &Value> {
        self.json["panels"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["type"] != "row")
    }

    fn variables(&self) -> &[Value] {
        self.json["templating"]["list"].as_array().unwrap()
    }

    /// Every panel's queries as (panel title, refId, expression).
    fn queries(&self) -> Vec<(String, String, String)> {
        self.panels()
            .flat_map(|panel| {
                panel["targets"].as_array().unwrap().iter().map(|t| {
                    (
                        panel["title"].as_str().unwrap().to_owned(),
                        t["refId"].as_str().unwrap().to_owned(),
                        t["expr"].as_str().unwrap().to_owned(),
                    )
                })
            })
            .collect()
    }
}

fn dashboards() -> Vec<Dashboard> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/grafana");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["asdlc-functions.json", "asdlc-overview.json"]);
    files
        .into_iter()
        .zip(names)
        .map(|(path, file)| {
            let text = std::fs::read_to_string(&path).unwrap();
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{file} is not valid JSON: {e}"));
            Dashboard { file, json }
        })
        .collect()
}

/// The selectors of `asdlc_*` series in a PromQL expression: each name and
/// the text between its braces (empty when it has none).
fn asdlc_selectors(expr: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("asdlc_") {
        let before = rest[..at].chars().next_back();
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let after = &tail[end..];
        // A metric name, not part of a longer identifier or a label value.
        if before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '"')) {
            let matchers = match after.strip_prefix('{') {
                Some(inner) => inner[..inner.find('}').unwrap()].to_owned(),
                None => String::new(),
            };
            found.push((name.to_owned(), matchers));
        }
        rest = after;
    }
    found
}

#[test]
fn dashboards_follow_grafana_conventions() {
    let mut uids = BTreeSet::new();
    for board in dashboards() {
        let file = &board.file;
        let d = &board.json;
        assert_eq!(d["schemaVersion"], SCHEMA_VERSION, "{file}");
        assert_eq!(
            d["id"],
            Value::Null,
            "{file}: importable dashboards carry no id"
        );
        let uid = d["uid"].as_str().unwrap();
        assert!(
            uid.len() <= 40
                && uid
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{file}: uid {uid:?}"
        );
        assert!(uids.insert(uid.to_owned()), "{file}: uid {uid} used twice");
        assert!(
            d["title"].as_str().unwrap().starts_with("asdlc / "),
            "{file}"
        );
        assert!(d["tags"].as_array().unwrap().contains(&json!("asdlc")));

        // Variables: the data source first, then query variables reading it.
        let variables = board.variables();
        let datasource = &variables[0];
        assert_eq!(datasource["name"], "datasource", "{file}");
        assert_eq!(datasource["type"], "datasource", "{file}");
        assert_eq!(datasource["query"], "prometheus", "{file}");
        let names: Vec<&str> = variables[1..]
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        let filters: &[&str] = if file.contains("overview") {
            &["service", "endpoint"]
        } else {
            &["service", "function"]
        };
        assert_eq!(names, filters, "{file}");
        for var in &variables[1..] {
            let name = var["name"].as_str().unwrap();
            assert_eq!(var["type"], "query", "{file}: ${name}");
            assert_eq!(
                var["datasource"],
                json!({"type": "prometheus", "uid": "${datasource}"}),
                "{file}: ${name}"
            );
            assert_eq!(var["definition"], var["query"]["query"], "{file}: ${name}");
            assert!(
                var["definition"]
                    .as_str()
                    .unwrap()
                    .starts_with("label_values("),
                "{file}: ${name}"
            );
            assert_eq!(var["multi"], true, "{file}: ${name}");
            assert_eq!(var["includeAll"], true, "{file}: ${name}");
            // Refreshed when the time range changes, so a new endpoint shows up.
            assert_eq!(var["refresh"], 2, "{file}: ${name}");
        }

        // Panels: unique ids, the data source variable everywhere, a unit,
        // a description, and each filter applied to every series it labels.
        let mut ids = BTreeSet::new();
        for panel in d["panels"].as_array().unwrap() {
            assert!(
                ids.insert(panel["id"].as_u64().unwrap()),
                "{file}: id twice"
            );
        }
        let mut used: BTreeMap<&str, usize> = BTreeMap::new();
        for panel in board.panels() {
            let title = panel["title"].as_str().unwrap();
            let ds = json!({"type": "prometheus", "uid": "${datasource}"});
            assert_eq!(panel["datasource"], ds, "{file}: {title}");
            assert!(
                panel["fieldConfig"]["defaults"]["unit"].is_string(),
                "{file}: {title} has no unit"
            );
            assert!(
                !panel["description"].as_str().unwrap_or("").is_empty(),
                "{file}: {title} has no description"
            );
            let targets = panel["targets"].as_array().unwrap();
            assert!(!targets.is_empty(), "{file}: {title}");
            let refs: BTreeSet<&str> = targets
                .iter()
                .map(|t| t["refId"].as_str().unwrap())
                .collect();
            assert_eq!(refs.len(), targets.len(), "{file}: {title}: refIds repeat");
            for target in targets {
                assert_eq!(target["datasource"], ds, "{file}: {title}");
                let expr = target["expr"].as_str().unwrap();
                for (name, matchers) in asdlc_selectors(expr) {
                    assert!(
                        matchers.contains(r#"service=~"$service""#),
                        "{file}: {title}: {name} is not filtered by $service in {expr}"
                    );
                    for filter in &filters[1..] {
                        let labelled = match *filter {
                            "endpoint" => name.starts_with("asdlc_http_"),
                            _ => name.starts_with("asdlc_function_"),
                        };
                        if labelled {
                            assert!(
                                matchers.contains(&format!("{filter}=~\"${filter}\"")),
                                "{file}: {title}: {name} is not filtered by ${filter} in {expr}"
                            );
                        }
                    }
                }
                for filter in filters {
                    if expr.contains(&format!("${filter}\"")) {
                        *used.entry(filter).or_default() += 1;
                    }
                }
            }
        }
        for filter in filters {
            assert!(
                used.get(filter).is_some_and(|n| *n > 0),
                "{file}: ${filter} unused"
            );
        }

        // The grid: 24 columns, no two panels on the same cell.
        let mut cells = BTreeSet::new();
        for panel in d["panels"].as_array().unwrap() {
            let g = &panel["gridPos"];
            let [x, y, w, h] = ["x", "y", "w", "h"].map(|k| g[k].as_u64().unwrap());
            assert!(
                w > 0 && h > 0 && x + w <= 24,
                "{file}: {} at {g}",
                panel["title"]
            );
            for cx in x..x + w {
                for cy in y..y + h {
                    assert!(
                        cells.insert((cx, cy)),
                        "{file}: {} overlaps",
                        panel["title"]
                    );
                }
            }
        }
    }
}

#[test]
fn selectors_are_found_with_their_matchers() {
    assert_eq!(
        asdlc_selectors(r#"sum(rate(asdlc_a_total{x="asdlc_b"}[5m])) / asdlc_c"#),
        [
            ("asdlc_a_total".to_owned(), r#"x="asdlc_b""#.to_owned()),
            ("asdlc_c".to_owned(), String::new()),
        ]
    );
}

/// A value for a multi-value variable set to "All", as Grafana writes it
/// into a Prometheus query: every value, regex-escaped, as `(a|b)`. The
/// backslashes are doubled because the regex sits in a PromQL string.
fn all_values(values: &[String]) -> String {
    let escaped: Vec<String> = values
        .iter()
        .map(|v| {
            let mut out = String::new();
            for c in v.chars() {
                if r"\^$.|?*+()[]{}".contains(c) {
                    out.push_str(r"\\");
                }
                out.push(c);
            }
            out
        })
        .collect();
    format!("({})", escaped.join("|"))
}

fn substitute(expr: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = expr.replace("$__rate_interval", RATE_INTERVAL);
    for (name, value) in values {
        out = out
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("${name}"), value);
    }
    out
}

/// Evaluates a `label_values(selector, label)` variable query through the
/// proxy (as `count by (label) (selector)`): the values Grafana would list.
async fn variable_values(api: &Api, definition: &str) -> Result<Vec<String>, String> {
    let inner = definition
        .strip_prefix("label_values(")
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("not label_values(..): {definition}"))?;
    let (selector, label) = inner.rsplit_once(',').unwrap();
    let label = label.trim();
    let query = format!("count by ({label}) ({selector})");
    let response = api
        .get_json("/api/metrics/query", &[("query", &query)])
        .await;
    if response["status"] != "success" {
        return Err(format!("{query}: {response}"));
    }
    let mut values: Vec<String> = response["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["metric"][label].as_str().map(str::to_owned))
        .collect();
    values.sort();
    if values.is_empty() {
        return Err(format!("{query}: no values yet"));
    }
    Ok(values)
}

/// Runs every panel query of `board` over the last two minutes through the
/// proxy; the failures, each with the reason.
async fn failing_panels(api: &Api, board: &Dashboard) -> Vec<String> {
    let mut values = BTreeMap::new();
    for var in &board.variables()[1..] {
        let name = var["name"].as_str().unwrap().to_owned();
        let definition = substitute(var["definition"].as_str().unwrap(), &values);
        match variable_values(api, &definition).await {
            Ok(found) => values.insert(name, all_values(&found)),
            Err(e) => return vec![format!("{}: variable ${name}: {e}", board.file)],
        };
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (start, end) = ((now - 120).to_string(), now.to_string());
    let mut failures = Vec::new();
    for (title, ref_id, expr) in board.queries() {
        let query = substitute(&expr, &values);
        let unsubstituted = query.match_indices('$').any(|(at, _)| {
            query[at + 1..].starts_with(|c: char| c.is_alphabetic() || c == '{' || c == '_')
        });
        assert!(
            !unsubstituted,
            "{title}/{ref_id}: unsubstituted variable in {query}"
        );
        let response = api
            .get_json(
                "/api/metrics/query_range",
                &[
                    ("query", &query),
                    ("start", &start),
                    ("end", &end),
                    ("step", "5s"),
                ],
            )
            .await;
        let has_data = response["data"]["result"].as_array().is_some_and(|series| {
            series.iter().any(|s| {
                s["values"].as_array().is_some_and(|points| {
                    points
                        .iter()
                        .any(|p| p[1].as_str().is_some_and(|v| v != "NaN"))
                })
            })
        });
        if response["status"] != "success" || !has_data {
            failures.push(format!(
                "{}: {title} ({ref_id}): {query}\n  -> {response}",
                board.file
            ));
        }
    }
    failures
}

#[tokio::test]
async fn every_dashboard_panel_returns_data_through_the_query_proxy() {
    let stack = Stack::start().await;
    let api = stack.api();
    let orchestrator_port = stack.orchestrator_port;

    // Both services scraped before the traffic starts, so their counters'
    // increases fall inside the scraped history.
    api.wait_for_query(
        r#"count(asdlc_service_info{service=~"orchestrator|workers"})"#,
        2.0,
    )
    .await;
    // Traffic on every route the dashboards break down, kept up while the
    // panels are checked (as a dashboard shows live traffic): tasks created,
    // processed by the workers (events, Redis operations, function calls,
    // objectives), and read back.
    let ids = api.post_tasks(10).await;
    api.wait_until_done(&ids).await;
    // One failure with a reason per round, for the panel of errors by
    // reason: a task key holding a string, so the handler's HGETALL fails
    // with WRONGTYPE, an internal error (500).
    let client = redis::Client::open(stack.redis.url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let () = redis::AsyncCommands::set(&mut con, "asdlc:task:corrupt", "not a hash")
        .await
        .unwrap();
    let traffic = tokio::spawn(async move {
        let api = Api::new(orchestrator_port);
        loop {
            let ids = api.post_tasks(1).await;
            api.task(&ids[0]).await;
            let corrupt = api.get("/api/tasks/corrupt").await;
            assert_eq!(corrupt.status(), 500);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });

    let boards = dashboards();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let mut failures = Vec::new();
        for board in &boards {
            failures.extend(failing_panels(&api, board).await);
        }
        if failures.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "dashboard queries without data after 90 s:\n{}",
            failures.join("\n")
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    traffic.abort();
    let queries: usize = boards.iter().map(|b| b.queries().len()).sum();
    eprintln!("dashboards: {queries} panel queries returned data through the proxy");
}
