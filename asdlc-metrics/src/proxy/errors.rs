//! The error answer every proxy endpoint gives: the Prometheus HTTP API shape
//! `{"status":"error","errorType":"…","error":"…"}`, so dashboards that
//! already read Prometheus errors read ours without a special case.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answer: its HTTP status, the `errorType`, the message and any
/// header the status calls for (`Retry-After`, `WWW-Authenticate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) error_type: &'static str,
    pub(crate) message: String,
    pub(crate) header: Option<(HeaderName, HeaderValue)>,
}

impl ApiError {
    /// 400 `bad_data`: the request's parameters; nothing was forwarded.
    pub(crate) fn bad_data(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_data", message)
    }

    /// 503 `unavailable`: VictoriaMetrics could not be reached (connection
    /// refused, name not resolved).
    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// 504 `timeout`: no complete answer within the endpoint's timeout.
    pub(crate) fn timeout(message: impl Into<String>) -> Self {
        Self::new(StatusCode::GATEWAY_TIMEOUT, "timeout", message)
    }

    /// 502 `bad_gateway`: VictoriaMetrics answered, but not with something
    /// we can pass on (a 5xx, a body that is not JSON or is over the cap).
    pub(crate) fn bad_gateway(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, "bad_gateway", message)
    }

    /// 401 `unauthorized`: the proxy's own token is missing or wrong.
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message).with_header(
            axum::http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer"),
        )
    }

    /// An upstream 4xx whose body is not JSON (vmauth refusing credentials,
    /// a path the upstream does not serve), with its status kept:
    /// `errorType` by status.
    pub(crate) fn upstream_refusal(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(status, error_type_of(status), message)
    }

    /// The same answer with `name: value` added.
    pub(crate) fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.header = Some((name, value));
        self
    }

    fn new(status: StatusCode, error_type: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error_type,
            message: message.into(),
            header: None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.error_type, self.message)
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    status: &'static str,
    #[serde(rename = "errorType")]
    error_type: &'a str,
    error: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            status: "error",
            error_type: self.error_type,
            error: &self.message,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some((name, value)) = self.header {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// The `errorType` for an error the proxy's handlers did not make (axum's
/// `405`, a rejection), by status, in Prometheus' vocabulary.
fn error_type_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        StatusCode::GATEWAY_TIMEOUT => "timeout",
        s if s.is_client_error() => "bad_data",
        _ => "internal",
    }
}

/// Gives every error the proxy's routes answer the Prometheus shape, also
/// those axum makes itself (`405` has an empty body): a layer made with
/// [`axum::middleware::map_response`].
pub(crate) async fn prometheus_errors(response: Response) -> Response {
    crate::server::rewrite_error(response, |status, message| {
        serde_json::json!({"status": "error", "errorType": error_type_of(status), "error": message})
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn json_of(response: Response) -> serde_json::Value {
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .expect("body");
        serde_json::from_slice(&body).expect("json")
    }

    #[tokio::test]
    async fn renders_the_prometheus_error_shape() {
        let response = ApiError::timeout("slow \"upstream\"").into_response();
        assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(
            response.headers()[axum::http::header::CONTENT_TYPE],
            "application/json"
        );
        assert_eq!(
            json_of(response).await,
            serde_json::json!({"status": "error", "errorType": "timeout", "error": "slow \"upstream\""})
        );
    }

    #[tokio::test]
    async fn an_empty_method_not_allowed_gets_the_prometheus_shape() {
        let response = prometheus_errors(StatusCode::METHOD_NOT_ALLOWED.into_response()).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            json_of(response).await,
            serde_json::json!({"status": "error", "errorType": "bad_data", "error": "method not allowed"})
        );
    }
}
