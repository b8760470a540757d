use asdlc_metrics::in_flight;

// Labels on the default `asdlc_active_tasks` would make a labelled series
// of the standard unlabelled gauge, which is never exported.
#[in_flight(labels(queue = "main"))]
fn f() {}

fn main() {
    f();
}
