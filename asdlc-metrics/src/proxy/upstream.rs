//! Talking to VictoriaMetrics: one GET with a deadline, the body read in
//! chunks up to the cap, and the mapping of what came back (or did not) to
//! the answer the proxy gives.

use std::time::Duration;

// reqwest and axum share the `http` crate: one `StatusCode` for both sides.
use axum::http::StatusCode;
use reqwest::Url;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::config::ProxyConfig;
use super::errors::ApiError;
use super::secret::Credentials;

/// How much of a non-JSON or 5xx body an error message quotes.
const QUOTE_BYTES: usize = 512;

/// The upstream endpoints, the shared client and the credentials.
#[derive(Debug)]
pub(crate) struct Upstream {
    client: reqwest::Client,
    pub(crate) query_url: Url,
    pub(crate) query_range_url: Url,
    health_url: Url,
    max_bytes: usize,
    credentials: Option<Credentials>,
}

/// An answer to pass on: a 2xx (as 200) or a 4xx, its body checked to be
/// JSON and within the cap.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
}

/// What `/health` learned.
#[derive(Debug)]
pub(crate) enum Health {
    /// `/health` answered 200.
    Healthy,
    /// `/health` answered, with another status.
    Degraded(u16),
    /// No answer in time, or none at all.
    Unhealthy(String),
}

impl Upstream {
    pub(crate) fn new(config: &ProxyConfig) -> Self {
        Upstream {
            client: config.client.clone(),
            query_url: config.endpoint("/api/v1/query"),
            query_range_url: config.endpoint("/api/v1/query_range"),
            health_url: health_url(config),
            max_bytes: config.max_response_bytes,
            credentials: config.credentials.clone(),
        }
    }

    /// A GET of `url` with the credentials, if any.
    fn request(&self, url: &Url) -> reqwest::RequestBuilder {
        let request = self.client.get(url.clone());
        match &self.credentials {
            Some(credentials) => credentials.apply(request),
            None => request,
        }
    }

    /// `text` with the credentials' secret taken out: upstream bodies are
    /// quoted in answers and logs, and an auth front may echo what it
    /// refused.
    fn redact(&self, text: String) -> String {
        match &self.credentials {
            Some(credentials) => credentials.redact(&text),
            None => text,
        }
    }

    /// GETs `url` with `params`; the whole exchange, body included, ends
    /// within `timeout`.
    pub(crate) async fn get(
        &self,
        url: &Url,
        params: &[(&str, String)],
        timeout: Duration,
    ) -> Result<Answer, ApiError> {
        // One deadline over connect, headers and body: a server that sends
        // headers and then trickles the body is as slow as one that never
        // answers.
        match tokio::time::timeout(timeout, self.exchange(url, params)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(ApiError::timeout(format!(
                "VictoriaMetrics did not answer within {}",
                DisplayDuration(timeout)
            ))),
        }
    }

    async fn exchange(&self, url: &Url, params: &[(&str, String)]) -> Result<Answer, ApiError> {
        let mut response = self
            .request(url)
            .query(params)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(send_error)?;
        let status = response.status();
        let body = self.read_capped(&mut response).await?;
        let is_json = serde_json::from_slice::<IgnoredAny>(&body).is_ok();
        if status.is_success() && is_json {
            Ok(Answer {
                status: StatusCode::OK,
                body,
            })
        } else if status.is_client_error() && is_json {
            // VictoriaMetrics' own error (422 for every query error): its
            // status and body are the most precise answer there is.
            Ok(Answer { status, body })
        } else if status.is_client_error() {
            // A refusal in plain text: vmauth's 401 (no credentials) or 400
            // (credentials it does not know), a 404 for a path prefix the
            // upstream does not serve. Its status says more than a 502
            // would; the body becomes the message.
            Err(ApiError::upstream_refusal(
                status,
                self.redact(format!(
                    "VictoriaMetrics answered {status}: {}",
                    quote(&body)
                )),
            ))
        } else if status.is_server_error() {
            Err(ApiError::bad_gateway(self.redact(format!(
                "VictoriaMetrics answered {status}: {}",
                upstream_message(&body)
            ))))
        } else if status.is_success() {
            Err(ApiError::bad_gateway(self.redact(format!(
                "VictoriaMetrics answered {status} with a body that is not JSON: {}",
                quote(&body)
            ))))
        } else {
            Err(ApiError::bad_gateway(format!(
                "VictoriaMetrics answered {status}, which the proxy does not pass on"
            )))
        }
    }

