use asdlc_metrics::{Objective, timed};

const API: Objective = Objective::new("api").latency(0.25, 99.0);

#[timed(buckets = [0.1, 0.5, 1], objective = API)]
fn f() {}

fn main() {}
