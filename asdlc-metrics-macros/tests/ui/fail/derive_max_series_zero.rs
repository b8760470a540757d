use asdlc_metrics::{CounterVec, Metrics};

#[derive(Metrics)]
struct M {
    /// Jobs.
    #[metric(labels(kind), max_series = 0)]
    jobs_total: CounterVec,
}

fn main() {}
