use asdlc_metrics::{Objective, in_flight};

const API: Objective = Objective::new("api").success_rate(99.9);

#[in_flight(objective = API)]
fn f() {}

fn main() {}
