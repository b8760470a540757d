//! Every form of function the attribute macros accept, each called and its
//! series checked. The module denies warnings and clippy's pedantic group:
//! the generated code must not add any to user code.
#![deny(warnings, clippy::pedantic)]
// Counts are small integers carried in f64: exact comparison is right.
#![allow(clippy::float_cmp)]

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use asdlc_metrics::{counted, in_flight, timed};

use crate::common::{calls, scrape, timings};

const MODULE: &str = "suite::macro_forms";

struct Worker {
    done: u32,
}

impl Worker {
    #[counted]
    fn by_ref(&self) -> u32 {
        self.done
    }

    #[counted]
    fn by_mut(&mut self) -> &mut u32 {
        self.done += 1;
        &mut self.done
    }

    #[counted]
    fn by_value(self) -> u32 {
        self.done
    }

    #[counted]
    fn pinned(self: Pin<&mut Self>) -> u32 {
        self.get_mut().done
    }

    #[counted]
    #[timed]
    async fn shared(self: Arc<Self>) -> u32 {
        self.done
    }

    #[timed]
    async fn async_by_mut(&mut self, by: u32) -> &mut u32 {
        self.done += by;
        &mut self.done
    }
}

#[tokio::test]
async fn methods_with_every_receiver() {
    let mut w = Worker { done: 1 };
    assert_eq!(w.by_ref(), 1);
    *w.by_mut() += 1;
    assert_eq!(w.done, 3);
    assert_eq!(Pin::new(&mut w).pinned(), 3);
    assert_eq!(*w.async_by_mut(2).await, 5);
    assert_eq!(Arc::new(Worker { done: 7 }).shared().await, 7);
    assert_eq!(w.by_value(), 5);
    for f in ["by_ref", "by_mut", "pinned", "shared", "by_value"] {
        assert_eq!(calls(&scrape(), MODULE, f, Some("ok")), 1.0, "{f}");
    }
    assert_eq!(timings(&scrape(), MODULE, "async_by_mut", None), 1.0);
    assert_eq!(timings(&scrape(), MODULE, "shared", None), 1.0);
}

#[counted]
fn generic_sum<T, I>(items: I) -> T
where
    T: std::iter::Sum<T>,
    I: IntoIterator<Item = T>,
{
    items.into_iter().sum()
}

#[counted]
fn lifetimes<'a, 'b: 'a>(a: &'a str, _b: &'b str) -> &'a str {
    a
}

#[counted]
fn const_generic<const N: usize>(values: [u8; N]) -> usize {
    values.len()
}

#[test]
fn generics_where_clauses_lifetimes_and_const_generics() {
    assert_eq!(generic_sum::<u32, _>(vec![1, 2, 3]), 6);
    assert!((generic_sum::<f64, _>([0.5, 0.25]) - 0.75).abs() < f64::EPSILON);
    assert_eq!(lifetimes("a", "b"), "a");
    assert_eq!(const_generic([1, 2, 3]), 3);
    assert_eq!(calls(&scrape(), MODULE, "generic_sum", Some("ok")), 2.0);
    assert_eq!(calls(&scrape(), MODULE, "lifetimes", Some("ok")), 1.0);
    assert_eq!(calls(&scrape(), MODULE, "const_generic", Some("ok")), 1.0);
}

/// # Safety
/// `ptr` must point to a readable `u32`.
#[counted]
unsafe fn read_raw(ptr: *const u32) -> u32 {
    // SAFETY: the caller guarantees `ptr` is readable.
    unsafe { *ptr }
}

#[counted]
extern "C" fn c_abi(x: i32) -> i32 {
    x + 1
}

#[test]
fn unsafe_and_extern_fns() {
    let x = 41u32;
    // SAFETY: `x` is a live u32.
    assert_eq!(unsafe { read_raw(&raw const x) }, 41);
    assert_eq!(c_abi(1), 2);
    assert_eq!(calls(&scrape(), MODULE, "read_raw", Some("ok")), 1.0);
    assert_eq!(calls(&scrape(), MODULE, "c_abi", Some("ok")), 1.0);
}

