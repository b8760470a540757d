use asdlc_metrics::{Objective, counted};

// A success rate of 100% leaves no error budget: not a percentage in (0, 100).
const API: Objective = Objective::new("api").success_rate(100.0);

#[counted(objective = API)]
fn f() {}

fn main() {
    f();
}
