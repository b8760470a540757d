//! Per-call cost of function instrumentation: plain, `#[counted]`,
//! `#[timed]`, both, the hand-written optimal `prometheus` code, the naive
//! `with_label_values` on every call, autometrics 3, metered 0.9,
//! metrics-rs with its Prometheus recorder, measured 0.0.22 and
//! fastmetrics 0.7 (an unlabelled counter / histogram held in a static:
//! their best case). Single thread, and two threads calling the same
//! function; and the asdlc variants inside a traced span
//! (`function_call_traced`: each call then keeps an exemplar). And the
//! cost of failure reasons (`function_result`): `#[counted]` on a function
//! whose error is a `LabelValue` enum against one whose error is not, on
//! the ok and the error path.
//!
//! `cargo bench -p asdlc-benches --bench functions`

use std::hint::black_box;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use asdlc_metrics::{LabelValue, counted, timed};
use criterion::{Criterion, criterion_group, criterion_main};
use metered::{HitCount, ResponseTime};

/// The work every variant does: small enough that instrumentation dominates.
#[inline(always)]
fn work(x: u64) -> u64 {
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17)
}

#[inline(never)]
fn plain(x: u64) -> u64 {
    work(x)
}

#[inline(never)]
#[counted]
fn with_counted(x: u64) -> u64 {
    work(x)
}

#[inline(never)]
#[timed]
fn with_timed(x: u64) -> u64 {
    work(x)
}

#[inline(never)]
#[timed]
#[counted]
fn with_both(x: u64) -> u64 {
    work(x)
}

/// The best a user can do by hand with the `prometheus` crate: children
/// resolved once, an `Instant` pair and an observe per call.
struct HandWritten {
    duration: prometheus::Histogram,
    calls: prometheus::IntCounter,
}

static HAND: LazyLock<HandWritten> = LazyLock::new(|| {
    let labels = &["hand_written", "benches", "ok"];
    let duration = prometheus::HistogramVec::new(
        prometheus::HistogramOpts::new("hand_duration_seconds", "Hand-written."),
        &["function", "module", "result"],
    )
    .unwrap();
    let calls = prometheus::IntCounterVec::new(
        prometheus::Opts::new("hand_calls_total", "Hand-written."),
        &["function", "module", "result"],
    )
    .unwrap();
    HandWritten {
        duration: duration.with_label_values(labels),
        calls: calls.with_label_values(labels),
    }
});

#[inline(never)]
fn hand_counted(x: u64) -> u64 {
    let v = work(x);
    HAND.calls.inc();
    v
}

#[inline(never)]
fn hand_timed(x: u64) -> u64 {
    let start = Instant::now();
    let v = work(x);
    HAND.duration.observe(start.elapsed().as_secs_f64());
    v
}

static NAIVE: LazyLock<prometheus::HistogramVec> = LazyLock::new(|| {
    prometheus::HistogramVec::new(
        prometheus::HistogramOpts::new("naive_duration_seconds", "Naive."),
        &["function", "module", "result"],
    )
    .unwrap()
});

/// What most code does: look the child up by label values on every call.
#[inline(never)]
fn naive_timed(x: u64) -> u64 {
    let start = Instant::now();
    let v = work(x);
    NAIVE
        .with_label_values(&["naive", "benches", "ok"])
        .observe(start.elapsed().as_secs_f64());
    v
}

/// autometrics 3 with its prometheus 0.14 backend: a call counter and a
/// duration histogram (what `#[timed] #[counted]` records).
#[inline(never)]
#[autometrics::autometrics]
fn autometrics_fn(x: u64) -> u64 {
    work(x)
}

/// metered 0.9: hit count and response time of a method.
#[derive(Default, Debug)]
struct Metered {
    metrics: MeteredMetrics,
}

#[metered::metered(registry = MeteredMetrics)]
impl Metered {
    #[measure([HitCount, ResponseTime])]
    #[inline(never)]
    fn call(&self, x: u64) -> u64 {
        work(x)
    }
}

static METERED: LazyLock<Metered> = LazyLock::new(Metered::default);

#[inline(never)]
fn metered_fn(x: u64) -> u64 {
    METERED.call(x)
}

/// metrics-rs with the Prometheus recorder installed: the `counter!` and
/// `histogram!` macros with the same three labels, timed with `Instant`.
static METRICS_RS: LazyLock<()> = LazyLock::new(|| {
    let _ = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder();
});

