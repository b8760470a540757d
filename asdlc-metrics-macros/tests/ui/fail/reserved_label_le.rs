use asdlc_metrics::timed;

#[timed(labels(le = "1"))]
fn f() {}

fn main() {}
