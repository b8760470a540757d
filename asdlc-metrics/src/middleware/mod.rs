//! HTTP middleware for axum: request count, latency and in-flight requests
//! per route.
//!
//! [`MetricsLayer`] records
//!
//! | family | labels |
//! |---|---|
//! | `asdlc_http_requests_total` | `method`, `endpoint`, `status` |
//! | `asdlc_http_request_duration_seconds` | `method`, `endpoint` |
//! | `asdlc_http_requests_in_flight` | `method`, `endpoint` |
//!
//! ```
//! use asdlc_metrics::middleware::MetricsLayer;
//! use axum::{routing::get, Router};
//!
//! let app: Router = Router::new()
//!     .route("/api/tasks/{id}", get(|| async { "task" }))
//!     .route("/metrics", get(asdlc_metrics::exposition::metrics_handler))
//!     .layer(MetricsLayer::new()); // last, on the whole Router
//! ```
//!
//! # Label values
//!
//! Every label value comes from a bounded set, so a client cannot create
//! series at will:
//!
//! * `endpoint` is the route template axum matched ([`MatchedPath`]),
//!   `/api/tasks/{id}`, nested routers included (`/api/v1/tasks/{id}`). A
//!   request that matched no route is [`UNMATCHED_ENDPOINT`] (`unmatched`),
//!   never its raw path.
//! * `method` is one of the nine standard methods, or [`OTHER_METHOD`]
//!   (`OTHER`) for any other.
//! * `status` is the response's numeric status code, `"200"`. Two requests
//!   end without a response: a handler that panicked is [`PANIC_STATUS`]
//!   (`500`) whether or not something above turns the panic into a response
//!   (tower-http's `CatchPanicLayer`), and a request whose future was dropped
//!   before the response was ready (the client went away, a timeout above
//!   fired) is [`CANCELLED_STATUS`] (`499`, nginx's "client closed request").
//!   So is a request whose client left while its body was read, whatever
//!   the handler answered to the failed read (axum's extractors say 400);
//!   one whose body missed [`serve_app`](crate::serve_app)'s body deadline
//!   is `408`, as the server answers.
//!   `asdlc_http_requests_in_flight` comes back down in every case.
//!
//! # What the duration covers
//!
//! From the call into the route until the response head is ready (the
//! inner service's future resolves). Streaming the body afterwards is not
//! included; for a cancelled or panicked request, until that happened.
//!
//! # Where to add it
//!
//! With [`Router::layer`](axum::Router::layer), as the router's last
//! `.layer(..)` call or anywhere before it: axum then wraps every route and
//! the fallback, and the route template is known inside. With
//! [`Router::route_layer`](axum::Router::route_layer) requests that match
//! no route are not seen (no `unmatched` series). Around the whole router
//! (`ServiceBuilder` / `Layer::layer` on a `Router`) the template is not known
//! yet, and every request is `unmatched`.
//!
//! Requests that reach a service mounted with `Router::nest_service` count
//! as `unmatched` as well: axum gives such services no `MatchedPath`. Nest
//! routers with `Router::nest` to keep their templates.
//!
//! # Exemplars
//!
//! A request with a valid W3C `traceparent` header (or running in an
//! OpenTelemetry context, feature `opentelemetry`) leaves its trace id as the
//! exemplar of its duration bucket and its request counter, written in
//! OpenMetrics scrapes; its handler is polled with that trace current, so
//! what it records carries it too. See [`exemplar`](crate::exemplar).
//!
//! # Exclusions
//!
//! Requests whose route template or raw path is in the exclusion list
//! (default `["/metrics"]`, so scrapes do not count themselves) are not
//! recorded at all; see [`MetricsLayer::exclude`].
//!
//! # Cost
//!
//! The series of each (method, template) pair are resolved once and cached
//! in the layer, so a request costs a cache lookup (an Fx hash of the
//! template and an atomic load, no lock, no allocation), two clock reads and
//! a handful of atomic adds. `benches/middleware.rs` measures it against a
//! plain router and axum-prometheus.
//!
//! [`MatchedPath`]: axum::extract::MatchedPath

mod body;
mod endpoints;
mod future;
mod labels;
mod wrapper;

