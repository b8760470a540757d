use asdlc_metrics::in_flight;

#[in_flight(name = "asdlc_buffer_kilobytes")]
fn f() {}

fn main() {}
