//! Property tests: no input panics the proxy, makes it answer 500, or
//! reaches the upstream without passing validation; valid parameters always
//! reach it as written. A failure names the seed that replays it.

use std::sync::atomic::{AtomicUsize, Ordering};

use asdlc_metrics::proxy::{ProxyConfig, router};
use asdlc_testkit::upstream::{FakeUpstream, Reply};
use axum::Router;
use axum::http::StatusCode;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

use super::{call, params_of, uri};

/// One parameter: absent, or a string from a mix of arbitrary text, huge
/// text, numbers, durations, RFC 3339 look-alikes and PromQL.
fn parameter() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some(String::new())),
        3 => any::<String>().prop_map(Some),
        1 => (16_380usize..16_390).prop_map(|n| Some("a".repeat(n))),
        1 => (0usize..2_800).prop_map(|n| Some("é".repeat(n))),
        2 => any::<f64>().prop_map(|f| Some(f.to_string())),
        2 => any::<i64>().prop_map(|i| Some(i.to_string())),
        3 => "(1714564|1714565|0|-)[0-9]{0,3}(\\.[0-9]{0,5})?(e[+-]?[0-9]{1,3})?".prop_map(Some),
        3 => "-?[0-9]{1,12}(y|w|d|h|m|s|ms)([0-9]{1,4}(y|w|d|h|m|s|ms)){0,2}".prop_map(Some),
        3 => "[0-9]{4}-[0-9]{2}-[0-3][0-9][Tt ][0-2][0-9]:[0-6][0-9]:[0-6][0-9](\\.[0-9]{0,10})?([Zz]|[+-][0-2][0-9]:[0-6][0-9])?"
            .prop_map(Some),
        2 => "(up|sum\\(\\(|rate\\(x\\[5m\\]\\)|15s|1m30s|500ms|0\\.5|1|0| |NaN|inf)".prop_map(Some),
    ]
}

/// A parameter that is mostly plausible for its place, else anything from
/// [`parameter`]: so that whole requests are often valid and the range rules
/// (order, 11,000 points) get exercised, not just parsing.
fn plausible(likely: &'static str) -> impl Strategy<Value = Option<String>> {
    prop_oneof![2 => likely.prop_map(Some), 1 => parameter()]
}

/// Raw additions to the query string: duplicates and stray pairs.
fn raw_suffix() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(String::new()),
        1 => "&(query|start|end|step|time)=[a-z0-9]{0,4}",
        1 => "&[a-z=&+.]{0,12}",
    ]
}

/// Milliseconds of a forwarded decimal-seconds value (`-1.25` → -1250),
/// read exactly; `None` for anything else.
fn forwarded_ms(value: &str) -> Option<i64> {
    let (sign, digits) = match value.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, value),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(frac) || frac.len() > 3 {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = format!("{frac:0<3}").parse().ok()?;
    Some(sign * (whole * 1000 + frac))
}

/// Asserts that what reached the upstream obeys every rule: the query as
/// sent, non-empty, at most 16 KiB; times and step well-formed, ordered,
/// at most 11,000 points; nothing but the documented parameters.
fn assert_forward_is_valid(target: &str, sent_query: Option<&str>) {
    let (path, _) = target.split_once('?').unwrap_or((target, ""));
    let params = params_of(target);
    let get = |name: &str| {
        let values: Vec<&str> = params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        assert!(values.len() <= 1, "{name} forwarded twice: {target}");
        values.first().copied()
    };
    let query = get("query").expect("query forwarded");
    assert_eq!(Some(query), sent_query, "the query changed on the way");
    assert!(
        !query.trim().is_empty() && query.len() <= 16 * 1024,
        "{target}"
    );
    match path {
        "/api/v1/query_range" => {
            assert_eq!(params.len(), 4, "{target}");
            let ms = |name: &str| {
                forwarded_ms(get(name).unwrap_or_else(|| panic!("{name} missing: {target}")))
                    .unwrap_or_else(|| panic!("{name} malformed: {target}"))
            };
            let (start, end, step) = (ms("start"), ms("end"), ms("step"));
            assert!(start <= end, "{target}");
            assert!(step >= 1, "{target}");
            assert!((end - start) / step <= 11_000, "{target}");
        }
        "/api/v1/query" => {
            assert!(params.len() <= 2, "{target}");
            if let Some(time) = get("time") {
                assert!(forwarded_ms(time).is_some(), "{target}");
            }
        }
        other => panic!("forwarded to {other}"),
    }
}

/// What a property test drives: a runtime, a stub upstream that answers an
/// empty matrix, the proxy in front of it, and a runner of `cases` cases
/// that writes no regression files. The runner's seed is random unless
/// `PROPTEST_RNG_SEED` is set; [`Seeded::check`] names it on failure, so a
/// failing run can be replayed exactly.
fn property_rig(cases: u32) -> (tokio::runtime::Runtime, FakeUpstream, Router, Seeded) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stub = runtime.block_on(FakeUpstream::start(Reply::empty_matrix()));
    let app = router(ProxyConfig::new(&stub.url()).unwrap());
    let seed = std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(random_seed);
    let runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    });
    (runtime, stub, app, Seeded { runner, seed })
}

/// A seed from the standard library's per-process random hasher keys.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher as _, RandomState};
    RandomState::new().hash_one(std::process::id())
}

/// A property-test runner together with its seed.
struct Seeded {
    runner: TestRunner,
    seed: u64,
}

