//! Why a measurement request was refused. Each variant is one answer a caller can act on.

use flagent_types::Denied;

/// A refusal of the measurement domain.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// A field of the request is invalid; nothing was changed.
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
    /// No metric with this key exists in the caller's project.
    #[error("metric {0:?} not found")]
    MetricNotFound(String),
    /// No flag with this id exists in the caller's project.
    #[error("flag {0} not found")]
    FlagNotFound(i64),
    /// No crash group with this id exists in the caller's environment.
    #[error("crash group {0} not found")]
    CrashGroupNotFound(i64),
    /// A metric with this key exists already in the project.
    #[error("a metric with the key {0:?} exists already in this project")]
    MetricKeyTaken(String),
    /// The metric is read by an experiment or a ratio metric.
    #[error("{0}")]
    MetricInUse(String),
    /// The ingest queue is full; the request may be sent again after the given seconds.
    #[error("the ingest queue is full; retry in {0} s")]
    Overloaded(u64),
    /// The request exceeds a size limit.
    #[error("{0}")]
    TooLarge(String),
    /// Anything else (the database failing, a bug): an opaque 500 to the caller.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl AnalyticsError {
    /// A refusal naming the request `field` and what is wrong with it.
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        AnalyticsError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

impl From<flagent_storage::StorageError> for AnalyticsError {
    fn from(err: flagent_storage::StorageError) -> Self {
        AnalyticsError::Unexpected(err.into())
    }
}
