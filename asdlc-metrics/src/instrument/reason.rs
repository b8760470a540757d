//! Failure reasons of one call site:
//! `asdlc_function_errors_total{function, module, reason}`.
//!
//! Only functions whose error type implements
//! [`ErrorReason`](crate::ErrorReason) get here (the classification picks
//! that at compile time, see [`super::outcome`], and hands the reason to
//! the guard in the [`Outcome`]), so a site whose error type names no
//! reason holds an empty `OnceLock` and nothing else.
//!
//! An error with a reason is counted once: in the site's
//! [`CounterPart`] for that reason, which both the reason's series and the
//! site's `result="error"` call counter add up when read. The error path is
//! then one atomic add, as a plain error's is. The first error sizes a slot
//! array by the type's reasons; each slot makes its part (and links it to
//! the two series) the first time that reason occurs, so a reason that
//! never occurred exports no series.
//!
//! No exemplar on the reason series: the failing call's trace is already
//! on its `result="error"` call and duration series.

use std::sync::OnceLock;

use super::outcome::{Outcome, Reason};
use super::site::Resolved;
use crate::Counter;
use crate::metric::CounterPart;

impl Resolved {
    /// Counts one error that names `reason`, if the site records reasons
    /// (`#[timed]` or `#[counted]`; not `#[in_flight]` or `#[redis_op]`
    /// alone): once, in the reason's part. Everything but that add (first
    /// error, first of a reason, another error type) is out of line.
    #[inline]
    pub(crate) fn count_reason(&self, reason: Reason) {
        let Some(per_reason) = &self.reasons else {
            return;
        };
        match per_reason.part(reason) {
            Some(part) => part.inc(),
            None => self.count_reason_slow(per_reason, reason),
        }
    }