impl Seeded {
    /// Runs `test` over `strategy`; a failure panics with the minimal
    /// failing case and the seed that reproduces it.
    fn check<S: Strategy>(
        &mut self,
        strategy: &S,
        test: impl Fn(S::Value) -> Result<(), TestCaseError>,
    ) {
        if let Err(failure) = self.runner.run(strategy, test) {
            panic!(
                "{failure}\nreproduce with PROPTEST_RNG_SEED={} (the seed of this run)",
                self.seed
            );
        }
    }
}

#[test]
fn no_parameters_panic_answer_500_or_reach_the_upstream_invalid() {
    let (runtime, stub, app, mut runner) = property_rig(256);
    // Times a day apart and steps from 1ms to 999m: ranges of either order,
    // from one point to millions.
    let time = "17145[0-9]{5}(\\.[0-9]{1,3})?";
    let inputs = (
        any::<bool>(),
        [
            plausible("[a-z_]{1,20}"),
            plausible(time),
            plausible(time),
            plausible("[1-9][0-9]{0,2}(ms|s|m)"),
        ],
        raw_suffix(),
    );
    let (accepted, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    runner.check(&inputs, |(range, [query, a, b, c], suffix)| {
        let (path, names) = if range {
            (
                "/api/metrics/query_range",
                ["query", "start", "end", "step"],
            )
        } else {
            ("/api/metrics/query", ["query", "time", "end", "step"])
        };
        let values = [&query, &a, &b, &c];
        let params: Vec<(&str, &str)> = names
            .iter()
            .zip(values)
            .filter_map(|(name, value)| value.as_deref().map(|v| (*name, v)))
            .collect();
        let target = format!("{}{suffix}", uri(path, &params));
        // http's `Uri` stops at 64 KiB; four huge values can pass that.
        prop_assume!(target.len() < 60_000);
        // The query the proxy reads: the one `query` of the whole
        // string (a raw suffix may add one, or a duplicate).
        let sent: Vec<String> = params_of(&target)
            .into_iter()
            .filter(|(k, _)| k == "query")
            .map(|(_, v)| v)
            .collect();
        let before = stub.requests().len();
        let answer = runtime.block_on(call(&app, &target));
        let received = stub.requests();
        match answer.status.as_u16() {
            200 => {
                accepted.fetch_add(1, Ordering::Relaxed);
                assert_eq!(received.len(), before + 1, "{target}");
                assert_eq!(sent.len(), 1, "accepted without one query: {target}");
                assert_forward_is_valid(&received[before], Some(&sent[0]));
            }
            400 => {
                refused.fetch_add(1, Ordering::Relaxed);
                answer.error(400, "bad_data");
                assert_eq!(
                    received.len(),
                    before,
                    "forwarded although refused: {target}"
                );
            }
            other => panic!("{other} for {target}: {}", answer.text()),
        }
        Ok(())
    });
    // Both branches were exercised, or the test proves little.
    let (accepted, refused) = (accepted.into_inner(), refused.into_inner());
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
}

/// A valid time in milliseconds and one way to write it.
fn valid_time() -> impl Strategy<Value = (i64, String)> {
    (0i64..4_102_444_800_000, any::<bool>()).prop_map(|(ms, fractional)| {
        if fractional {
            (ms, format!("{}.{:03}", ms / 1000, ms % 1000))
        } else {
            (ms / 1000 * 1000, (ms / 1000).to_string())
        }
    })
}

/// A valid step in milliseconds and one way to write it.
fn valid_step() -> impl Strategy<Value = (i64, String)> {
    prop_oneof![
        (1i64..100_000).prop_map(|ms| (ms, format!("{ms}ms"))),
        (1i64..3_600).prop_map(|s| (s * 1000, s.to_string())),
        (0i64..24, 0i64..60, 1i64..60).prop_map(|(h, m, s)| {
            let text = if h > 0 {
                format!("{h}h{m}m{s}s")
            } else {
                format!("{m}m{s}s")
            };
            ((h * 3600 + m * 60 + s) * 1000, text)
        }),
        (1i64..2_000).prop_map(|half| (half * 500, format!("{}", half as f64 / 2.0))),
    ]
}

#[test]
fn valid_parameters_always_reach_the_upstream_as_written() {
    let (runtime, stub, app, mut runner) = property_rig(128);
    let inputs = ("\\PC{1,40}", valid_time(), valid_step(), 0i64..=11_000);
    runner.check(
        &inputs,
        |(query, (start, start_text), (step, step_text), points)| {
            prop_assume!(!query.trim().is_empty());
            let end = start + points * step;
            let params = [
                ("query", query.as_str()),
                ("start", &start_text),
                ("end", &(end as f64 / 1000.0).to_string()),
                ("step", &step_text),
            ];
            let target = uri("/api/metrics/query_range", &params);
            let answer = runtime.block_on(call(&app, &target));
            prop_assert_eq!(
                answer.status,
                StatusCode::OK,
                "{}: {}",
                target,
                answer.text()
            );
            let received = stub.requests();
            let forwarded = params_of(received.last().expect("forwarded"));
            let value = |name: &str| {
                forwarded
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            prop_assert_eq!(value("query"), query);
            prop_assert_eq!(forwarded_ms(&value("start")), Some(start));
            prop_assert_eq!(forwarded_ms(&value("end")), Some(end));
            prop_assert_eq!(forwarded_ms(&value("step")), Some(step));
            Ok(())
        },
    );
}