#[inline(never)]
fn metrics_rs_counted(x: u64) -> u64 {
    let v = work(x);
    metrics::counter!("calls_total", "function" => "metrics_rs", "module" => "benches", "result" => "ok").increment(1);
    v
}

#[inline(never)]
fn metrics_rs_timed(x: u64) -> u64 {
    let start = Instant::now();
    let v = work(x);
    metrics::histogram!("duration_seconds", "function" => "metrics_rs", "module" => "benches", "result" => "ok")
        .record(start.elapsed().as_secs_f64());
    v
}

/// measured: a counter and a histogram with the standard buckets, no
/// labels (a labelled vec would add a label-set lookup per call).
static MEASURED_CALLS: LazyLock<measured::Counter> = LazyLock::new(measured::Counter::new);
static MEASURED_DURATION: LazyLock<measured::Histogram<11>> = LazyLock::new(|| {
    measured::Histogram::with_metadata(measured::metric::histogram::Thresholds::with_buckets([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ]))
});

#[inline(never)]
fn measured_counted(x: u64) -> u64 {
    let v = work(x);
    MEASURED_CALLS.inc();
    v
}

#[inline(never)]
fn measured_timed(x: u64) -> u64 {
    let start = Instant::now();
    let v = work(x);
    MEASURED_DURATION.observe(start.elapsed().as_secs_f64());
    v
}

/// fastmetrics: the same, unlabelled.
static FASTMETRICS_CALLS: LazyLock<fastmetrics::metrics::counter::Counter> =
    LazyLock::new(Default::default);
static FASTMETRICS_DURATION: LazyLock<fastmetrics::metrics::histogram::Histogram> =
    LazyLock::new(|| {
        fastmetrics::metrics::histogram::Histogram::new([
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ])
    });

#[inline(never)]
fn fastmetrics_counted(x: u64) -> u64 {
    let v = work(x);
    FASTMETRICS_CALLS.inc();
    v
}

#[inline(never)]
fn fastmetrics_timed(x: u64) -> u64 {
    let start = Instant::now();
    let v = work(x);
    FASTMETRICS_DURATION.observe(start.elapsed().as_secs_f64());
    v
}

/// asdlc-metrics counters held by hand: a standalone `Counter` (striped,
/// as the macros' call sites are) and a child looked up once by label
/// values (one plain atomic).
static ASDLC_COUNTER: LazyLock<asdlc_metrics::Counter> =
    LazyLock::new(|| asdlc_metrics::Counter::new("bench_held_total", "Held counter.").unwrap());
static ASDLC_CHILD: LazyLock<asdlc_metrics::Counter> = LazyLock::new(|| {
    asdlc_metrics::CounterVec::new("bench_child_total", "Child counter.", &["function"])
        .unwrap()
        .with_label_values(&["child"])
});

#[inline(never)]
fn asdlc_counter_striped(x: u64) -> u64 {
    let v = work(x);
    ASDLC_COUNTER.inc();
    v
}

#[inline(never)]
fn asdlc_counter_plain(x: u64) -> u64 {
    let v = work(x);
    ASDLC_CHILD.inc();
    v
}