#[counted]
fn early(kind: u8) -> Result<&'static str, String> {
    #![allow(clippy::needless_return)]
    if kind == 0 {
        return Ok("zero");
    }
    let parsed: u8 = "x"
        .parse()
        .map_err(|e: std::num::ParseIntError| e.to_string())
        .or(Ok::<u8, String>(kind))?;
    if parsed > 100 {
        return Err("too big".to_owned());
    }
    Ok("small")
}

#[counted]
fn option_question(v: Option<u8>) -> Option<u8> {
    let v = v?;
    Some(v + 1)
}

#[test]
fn early_return_question_mark_and_inner_attributes() {
    assert_eq!(early(0), Ok("zero"));
    assert_eq!(early(5), Ok("small"));
    assert_eq!(early(200), Err("too big".to_owned()));
    assert_eq!(option_question(None), None);
    assert_eq!(option_question(Some(1)), Some(2));
    assert_eq!(calls(&scrape(), MODULE, "early", Some("ok")), 2.0);
    assert_eq!(calls(&scrape(), MODULE, "early", Some("error")), 1.0);
    assert_eq!(
        calls(&scrape(), MODULE, "option_question", Some("ok")),
        2.0,
        "an Option is not a Result: None is ok"
    );
}

#[counted]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[counted]
fn boxed_display(v: u8) -> Result<impl Display, String> {
    if v == 0 {
        Err("zero".to_owned())
    } else {
        Ok(v)
    }
}

#[test]
fn impl_trait_in_return_position() {
    assert_eq!(evens(5).count(), 3);
    assert!(boxed_display(0).is_err());
    assert_eq!(boxed_display(3).unwrap().to_string(), "3");
    assert_eq!(calls(&scrape(), MODULE, "evens", Some("ok")), 1.0);
    assert_eq!(
        calls(&scrape(), MODULE, "boxed_display", Some("error")),
        1.0
    );
    assert_eq!(calls(&scrape(), MODULE, "boxed_display", Some("ok")), 1.0);
}

#[timed]
#[counted]
fn returns_future(x: u32) -> impl Future<Output = Result<u32, String>> + Send {
    async move {
        tokio::task::yield_now().await;
        if x == 0 {
            Err("zero".to_owned())
        } else {
            Ok(x)
        }
    }
}

#[counted]
async fn plain_async(x: u32) -> u32 {
    tokio::task::yield_now().await;
    x * 2
}

#[tokio::test]
async fn async_fns_and_fns_returning_impl_future() {
    assert_eq!(returns_future(2).await, Ok(2));
    assert!(returns_future(0).await.is_err());
    assert_eq!(plain_async(4).await, 8);
    assert_eq!(calls(&scrape(), MODULE, "returns_future", Some("ok")), 1.0);
    assert_eq!(
        calls(&scrape(), MODULE, "returns_future", Some("error")),
        1.0
    );
    assert_eq!(timings(&scrape(), MODULE, "returns_future", None), 2.0);
    assert_eq!(calls(&scrape(), MODULE, "plain_async", Some("ok")), 1.0);
}

#[async_trait::async_trait]
trait Store {
    async fn put(&self, key: &str) -> Result<usize, String>;
    async fn get(&self, key: &str) -> Option<usize>;

    #[counted]
    async fn default_method(&self) -> u8 {
        1
    }
}

struct Memory;

#[async_trait::async_trait]
impl Store for Memory {
    #[timed]
    #[counted]
    async fn put(&self, key: &str) -> Result<usize, String> {
        tokio::task::yield_now().await;
        if key.is_empty() {
            Err("empty key".to_owned())
        } else {
            Ok(key.len())
        }
    }

    #[counted]
    #[timed]
    async fn get(&self, key: &str) -> Option<usize> {
        Some(key.len())
    }
}

