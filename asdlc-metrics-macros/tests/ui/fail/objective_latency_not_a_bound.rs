use asdlc_metrics::{Objective, timed};

// 300 ms is not one of the default request buckets.
const API: Objective = Objective::new("api").latency(0.3, 99.0);

#[timed(objective = API)]
fn f() {}

fn main() {}