use std::sync::Arc;

use tower_layer::Layer;

pub use future::ResponseFuture;
pub use labels::{CANCELLED_STATUS, OTHER_METHOD, PANIC_STATUS, UNMATCHED_ENDPOINT};
pub use wrapper::MetricsService;

use crate::{Objective, Registry, StandardMetrics};
use endpoints::{Endpoints, Families};

/// The paths excluded by default: the scrape endpoint.
const DEFAULT_EXCLUDE: [&str; 1] = ["/metrics"];

/// A tower [`Layer`] for axum that records every request's count, latency
/// and in-flight state in the standard `asdlc_http_*` families (see the
/// [module docs](self) for labels and placement).
///
/// Add it to the [`Router`](axum::Router) with `.layer(..)`:
///
/// ```
/// use asdlc_metrics::{middleware::MetricsLayer, Registry};
/// use axum::{body::Body, http::Request, routing::get, Router};
/// use tower_service::Service as _;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let registry = Registry::with_service("demo");
/// let mut app: Router = Router::new()
///     .route("/api/tasks/{id}", get(|| async { "task" }))
///     .layer(MetricsLayer::for_registry(&registry));
///
/// let request = Request::get("/api/tasks/42").body(Body::empty()).unwrap();
/// assert_eq!(app.call(request).await.unwrap().status(), 200);
/// assert!(registry.encode_to_string().contains(
///     r#"asdlc_http_requests_total{service="demo",method="GET",endpoint="/api/tasks/{id}",status="200"} 1"#
/// ));
/// # }
/// ```
#[derive(Clone)]
pub struct MetricsLayer {
    endpoints: Arc<Endpoints>,
}

impl MetricsLayer {
    /// A layer recording into the global [`standard()`](crate::standard)
    /// set, excluding `/metrics`.
    ///
    /// ```
    /// let app: axum::Router = axum::Router::new()
    ///     .route("/", axum::routing::get(|| async { "hello" }))
    ///     .layer(asdlc_metrics::middleware::MetricsLayer::new());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        let standard = crate::standard();
        Self::with_families(Families {
            requests: standard.http_requests_total.clone(),
            duration: standard.http_request_duration_seconds.clone(),
            in_flight: standard.http_requests_in_flight.clone(),
        })
    }

    /// A layer recording into the same three families of `registry` (for
    /// tests, or a service exporting several registries), excluding
    /// `/metrics`. The whole standard set is got or registered there, as
    /// every service exports it.
    ///
    /// Never fails: when `registry` already holds one of the standard names
    /// with another shape, the conflict is logged and the layer records into
    /// detached families (not exported).
    ///
    /// ```
    /// use asdlc_metrics::{middleware::MetricsLayer, Registry};
    ///
    /// let registry = Registry::with_service("demo");
    /// let layer = MetricsLayer::for_registry(&registry);
    /// assert!(registry.contains("asdlc_http_requests_total"));
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn for_registry(registry: &Registry) -> Self {
        Self::with_families(families_in(registry))
    }

    fn with_families(families: Families) -> Self {
        let exclude = DEFAULT_EXCLUDE.iter().map(|p| Box::from(*p)).collect();
        MetricsLayer {
            endpoints: Arc::new(Endpoints::new(families, exclude, Box::default())),
        }
    }

    /// Declares that requests to the route `template` (as written in the
    /// router, `/api/tasks/{id}`) serve `objective`: their series carry the
    /// objective's labels (`objective_name`, `objective_percentile`, and on
    /// the duration histogram `objective_latency_threshold`) and the
    /// objective's targets are exported, so the rules in
    /// `deploy/rules/asdlc-objectives.yml` compute its burn rate. A 5xx
    /// status counts against the success rate.
    ///
    /// ```
    /// use asdlc_metrics::{middleware::MetricsLayer, Objective};
    ///
    /// const API: Objective = Objective::new("api").success_rate(99.9).latency(0.25, 99.0);
    /// let layer = MetricsLayer::new().objective("/api/tasks", API)?;
    ///
    /// // 0.3 s is not a bound of the request histogram: refused, with the bounds.
    /// let err = MetricsLayer::new().objective("/", Objective::new("x").latency(0.3, 99.0)).unwrap_err();
    /// assert!(err.to_string().contains("0.25"));
    /// # let _ = layer;
    /// # Ok::<(), asdlc_metrics::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidObjective`](crate::Error::InvalidObjective) when the
    /// latency threshold is not one of the request histogram's bucket bounds.
    pub fn objective(self, template: &str, objective: Objective) -> Result<Self, crate::Error> {
        let desc = crate::Metric::desc(&self.endpoints.families().duration);
        let bounds = desc.buckets().unwrap_or(crate::metric::DEFAULT_BUCKETS);
        if !objective.latency_fits(bounds) {
            return Err(crate::Error::InvalidObjective {
                objective: objective.name().to_owned(),
                reason: format!(
                    "its latency threshold is not a bucket bound of asdlc_http_request_duration_seconds; use one of {}",
                    crate::objective::list_bounds(bounds)
                ),
            });
        }
        objective.export_targets();
        let mut objectives: Vec<(Box<str>, Objective)> = self
            .endpoints
            .objectives()
            .iter()
            .filter(|(t, _)| **t != *template)
            .cloned()
            .collect();
        objectives.push((Box::from(template), objective));
        Ok(MetricsLayer {
            endpoints: Arc::new(Endpoints::new(
                self.endpoints.families().clone(),
                self.endpoints.exclude().into(),
                objectives.into(),
            )),
        })
    }

    /// Replaces the list of excluded paths (default `["/metrics"]`).
    ///
    /// A request is left out when its matched route template *or* its raw
    /// path equals one of them (`/users/{id}` excludes that route; `/health`
    /// excludes that path, matched or not). Pass an empty list to record
    /// everything.
    ///
    /// ```
    /// use asdlc_metrics::middleware::MetricsLayer;
    ///
    /// let layer = MetricsLayer::new().exclude(["/metrics", "/health"]);
    /// let record_all = MetricsLayer::new().exclude(Vec::<String>::new());
    /// # let _ = (layer, record_all);
    /// ```
    #[must_use]
    pub fn exclude<I, P>(self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        let exclude = paths.into_iter().map(|p| Box::from(p.as_ref())).collect();
        MetricsLayer {
            endpoints: Arc::new(Endpoints::new(
                self.endpoints.families().clone(),
                exclude,
                self.endpoints.objectives().into(),
            )),
        }
    }
}

