//! The clock behind every duration this crate records.
//!
//! A read of `std::time::Instant` is a `clock_gettime` call (~20–30 ns even
//! through the vDSO); timing a call takes two. Where the CPU has an
//! invariant TSC, `quanta` reads it directly (a few ns) and scales ticks to
//! nanoseconds with a calibration against the OS clock — monotonic, and it
//! falls back to the OS clock by itself where the TSC cannot be trusted.
//!
//! Calibrating takes up to a few hundred milliseconds, which must never land
//! on a request: it runs on a background thread started with the global
//! registry, and until it is done stamps come from `std::time::Instant`.
//! Each stamp remembers its source, so a call that starts before the switch
//! and ends after it is still measured with one clock.

use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

static CALIBRATED: OnceLock<quanta::Clock> = OnceLock::new();

/// Starts calibrating the fast clock in the background (once per process).
pub(crate) fn warm_up() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("asdlc-clock-calibration".to_owned())
            .spawn(|| {
                let _ = CALIBRATED.set(quanta::Clock::new());
            });
        if let Err(e) = spawned {
            // Without the thread the OS clock keeps serving: slower, not wrong.
            tracing::debug!("asdlc_metrics: clock calibration not started: {e}");
        }
    });
}

/// A point in time from whichever clock was ready when it was taken.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stamp {
    /// Raw ticks of the calibrated clock.
    Fast(u64),
    /// The OS clock, before calibration finished.
    Os(Instant),
}

impl Stamp {
    #[inline]
    pub(crate) fn now() -> Stamp {
        match CALIBRATED.get() {
            Some(clock) => Stamp::Fast(clock.raw()),
            None => Stamp::Os(Instant::now()),
        }
    }

    /// Time since this stamp, measured with the clock that took it.
    #[inline]
    pub(crate) fn elapsed(self) -> Duration {
        match (self, CALIBRATED.get()) {
            (Stamp::Fast(start), Some(clock)) => clock.delta(start, clock.raw()),
            (Stamp::Os(start), _) => start.elapsed(),
            // A Fast stamp exists only once the clock is set.
            (Stamp::Fast(_), None) => Duration::ZERO,
        }
    }

    /// Time from this stamp to `end`, a later one: lets a call read the
    /// clock once at its end for both its duration and its exemplar's time.
    #[inline]
    pub(crate) fn until(self, end: Stamp) -> Duration {
        match (self, end, CALIBRATED.get()) {
            (Stamp::Fast(start), Stamp::Fast(end), Some(clock)) => clock.delta(start, end),
            (Stamp::Os(start), Stamp::Os(end), _) => end.saturating_duration_since(start),
            // The clock switched between the two: measure with the start's.
            (start, _, _) => start.elapsed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Starts the calibration and waits for the fast clock.
    fn calibrated() {
        warm_up();
        while CALIBRATED.get().is_none() {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn both_clocks_measure_the_same_sleep() {
        let os = Stamp::Os(Instant::now());
        calibrated();
        let fast = Stamp::now();
        assert!(matches!(fast, Stamp::Fast(_)));
        std::thread::sleep(Duration::from_millis(20));
        let (fast, os) = (fast.elapsed(), os.elapsed());
        assert!(fast >= Duration::from_millis(19), "{fast:?}");
        assert!(
            os >= fast,
            "the OS stamp started earlier: {os:?} < {fast:?}"
        );
    }

    #[test]
    fn an_end_stamp_measures_up_to_itself_with_the_start_clock() {
        let os = Stamp::Os(Instant::now());
        calibrated();
        let fast = Stamp::now();
        std::thread::sleep(Duration::from_millis(10));
        let end = Stamp::now();
        std::thread::sleep(Duration::from_millis(30));
        let measured = fast.until(end);
        assert!(measured >= Duration::from_millis(9), "{measured:?}");
        assert!(
            measured < fast.elapsed() - Duration::from_millis(20),
            "up to the end stamp, not to now: {measured:?}"
        );
        // Started on the OS clock, ended on the fast one: the OS clock
        // measures it, up to now at the latest.
        assert!(os.until(end) >= Duration::from_millis(40));
        assert_eq!(fast.until(fast), Duration::ZERO);
    }
}
