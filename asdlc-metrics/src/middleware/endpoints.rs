//! Resolved series per (method, route template), cached so that a request
//! costs no hashing of label values, no lock and no allocation once its
//! route has been seen.
//!
//! [`Family::with_label_values`](crate::metric::Family::with_label_values) hashes
//! every label value with SipHash and takes a read lock, and the counter's
//! `status` value would have to be formatted first: together several times
//! the cost of the recording itself. So each layer keeps a small
//! insert-only open-addressing table of [`Endpoint`]s, found by an
//! Fx hash of (method, template) and read with one atomic load per probe;
//! each endpoint keeps its counters per status code the same way.

use std::hash::Hasher as _;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustc_hash::FxHasher;

use super::labels::{METHODS, UNMATCHED_ENDPOINT};
use crate::metric::Traced;
use crate::{Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramVec, Objective};

/// The three families the middleware records into.
#[derive(Debug, Clone)]
pub(super) struct Families {
    pub(super) requests: CounterVec,
    pub(super) duration: HistogramVec,
    pub(super) in_flight: GaugeVec,
}

/// Endpoint slots per layer. Routes × methods of real services stay far
/// below this; past it (or past [`MAX_PROBES`]) lookups still work, they
/// just go through the families every time.
const TABLE_SLOTS: usize = 1024;
const _: () = assert!(TABLE_SLOTS.is_power_of_two(), "slot_index masks");

/// How far a lookup probes before giving up on the table.
const MAX_PROBES: usize = 32;

/// Status codes cached per endpoint; further ones go through the family.
const STATUS_SLOTS: usize = 8;

/// The series of one (method, endpoint) pair.
pub(super) struct Endpoint {
    method: u8,
    /// `None`: requests that matched no route.
    template: Option<Box<str>>,
    /// `None`: an excluded endpoint, not recorded at all.
    recorders: Option<Recorders>,
}

struct Recorders {
    duration: Histogram,
    in_flight: Gauge,
    requests: CounterVec,
    /// The objective's labels on the request counter (empty without one).
    objective_labels: Vec<(&'static str, String)>,
    statuses: [OnceLock<(u16, Counter)>; STATUS_SLOTS],
}

impl Endpoint {
    fn new(
        families: &Families,
        method: u8,
        template: Option<&str>,
        excluded: bool,
        objective: Option<&Objective>,
    ) -> Self {
        let recorders = (!excluded).then(|| {
            let labels = [
                METHODS[usize::from(method)],
                template.unwrap_or(UNMATCHED_ENDPOINT),
            ];
            let duration = match objective {
                None => families.duration.with_bounded_values(&labels),
                Some(o) => {
                    let extra = o.histogram_labels();
                    let extra: Vec<(&str, &str)> =
                        extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    families
                        .duration
                        .child(&labels, &extra, None)
                        .unwrap_or_else(|_| families.duration.with_bounded_values(&labels))
                }
            };
            Recorders {
                // Method and template are bounded by the code (the router's
                // routes), so they are exempt from the series limit.
                duration,
                in_flight: families.in_flight.with_bounded_values(&labels),
                requests: families.requests.clone(),
                objective_labels: objective.map(Objective::counter_labels).unwrap_or_default(),
                statuses: Default::default(),
            }
        });
        Endpoint {
            method,
            template: template.map(Box::from),
            recorders,
        }
    }

    fn is(&self, method: u8, template: Option<&str>) -> bool {
        self.method == method && self.template.as_deref() == template
    }

    /// Whether requests to this endpoint are recorded at all.
    #[inline]
    pub(super) fn is_recorded(&self) -> bool {
        self.recorders.is_some()
    }

    /// A request to this endpoint starts.
    #[inline]
    pub(super) fn start(&self) {
        if let Some(s) = &self.recorders {
            s.in_flight.inc();
        }
    }

    /// A request to this endpoint ended with `status` after `elapsed`.
    #[inline]
    pub(super) fn finish(&self, status: u16, elapsed: Duration) {
        let Some(s) = &self.recorders else { return };
        s.duration.observe(elapsed.as_secs_f64());
        self.requests_with(s, status).inc();
        s.in_flight.dec();
    }

    /// [`finish`](Self::finish) for a request in a trace: `trace` is the
    /// exemplar of both its duration and its count.
    ///
    /// One call out of line for both exemplars (each family's own traced
    /// path is a call of its own), and none on the un-traced path, which
    /// stays as it was.
    #[cold]
    #[inline(never)]
    pub(super) fn finish_traced(&self, status: u16, elapsed: Duration, trace: &Traced<'_>) {
        let Some(s) = &self.recorders else { return };
        s.duration.observe_keeping(elapsed.as_secs_f64(), trace);
        self.requests_with(s, status).inc_keeping(trace);
        s.in_flight.dec();
    }

    fn requests_with<'a>(&self, s: &'a Recorders, status: u16) -> std::borrow::Cow<'a, Counter> {
        let make = || {
            let mut code = itoa::Buffer::new();
            let values = [
                METHODS[usize::from(self.method)],
                self.template.as_deref().unwrap_or(UNMATCHED_ENDPOINT),
                code.format(status),
            ];
            if s.objective_labels.is_empty() {
                return s.requests.with_bounded_values(&values);
            }
            let extra: Vec<(&str, &str)> = s
                .objective_labels
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect();
            s.requests
                .child(&values, &extra, None)
                .unwrap_or_else(|_| s.requests.with_bounded_values(&values))
        };
        for slot in &s.statuses {
            let (code, counter) = slot.get_or_init(|| (status, make()));
            if *code == status {
                return std::borrow::Cow::Borrowed(counter);
            }
        }
        std::borrow::Cow::Owned(make())
    }
}

