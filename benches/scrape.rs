//! Cost of a scrape: time to encode 1k / 10k / 100k / 1M counter series (4
//! labels each) and 1k histogram series, plain and gzip, in asdlc-metrics,
//! `prometheus-client`, `metrics-exporter-prometheus`, the `prometheus`
//! crate (gather + text encoder), `measured` and `fastmetrics`. At 1M only
//! asdlc-metrics, prometheus-client, measured and fastmetrics run (the
//! other two take seconds per scrape already at 100k). Before the timings
//! it prints the body sizes, the peak heap a scrape allocates, the heap
//! each series holds (a counting allocator) and, for 1M asdlc-metrics
//! series, the growth of the resident set.
//!
//! `cargo bench -p asdlc-benches --bench scrape`

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use asdlc_metrics::{CounterVec, HistogramVec, Registry};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use prometheus_client::encoding::EncodeLabelSet;

/// Counts live and peak heap bytes, to report what a scrape allocates.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak bytes allocated (above what was live before) while running `f`.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed) - before)
}

const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];

/// The label values of counter series `i`: four labels, `i` distinct sets.
fn labels(i: usize) -> [String; 4] {
    [
        METHODS[i % 4].to_owned(),
        format!("/api/resource/{}", i / 4),
        "200".to_owned(),
        "eu-west".to_owned(),
    ]
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(body).unwrap();
    gz.finish().unwrap()
}

/// One implementation's registry with `n` counter series (or `n` histogram
/// series), behind a uniform "encode to bytes" call.
trait Subject {
    fn encode(&self) -> Vec<u8>;

    /// Done with a body `encode` returned (a peer just drops it).
    fn done(&self, _body: Vec<u8>) {}
}

struct Asdlc(Registry);

impl Subject for Asdlc {
    fn encode(&self) -> Vec<u8> {
        self.0.encode_to_vec()
    }

    /// Gives the buffer back for the next scrape, as the `/metrics` handler
    /// does once the body was sent.
    fn done(&self, body: Vec<u8>) {
        self.0.recycle(body);
    }
}

/// One scrape as a service does it, over and over: encode, then let go of
/// the body.
fn scrape_once(subject: &dyn Subject) {
    let body = subject.encode();
    black_box(&body);
    subject.done(body);
}

fn asdlc_counters(n: usize) -> Asdlc {
    // No series limit: the comparison is about the whole family (the
    // peers have none).
    let r = Registry::with_service("bench").with_default_max_series(None);
    let c = r
        .register(
            &CounterVec::new(
                "bench_requests_total",
                "Requests.",
                &["method", "endpoint", "status", "region"],
            )
            .unwrap(),
        )
        .unwrap();
    for i in 0..n {
        let l = labels(i);
        c.with_label_values(&[&l[0], &l[1], &l[2], &l[3]])
            .inc_by(i as u64);
    }
    Asdlc(r)
}

fn asdlc_histograms(n: usize) -> Asdlc {
    // No series limit: the comparison is about the whole family (the
    // peers have none).
    let r = Registry::with_service("bench").with_default_max_series(None);
    let h = r
        .register(
            &HistogramVec::new(
                "bench_duration_seconds",
                "Durations.",
                &["method", "endpoint"],
            )
            .unwrap(),
        )
        .unwrap();
    for i in 0..n {
        let l = labels(i);
        let s = h.with_label_values(&[&l[0], &l[1]]);
        s.observe(0.03);
        s.observe(0.7);
    }
    Asdlc(r)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClientLabels {
    method: String,
    endpoint: String,
    status: String,
    region: String,
}

struct PromClient(prometheus_client::registry::Registry);

impl Subject for PromClient {
    fn encode(&self) -> Vec<u8> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.0).unwrap();
        out.into_bytes()
    }
}

fn client_counters(n: usize) -> PromClient {
    use prometheus_client::metrics::{counter::Counter, family::Family};
    let mut r = prometheus_client::registry::Registry::default();
    let f = Family::<ClientLabels, Counter>::default();
    r.register("bench_requests", "Requests.", f.clone());
    for i in 0..n {
        let [method, endpoint, status, region] = labels(i);
        f.get_or_create(&ClientLabels {
            method,
            endpoint,
            status,
            region,
        })
        .inc_by(i as u64);
    }
    PromClient(r)
}

