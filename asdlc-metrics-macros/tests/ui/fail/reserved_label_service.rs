use asdlc_metrics::counted;

#[counted(labels(team = "core", service = "api"))]
fn f() {}

fn main() {}