impl Default for MetricsLayer {
    /// [`MetricsLayer::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MetricsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsLayer")
            .field("exclude", &self.endpoints.exclude())
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService::new(inner, Arc::clone(&self.endpoints))
    }
}

/// The three families of the standard set registered in `registry` (the
/// whole set is registered, as every service exports it). When one of its
/// names is taken there by another shape — a conflict the registry logs —
/// the layer records into detached families instead of failing.
fn families_in(registry: &Registry) -> Families {
    let standard =
        StandardMetrics::register(registry).unwrap_or_else(|_| StandardMetrics::detached());
    Families {
        requests: standard.http_requests_total,
        duration: standard.http_request_duration_seconds,
        in_flight: standard.http_requests_in_flight,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CounterVec, Gauge};

    #[test]
    fn the_global_registry_gives_back_the_standard_families() {
        let families = families_in(crate::registry());
        families
            .requests
            .with_label_values(&["GET", "/families-test", "200"])
            .inc();
        let standard = crate::standard();
        assert_eq!(
            standard
                .http_requests_total
                .with_label_values(&["GET", "/families-test", "200"])
                .get(),
            1
        );
    }

    #[test]
    fn a_conflicting_name_records_detached_without_panicking() {
        let registry = Registry::with_service("t");
        registry
            .register(&Gauge::new("asdlc_http_requests_in_flight", "Taken.").unwrap())
            .unwrap();
        registry
            .register(&CounterVec::new("asdlc_http_requests_total", "Taken.", &["x"]).unwrap())
            .unwrap();
        let families = families_in(&registry);
        families.in_flight.with_label_values(&["GET", "/"]).inc();
        families
            .requests
            .with_label_values(&["GET", "/", "200"])
            .inc();
        let text = registry.encode_to_string();
        assert!(!text.contains("endpoint=\"/\""), "{text}");
    }
}