type Variant = (&'static str, fn(u64) -> u64);

const VARIANTS: [Variant; 18] = [
    ("plain", plain),
    ("counted", with_counted),
    ("timed", with_timed),
    ("timed+counted", with_both),
    ("prometheus_hand_counted", hand_counted),
    ("prometheus_hand_timed", hand_timed),
    ("prometheus_naive_timed", naive_timed),
    ("autometrics", autometrics_fn),
    ("metered_hitcount+responsetime", metered_fn),
    ("metrics_rs_counter", metrics_rs_counted),
    ("metrics_rs_histogram", metrics_rs_timed),
    ("metrics_rs_both", metrics_rs_both),
    ("measured_counter", measured_counted),
    ("measured_histogram", measured_timed),
    ("fastmetrics_counter", fastmetrics_counted),
    ("fastmetrics_histogram", fastmetrics_timed),
    ("held_counter_striped", asdlc_counter_striped),
    ("held_counter_plain", asdlc_counter_plain),
];

#[inline(never)]
fn metrics_rs_both(x: u64) -> u64 {
    let start = Instant::now();
    let v = work(x);
    let labels = [
        ("function", "metrics_rs"),
        ("module", "benches"),
        ("result", "ok"),
    ];
    metrics::counter!("calls_total", &labels).increment(1);
    metrics::histogram!("duration_seconds", &labels).record(start.elapsed().as_secs_f64());
    v
}

fn single_thread(c: &mut Criterion) {
    LazyLock::force(&METRICS_RS);
    let mut group = c.benchmark_group("function_call");
    for (name, f) in VARIANTS {
        group.bench_function(name, |b| {
            let mut x = 0u64;
            b.iter(|| {
                x = f(black_box(x));
                x
            });
        });
    }
    group.finish();
}

/// The asdlc variants called inside a `tracing` span with a `trace_id`
/// field (read by `TraceIdLayer`): every call records an exemplar. The
/// difference to the same rows of `function_call` is the cost of an
/// exemplar.
fn traced(c: &mut Criterion) {
    use tracing_subscriber::layer::SubscriberExt as _;

    let subscriber =
        tracing_subscriber::registry().with(asdlc_metrics::exemplar::TraceIdLayer::new());
    let _default = tracing::subscriber::set_default(subscriber);
    let span = tracing::info_span!("bench", trace_id = "4bf92f3577b34da6a3ce929d0e0e4736");
    let _entered = span.enter();
    assert!(asdlc_metrics::exemplar::TraceContext::current().is_some());
    let mut group = c.benchmark_group("function_call_traced");
    for (name, f) in &VARIANTS[..4] {
        group.bench_function(*name, |b| {
            let mut x = 0u64;
            b.iter(|| {
                x = f(black_box(x));
                x
            });
        });
    }
    group.finish();
    // The same by CPU time, to compare with `function_call_cpu`.
    let mut group = c.benchmark_group("function_call_traced_cpu");
    for (name, f) in &VARIANTS[..4] {
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                let start = thread_cpu_time();
                let mut x = 0u64;
                for _ in 0..iters {
                    x = f(black_box(x));
                }
                black_box(x);
                thread_cpu_time().saturating_sub(start)
            });
        });
    }
    group.finish();
}

/// Two threads calling the same function: time per call on one of them
/// while the other calls in a loop (the shared metric's cache lines are
/// then contended).
fn two_threads(c: &mut Criterion) {
    LazyLock::force(&METRICS_RS);
    let mut group = c.benchmark_group("function_call_2_threads");
    for (name, f) in VARIANTS {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let barrier = std::sync::Barrier::new(2);
                std::thread::scope(|s| {
                    let other = s.spawn(|| {
                        barrier.wait();
                        let mut x = 1u64;
                        for _ in 0..iters {
                            x = f(black_box(x));
                        }
                        black_box(x);
                    });
                    barrier.wait();
                    let start = Instant::now();
                    let mut x = 0u64;
                    for _ in 0..iters {
                        x = f(black_box(x));
                    }
                    black_box(x);
                    let elapsed = start.elapsed();
                    other.join().unwrap();
                    elapsed
                })
            });
        });
    }
    group.finish();
}

