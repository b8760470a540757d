//! The proxy's own front door: the bearer token it may require of its
//! clients, the limit on upstream queries in flight, and the counter of
//! what it turned away (`asdlc_proxy_rejected_total{reason}`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::config::ProxyConfig;
use super::errors::ApiError;
use super::secret::Secret;
use crate::{Counter, CounterVec, Opts};

/// The name of the rejection counter.
pub(crate) const REJECTED_TOTAL: &str = "asdlc_proxy_rejected_total";

/// What the front door checks, and its counters.
#[derive(Debug)]
pub(crate) struct FrontDoor {
    token: Option<Secret>,
    slots: Arc<Semaphore>,
    limit: usize,
    unauthorized: Counter,
    over_limit: Counter,
}

impl FrontDoor {
    pub(crate) fn new(config: &ProxyConfig) -> Self {
        let opts = Opts::new(
            REJECTED_TOTAL,
            "Query proxy requests turned away before reaching the upstream, by reason \
             (unauthorized: missing or wrong token; concurrency: too many queries in flight).",
        )
        .labels(["reason"]);
        let registry = config
            .registry
            .as_ref()
            .unwrap_or_else(|| crate::registry());
        // A conflict is logged by the registry; the proxy still counts, in a
        // family that is not exported, rather than fail to start.
        let rejected = registry
            .get_or_register::<CounterVec>(opts.clone())
            .unwrap_or_else(|_| crate::__private::build_static::<CounterVec>(opts));
        // Resolved once: a rejection is an atomic add, like any hot path.
        FrontDoor {
            token: config.required_token.clone(),
            slots: Arc::new(Semaphore::new(config.max_concurrent_queries)),
            limit: config.max_concurrent_queries,
            unauthorized: rejected.with_label_values(&["unauthorized"]),
            over_limit: rejected.with_label_values(&["concurrency"]),
        }
    }

    /// A slot for one upstream query, held until the answer is read; none
    /// left is a 503 with `Retry-After`, at once — waiting would only pile
    /// the burst up inside the proxy.
    pub(crate) fn admit_query(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        Arc::clone(&self.slots).try_acquire_owned().map_err(|_| {
            // Counted here; logged (rate-limited) with the other upstream
            // trouble by the caller.
            self.over_limit.inc();
            ApiError::unavailable(format!(
                "the query proxy already has {} queries in flight; retry shortly",
                self.limit
            ))
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
        })
    }

    /// Whether `request` may pass: no token is required, or its
    /// `Authorization` is `Bearer <the token>`.
    fn admits(&self, request: &Request) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| bearer(value.as_bytes()));
        // No early return on a wrong token: the comparison itself is
        // constant-time, and only its result leaves here.
        presented.is_some_and(|presented| token.matches(presented))
    }
}

/// The credentials of `Bearer <credentials>` (scheme case-insensitive, as
/// RFC 9110 has it).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(7)?;
    scheme
        .eq_ignore_ascii_case(b"bearer ")
        .then(|| rest.trim_ascii())
}

/// The token check, as a layer on the proxy's routes
/// ([`axum::middleware::from_fn_with_state`]): a request without the right
/// token is answered 401 before anything else happens.
pub(crate) async fn require_token(
    State(door): State<Arc<FrontDoor>>,
    request: Request,
    next: Next,
) -> Response {
    if door.admits(&request) {
        next.run(request).await
    } else {
        door.unauthorized.inc();
        ApiError::unauthorized("this endpoint requires `Authorization: Bearer <token>`")
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearer_credentials() {
        assert_eq!(bearer(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(bearer(b"bearer  abc "), Some(&b"abc"[..]));
        assert_eq!(bearer(b"Basic abc"), None);
        assert_eq!(bearer(b"Bearer"), None);
        assert_eq!(bearer(b""), None);
    }

    #[tokio::test]
    async fn the_limit_refuses_past_its_slots_and_counts() {
        let registry = crate::Registry::with_service("t");
        let config = ProxyConfig::new("http://vm")
            .unwrap()
            .max_concurrent_queries(2)
            .registry(&registry);
        let door = FrontDoor::new(&config);
        let first = door.admit_query().unwrap();
        let _second = door.admit_query().unwrap();
        let refused = door.admit_query().unwrap_err();
        assert_eq!(refused.status, 503);
        assert_eq!(refused.error_type, "unavailable");
        assert_eq!(
            refused.header,
            Some((header::RETRY_AFTER, HeaderValue::from_static("1")))
        );
        drop(first);
        assert!(door.admit_query().is_ok());
        let text = registry.encode_to_string();
        assert!(
            text.contains(r#"asdlc_proxy_rejected_total{service="t",reason="concurrency"} 1"#),
            "{text}"
        );
    }
}
