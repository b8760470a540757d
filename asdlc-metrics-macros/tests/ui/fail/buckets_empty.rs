use asdlc_metrics::timed;

#[timed(buckets = [])]
fn f() {}

fn main() {}
