//! The label values the middleware writes besides route templates: method
//! names, the fixed values for unmatched requests and unknown methods, and
//! the status codes of requests that ended without a response.

use axum::http::Method;

/// `endpoint` value of every request that matched no route (served by the
/// router's fallback). The raw path is never used: it is chosen by the
/// client, so it would let anyone create series without bound.
///
/// ```
/// assert_eq!(asdlc_metrics::middleware::UNMATCHED_ENDPOINT, "unmatched");
/// ```
pub const UNMATCHED_ENDPOINT: &str = "unmatched";

/// `method` value of every request whose method is not one of the nine
/// standard ones (`GET`, `HEAD`, `POST`, `PUT`, `DELETE`, `CONNECT`,
/// `OPTIONS`, `TRACE`, `PATCH`), for the same reason.
///
/// ```
/// assert_eq!(asdlc_metrics::middleware::OTHER_METHOD, "OTHER");
/// ```
pub const OTHER_METHOD: &str = "OTHER";

/// `status` of a request whose response future was dropped before the
/// response was ready, typically because the client went away: nginx's
/// "client closed request".
///
/// ```
/// assert_eq!(asdlc_metrics::middleware::CANCELLED_STATUS, 499);
/// ```
pub const CANCELLED_STATUS: u16 = 499;

/// `status` of a request whose handler panicked (also of an inner service
/// that returned an error instead of a response; axum's never do).
///
/// ```
/// assert_eq!(asdlc_metrics::middleware::PANIC_STATUS, 500);
/// ```
pub const PANIC_STATUS: u16 = 500;

/// The `method` label values, indexed by [`method_index`].
pub(super) const METHODS: [&str; 10] = [
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "CONNECT",
    "OPTIONS",
    "TRACE",
    "PATCH",
    OTHER_METHOD,
];

/// Index of `method` in [`METHODS`]; every extension method shares the
/// last one.
#[inline]
pub(super) fn method_index(method: &Method) -> u8 {
    match method.as_str() {
        "GET" => 0,
        "HEAD" => 1,
        "POST" => 2,
        "PUT" => 3,
        "DELETE" => 4,
        "CONNECT" => 5,
        "OPTIONS" => 6,
        "TRACE" => 7,
        "PATCH" => 8,
        _ => 9,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_methods_keep_their_names_and_others_collapse() {
        let standard = [
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::CONNECT,
            Method::OPTIONS,
            Method::TRACE,
            Method::PATCH,
        ];
        for m in standard {
            assert_eq!(METHODS[usize::from(method_index(&m))], m.as_str());
        }
        for other in ["PURGE", "PROPFIND", "get", "BREW"] {
            let m = Method::from_bytes(other.as_bytes()).unwrap();
            assert_eq!(METHODS[usize::from(method_index(&m))], OTHER_METHOD);
        }
    }
}
