use asdlc_metrics::{CounterVec, Metrics};

#[derive(Metrics)]
struct M {
    /// Jobs by kind.
    jobs_total: CounterVec,
}

fn main() {}
