use asdlc_metrics::{HistogramVec, Metrics};

#[derive(Metrics)]
struct M {
    /// Latency.
    #[metric(labels(route, le))]
    latency_seconds: HistogramVec,
}

fn main() {}