    #[cold]
    #[inline(never)]
    fn count_reason_slow(&self, per_reason: &PerReason, reason: Reason) {
        let error = self
            .counted
            .as_ref()
            .map(|counted| counted.get(Outcome::Error));
        if let Some(part) = per_reason.resolve(reason, error) {
            part.inc();
            return;
        }
        // Not served by a part: the error counts in the call counter
        // itself, and its reason (if it names one in range) in the
        // reason's own series.
        if let Some(error) = error {
            error.inc();
        }
        if let Some(label) = reason.label() {
            per_reason.series(label).inc();
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
    reasons: &'static &'static [&'static str],
    parts: Box<[OnceLock<CounterPart>]>,
}

impl Slots {
    /// Whether these slots were made for `reasons`: the same table, or
    /// (when the compiler placed the constant twice) an equal one.
    fn serve(&self, reasons: &'static &'static [&'static str]) -> bool {
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

    /// The part of `reason`, if it is resolved: the slots' table, a pointer
    /// compare, the slot.
    #[inline]
    fn part(&self, reason: Reason) -> Option<&CounterPart> {
        let slots = self.slots.get()?;
        if !std::ptr::eq(slots.reasons, reason.reasons) {
            return None;
        }
        slots.parts.get(reason.index as usize)?.get()
    }

    /// The part of `reason`, made on its first occurrence and linked to
    /// the reason's series and to `error` (the site's `result="error"`
    /// call counter, if it counts calls). `None` for an index out of range
    /// (a hand-written `ErrorReason`) or an error type the slots were not
    /// made for: a generic function bounded by `ErrorReason` shares one
    /// site between its instances, and the slots belong to the first type
    /// that failed.
    fn resolve(&self, reason: Reason, error: Option<&Counter>) -> Option<&CounterPart> {
        let label = reason.label()?;
        let slots = self.slots.get_or_init(|| Slots {
            reasons: reason.reasons,
            parts: reason.reasons.iter().map(|_| OnceLock::new()).collect(),
        });
        if !slots.serve(reason.reasons) {
            return None;
        }
        let slot = slots.parts.get(reason.index as usize)?;
        Some(slot.get_or_init(|| {
            // Linked before its first count, so no read sees a count in
            // one series and not yet in the other.
            let part = CounterPart::new();
            self.series(label).cell().add_part(&part);
            if let Some(error) = error {
                error.cell().add_part(&part);
            }
            part
        }))
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
    use crate::instrument::compact_site::{DEFAULT, NO_OPERATION, NONE, site};
    use crate::instrument::site::{MetricSpec, Site};

    /// A call site of this module, `#[timed]` and/or `#[counted]`.
    const fn unit_site(
        function: &'static str,
        timed: Option<MetricSpec>,
        counted: Option<MetricSpec>,
    ) -> Site {
        site(function, "reason_tests", timed, counted, NONE, NO_OPERATION)
    }

    static TABLE: &[&str] = &["timeout", "db"];
    static OTHER: &[&str] = &["busy", "timeout", "gone"];

    fn reason(function: &str, reason: &str) -> u64 {
        crate::standard()
            .function_errors_total
            .with_label_values(&[function, "reason_tests", reason])
            .get()
    }

    /// The exported `result="error"` sample of `function`'s call counter.
    fn exported_errors(function: &str) -> Option<String> {
        let text = crate::registry().encode_to_string();
        let function = format!(r#"function="{function}""#);
        text.lines()
            .find(|l| {
                l.starts_with("asdlc_function_calls_total{")
                    && l.contains(&function)
                    && l.contains(r#"result="error""#)
            })
            .and_then(|l| l.rsplit(' ').next())
            .map(str::to_owned)
    }

    #[test]
    fn an_error_with_a_reason_counts_once_and_the_call_counter_adds_it_up() {
        static SITE: Site = unit_site("unit_once", NONE, DEFAULT);
        let resolved = SITE.get();
        for outcome in [
            Outcome::Reason(Reason::new(&TABLE, 1)),
            Outcome::Reason(Reason::new(&TABLE, 1)),
            Outcome::Reason(Reason::new(&TABLE, 0)),
            Outcome::Error,
            // Out of range: an error, no reason.
            Outcome::Reason(Reason::new(&TABLE, 7)),
            Outcome::Ok,
        ] {
            resolved.record(outcome, None);
        }
        assert_eq!(
            (reason("unit_once", "db"), reason("unit_once", "timeout")),
            (2, 1)
        );
        let error = resolved.counted.as_ref().unwrap().get(Outcome::Error);
        assert_eq!(error.get(), 5);
        assert_eq!(exported_errors("unit_once").as_deref(), Some("5"));
    }

    #[test]
    fn a_second_error_type_on_one_site_still_counts_right() {
        static SITE: Site = unit_site("unit_generic", NONE, DEFAULT);
        let resolved = SITE.get();
        resolved.record(Outcome::Reason(Reason::new(&TABLE, 0)), None);
        resolved.record(Outcome::Reason(Reason::new(&OTHER, 2)), None);
        resolved.record(Outcome::Reason(Reason::new(&OTHER, 1)), None);
        assert_eq!(reason("unit_generic", "timeout"), 2);
        assert_eq!(reason("unit_generic", "gone"), 1);
        assert_eq!(exported_errors("unit_generic").as_deref(), Some("3"));
    }

    #[test]
    fn a_timed_only_site_counts_reasons_and_exports_no_reason_that_never_occurred() {
        static SITE: Site = unit_site("unit_timed", DEFAULT, NONE);
        SITE.get().record(
            Outcome::Reason(Reason::new(&TABLE, 1)),
            Some(crate::clock::Stamp::now()),
        );
        assert_eq!(reason("unit_timed", "db"), 1);
        let text = crate::registry().encode_to_string();
        assert!(
            !text.lines().any(
                |l| l.contains(r#"function="unit_timed""#) && l.contains(r#"reason="timeout""#)
            )
        );
        assert_eq!(exported_errors("unit_timed"), None);
    }
}
