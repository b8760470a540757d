use asdlc_metrics::timed;

#[timed(name = "asdlc_import_duration")]
fn f() {}

fn main() {}
