//! Authentication errors.

/// Why a request could not be authenticated or authorised.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No credentials were presented.
    #[error("an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>")]
    Missing,
    /// The credentials are not valid (unknown, malformed, revoked or expired key).
    #[error("the API key is not valid")]
    Invalid,
    /// The tenant is suspended.
    #[error("the tenant is suspended")]
    Suspended,
    /// The key may not act in the requested environment.
    #[error("the API key may not use environment {0:?}")]
    EnvironmentForbidden(String),
    /// The requested environment does not exist in the key's project.
    #[error("environment {0:?} not found")]
    EnvironmentNotFound(String),
    /// A key being created is invalid.
    #[error("{0}")]
    InvalidKeySpec(String),
    /// No API key with this id exists in the caller's tenant and project.
    #[error("API key {0} not found")]
    KeyNotFound(i64),
    /// The API key is revoked or expired, so it cannot be rotated.
    #[error("API key {0} is revoked or expired")]
    KeyInactive(i64),
    /// A field of a key management request is invalid.
    #[error("{reason}")]
    InvalidInput {
        /// The request field, as named on the wire (`name`, `scopes`, `environment`, `expiresAt`).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The caller may not do this, although it is authenticated.
    #[error("{0}")]
    Forbidden(String),
    /// The database could not be reached and the key is not cached.
    #[error("authentication is temporarily unavailable")]
    Unavailable(#[source] flagent_storage::StorageError),
    /// Anything else.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl From<flagent_storage::StorageError> for AuthError {
    fn from(err: flagent_storage::StorageError) -> Self {
        match err {
            flagent_storage::StorageError::Unavailable(_) => AuthError::Unavailable(err),
            other => AuthError::Unexpected(anyhow::Error::new(other)),
        }
    }
}
