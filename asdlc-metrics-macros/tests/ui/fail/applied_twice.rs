use asdlc_metrics::counted;

#[counted]
#[counted]
fn f() {}

fn main() {}
