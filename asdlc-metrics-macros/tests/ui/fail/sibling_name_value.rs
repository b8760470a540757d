use asdlc_metrics::{counted, timed};

#[timed]
#[counted = "calls"]
fn f() {}

fn main() {
    f();
}
