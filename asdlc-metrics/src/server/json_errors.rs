//! Error answers as JSON, whoever made them: axum's extractor rejections
//! (plain text), its `405` and `404` (empty), a handler's bare status.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

/// The most of a non-JSON error body read to become the message (extractor
/// rejections are one line).
const MAX_ERROR_BODY: usize = 16 * 1024;

/// Turns an error response (4xx, 5xx) that is not JSON into
/// `{"error":"…"}` with the same status and headers (`Allow` included); the
/// message is the original body's text, or the status' reason when it had
/// none. Responses that are JSON already, and successes, pass untouched.
///
/// Add it with [`axum::middleware::map_response`] as the router's last
/// layer, so it sees the fallback's `404` and every route's `405` too.
///
/// ```
/// use axum::{body::Body, http::Request, middleware::map_response, routing::post, Json, Router};
/// use tower_service::Service as _;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut app = Router::new()
///     .route("/api/tasks", post(|Json(v): Json<serde_json::Value>| async move { Json(v) }))
///     .layer(map_response(asdlc_metrics::server::json_errors));
///
/// let answer = app.call(Request::get("/api/tasks").body(Body::empty()).unwrap()).await.unwrap();
/// assert_eq!(answer.status(), 405);
/// let body = axum::body::to_bytes(answer.into_body(), 1024).await.unwrap();
/// assert_eq!(&body[..], br#"{"error":"method not allowed"}"#);
/// # }
/// ```
pub async fn json_errors(response: Response) -> Response {
    rewrite(
        response,
        |_, message| serde_json::json!({ "error": message }),
    )
    .await
}

/// [`json_errors`] with the body made by `shape` from the status and the
/// message.
pub(crate) async fn rewrite(
    response: Response,
    shape: impl FnOnce(StatusCode, String) -> Value,
) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase()
    } else {
        text
    };
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = shape(status, message).to_string();
    Response::from_parts(parts, Body::from(body))
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(is_json_media_type)
}

/// `application/json` or `application/…+json`, parameters ignored.
fn is_json_media_type(content_type: &str) -> bool {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse as _;

    async fn body_of(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn plain_errors_become_json_and_the_rest_passes() {
        let plain = (StatusCode::BAD_REQUEST, "Failed to parse the request body").into_response();
        let answer = json_errors(plain).await;
        assert_eq!(answer.status(), 400);
        assert_eq!(answer.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            body_of(answer).await,
            r#"{"error":"Failed to parse the request body"}"#
        );

        let empty = StatusCode::URI_TOO_LONG.into_response();
        assert_eq!(
            body_of(json_errors(empty).await).await,
            r#"{"error":"uri too long"}"#
        );

        let ok = "fine".into_response();
        assert_eq!(body_of(json_errors(ok).await).await, "fine");
        let json = (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"error": "no such task"})),
        );
        assert_eq!(
            body_of(json_errors(json.into_response()).await).await,
            r#"{"error":"no such task"}"#
        );
    }

    #[test]
    fn recognises_json_media_types() {
        for yes in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/problem+json",
        ] {
            assert!(is_json_media_type(yes), "{yes}");
        }
        for no in ["text/plain", "", "application/jsonx", "text/json+x"] {
            assert!(!is_json_media_type(no), "{no}");
        }
    }
}
