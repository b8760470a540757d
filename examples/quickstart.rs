//! Quickstart: a service exporting the standard `asdlc_*` metrics.
//!
//! ```text
//! cargo run --example quickstart                         # http://127.0.0.1:9898/metrics
//! cargo run --example quickstart -- --addr 0.0.0.0:9000  # or ASDLC_METRICS_ADDR=...
//! ```
//!
//! It needs nothing else running: the traffic it records is simulated (a
//! loop that pretends to serve requests, process events and talk to Redis),
//! so every standard family has series to show.

use std::time::Duration;

use asdlc_metrics::ServiceInfo;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    asdlc_metrics::init(ServiceInfo::new("quickstart").version(env!("CARGO_PKG_VERSION")));
    let addr = listen_address();
    let server = asdlc_metrics::serve_metrics(addr.as_str()).await?;
    // Tests read this line to find the port when started with --addr 127.0.0.1:0.
    println!("metrics: http://{}/metrics", server.local_addr());
    println!("health:  http://{}/health", server.local_addr());

    let workload = tokio::spawn(simulate_traffic());
    tokio::signal::ctrl_c().await?;
    workload.abort();
    server.shutdown().await?;
    Ok(())
}

/// `--addr HOST:PORT`, else `$ASDLC_METRICS_ADDR`, else `127.0.0.1:9898`.
fn listen_address() -> String {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--addr" {
            if let Some(addr) = args.next() {
                return addr;
            }
        } else if let Some(addr) = arg.strip_prefix("--addr=") {
            return addr.to_owned();
        }
    }
    std::env::var("ASDLC_METRICS_ADDR").unwrap_or_else(|_| "127.0.0.1:9898".to_owned())
}

/// Records each standard metric in a loop, as a real service would.
async fn simulate_traffic() {
    let m = asdlc_metrics::standard();
    m.active_workers.set(4);
    m.redis_connection_up.set(1);
    let routes = [
        ("GET", "/api/tasks/{id}"),
        ("POST", "/api/tasks"),
        ("GET", "/health"),
    ];
    let mut tick: u64 = 0;
    loop {
        tick += 1;
        let (method, endpoint) = routes[(tick % 3) as usize];
        let status = if tick % 17 == 0 { "500" } else { "200" };
        m.http_requests_total
            .with_label_values(&[method, endpoint, status])
            .inc();
        m.http_request_duration_seconds
            .with_label_values(&[method, endpoint])
            .observe(0.002 * (tick % 50) as f64);

        m.active_tasks.inc();
        let event_type = if tick % 2 == 0 {
            "task_created"
        } else {
            "task_completed"
        };
        let outcome = if tick % 11 == 0 { "failure" } else { "success" };
        m.events_processed_total
            .with_label_values(&[event_type, outcome])
            .inc();
        m.redis_operation_duration_seconds
            .with_label_values(&["xadd"])
            .observe(0.0005 * (tick % 20) as f64);
        m.active_tasks.dec();

        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