/// An error enum as services write them: an expected variant, a unit
/// variant and one with a field. Its errors are counted by reason.
#[derive(Debug, LabelValue)]
enum BenchError {
    #[label(expected)]
    #[allow(dead_code)]
    Missing,
    #[allow(dead_code)]
    Timeout,
    Backend(#[allow(dead_code)] u32),
}

/// The same enum without the derive: an error that names no reason, of
/// the same size and layout (so both return their `Result` the same way).
#[derive(Debug)]
enum PlainError {
    #[allow(dead_code)]
    Missing,
    #[allow(dead_code)]
    Timeout,
    Backend(#[allow(dead_code)] u32),
}

/// Today's `#[counted]` on a `Result` whose error names no reason, ok path.
#[inline(never)]
#[counted]
fn plain_error_ok(x: u64) -> Result<u64, PlainError> {
    if x == u64::MAX {
        return Err(PlainError::Timeout);
    }
    Ok(work(x))
}

/// The same with an enum error, ok path.
#[inline(never)]
#[counted]
fn reason_ok(x: u64) -> Result<u64, BenchError> {
    if x == u64::MAX {
        return Err(BenchError::Timeout);
    }
    Ok(work(x))
}

/// Today's error path: `result="error"`.
#[inline(never)]
#[counted]
fn plain_error_err(x: u64) -> Result<u64, PlainError> {
    if x == u64::MAX {
        return Ok(0);
    }
    Err(PlainError::Backend(work(x) as u32))
}

/// The enum's error path: `result="error"` and
/// `asdlc_function_errors_total{reason="backend"}`.
#[inline(never)]
#[counted]
fn reason_err(x: u64) -> Result<u64, BenchError> {
    if x == u64::MAX {
        return Ok(0);
    }
    Err(BenchError::Backend(work(x) as u32))
}

/// Failure reasons: ok rows and error rows alternate, each pair "today,
/// with reasons", so a change in the machine's load hits both of a pair.
fn reasons(c: &mut Criterion) {
    fn row<E>(
        group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        name: &str,
        f: fn(u64) -> Result<u64, E>,
    ) {
        group.bench_function(name, |b| {
            let mut x = 0u64;
            b.iter(|| {
                x = match f(black_box(x)) {
                    Ok(v) => v,
                    Err(_) => x.wrapping_add(1),
                };
                x
            });
        });
    }
    let mut group = c.benchmark_group("function_result");
    row(&mut group, "ok/plain_error", plain_error_ok);
    row(&mut group, "ok/enum_error", reason_ok);
    row(&mut group, "err/plain_error", plain_error_err);
    row(&mut group, "err/enum_error", reason_err);
    group.finish();
}

/// CPU time of the calling thread (not wall time): what a call costs while
/// the thread runs, without the time it waits for a CPU on a machine
/// shared with other work (the wall-time group above then mostly measures
/// oversubscription: `plain` itself showed 1.3–1.8× there). Cache-line
/// contention still shows: a core stalled on a contended line is busy.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "CLOCK_THREAD_CPUTIME_ID is available on Linux");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The counter variants of the two-thread goal (issue 14) and `plain`,
/// alone and with a second thread calling the same function, both timed by
/// the measured thread's CPU time so that the ratio compares like with like.
fn cpu_timed(c: &mut Criterion) {
    let wanted = [
        "plain",
        "counted",
        "timed",
        "timed+counted",
        "prometheus_hand_counted",
        "held_counter_striped",
        "held_counter_plain",
    ];
    for (group, second_thread) in [
        ("function_call_cpu", false),
        ("function_call_2_threads_cpu", true),
    ] {
        let mut group = c.benchmark_group(group);
        for (name, f) in VARIANTS.into_iter().filter(|(n, _)| wanted.contains(n)) {
            group.bench_function(name, |b| {
                b.iter_custom(|iters| cpu_time_of(f, iters, second_thread));
            });
        }
        group.finish();
    }
}

/// CPU time of `iters` calls of `f` on this thread, with another thread
/// calling `f` meanwhile if `second_thread`.
fn cpu_time_of(f: fn(u64) -> u64, iters: u64, second_thread: bool) -> Duration {
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        let other = s.spawn(|| {
            barrier.wait();
            let mut x = 1u64;
            for _ in 0..if second_thread { iters } else { 0 } {
                x = f(black_box(x));
            }
            black_box(x);
        });
        barrier.wait();
        let start = thread_cpu_time();
        let mut x = 0u64;
        for _ in 0..iters {
            x = f(black_box(x));
        }
        black_box(x);
        let elapsed = thread_cpu_time().saturating_sub(start);
        other.join().unwrap();
        elapsed
    })
}

/// An `async fn` that completes on its first poll, plain.
#[inline(never)]
async fn plain_async(x: u64) -> u64 {
    work(x)
}

/// The same with `#[timed] #[counted]`: the guard lives in the function's
/// own future.
#[inline(never)]
#[timed]
#[counted]
async fn timed_counted_async(x: u64) -> u64 {
    work(x)
}

/// One poll of each `async fn` (it completes at once), with a no-op waker:
/// what the instrumentation adds to an async call, without an executor.
fn async_calls(c: &mut Criterion) {
    use std::task::{Context, Poll, Waker};
    let mut cx = Context::from_waker(Waker::noop());
    let mut group = c.benchmark_group("function_call_async");
    macro_rules! poll_once {
        ($name:literal, $f:ident) => {
            group.bench_function($name, |b| {
                let mut x = 0u64;
                b.iter(|| {
                    let future = std::pin::pin!($f(black_box(x)));
                    if let Poll::Ready(v) = future.poll(&mut cx) {
                        x = v;
                    }
                    x
                });
            });
        };
    }
    poll_once!("plain", plain_async);
    poll_once!("timed+counted", timed_counted_async);
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = single_thread, two_threads, cpu_timed, traced, reasons, async_calls
}
criterion_main!(benches);
