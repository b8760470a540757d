use std::fmt::Display;

use asdlc_metrics::{counted, timed};

#[counted]
fn numbers() -> impl Iterator<Item = u8> {
    [1, 2, 3].into_iter()
}

#[timed]
fn shown(v: u8) -> Result<impl Display, String> {
    if v == 0 { Err("zero".into()) } else { Ok(v) }
}

#[timed]
fn boxed() -> Box<dyn Fn(u8) -> u8> {
    Box::new(|x| x + 1)
}

#[counted]
async fn async_impl() -> impl Display {
    5
}

fn main() {
    assert_eq!(numbers().sum::<u8>(), 6);
    assert_eq!(shown(1).unwrap().to_string(), "1");
    assert_eq!(boxed()(1), 2);
    drop(async_impl());
}
