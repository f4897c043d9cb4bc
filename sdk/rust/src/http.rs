//! The server endpoints the SDK calls (`GET /api/v1/snapshot`, `GET /api/v1/stream`, and for measurement
//! `POST /api/v1/exposures` and `POST /api/v1/events`), how a request carries the key and the environment,
//! and the HTTP client itself (rustls with the ring provider).
//!
//! Invariant: the API key goes only into the `Authorization` header, never into a log line or an error.

use crate::SdkError;
use crate::measure::Kind;
use crate::wire::{Ingested, SnapshotBody};
use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode, Url};
use std::fmt;
use std::time::Duration;

/// Where and as whom the SDK asks.
#[derive(Clone)]
pub(crate) struct Endpoints {
    snapshot: Url,
    stream: Url,
    exposures: Url,
    events: Url,
    api_key: String,
    environment: Option<String>,
}

impl fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoints")
            .field("snapshot", &self.snapshot.as_str())
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

impl Endpoints {
    /// The endpoints under `base` (`https://flags.example.com`, or a path prefix such as
    /// `https://example.com/flagent`).
    pub(crate) fn new(
        base: &str,
        api_key: String,
        environment: Option<String>,
    ) -> Result<Endpoints, SdkError> {
        let invalid = |reason: String| SdkError::InvalidUrl {
            url: base.to_owned(),
            reason,
        };
        let mut url = Url::parse(base).map_err(|error| invalid(error.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https".to_owned()));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        let join = |path: &str| url.join(path).map_err(|error| invalid(error.to_string()));
        Ok(Endpoints {
            snapshot: join("api/v1/snapshot")?,
            stream: join("api/v1/stream")?,
            exposures: join("api/v1/exposures")?,
            events: join("api/v1/events")?,
            api_key,
            environment,
        })
    }

    /// Adds the key and the environment to a request.
    fn authorize(&self, request: RequestBuilder) -> RequestBuilder {
        let request = request.bearer_auth(&self.api_key);
        match &self.environment {
            Some(environment) => request.header("X-Environment", environment),
            None => request,
        }
    }
}

/// Why a request to the server did not give what was asked.
#[derive(Debug)]
pub(crate) enum Failure {
    /// 401 or 403: the key is wrong, revoked or not allowed in the environment.
    Refused(StatusCode),
    /// 429: the server is busy; try again after the `Retry-After` delay when it gives one.
    Busy(Option<Duration>),
    /// Any other unexpected status.
    Status(StatusCode),
    /// The answer to the stream request is not `text/event-stream`.
    NotAStream,
    /// No answer in time.
    TimedOut,
    /// Connecting or reading failed.
    Transport(reqwest::Error),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Refused(status) => write!(f, "the server refused the API key ({status})"),
            Failure::Busy(Some(after)) => {
                write!(f, "the server is busy (retry after {} s)", after.as_secs())
            }
            Failure::Busy(None) => f.write_str("the server is busy"),
            Failure::Status(status) => write!(f, "the server answered {status}"),
            Failure::NotAStream => f.write_str("the answer is not text/event-stream"),
            Failure::TimedOut => f.write_str("no answer in time"),
            Failure::Transport(error) => write!(f, "{error}"),
        }
    }
}

/// Sends a request, waiting at most `limit` for the answer's headers.
async fn send(request: RequestBuilder, limit: Duration) -> Result<Response, Failure> {
    let response = tokio::time::timeout(limit, request.send())
        .await
        .map_err(|_| Failure::TimedOut)?
        .map_err(Failure::Transport)?;
    match response.status() {
        status if status.is_success() => Ok(response),
        status @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
            Err(Failure::Refused(status))
        }
        StatusCode::TOO_MANY_REQUESTS => Err(Failure::Busy(retry_after(&response))),
        status => Err(Failure::Status(status)),
    }
}