struct MetricsRs(metrics_exporter_prometheus::PrometheusHandle);

impl Subject for MetricsRs {
    fn encode(&self) -> Vec<u8> {
        self.0.render().into_bytes()
    }
}

fn metrics_rs_counters(n: usize) -> MetricsRs {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        for i in 0..n {
            let [method, endpoint, status, region] = labels(i);
            metrics::counter!("bench_requests_total", "method" => method, "endpoint" => endpoint, "status" => status, "region" => region)
                .increment(i as u64);
        }
    });
    // The recorder must outlive the handle's renders.
    std::mem::forget(recorder);
    MetricsRs(handle)
}

struct Prometheus(prometheus::Registry);

impl Subject for Prometheus {
    fn encode(&self) -> Vec<u8> {
        use prometheus::Encoder as _;
        let mut out = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&self.0.gather(), &mut out)
            .unwrap();
        out
    }
}

fn prometheus_counters(n: usize) -> Prometheus {
    let r = prometheus::Registry::new();
    let c = prometheus::IntCounterVec::new(
        prometheus::Opts::new("bench_requests_total", "Requests."),
        &["method", "endpoint", "status", "region"],
    )
    .unwrap();
    r.register(Box::new(c.clone())).unwrap();
    for i in 0..n {
        let l = labels(i);
        c.with_label_values(&[&l[0], &l[1], &l[2], &l[3]])
            .inc_by(i as u64);
    }
    Prometheus(r)
}

#[derive(measured::LabelGroup)]
#[label(set = MeasuredLabelsSet)]
struct MeasuredLabels<'a> {
    #[label(dynamic_with = lasso::ThreadedRodeo, default)]
    method: &'a str,
    #[label(dynamic_with = lasso::ThreadedRodeo, default)]
    endpoint: &'a str,
    #[label(dynamic_with = lasso::ThreadedRodeo, default)]
    status: &'a str,
    #[label(dynamic_with = lasso::ThreadedRodeo, default)]
    region: &'a str,
}

struct Measured(measured::CounterVec<MeasuredLabelsSet>);

impl Subject for Measured {
    fn encode(&self) -> Vec<u8> {
        use measured::metric::MetricFamilyEncoding as _;
        use measured::metric::group::Encoding as _;
        let mut enc = measured::text::BufferedTextEncoder::new();
        let name = measured::metric::name::MetricName::from_str("bench_requests_total");
        enc.write_help(name, "Requests.").unwrap();
        self.0.collect_family_into(name, &mut enc).unwrap();
        enc.finish().into()
    }
}

fn measured_counters(n: usize) -> Measured {
    let c = measured::CounterVec::with_label_set(MeasuredLabelsSet::default());
    for i in 0..n {
        let [method, endpoint, status, region] = labels(i);
        c.inc_by(
            MeasuredLabels {
                method: &method,
                endpoint: &endpoint,
                status: &status,
                region: &region,
            },
            i as u64,
        );
    }
    Measured(c)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct FastLabels([String; 4]);

impl fastmetrics::raw::LabelSetSchema for FastLabels {
    fn names() -> Option<&'static [&'static str]> {
        Some(&["method", "endpoint", "status", "region"])
    }
}

impl fastmetrics::encoder::EncodeLabelSet for FastLabels {
    fn encode(
        &self,
        encoder: &mut dyn fastmetrics::encoder::LabelSetEncoder,
    ) -> fastmetrics::error::Result<()> {
        let [method, endpoint, status, region] = &self.0;
        encoder.encode(&("method", method.as_str()))?;
        encoder.encode(&("endpoint", endpoint.as_str()))?;
        encoder.encode(&("status", status.as_str()))?;
        encoder.encode(&("region", region.as_str()))
    }
}

struct FastMetrics(fastmetrics::registry::Registry);

impl Subject for FastMetrics {
    fn encode(&self) -> Vec<u8> {
        let mut out = String::new();
        fastmetrics::format::text::encode(&mut out, &self.0, Default::default()).unwrap();
        out.into_bytes()
    }
}

