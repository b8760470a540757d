use std::future::Future;

use asdlc_metrics::timed;

#[timed]
fn later(x: u8) -> impl Future<Output = Result<u8, String>> + Send + 'static {
    async move { if x > 0 { Ok(x) } else { Err("zero".to_owned()) } }
}

#[timed]
fn borrowed<'a>(s: &'a str) -> impl Future<Output = usize> + 'a {
    async move { s.len() }
}

fn main() {
    drop(later(1));
    drop(borrowed("abc"));
}
