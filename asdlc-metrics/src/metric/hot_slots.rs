//! Striped slots for hot counters, packed eight to a cache line.
//!
//! A counter that call sites keep and update from many threads (the
//! macros' call sites, the middleware's routes) gets one `u64` slot per
//! stripe instead of one shared atomic. Giving each such counter whole
//! cache lines would cost 64 bytes × stripes per counter; instead a block
//! holds one line per stripe and eight counters share it, each owning one
//! slot of every line. A line is then written only by the threads of its
//! stripe, whichever of its eight counters they update, so threads on
//! different stripes never contend, at 8 bytes × 16 stripes per counter.

use std::sync::atomic::Ordering;
use std::sync::{Mutex, PoisonError};

use super::stripe::{Line, MAX_STRIPES, SLOTS_PER_LINE, thread_stripe};

/// One line per stripe; leaked, so slots can be `'static` without unsafe
/// code. Blocks are never freed, but slots are reused (see [`HotSlot`]'s
/// `Drop`), and hot counters are bounded by code anyway.
///
/// Always [`MAX_STRIPES`] lines (128 bytes per counter), whatever the
/// machine's stripe count: an update then finds its line from the slot's
/// one pointer and the thread's stripe, with no length to load from
/// another heap object first (a dependent load per call, and a read of a
/// small allocation that may share its cache line with data other threads
/// write).
type Block = [Line; MAX_STRIPES];

/// One counter's slots: slot `slot` of every line of `block`.
pub(super) struct HotSlot {
    block: &'static Block,
    slot: u32,
}

struct Pool {
    /// The block being filled and its next free slot.
    current: Option<(&'static Block, u32)>,
    /// Slots given back by dropped counters.
    free: Vec<(&'static Block, u32)>,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    current: None,
    free: Vec::new(),
});

impl HotSlot {
    /// A zeroed slot (taken under a lock: only when a hot counter is created).
    pub(super) fn take() -> Self {
        let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((block, slot)) = pool.free.pop() {
            let reused = HotSlot { block, slot };
            // Its last owner is gone, so nothing writes it concurrently.
            for line in block {
                line.0[reused.index()].store(0, Ordering::Relaxed);
            }
            return reused;
        }
        let (block, slot) = match pool.current {
            Some((block, next)) if (next as usize) < SLOTS_PER_LINE => (block, next),
            _ => {
                let block: Box<Block> = Box::new(std::array::from_fn(|_| Line::default()));
                (&*Box::leak(block), 0)
            }
        };
        pool.current = Some((block, slot + 1));
        HotSlot { block, slot }
    }

    #[inline]
    fn index(&self) -> usize {
        // Slots are below SLOTS_PER_LINE (a power of two); the mask lets
        // the compiler drop the bounds check from the hot path.
        self.slot as usize & (SLOTS_PER_LINE - 1)
    }

    /// Adds `v` on this thread's stripe.
    #[inline]
    pub(super) fn add(&self, v: u64) {
        // MAX_STRIPES is a power of two: the mask keeps the index in range.
        let line = &self.block[thread_stripe() & (MAX_STRIPES - 1)];
        line.0[self.index()].fetch_add(v, Ordering::Relaxed);
    }

    /// The sum over all stripes.
    pub(super) fn sum(&self) -> u64 {
        self.block
            .iter()
            .map(|line| line.0[self.index()].load(Ordering::Relaxed))
            .fold(0, u64::wrapping_add)
    }
}

impl Drop for HotSlot {
    fn drop(&mut self) {
        POOL.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .free
            .push((self.block, self.slot));
    }
}

impl std::fmt::Debug for HotSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotSlot")
            .field("slot", &self.slot)
            .field("sum", &self.sum())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_counters_share_a_block_and_keep_their_own_sums() {
        let slots: Vec<HotSlot> = (0..SLOTS_PER_LINE * 2 + 1)
            .map(|_| HotSlot::take())
            .collect();
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let slots = &slots;
                s.spawn(move || {
                    for (i, slot) in slots.iter().enumerate() {
                        for _ in 0..100 {
                            slot.add(i as u64 + t);
                        }
                    }
                });
            }
        });
        for (i, slot) in slots.iter().enumerate() {
            let i = i as u64;
            assert_eq!(slot.sum(), 100 * (4 * i + 6), "slot {i}");
        }
    }

    #[test]
    fn a_reused_slot_starts_at_zero() {
        let used: Vec<HotSlot> = (0..64).map(|_| HotSlot::take()).collect();
        for slot in &used {
            slot.add(7);
        }
        drop(used);
        // Whether they come from the free list (ours or another test's) or
        // a fresh block, taken slots read zero.
        let again: Vec<HotSlot> = (0..64).map(|_| HotSlot::take()).collect();
        assert!(again.iter().all(|s| s.sum() == 0));
    }
}