/// The longest `Retry-After` the SDK honours; a longer one is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// The delay of a `Retry-After` header in seconds (the form the server sends); `None` when it is missing
/// or an HTTP date.
fn retry_after(response: &Response) -> Option<Duration> {
    let seconds: u64 = response
        .headers()
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// `GET /api/v1/snapshot`, the whole answer within `limit`.
pub(crate) async fn fetch_snapshot(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    limit: Duration,
) -> Result<SnapshotBody, Failure> {
    let request = endpoints
        .authorize(http.get(endpoints.snapshot.clone()))
        .header(ACCEPT, "application/json")
        .timeout(limit);
    let response = send(request, limit).await?;
    response.json().await.map_err(Failure::Transport)
}

/// `POST /api/v1/exposures` or `POST /api/v1/events` with `body` (the caller's JSON), within `limit`.
///
/// A `2xx` answer means the server committed the accepted items, so an answer body that cannot be read is
/// `Ok(None)` rather than a failure (sending again would count the items twice).
pub(crate) async fn post_batch(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    kind: Kind,
    body: Vec<u8>,
    limit: Duration,
) -> Result<Option<Ingested>, Failure> {
    let url = match kind {
        Kind::Exposures => endpoints.exposures.clone(),
        Kind::Events => endpoints.events.clone(),
    };
    let request = endpoints
        .authorize(http.post(url))
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json")
        .body(body)
        .timeout(limit);
    let response = send(request, limit).await?;
    Ok(response.json().await.ok())
}

/// Opens `GET /api/v1/stream`, resuming after `last_event_id` when given.
pub(crate) async fn open_stream(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    last_event_id: Option<u64>,
    limit: Duration,
) -> Result<Response, Failure> {
    let mut request = endpoints
        .authorize(http.get(endpoints.stream.clone()))
        .header(ACCEPT, "text/event-stream")
        .header(CACHE_CONTROL, "no-cache");
    if let Some(revision) = last_event_id {
        request = request.header("Last-Event-ID", revision.to_string());
    }
    let response = send(request, limit).await?;
    let is_stream = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/event-stream"));
    if is_stream {
        Ok(response)
    } else {
        Err(Failure::NotAStream)
    }
}

/// The SDK's own HTTP client: no overall timeout (the stream stays open), a connect timeout, and with the
/// `rustls` feature HTTPS through rustls with the ring provider and the system's trusted roots.
pub(crate) fn http_client(connect_timeout: Duration) -> Result<reqwest::Client, SdkError> {
    let builder = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .user_agent(concat!("flagent-sdk-rust/", env!("CARGO_PKG_VERSION")));
    #[cfg(feature = "rustls")]
    let builder = builder.tls_backend_preconfigured(tls_config()?);
    builder.build().map_err(SdkError::Http)
}

/// A rustls configuration on the ring provider, verifying against the platform's roots; it installs no
/// process-wide default provider.
#[cfg(feature = "rustls")]
fn tls_config() -> Result<rustls::ClientConfig, SdkError> {
    use std::sync::Arc;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new(provider.clone()).map_err(SdkError::Tls)?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(SdkError::Tls)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_join_under_the_base_path() {
        let plain = Endpoints::new("http://127.0.0.1:8080", "k".into(), None).unwrap();
        assert_eq!(
            plain.snapshot.as_str(),
            "http://127.0.0.1:8080/api/v1/snapshot"
        );
        let prefixed = Endpoints::new("https://example.com/flagent", "k".into(), None).unwrap();
        assert_eq!(
            prefixed.stream.as_str(),
            "https://example.com/flagent/api/v1/stream"
        );
        assert_eq!(
            prefixed.exposures.as_str(),
            "https://example.com/flagent/api/v1/exposures"
        );
        assert_eq!(
            prefixed.events.as_str(),
            "https://example.com/flagent/api/v1/events"
        );
    }

    #[test]
    fn endpoints_refuse_other_schemes_and_garbage() {
        assert!(Endpoints::new("ftp://example.com", "k".into(), None).is_err());
        assert!(Endpoints::new("not a url", "k".into(), None).is_err());
    }

    #[test]
    fn debug_output_hides_the_key() {
        let endpoints = Endpoints::new("http://localhost", "flg_secret".into(), None).unwrap();
        assert!(!format!("{endpoints:?}").contains("flg_secret"));
    }

    #[test]
    fn the_http_client_builds() {
        http_client(Duration::from_secs(1)).unwrap();
    }
}
