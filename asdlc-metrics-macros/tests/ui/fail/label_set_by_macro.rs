use asdlc_metrics::timed;

#[timed(labels(result = "fast"))]
fn f() {}

fn main() {}
