use asdlc_metrics::{Counter, Metrics};

#[derive(Metrics)]
struct M {
    /// Jobs.
    #[metric(labels(kind))]
    jobs_total: Counter,
}

fn main() {}
