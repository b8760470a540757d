use asdlc_metrics::{Counter, Metrics};

#[derive(Metrics)]
struct M {
    /// Documented.
    ok_total: Counter,
    undocumented_total: Counter,
}

fn main() {}
