use asdlc_metrics::{Counter, Gauge, Metrics};

#[derive(Metrics)]
struct M {
    /// A counter must end in _total.
    jobs: Counter,
    /// A gauge must not.
    #[metric(name = "asdlc_level_total")]
    level: Gauge,
}

fn main() {}
