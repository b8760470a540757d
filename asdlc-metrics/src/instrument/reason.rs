//! Failure reasons of one call site:
//! `asdlc_function_errors_total{function, module, reason}`.
//!
//! Only functions whose error type implements
//! [`ErrorReason`](crate::ErrorReason) get here (the classification picks
//! that at compile time, see [`super::outcome`]), so a site whose error type
//! names no reason holds an empty `OnceLock` and nothing else. The first
//! error sizes a slot array by the type's reasons; each slot resolves its
//! series the first time that reason occurs, so an error afterwards is an
//! index, a `OnceLock` read and an atomic add. No exemplar: the failing
//! call's trace is already on its `result="error"` call and duration
//! series, and copying it here again cost more than the add.

use std::sync::OnceLock;

use super::site::Site;
use crate::Counter;

impl Site {
    /// Counts one error of reason `reasons[index]` if the site records
    /// reasons (`#[timed]` or `#[counted]`; not `#[in_flight]` or
    /// `#[redis_op]` alone).
    ///
    /// Out of line and not generic: inlined, it made the classification
    /// too big for the compiler to inline into the instrumented function,
    /// which then paid a call on its ok path too.
    #[inline(never)]
    pub(crate) fn record_reason(&'static self, reasons: &'static [&'static str], index: usize) {
        if let Some(per_reason) = &self.get().reasons {
            per_reason.record(reasons, index);
        }
    }
}

/// The reason series of one call site, indexed like the error type's
/// `REASONS`.
#[derive(Debug)]
pub(crate) struct PerReason {
    function: &'static str,
    module: &'static str,
    slots: OnceLock<Slots>,
}

#[derive(Debug)]
struct Slots {
    /// The `REASONS` the slots were sized for.
    reasons: &'static [&'static str],
    counters: Box<[OnceLock<Counter>]>,
}

impl Slots {
    /// Whether these slots were made for `reasons`: the same table, or
    /// (when the compiler placed the constant twice) an equal one.
    #[inline]
    fn serve(&self, reasons: &'static [&'static str]) -> bool {
        std::ptr::eq(self.reasons, reasons) || self.reasons == reasons
    }
}

impl PerReason {
    pub(crate) fn new(function: &'static str, module: &'static str) -> Self {
        PerReason {
            function,
            module,
            slots: OnceLock::new(),
        }
    }

    /// Counts one error of reason `reasons[index]`. The hot path is the
    /// slots' table, the reason's resolved counter and an atomic add;
    /// everything else (first error, first of a reason, another error
    /// type) is out of line, so this stays small.
    #[inline]
    pub(crate) fn record(&self, reasons: &'static [&'static str], index: usize) {
        if let Some(slots) = self.slots.get() {
            if std::ptr::eq(slots.reasons, reasons) {
                if let Some(counter) = slots.counters.get(index).and_then(OnceLock::get) {
                    counter.inc();
                    return;
                }
            }
        }
        self.record_slow(reasons, index);
    }

    #[cold]
    #[inline(never)]
    fn record_slow(&self, reasons: &'static [&'static str], index: usize) {
        let Some(&reason) = reasons.get(index) else {
            // A hand-written `ErrorReason` out of its own range: the call
            // still counts as an error; there is no reason to name.
            return;
        };
        let slots = self.slots.get_or_init(|| Slots {
            reasons,
            counters: reasons.iter().map(|_| OnceLock::new()).collect(),
        });
        if slots.serve(reasons) {
            slots.counters[index]
                .get_or_init(|| self.series(reason))
                .inc();
        } else {
            // A generic function bounded by `ErrorReason` shares one site
            // between its instances: the slots belong to the first error
            // type, the others take the family's lookup (correct, slower).
            self.series(reason).inc();
        }
    }

    /// The series of `reason` (bounded by the error type: exempt from the
    /// series limit).
    fn series(&self, reason: &str) -> Counter {
        crate::standard()
            .function_errors_total
            .with_bounded_values(&[self.function, self.module, reason])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REASONS: &[&str] = &["timeout", "db"];

    fn count(function: &str, reason: &str) -> u64 {
        crate::standard()
            .function_errors_total
            .with_label_values(&[function, "reason_tests", reason])
            .get()
    }

    #[test]
    fn errors_count_by_reason_and_an_unknown_index_counts_nothing() {
        let site = PerReason::new("unit_reasons", "reason_tests");
        site.record(REASONS, 1);
        site.record(REASONS, 1);
        site.record(REASONS, 0);
        site.record(REASONS, 2);
        assert_eq!(count("unit_reasons", "db"), 2);
        assert_eq!(count("unit_reasons", "timeout"), 1);
    }

    #[test]
    fn a_second_error_type_on_one_site_still_counts_right() {
        let site = PerReason::new("unit_generic", "reason_tests");
        site.record(REASONS, 0);
        site.record(&["busy", "timeout", "gone"], 2);
        site.record(&["busy", "timeout", "gone"], 1);
        assert_eq!(count("unit_generic", "timeout"), 2);
        assert_eq!(count("unit_generic", "gone"), 1);
    }
}