fn fastmetrics_counters(n: usize) -> FastMetrics {
    use fastmetrics::metrics::{counter::Counter, family::Family};
    let mut r = fastmetrics::registry::Registry::default();
    let f = Family::<FastLabels, Counter>::default();
    r.register("bench_requests", "Requests.", f.clone())
        .unwrap();
    for i in 0..n {
        f.with_or_new(&FastLabels(labels(i)), |c| c.inc_by(i as u64));
    }
    FastMetrics(r)
}

/// Heap bytes still held after `f` returns (what the built registry keeps).
fn held_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    let out = f();
    (out, LIVE.load(Ordering::Relaxed).saturating_sub(before))
}

/// Resident set size of this process (Linux), in bytes.
fn rss() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

type Build = fn(usize) -> Box<dyn Subject>;

/// The implementations compared, and whether each runs at 1M series.
const COUNTER_SUBJECTS: [(&str, Build, bool); 6] = [
    ("asdlc_metrics", |n| Box::new(asdlc_counters(n)), true),
    ("prometheus_client", |n| Box::new(client_counters(n)), true),
    (
        "metrics_exporter_prometheus",
        |n| Box::new(metrics_rs_counters(n)),
        false,
    ),
    (
        "prometheus_gather",
        |n| Box::new(prometheus_counters(n)),
        false,
    ),
    ("measured", |n| Box::new(measured_counters(n)), true),
    ("fastmetrics", |n| Box::new(fastmetrics_counters(n)), true),
];

fn report(name: &str, subject: &dyn Subject) {
    // Steady state: a service scrapes the same registry again and again
    // (asdlc-metrics sizes the buffer after the previous scrape).
    black_box(subject.encode());
    let (body, peak) = peak_during(|| subject.encode());
    let zipped = gzip(&body);
    println!(
        "scrape-size {name}: plain {} bytes, gzip {} bytes, peak heap during the scrape {} bytes",
        body.len(),
        zipped.len(),
        peak
    );
}

fn scrape(c: &mut Criterion) {
    // Largest first: the RSS growth printed for the 1M registries is then
    // fresh memory (later, smaller sizes reuse what the larger ones freed,
    // so only the heap figure means something for them).
    let sizes = [1_000_000usize, 100_000, 10_000, 1_000];
    for &n in &sizes {
        let mut subjects: Vec<(&str, Box<dyn Subject>)> = Vec::new();
        for (name, build, at_1m) in COUNTER_SUBJECTS {
            if n >= 1_000_000 && !at_1m {
                continue;
            }
            let rss_before = rss();
            let (subject, held) = held_by(|| build(n));
            let rss_grown = rss().saturating_sub(rss_before);
            println!(
                "series-bytes counters/{n}/{name}: {} bytes per series (heap held {held} bytes, RSS +{rss_grown} bytes)",
                held / n
            );
            subjects.push((name, subject));
        }
        for (name, subject) in &subjects {
            report(&format!("counters/{n}/{name}"), subject.as_ref());
        }
        let mut group = c.benchmark_group(format!("scrape_counters_{n}"));
        if n >= 100_000 {
            group.sample_size(10);
        }
        for (name, subject) in &subjects {
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| scrape_once(subject.as_ref()))
            });
        }
        let ours = &subjects[0].1;
        group.bench_function(BenchmarkId::from_parameter("asdlc_metrics_gzip"), |b| {
            b.iter(|| {
                let body = ours.encode();
                black_box(gzip(&body));
                ours.done(body);
            });
        });
        // Without giving the buffer back: every scrape writes fresh memory
        // (what `encode_to_vec` costs a caller that drops the body).
        group.bench_function(
            BenchmarkId::from_parameter("asdlc_metrics_fresh_buffer"),
            |b| b.iter(|| black_box(ours.encode())),
        );
        group.finish();
    }

    let (histograms, held) = held_by(|| asdlc_histograms(1_000));
    println!(
        "series-bytes histograms/1000/asdlc_metrics: {} bytes per series (heap held {held} bytes)",
        held / 1_000
    );
    report("histograms/1000/asdlc_metrics", &histograms);
    let mut group = c.benchmark_group("scrape_histograms_1000");
    group.bench_function("asdlc_metrics", |b| b.iter(|| scrape_once(&histograms)));
    group.bench_function("asdlc_metrics_gzip", |b| {
        b.iter(|| {
            let body = histograms.encode();
            black_box(gzip(&body));
            histograms.done(body);
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    targets = scrape
}
criterion_main!(benches);
