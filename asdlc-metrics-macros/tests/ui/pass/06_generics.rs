use std::fmt::Debug;

use asdlc_metrics::{counted, timed};

#[timed]
fn describe<T: Debug, U>(t: T, _u: U) -> String
where
    U: Clone + Send,
{
    format!("{t:?}")
}

#[counted]
fn first<'a, T: ?Sized + AsRef<str>>(items: &'a [&'a T]) -> Option<&'a str> {
    items.first().map(|t| t.as_ref())
}

#[timed]
async fn generic_async<E: std::error::Error>(r: Result<u8, E>) -> Result<u8, E> {
    r
}

struct Wrapper<T>(T);

impl<T: Clone> Wrapper<T> {
    #[counted]
    fn get(&self) -> T {
        self.0.clone()
    }
}

fn main() {
    assert_eq!(describe(1, ()), "1");
    assert_eq!(first::<str>(&["a"]), Some("a"));
    drop(generic_async::<std::io::Error>(Ok(1)));
    assert_eq!(Wrapper(3).get(), 3);
}
