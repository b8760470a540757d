use asdlc_metrics::{Counter, Metrics};

type Jobs = Counter;

#[derive(Metrics)]
struct M {
    /// Jobs run.
    jobs_total: Jobs,
}

fn main() {
    // The type stays usable after the error: no second error here.
    M::global().jobs_total.inc();
}
