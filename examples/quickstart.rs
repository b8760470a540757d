//! Quickstart: a service exporting the standard `asdlc_*` metrics.
//!
//! ```text
//! cargo run --example quickstart                         # http://127.0.0.1:9898/metrics
//! cargo run --example quickstart -- --addr 0.0.0.0:9000  # or ASDLC_METRICS_ADDR=...
//! ```
//!
//! It needs nothing else running: the traffic it records is simulated (a
//! loop that pretends to serve requests, process events and talk to Redis,
//! through functions carrying `#[timed]`, `#[counted]`, `#[redis_op]` and
//! `#[in_flight]`), so every standard family has series to show, and the
//! handler's failures are counted by reason.

use std::time::Duration;

use asdlc_metrics::{LabelValue, ServiceInfo, counted, in_flight, redis_op, timed};

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

/// The kinds of event the simulated workers handle; the derive bounds the
/// `event_type` label to these values.
#[derive(LabelValue, Clone, Copy)]
enum EventType {
    TaskCreated,
    TaskCompleted,
}

/// Why a simulated request failed. As the error type of an instrumented
/// function, each variant is a `reason` of `asdlc_function_errors_total`;
/// `NotFound` is expected (the caller asked for a task that may not exist),
/// so it counts as `result="ok"` and has no reason series.
#[derive(Debug, LabelValue)]
enum RequestError {
    #[label(expected)]
    NotFound,
    Timeout,
}

/// A simulated request handler: timed and counted by result, its failures
/// counted by reason.
#[timed]
#[counted]
async fn handle_request(tick: u64) -> Result<u64, RequestError> {
    tokio::time::sleep(Duration::from_millis(tick % 7)).await;
    if tick % 17 == 0 {
        Err(RequestError::Timeout)
    } else if tick % 5 == 0 {
        Err(RequestError::NotFound)
    } else {
        Ok(tick)
    }
}

/// A simulated Redis write (no Redis needed): recorded as
/// `asdlc_redis_operation_duration_seconds{operation="xadd"}`.
#[redis_op("xadd")]
async fn publish_event(tick: u64) -> Result<String, std::io::Error> {
    tokio::time::sleep(Duration::from_micros(200 + tick % 800)).await;
    Ok(format!("{tick}-0"))
}

/// A simulated task: `asdlc_active_tasks` is up by one while it runs.
#[in_flight]
#[timed]
async fn process_task(tick: u64) {
    tokio::time::sleep(Duration::from_millis(20 + tick % 30)).await;
}

/// Records each standard metric in a loop, as a real service would.
async fn simulate_traffic() {
    let m = asdlc_metrics::standard();
    m.active_workers.set(4);
    let routes = [
        ("GET", "/api/tasks/{id}"),
        ("POST", "/api/tasks"),
        ("GET", "/health"),
    ];
    let mut tick: u64 = 0;
    loop {
        tick += 1;
        // What the HTTP middleware records for a real axum app.
        let (method, endpoint) = routes[(tick % 3) as usize];
        let started = std::time::Instant::now();
        let status = match handle_request(tick).await {
            Ok(_) => "200",
            Err(RequestError::NotFound) => "404",
            Err(RequestError::Timeout) => "504",
        };
        m.http_requests_total
            .with_label_values(&[method, endpoint, status])
            .inc();
        m.http_request_duration_seconds
            .with_label_values(&[method, endpoint])
            .observe(started.elapsed().as_secs_f64());

        let event_type = if tick % 2 == 0 {
            EventType::TaskCreated
        } else {
            EventType::TaskCompleted
        };
        let event = asdlc_metrics::events::track(event_type);
        let published = publish_event(tick).await;
        tokio::spawn(process_task(tick));
        if tick % 11 == 0 {
            event.failure();
        } else {
            let _ = event.finish(published);
        }

        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