/// The endpoint cache of one [`MetricsLayer`](super::MetricsLayer).
pub(super) struct Endpoints {
    families: Families,
    exclude: Box<[Box<str>]>,
    /// Route templates and the objectives they serve.
    objectives: Box<[(Box<str>, Objective)]>,
    slots: Box<[OnceLock<Arc<Endpoint>>]>,
}

impl Endpoints {
    pub(super) fn new(
        families: Families,
        exclude: Box<[Box<str>]>,
        objectives: Box<[(Box<str>, Objective)]>,
    ) -> Self {
        Endpoints {
            families,
            exclude,
            objectives,
            slots: (0..TABLE_SLOTS).map(|_| OnceLock::new()).collect(),
        }
    }

    pub(super) fn families(&self) -> &Families {
        &self.families
    }

    pub(super) fn exclude(&self) -> &[Box<str>] {
        &self.exclude
    }

    pub(super) fn objectives(&self) -> &[(Box<str>, Objective)] {
        &self.objectives
    }

    /// Whether requests to `path` (a raw path or a template) are excluded.
    #[inline]
    pub(super) fn is_excluded(&self, path: &str) -> bool {
        self.exclude.iter().any(|e| **e == *path)
    }

    /// The endpoint for `method` (an index into [`METHODS`]) and `template`
    /// (`None` when no route matched), created on first use.
    #[inline]
    pub(super) fn get(&self, method: u8, template: Option<&str>) -> Arc<Endpoint> {
        let start = hash(method, template);
        for probe in 0..MAX_PROBES {
            let slot = &self.slots[slot_index(start, probe, self.slots.len())];
            let endpoint = slot.get_or_init(|| Arc::new(self.create(method, template)));
            if endpoint.is(method, template) {
                return Arc::clone(endpoint);
            }
        }
        Arc::new(self.create(method, template))
    }

    fn create(&self, method: u8, template: Option<&str>) -> Endpoint {
        let excluded = template.is_some_and(|t| self.is_excluded(t));
        let objective = template.and_then(|t| {
            self.objectives
                .iter()
                .find(|(route, _)| **route == *t)
                .map(|(_, o)| o)
        });
        Endpoint::new(&self.families, method, template, excluded, objective)
    }
}

/// Linear probing in a power-of-two table; wrapping, as the hash may be
/// close to `usize::MAX`.
#[inline]
fn slot_index(hash: usize, probe: usize, len: usize) -> usize {
    hash.wrapping_add(probe) & (len - 1)
}

fn hash(method: u8, template: Option<&str>) -> usize {
    let mut h = FxHasher::default();
    h.write_u8(method);
    if let Some(t) = template {
        h.write(t.as_bytes());
    }
    // Truncation (32-bit targets) is fine: only the low bits pick a slot.
    h.finish() as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Registry;

    fn endpoints(exclude: &[&str]) -> Endpoints {
        let families = super::super::families_in(&Registry::with_service("t"));
        Endpoints::new(
            families,
            exclude.iter().map(|e| Box::from(*e)).collect(),
            Box::default(),
        )
    }

    #[test]
    fn probing_wraps_around_the_table_and_the_hash_range() {
        assert_eq!(slot_index(usize::MAX, 1, 8), 0);
        assert_eq!(slot_index(6, 3, 8), 1);
        assert_eq!(slot_index(usize::MAX - 1, 0, 8), 6);
    }

    #[test]
    fn the_same_key_finds_the_same_endpoint() {
        let e = endpoints(&[]);
        let a = e.get(0, Some("/a/{id}"));
        assert!(Arc::ptr_eq(&a, &e.get(0, Some("/a/{id}"))));
        assert!(!Arc::ptr_eq(&a, &e.get(2, Some("/a/{id}"))));
        assert!(!Arc::ptr_eq(&a, &e.get(0, None)));
        assert!(Arc::ptr_eq(&e.get(0, None), &e.get(0, None)));
    }

    #[test]
    fn a_full_table_still_records_every_request() {
        let e = endpoints(&[]);
        let templates: Vec<String> = (0..TABLE_SLOTS + 100).map(|i| format!("/r{i}")).collect();
        for t in &templates {
            let ep = e.get(0, Some(t));
            ep.start();
            ep.finish(200, Duration::from_millis(1));
        }
        for t in &templates {
            let c = e.families().requests.with_label_values(&["GET", t, "200"]);
            assert_eq!(c.get(), 1, "{t}");
        }
    }

    #[test]
    fn statuses_past_the_cached_ones_are_counted() {
        let e = endpoints(&[]);
        let ep = e.get(0, Some("/s"));
        let codes: Vec<u16> = (200..200 + 3 * STATUS_SLOTS as u16).collect();
        for &code in codes.iter().chain(&codes) {
            ep.start();
            ep.finish(code, Duration::ZERO);
        }
        for code in codes {
            let c = e
                .families()
                .requests
                .with_label_values(&["GET", "/s", &code.to_string()]);
            assert_eq!(c.get(), 2, "{code}");
        }
        let in_flight = e.families().in_flight.with_label_values(&["GET", "/s"]);
        assert_eq!(in_flight.get(), 0);
    }

    #[test]
    fn excluded_templates_create_no_series() {
        let e = endpoints(&["/metrics"]);
        let ep = e.get(0, Some("/metrics"));
        assert!(!ep.is_recorded());
        ep.start();
        ep.finish(200, Duration::ZERO);
        assert!(e.families().requests.is_empty());
        assert!(e.families().in_flight.is_empty());
        assert!(e.get(0, None).is_recorded());
    }
}
