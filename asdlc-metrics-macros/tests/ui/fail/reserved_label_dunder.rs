use asdlc_metrics::counted;

#[counted(labels(__name__ = "x"))]
fn f() {}

fn main() {}
