//! [`SdkError`]: why a [`crate::Client`] could not be built.
//!
//! Invariant: only building fails. Once built, a client never returns an error: connection problems are
//! logged, reported by [`crate::Client::status`] and retried, and evaluation keeps answering from the
//! last good snapshot.

/// Why [`crate::ClientBuilder::build`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The base URL is not an absolute `http` or `https` URL.
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server answered 401 or 403 to the first snapshot request: the key is wrong, revoked or not
    /// allowed in the environment.
    #[error("the server refused the API key (HTTP {status})")]
    Unauthorized {
        /// The HTTP status.
        status: u16,
    },
    /// The HTTP client could not be built.
    #[error("build the HTTP client")]
    Http(#[source] reqwest::Error),
    /// The TLS configuration could not be built.
    #[cfg(feature = "rustls")]
    #[error("build the TLS configuration")]
    Tls(#[source] rustls::Error),
}
