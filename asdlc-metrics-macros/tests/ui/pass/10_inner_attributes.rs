#![deny(warnings)]

use asdlc_metrics::{counted, timed};

#[timed]
fn with_inner() -> u32 {
    #![allow(unused_variables)]
    let unused = 1;
    2
}

#[counted]
async fn async_inner() {
    #![allow(unused_mut)]
    let mut x = 1;
    let _ = x;
}

fn main() {
    assert_eq!(with_inner(), 2);
    drop(async_inner());
}
