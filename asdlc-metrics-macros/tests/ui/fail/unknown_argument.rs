use asdlc_metrics::timed;

#[timed(nmae = "asdlc_x_seconds")]
fn f() {}

fn main() {}
