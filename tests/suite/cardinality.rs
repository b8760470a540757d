//! Series limits (issue 14): a label explosion folds into one overflow
//! series per family; the scrape stays bounded, the totals stay right.

use std::process::Command;

use asdlc_metrics::metric::OVERFLOW_LABEL_VALUE;
use asdlc_metrics::{CounterVec, Opts, Registry};
use asdlc_testkit::promtool;

use crate::common::scrape_of;

const DISTINCT: usize = 100_000;
const LIMIT: usize = 2_000;

/// Set in the child process that measures its own memory (see
/// [`rss_growth_of`]); names the mode it runs.
const CHILD_ENV: &str = "ASDLC_CARDINALITY_CHILD";

/// 100,000 distinct label values into a family whose registry is left
/// at its default limit, each value incremented twice (a label set seen
/// again after the limit must not escape into a new series either).
fn explode(registry: &Registry) -> CounterVec {
    explode_n(registry, DISTINCT)
}

fn explode_n(registry: &Registry, distinct: usize) -> CounterVec {
    let users: CounterVec = registry
        .get_or_register(Opts::new("asdlc_logins_total", "Logins, by user id.").labels(["user"]))
        .unwrap();
    for _ in 0..2 {
        for i in 0..distinct {
            users.with_label_values(&[&format!("user-{i}")]).inc();
        }
    }
    users
}

#[test]
fn a_hundred_thousand_label_values_export_2001_series_with_exact_totals() {
    let registry = Registry::with_service("cardinality");
    assert_eq!(registry.default_max_series(), Some(LIMIT));
    let users = explode(&registry);
    assert_eq!(users.len(), LIMIT);

    let text = registry.encode_to_string();
    let scrape = scrape_of(&registry);
    let series: Vec<_> = scrape.find("asdlc_logins_total", &[]).collect();
    assert_eq!(
        series.len(),
        LIMIT + 1,
        "the limit plus one overflow series"
    );
    let total: f64 = series.iter().map(|s| s.value).sum();
    assert_eq!(total, (2 * DISTINCT) as f64, "every increment is exported");
    let overflow = scrape.value("asdlc_logins_total", &[("user", OVERFLOW_LABEL_VALUE)]);
    assert_eq!(overflow, (2 * (DISTINCT - LIMIT)) as f64);
    // The first 2,000 users kept their own series, both increments each.
    assert_eq!(
        scrape.value("asdlc_logins_total", &[("user", "user-0")]),
        2.0
    );
    assert_eq!(
        scrape.value("asdlc_logins_total", &[("user", "user-1999")]),
        2.0
    );
    assert!(
        scrape
            .find("asdlc_logins_total", &[("user", "user-2000")])
            .next()
            .is_none()
    );
    // Every lookup turned away is counted, by family.
    assert_eq!(
        scrape.value(
            "asdlc_metric_series_overflow_total",
            &[("metric", "asdlc_logins_total")]
        ),
        (2 * (DISTINCT - LIMIT)) as f64
    );
    promtool::check_metrics(text.as_bytes()).unwrap();
}

const RSS_TEST: &str = "cardinality::a_label_explosion_grows_memory_by_the_limit_not_by_the_values";

#[test]
fn a_label_explosion_grows_memory_by_the_limit_not_by_the_values() {
    // The suite's other tests allocate in parallel in this process, so the
    // measurement runs in child processes: this same test, run alone with
    // CHILD_ENV naming the mode.
    if let Ok(mode) = std::env::var(CHILD_ENV) {
        measure_in_child(&mode);
        return;
    }
    let limited = rss_growth_of("limited");
    let unlimited = rss_growth_of("unlimited");
    // 2,000 series are a few hundred KB; 100,000 series tens of MB.
    assert!(
        limited < 4 << 20,
        "RSS grew by {limited} bytes with the limit"
    );
    assert!(
        unlimited > 4 * limited.max(1 << 20),
        "without the limit RSS grew by {unlimited} bytes, with it {limited}: the measurement cannot tell them apart"
    );
}

/// Runs this test alone in a child process in `mode` and returns the RSS
/// growth it reports.
fn rss_growth_of(mode: &str) -> u64 {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", RSS_TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, mode)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("rss_growth="))
        .unwrap_or_else(|| panic!("no rss_growth line in {stdout}"))
        .trim()
        .parse()
        .unwrap()
}

/// The child's side: the explosion in a registry with the default limit
/// (`limited`) or none (`unlimited`), and a scrape of it.
fn measure_in_child(mode: &str) {
    let registry = Registry::with_service("cardinality");
    if mode == "unlimited" {
        registry.set_default_max_series(None);
    }
    // Touch every code path first (their pages count in RSS too), with a
    // small explosion past a small limit in a throwaway registry.
    let warm_up = Registry::with_service("warm-up").with_default_max_series(Some(10));
    let _ = explode_n(&warm_up, 100).len() + warm_up.encode_to_vec().len();
    let before = rss();
    let users = explode(&registry);
    let body = registry.encode_to_vec();
    let after = rss();
    println!("\nrss_growth={}", after.saturating_sub(before));
    assert!(!body.is_empty() && !users.is_empty());
}

/// Resident set size of this process, from `/proc/self/status`.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kb * 1024
}

/// A metric struct whose labelled family allows three label sets.
#[derive(asdlc_metrics::Metrics)]
struct Tenants {
    /// Requests by tenant (a label that could explode).
    #[metric(labels(tenant), max_series = 3)]
    requests_total: CounterVec,
    /// Requests by region, with no limit at all.
    #[metric(labels(region), max_series = none)]
    by_region_total: CounterVec,
}

#[test]
fn the_derive_sets_a_familys_limit_or_lifts_it() {
    let registry = Registry::with_service("derive-limit");
    let m = Tenants::register(&registry).unwrap();
    for i in 0..5 {
        m.requests_total
            .with_label_values(&[&format!("t{i}")])
            .inc();
    }
    for i in 0..2_500 {
        m.by_region_total
            .with_label_values(&[&format!("r{i}")])
            .inc();
    }
    let s = scrape_of(&registry);
    let tenants: Vec<_> = s.find("asdlc_requests_total", &[]).collect();
    assert_eq!(tenants.len(), 4, "three tenants and the overflow series");
    assert_eq!(
        s.value("asdlc_requests_total", &[("tenant", OVERFLOW_LABEL_VALUE)]),
        2.0
    );
    // `none`: past the registry's default of 2,000, still no overflow.
    assert_eq!(s.find("asdlc_by_region_total", &[]).count(), 2_500);
}