    /// Reads the body chunk by chunk and gives up as soon as it would pass
    /// the cap, so an endless or huge answer never gets buffered.
    async fn read_capped(&self, response: &mut reqwest::Response) -> Result<Vec<u8>, ApiError> {
        let cap = self.max_bytes;
        let too_large = || {
            ApiError::bad_gateway(format!(
                "VictoriaMetrics' answer is larger than {cap} bytes"
            ))
        };
        let announced = response.content_length().unwrap_or(0);
        if announced > cap as u64 {
            return Err(too_large());
        }
        // Bounded by the cap, checked just above.
        let mut body = Vec::with_capacity(announced as usize);
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            ApiError::bad_gateway(format!(
                "reading VictoriaMetrics' answer failed: {}",
                chain(&e.without_url())
            ))
        })? {
            // `body.len() <= cap` holds on every turn, so no underflow.
            if chunk.len() > cap - body.len() {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// GETs `/health`, within `timeout`.
    pub(crate) async fn health(&self, timeout: Duration) -> Health {
        let check = self.request(&self.health_url).send();
        match tokio::time::timeout(timeout, check).await {
            Ok(Ok(response)) if response.status() == StatusCode::OK => Health::Healthy,
            Ok(Ok(response)) => Health::Degraded(response.status().as_u16()),
            Ok(Err(e)) => Health::Unhealthy(chain(&e.without_url())),
            Err(_) => Health::Unhealthy(format!(
                "VictoriaMetrics did not answer within {}",
                DisplayDuration(timeout)
            )),
        }
    }
}

/// Where health is asked: `/health` of a plain upstream; under a path
/// prefix (`/select/0/prometheus`, `/prometheus`) there is no `/health`
/// (VictoriaMetrics answers 400 for `/prometheus/health`), so the cheapest
/// query there is, `query=1`, which also proves the credentials work.
fn health_url(config: &ProxyConfig) -> Url {
    if config.base.path().trim_end_matches('/').is_empty() {
        config.endpoint("/health")
    } else {
        let mut url = config.endpoint("/api/v1/query");
        url.set_query(Some("query=1"));
        url
    }
}

/// A request that got no answer: unreachable (refused, name not resolved)
/// is 503; anything else that broke the exchange is 502.
fn send_error(e: reqwest::Error) -> ApiError {
    let e = e.without_url();
    if e.is_timeout() {
        ApiError::timeout(format!("VictoriaMetrics timed out: {}", chain(&e)))
    } else if e.is_connect() {
        ApiError::unavailable(format!("VictoriaMetrics is unreachable: {}", chain(&e)))
    } else {
        ApiError::bad_gateway(format!("request to VictoriaMetrics failed: {}", chain(&e)))
    }
}

/// An error and its sources, `outer: inner: …`, since reqwest's own text
/// ("error sending request") hides the cause (refused, DNS, reset).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The `error` of a Prometheus-shaped error body, else the body itself.
fn upstream_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: String,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(parsed) => parsed.error,
        Err(_) => quote(body),
    }
}

/// The start of `body` as text.
fn quote(body: &[u8]) -> String {
    let head = body.get(..QUOTE_BYTES).unwrap_or(body);
    let mut text = String::from_utf8_lossy(head).trim().to_owned();
    if head.len() < body.len() {
        text.push('…');
    }
    if text.is_empty() {
        text.push_str("(empty body)");
    }
    text
}

/// `300ms`, `5s`, `1.5s`: a timeout as people write it.
struct DisplayDuration(Duration);

impl std::fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.0.as_millis();
        if ms < 1000 {
            write!(f, "{ms}ms")
        } else {
            write!(
                f,
                "{}s",
                super::validate::seconds(ms.try_into().unwrap_or(i64::MAX))
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_bodies_briefly() {
        assert_eq!(quote(b"  oops \n"), "oops");
        assert_eq!(quote(b""), "(empty body)");
        let long = vec![b'x'; 2 * QUOTE_BYTES];
        assert_eq!(quote(&long).chars().count(), QUOTE_BYTES + 1);
        assert_eq!(
            upstream_message(br#"{"status":"error","errorType":"500","error":"disk full"}"#),
            "disk full"
        );
        assert_eq!(upstream_message(b"<html>oops</html>"), "<html>oops</html>");
    }

    /// A resolver that knows no name: DNS failure without network traffic.
    struct NoNames;

    impl reqwest::dns::Resolve for NoNames {
        fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
            let message = format!("no such host: {}", name.as_str());
            Box::pin(async move { Err(message.into()) })
        }
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_503_unavailable() {
        let mut config = ProxyConfig::new("http://victoriametrics.invalid:8428").unwrap();
        config.client = reqwest::Client::builder()
            .dns_resolver(std::sync::Arc::new(NoNames))
            .build()
            .unwrap();
        let upstream = Upstream::new(&config);
        let params = [("query", "up".to_owned())];
        let error = upstream
            .get(&upstream.query_url, &params, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(error.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error.error_type, "unavailable");
        assert!(
            error
                .message
                .contains("no such host: victoriametrics.invalid"),
            "{error}"
        );
        assert!(matches!(
            upstream.health(Duration::from_secs(5)).await,
            Health::Unhealthy(_)
        ));
    }

    #[test]
    fn shows_timeouts_as_written() {
        assert_eq!(
            DisplayDuration(Duration::from_millis(300)).to_string(),
            "300ms"
        );
        assert_eq!(DisplayDuration(Duration::from_secs(30)).to_string(), "30s");
        assert_eq!(
            DisplayDuration(Duration::from_millis(1500)).to_string(),
            "1.5s"
        );
    }
}
