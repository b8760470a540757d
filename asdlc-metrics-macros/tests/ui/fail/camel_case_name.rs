use asdlc_metrics::counted;

#[counted(name = "asdlcJobs_total")]
fn f() {}

fn main() {}
