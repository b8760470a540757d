use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use asdlc_metrics::{counted, timed};

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            return v;
        }
    }
}

#[timed]
async fn fetch(id: u64) -> Result<u64, String> {
    if id == 0 {
        return Err("zero".to_owned());
    }
    Ok(id)
}

#[counted]
pub(crate) async fn nothing() {}

fn main() {
    assert_eq!(block_on(fetch(3)), Ok(3));
    block_on(nothing());
}
