//! Query proxy overhead: the same `query_range` straight to a real
//! victoria-metrics and through `asdlc_metrics::proxy`, over loopback HTTP,
//! in the same run. The difference of the medians is what the proxy adds
//! (goal: under 0.2 ms). A second group sends 32 requests at once each way,
//! for throughput.
//!
//! `cargo bench -p asdlc-benches --bench proxy`; medians are in
//! `target/criterion/query_range*/*/new/estimates.json`.

use std::fmt::Write as _;
use std::net::SocketAddr;

use asdlc_metrics::proxy::{ProxyConfig, router};
use asdlc_testkit::victoria::VictoriaMetrics;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::task::JoinSet;

/// 2024-05-01T12:00:00Z: the data's first sample.
const T0: i64 = 1_714_564_800;

/// Requests in flight at once in the throughput group.
const CONCURRENCY: usize = 32;

/// Three series, one sample every 15 s for an hour.
fn samples() -> String {
    let mut lines = String::new();
    for i in 0..240 {
        let ms = (T0 + 15 * i) * 1000;
        for kind in ["import", "export", "reindex"] {
            let _ = writeln!(
                lines,
                "asdlc_events_processed_total{{service=\"workers\",event_type=\"{kind}\",status=\"success\"}} {} {ms}",
                i * 3
            );
        }
    }
    lines
}

async fn serve_proxy(upstream: &str) -> SocketAddr {
    let app: axum::Router = router(ProxyConfig::new(upstream).expect("proxy config"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn fetch(client: &reqwest::Client, url: &str) -> usize {
    let response = client.get(url).send().await.expect("GET");
    assert_eq!(response.status(), 200);
    response.bytes().await.expect("body").len()
}

async fn fetch_many(client: &reqwest::Client, url: &str) {
    let mut set = JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (client, url) = (client.clone(), url.to_owned());
        set.spawn(async move { fetch(&client, &url).await });
    }
    while let Some(done) = set.join_next().await {
        done.expect("request task");
    }
}

fn proxy_overhead(c: &mut Criterion) {
    // Two workers for the proxy server and the client tasks; the 2-core
    // machine shares them with victoria-metrics, the same for both sides.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let vm = runtime
        .block_on(VictoriaMetrics::start())
        .unwrap_or_else(|e| panic!("{e}"));
    runtime
        .block_on(vm.import_prometheus(&samples()))
        .unwrap_or_else(|e| panic!("{e}"));
    let proxy = runtime.block_on(serve_proxy(&vm.url()));
    let client = asdlc_testkit::http::client();

    let query = "rate(asdlc_events_processed_total{service=\"workers\"}[1m])";
    let params = |path: &str, base: &str| {
        let mut url = reqwest::Url::parse(base).expect("url");
        url.set_path(path);
        url.query_pairs_mut()
            .append_pair("query", query)
            .append_pair("start", &T0.to_string())
            .append_pair("end", &(T0 + 3600).to_string())
            .append_pair("step", "60");
        url.to_string()
    };
    let direct = params("/api/v1/query_range", &vm.url());
    let proxied = params("/api/metrics/query_range", &format!("http://{proxy}"));
    let same = runtime.block_on(async {
        let a = client.get(&direct).send().await.expect("direct");
        let b = client.get(&proxied).send().await.expect("proxied");
        (
            a.bytes().await.expect("body"),
            b.bytes().await.expect("body"),
        )
    });
    assert_eq!(
        same.0, same.1,
        "the proxy must pass VictoriaMetrics' bytes through"
    );

    let pair = [("direct", direct.as_str()), ("proxy", proxied.as_str())];
    let mut group = c.benchmark_group("query_range");
    for (name, url) in pair {
        group.bench_function(name, |b| b.iter(|| runtime.block_on(fetch(&client, url))));
    }
    group.finish();

    let mut group = c.benchmark_group("query_range_x32");
    group.throughput(Throughput::Elements(CONCURRENCY as u64));
    for (name, url) in pair {
        group.bench_function(name, |b| {
            b.iter(|| runtime.block_on(fetch_many(&client, url)))
        });
    }
    group.finish();
    drop(vm);
}

criterion_group!(benches, proxy_overhead);
criterion_main!(benches);
