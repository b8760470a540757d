use asdlc_metrics::timed;

#[timed(help = "How long f takes.")]
fn f() {}

fn main() {}
