use asdlc_metrics::{CounterVec, Metrics};

#[derive(Metrics)]
struct M {
    /// Jobs by kind.
    #[metric(labels(kind), buckets = [1, 2])]
    jobs_total: CounterVec,
}

fn main() {}
