use std::pin::Pin;
use std::sync::Arc;

use asdlc_metrics::{counted, timed};

struct S {
    v: Vec<u8>,
}

impl S {
    #[counted]
    fn by_value(self) -> Vec<u8> {
        self.v
    }

    #[counted]
    fn by_ref(&self) -> &[u8] {
        &self.v
    }

    #[counted]
    fn by_mut(&mut self) -> &mut Vec<u8> {
        &mut self.v
    }

    #[timed]
    fn pinned(self: Pin<&mut Self>) -> usize {
        self.v.len()
    }

    #[timed]
    fn arc(self: Arc<Self>) -> usize {
        self.v.len()
    }

    #[timed]
    async fn async_ref(&self) -> &[u8] {
        &self.v
    }

    // A macro call puts the body in an `async` block, whose value must
    // still coerce to the declared type (`&Vec<u8>` to `&[u8]`).
    #[timed]
    async fn async_ref_logged(&self) -> &[u8] {
        ::std::debug_assert!(!self.v.is_empty());
        &self.v
    }

    #[counted]
    async fn async_mut(&mut self) -> &mut Vec<u8> {
        &mut self.v
    }
}

fn main() {
    let mut s = S { v: vec![1] };
    s.by_mut().push(2);
    assert_eq!(s.by_ref(), &[1, 2]);
    assert_eq!(Pin::new(&mut s).pinned(), 2);
    assert_eq!(Arc::new(S { v: vec![] }).arc(), 0);
    drop(s.async_ref());
    drop(s.async_mut());
    assert_eq!(s.by_value(), vec![1, 2]);
}
