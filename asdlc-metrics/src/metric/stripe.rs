//! Per-thread stripes: how a hot metric spreads its atomics over cache
//! lines so that threads updating the same series do not bounce one line
//! between their cores.
//!
//! Each thread is given a stripe index, round robin, on its first update;
//! a striped value keeps one slot per stripe, each stripe's slots on lines
//! no other stripe touches, and a read adds the stripes up.

use std::cell::Cell as StdCell;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Atomics per cache line.
pub(super) const SLOTS_PER_LINE: usize = 8;

/// A cache line of atomics; stripes never share one.
#[repr(align(64))]
#[derive(Default)]
pub(super) struct Line(pub(super) [AtomicU64; SLOTS_PER_LINE]);

/// How many stripes a striped value has: enough that threads (assigned
/// round robin) rarely share one, capped to keep memory per series bounded.
pub(super) static STRIPES: LazyLock<usize> = LazyLock::new(|| {
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    (cpus * 4).next_power_of_two().clamp(1, MAX_STRIPES)
});

/// The most stripes a value gets on any machine (a power of two).
pub(super) const MAX_STRIPES: usize = 16;

static NEXT_STRIPE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static THREAD_STRIPE: StdCell<usize> = const { StdCell::new(usize::MAX) };
}

/// This thread's stripe index (not yet reduced modulo the stripe count).
#[inline]
pub(super) fn thread_stripe() -> usize {
    THREAD_STRIPE.with(|s| {
        let v = s.get();
        if v != usize::MAX {
            return v;
        }
        let v = NEXT_STRIPE.fetch_add(1, Ordering::Relaxed);
        s.set(v);
        v
    })
}
