//! The workers service: a pool of consumers reading the task stream with a
//! consumer group, instrumented with asdlc-metrics, serving `/metrics` and
//! `/health` on :8081.
//!
//! ```text
//! REDIS_URL=redis://127.0.0.1:6379 WORKERS=4 PORT=8081 cargo run --example workers
//! ```
//!
//! * Each worker reads with `XREADGROUP` (its own connection, since reads
//!   block), handles events in a function carrying `#[timed]`, `#[counted]`
//!   and `#[in_flight]`, counts `asdlc_events_processed_total`, and commits
//!   the task state together with the `XACK` in one Lua script — so a task
//!   is acknowledged, and marked done, exactly once.
//! * It starts while Redis is down (`asdlc_redis_connection_up 0`) and
//!   reconnects with backoff. After a restart each worker first re-reads
//!   the events it had been handed but not acknowledged (same consumer
//!   name), and claims events left pending by consumers that went away.
//! * SIGTERM / Ctrl-C: workers stop reading, finish the events in hand and
//!   exit; an event read but not finished stays pending, to be redelivered.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use asdlc_metrics::collectors::{WorkerPoolCollector, WorkerPoolSnapshot};
use asdlc_metrics::redis_metrics::{InstrumentedConnection, RedisHealthCheck};
use asdlc_metrics::{LabelValue, ServiceInfo, counted, in_flight, timed};
use common::{Backoff, GROUP, STREAM};
use redis::aio::MultiplexedConnection;
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamReadOptions, StreamReadReply,
};
use redis::{AsyncCommands as _, AsyncConnectionConfig};
use tokio::sync::watch;

/// Events left pending this long by a consumer are claimed by another.
const CLAIM_IDLE: Duration = Duration::from_secs(30);
/// How long one `XREADGROUP` blocks waiting for events.
const BLOCK: Duration = Duration::from_secs(1);

/// The event types on the stream.
#[derive(LabelValue, Clone, Copy, Debug)]
enum EventType {
    TaskCreated,
    Unknown,
}

/// Acknowledges an event and records the task's final state, atomically and
/// only if this call did the acknowledging: a redelivered event whose first
/// delivery already committed changes nothing.
const COMMIT: &str = r"
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 1 then
    redis.call('HSET', KEYS[2], 'state', ARGV[3])
    redis.call('HINCRBY', KEYS[2], 'processed', 1)
    return 1
end
return 0
";

type Connection = InstrumentedConnection<MultiplexedConnection>;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    common::init_logging();
    asdlc_metrics::init(ServiceInfo::new("workers").version(env!("CARGO_PKG_VERSION")));
    let workers: usize = std::env::var("WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(4)
        .max(1);
    let client = redis::Client::open(common::redis_url())?;

    // Before the port is announced: a SIGTERM from then on stops gracefully.
    let shutdown = common::shutdown_signal();
    let server = asdlc_metrics::serve_metrics(common::listen_addr(8081).as_str()).await?;
    // Tests read this line to find the port when started with PORT=0.
    println!("metrics: http://{}/metrics", server.local_addr());

    let _health = RedisHealthCheck::new(client.clone())
        .interval(Duration::from_secs(1))
        .timeout(common::redis_timeout())
        .spawn();
    let active = Arc::new(AtomicU64::new(0));
    let pool = Arc::clone(&active);
    asdlc_metrics::registry().register_collector(WorkerPoolCollector::new(move || {
        WorkerPoolSnapshot::new(pool.load(Ordering::Relaxed))
    }));

    let (stop, stopped) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..workers {
        let worker = Worker {
            consumer: format!("worker-{index}"),
            client: client.clone(),
            stopped: stopped.clone(),
            active: Arc::clone(&active),
        };
        tasks.spawn(worker.run());
    }
    tracing::info!(workers, stream = STREAM, group = GROUP, "workers started");

    shutdown.await;
    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
    server.shutdown().await?;
    tracing::info!("workers stopped");
    Ok(())
}

struct Worker {
    consumer: String,
    client: redis::Client,
    stopped: watch::Receiver<bool>,
    active: Arc<AtomicU64>,
}

/// Keeps `asdlc_active_workers` right however a worker task ends.
struct Active(Arc<AtomicU64>);