#[tokio::test]
async fn async_trait_methods_in_either_attribute_order() {
    let store: Box<dyn Store + Send + Sync> = Box::new(Memory);
    assert_eq!(store.put("ab").await, Ok(2));
    assert!(store.put("").await.is_err());
    assert_eq!(store.get("abc").await, Some(3));
    assert_eq!(store.default_method().await, 1);
    assert_eq!(calls(&scrape(), MODULE, "put", Some("ok")), 1.0);
    assert_eq!(calls(&scrape(), MODULE, "put", Some("error")), 1.0);
    assert_eq!(timings(&scrape(), MODULE, "put", None), 2.0);
    assert_eq!(calls(&scrape(), MODULE, "get", Some("ok")), 1.0);
    assert_eq!(timings(&scrape(), MODULE, "get", None), 1.0);
    assert_eq!(calls(&scrape(), MODULE, "default_method", Some("ok")), 1.0);
}

trait Native {
    #[counted]
    async fn native_default(&self) -> u8 {
        2
    }
}

impl Native for Memory {}

#[tokio::test]
async fn native_async_fn_in_trait() {
    assert_eq!(Memory.native_default().await, 2);
    assert_eq!(calls(&scrape(), MODULE, "native_default", Some("ok")), 1.0);
}

#[in_flight(name = "asdlc_forms_in_flight")]
#[timed]
#[counted]
async fn all_three(x: u8) -> u8 {
    x
}

#[tokio::test]
async fn all_attributes_together_in_any_order() {
    assert_eq!(all_three(3).await, 3);
    assert_eq!(calls(&scrape(), MODULE, "all_three", Some("ok")), 1.0);
    assert_eq!(timings(&scrape(), MODULE, "all_three", None), 1.0);
    let s = scrape();
    assert_eq!(s.value("asdlc_forms_in_flight", &[]), 0.0);
}

// Bodies whose only early exits are `return`s: the expansion runs them in a
// labelled block (each `return` a `break` out of it) instead of a closure.
#[timed]
#[counted]
fn first_multiple(of: u32, items: &[u32]) -> Result<u32, String> {
    for item in items {
        if item % of == 0 {
            return Ok(*item);
        }
    }
    if items.is_empty() {
        return Err("empty".to_owned());
    }
    Err("none".to_owned())
}

#[counted]
fn stop_early(stop: bool, seen: &mut Vec<u8>) {
    seen.push(1);
    if stop {
        return;
    }
    seen.push(2);
}

struct Slots {
    slots: Vec<u8>,
}

impl Slots {
    #[counted]
    fn slot(&mut self, i: usize) -> &mut u8 {
        if i >= self.slots.len() {
            return &mut self.slots[0];
        }
        &mut self.slots[i]
    }
}

#[test]
fn early_returns_without_question_mark_are_classified_by_their_value() {
    assert_eq!(first_multiple(3, &[1, 6, 9]), Ok(6));
    assert_eq!(first_multiple(3, &[]), Err("empty".to_owned()));
    assert_eq!(first_multiple(3, &[1, 2]), Err("none".to_owned()));
    assert_eq!(calls(&scrape(), MODULE, "first_multiple", Some("ok")), 1.0);
    assert_eq!(
        calls(&scrape(), MODULE, "first_multiple", Some("error")),
        2.0
    );
    assert_eq!(timings(&scrape(), MODULE, "first_multiple", None), 3.0);

    let mut seen = Vec::new();
    stop_early(true, &mut seen);
    stop_early(false, &mut seen);
    assert_eq!(seen, [1, 1, 2]);
    assert_eq!(calls(&scrape(), MODULE, "stop_early", Some("ok")), 2.0);

    let mut slots = Slots { slots: vec![0, 0] };
    *slots.slot(1) = 7;
    *slots.slot(9) = 3;
    assert_eq!(slots.slots, [3, 7]);
    assert_eq!(calls(&scrape(), MODULE, "slot", Some("ok")), 2.0);
}
