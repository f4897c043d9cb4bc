//! Why an SSO request was refused. Each variant has one machine-readable code (`sso_state_mismatch`…);
//! what exactly failed in a sign-in goes to the audit log, not to the browser.

use flagent_types::{Denied, FeatureNotIncluded};

/// An SSO refusal.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// No identity provider with this id exists in the caller's tenant.
    #[error("identity provider {0} not found")]
    NotFound(i64),
    /// A field of the request is invalid.
    #[error("{reason}")]
    Invalid {
        /// The request field, as named on the wire.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The caller may not do this.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// The tenant's plan does not include single sign-on.
    #[error(transparent)]
    NotInPlan(#[from] FeatureNotIncluded),
    /// No claimed domain with this id exists in the caller's tenant.
    #[error("domain {0} not found")]
    DomainNotFound(i64),
    /// The domain's DNS record was not found.
    #[error("{0}")]
    DomainUnverified(String),
    /// The domain is claimed here already, or verified by another tenant.
    #[error("{0}")]
    DomainTaken(String),
    /// The provider named in a sign-in does not exist.
    #[error("single sign-on is not configured for this link")]
    NotConfigured,
    /// The provider is disabled.
    #[error("this identity provider is disabled")]
    ProviderDisabled,
    /// The sign-in coming back is unknown, expired, already finished, or was started in another browser.
    #[error("this sign-in was not started here or has expired; start again")]
    StateMismatch,
    /// The ID token's nonce is not the one this sign-in sent.
    #[error("the identity provider's answer does not belong to this sign-in")]
    NonceMismatch,
    /// The identity provider's token or answer failed a check (named in the audit event).
    #[error("the identity provider's answer was not accepted")]
    InvalidToken(String),
    /// A SAML response is not signed by a certificate of the provider, or its signature is broken.
    #[error("the identity provider's answer was not accepted")]
    InvalidSignature,
    /// A SAML response failed a check other than its signature (named in the audit event).
    #[error("the identity provider's answer was not accepted")]
    InvalidAssertion(String),
    /// A SAML assertion was used before.
    #[error("this sign-in was used already; start again")]
    Replayed,
    /// A SAML assertion or response is too old or past its validity.
    #[error("the identity provider's answer has expired; start again")]
    Expired(String),
    /// The identity provider refused or failed the sign-in (its `error` parameter).
    #[error("the identity provider did not sign you in")]
    IdpRefused(String),
    /// The identity provider could not be reached or answered nonsense.
    #[error("the identity provider could not be reached; try again shortly")]
    IdpUnavailable(String),
    /// The person cannot be signed in as asserted (an existing account that may not be linked, no email).
    #[error("{0}")]
    AccountRefused(String),
    /// The database could not be reached.
    #[error("the database is unavailable; try again shortly")]
    Unavailable(#[source] flagent_storage::StorageError),
    /// Any other failure.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl SsoError {
    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            SsoError::NotFound(_) => "sso_provider_not_found",
            SsoError::Invalid { .. } => "validation_failed",
            SsoError::Denied(_) => "forbidden",
            SsoError::NotInPlan(_) => "plan_limit_reached",
            SsoError::DomainNotFound(_) => "sso_domain_not_found",
            SsoError::DomainUnverified(_) => "sso_domain_unverified",
            SsoError::DomainTaken(_) => "sso_domain_taken",
            SsoError::NotConfigured => "sso_not_configured",
            SsoError::ProviderDisabled => "sso_provider_disabled",
            SsoError::StateMismatch => "sso_state_mismatch",
            SsoError::NonceMismatch => "sso_nonce_mismatch",
            SsoError::InvalidToken(_) => "sso_invalid_token",
            SsoError::InvalidSignature => "sso_invalid_signature",
            SsoError::InvalidAssertion(_) => "sso_invalid_assertion",
            SsoError::Replayed => "sso_replayed",
            SsoError::Expired(_) => "sso_expired",
            SsoError::IdpRefused(_) => "sso_idp_refused",
            SsoError::IdpUnavailable(_) => "sso_idp_unavailable",
            SsoError::AccountRefused(_) => "sso_account_refused",
            SsoError::Unavailable(_) => "database_unavailable",
            SsoError::Unexpected(_) => "internal",
        }
    }

    /// What the audit event of a failed sign-in records as its reason: the code and the failed check.
    pub fn audit_reason(&self) -> String {
        match self {
            SsoError::InvalidToken(check)
            | SsoError::InvalidAssertion(check)
            | SsoError::Expired(check)
            | SsoError::IdpRefused(check)
            | SsoError::IdpUnavailable(check) => format!("{}: {check}", self.code()),
            other => format!("{}: {other}", other.code()),
        }
    }
}

impl From<flagent_storage::StorageError> for SsoError {
    fn from(err: flagent_storage::StorageError) -> Self {
        match err {
            flagent_storage::StorageError::Unavailable(_) => SsoError::Unavailable(err),
            other => SsoError::Unexpected(anyhow::Error::new(other)),
        }
    }
}

impl From<crate::AuthError> for SsoError {
    fn from(err: crate::AuthError) -> Self {
        match err {
            crate::AuthError::Unavailable(source) => SsoError::Unavailable(source),
            other => SsoError::Unexpected(anyhow::Error::new(other)),
        }
    }
}

impl From<crate::secrets::SecretError> for SsoError {
    fn from(err: crate::secrets::SecretError) -> Self {
        SsoError::Unexpected(anyhow::Error::new(err))
    }
}

/// A validation error about `field`.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> SsoError {
    SsoError::Invalid {
        field,
        reason: reason.into(),
    }
}
