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
    /// The tenant's signup has not been verified yet.
    #[error("this organisation is waiting for its owner to verify their email address")]
    TenantPending,
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
    /// The email and password do not match an account (the same answer for an unknown email).
    #[error("the email or password is not correct")]
    InvalidCredentials,
    /// Too many failed logins: the account refuses logins for `retry_after_secs`.
    #[error("too many failed logins; try again in {retry_after_secs} seconds")]
    Locked {
        /// Seconds until a login is accepted again.
        retry_after_secs: u64,
    },
    /// The account's email address has not been verified yet.
    #[error("verify your email address first: follow the link we sent you")]
    EmailNotVerified,
    /// A one-time token (verification, reset, invitation) is unknown, used or expired.
    #[error("this link is not valid any more; ask for a new one")]
    InvalidToken,
    /// The session token is malformed, expired, revoked or signed with another key.
    #[error("the session is not valid; sign in again")]
    InvalidSession,
    /// A user who belongs to several tenants did not say which one (`X-Tenant-ID`).
    #[error("choose a tenant with the X-Tenant-ID header; you are a member of several")]
    TenantRequired,
    /// The tenant does not exist or the user is not a member of it.
    #[error("tenant {0:?} not found")]
    TenantNotFound(String),
    /// The project asked for with `X-Project` does not exist in the tenant.
    #[error("project {0:?} not found")]
    ProjectNotFound(String),
    /// The request conflicts with existing data (an email already registered).
    #[error("{0}")]
    Conflict(String),
    /// A cookie-authenticated request that changes data did not echo the session's CSRF token.
    #[error(
        "a request that changes data with the session cookie must send the session's X-CSRF-Token"
    )]
    CsrfFailed,
    /// The tenant enforces single sign-on and this session did not come through its provider (or the
    /// password sign-in is for someone every one of whose tenants enforces it).
    #[error("{0}")]
    SsoEnforced(String),
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

/// A validation error about `field`.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> AuthError {
    AuthError::InvalidInput {
        field,
        reason: reason.into(),
    }
}

impl From<flagent_types::Denied> for AuthError {
    fn from(denied: flagent_types::Denied) -> Self {
        AuthError::Forbidden(denied.to_string())
    }
}