impl Active {
    fn enter(count: &Arc<AtomicU64>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Active(Arc::clone(count))
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Worker {
    async fn run(mut self) {
        let _active = Active::enter(&self.active);
        let mut backoff = Backoff::new();
        let mut connection: Option<Connection> = None;
        // After every (re)connect, first the events this consumer was handed
        // and never acknowledged ("0"), then new ones (">").
        let mut drain_pending = true;
        while !*self.stopped.borrow() {
            let Some(con) = connection.as_mut() else {
                match self.connect().await {
                    Ok(c) => {
                        connection = Some(c);
                        drain_pending = true;
                        backoff.reset();
                    }
                    Err(e) => {
                        tracing::warn!(consumer = %self.consumer, "cannot reach Redis: {e}");
                        self.sleep(backoff.next_delay()).await;
                    }
                }
                continue;
            };
            let start = if drain_pending { "0" } else { ">" };
            let read = tokio::select! {
                read = read_events(con, &self.consumer, start) => read,
                _ = self.stopped.changed() => break,
            };
            let mut events = match read {
                Ok(events) => events,
                Err(e) => {
                    tracing::warn!(consumer = %self.consumer, "reading the stream failed: {e}");
                    connection = None;
                    continue;
                }
            };
            if drain_pending && events.is_empty() {
                drain_pending = false;
                match claim_abandoned(con, &self.consumer).await {
                    Ok(claimed) => events = claimed,
                    Err(e) => {
                        tracing::warn!(consumer = %self.consumer, "claiming pending events failed: {e}")
                    }
                }
            }
            for event in events {
                // Events in hand are finished even when a shutdown arrives.
                if let Err(e) = process(con, &event).await {
                    tracing::warn!(consumer = %self.consumer, id = %event.id, "event left pending: {e}");
                    connection = None;
                    break;
                }
            }
        }
    }

    async fn connect(&self) -> redis::RedisResult<Connection> {
        // Every command is bounded: the blocking read by its block time
        // plus the usual bound, so a Redis that hangs is noticed.
        let timeout = common::redis_timeout();
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(timeout)
            .set_response_timeout(BLOCK + timeout);
        let mut con = InstrumentedConnection::new(
            self.client
                .get_multiplexed_async_connection_with_config(&config)
                .await?,
        )
        .timeout(BLOCK + timeout);
        let created: redis::RedisResult<()> = con.xgroup_create_mkstream(STREAM, GROUP, "0").await;
        if let Err(e) = created {
            if e.code() != Some("BUSYGROUP") {
                return Err(e);
            }
        }
        Ok(con)
    }

    async fn sleep(&mut self, delay: Duration) {
        tokio::select! {
            () = tokio::time::sleep(delay) => {},
            _ = self.stopped.changed() => {},
        }
    }
}

async fn read_events(
    con: &mut Connection,
    consumer: &str,
    start: &str,
) -> redis::RedisResult<Vec<StreamId>> {
    let block = usize::try_from(BLOCK.as_millis()).unwrap_or(1000);
    let options = StreamReadOptions::default()
        .group(GROUP, consumer)
        .count(10)
        .block(block);
    let reply: Option<StreamReadReply> = con.xread_options(&[STREAM], &[start], &options).await?;
    Ok(reply
        .into_iter()
        .flat_map(|r| r.keys)
        .flat_map(|k| k.ids)
        .collect())
}

/// Takes over events other consumers were handed but left pending for
/// longer than [`CLAIM_IDLE`] (a consumer that went away for good).
async fn claim_abandoned(
    con: &mut Connection,
    consumer: &str,
) -> redis::RedisResult<Vec<StreamId>> {
    let idle = usize::try_from(CLAIM_IDLE.as_millis()).unwrap_or(usize::MAX);
    let options = StreamAutoClaimOptions::default().count(10);
    let reply: StreamAutoClaimReply = con
        .xautoclaim_options(STREAM, GROUP, consumer, idle, "0-0", options)
        .await?;
    Ok(reply.claimed)
}

/// Handles one event and commits its outcome; `Err` only when Redis failed
/// (the event then stays pending for redelivery).
async fn process(con: &mut Connection, event: &StreamId) -> redis::RedisResult<()> {
    let event_type = match event.get::<String>("type").as_deref() {
        Some("task_created") => EventType::TaskCreated,
        _ => EventType::Unknown,
    };
    let task_id: String = event.get("task_id").unwrap_or_default();
    let tracked = asdlc_metrics::events::track(event_type);
    let outcome = tracked.finish(handle_event(event_type, &task_id).await);
    let state = if outcome.is_ok() { "done" } else { "failed" };
    let _committed: i64 = redis::Script::new(COMMIT)
        .key(STREAM)
        .key(common::task_key(&task_id))
        .arg(GROUP)
        .arg(&event.id)
        .arg(state)
        .invoke_async(con)
        .await?;
    Ok(())
}

/// The work itself (simulated: 5–20 ms, or `$WORK_MS` milliseconds).
#[timed]
#[counted]
#[in_flight]
async fn handle_event(event_type: EventType, task_id: &str) -> Result<(), String> {
    if task_id.is_empty() {
        return Err(format!(
            "{} event without a task_id",
            event_type.label_value()
        ));
    }
    let work = std::env::var("WORK_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| 5 + task_id.bytes().map(u64::from).sum::<u64>() % 15);
    tokio::time::sleep(Duration::from_millis(work)).await;
    Ok(())
}
