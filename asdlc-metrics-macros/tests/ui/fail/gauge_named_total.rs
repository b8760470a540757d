use asdlc_metrics::in_flight;

#[in_flight(name = "asdlc_running_total")]
fn f() {}

fn main() {}
