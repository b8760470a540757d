use asdlc_metrics::{counted, timed};

#[timed]
fn plain() {}

#[counted]
fn with_value(x: u32) -> u32 {
    x + 1
}

#[timed]
#[counted]
pub fn both(a: &str) -> usize {
    a.len()
}

fn main() {
    plain();
    assert_eq!(with_value(1), 2);
    assert_eq!(both("abc"), 3);
}
