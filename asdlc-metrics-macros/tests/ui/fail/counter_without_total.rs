use asdlc_metrics::counted;

#[counted(name = "asdlc_jobs")]
fn f() {}

fn main() {}
