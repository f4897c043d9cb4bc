//! `EvaluationError`: why an evaluation request was refused before anything was evaluated or counted.

/// A refused evaluation request; the HTTP layer maps each variant to its status and code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvaluationError {
    /// A field of the request is malformed.
    #[error("{reason}")]
    Invalid {
        /// The field, as the wire names it (`entityContext`, `flagID`…).
        field: &'static str,
        /// What is wrong, in words.
        reason: String,
    },
    /// The caller's scope may not evaluate here.
    #[error(transparent)]
    Denied(#[from] flagent_types::Denied),
    /// A batch names no flag at all.
    #[error("give at least one of flagIDs, flagKeys or flagTags")]
    EmptySelector,
    /// A batch would produce more results than allowed.
    #[error("the batch would produce {results} results; the limit is {limit}")]
    BatchTooLarge {
        /// Results the batch would produce.
        results: usize,
        /// The most allowed.
        limit: usize,
    },
}

impl EvaluationError {
    /// An [`EvaluationError::Invalid`] about `field`.
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        EvaluationError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// The result of an evaluation use case.
pub type Result<T, E = EvaluationError> = std::result::Result<T, E>;
