//! Errors of flag management, each one a caller can act on (a plan limit included), plus `Unavailable`
//! and `Unexpected`.

use flagent_storage::StorageError;
use std::fmt;

/// The kind of thing that was not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// A flag.
    Flag,
    /// A variant.
    Variant,
    /// A segment.
    Segment,
    /// A constraint.
    Constraint,
    /// A tag.
    Tag,
    /// An environment.
    Environment,
    /// A flag snapshot (a version in a flag's history).
    Snapshot,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resource::Flag => "flag",
            Resource::Variant => "variant",
            Resource::Segment => "segment",
            Resource::Constraint => "constraint",
            Resource::Tag => "tag",
            Resource::Environment => "environment",
            Resource::Snapshot => "snapshot",
        })
    }
}

/// Why a flag operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FlagsError {
    /// The thing does not exist in the caller's tenant, project and environment.
    #[error("{0} not found")]
    NotFound(Resource),
    /// Another flag of the project has this key.
    #[error("flag key {0:?} is already taken in this project")]
    FlagKeyTaken(String),
    /// Another variant of the flag has this key.
    #[error("variant key {0:?} is already taken in this flag")]
    VariantKeyTaken(String),
    /// The flag changed since the version the caller sent.
    #[error(
        "flag was changed by someone else: it is at version {current}, the request was based on version {expected}"
    )]
    VersionConflict {
        /// The version the caller based the change on.
        expected: i64,
        /// The flag's version now.
        current: i64,
    },
    /// Another live flag names this flag (or this variant of it) as a prerequisite.
    #[error("{what} is a prerequisite of {}; remove it from their prerequisites first", dependents.join(", "))]
    RequiredBy {
        /// What the change would remove (`flag "a"`, `variant "on" of flag "a"`).
        what: String,
        /// The keys of the flags that depend on it.
        dependents: Vec<String>,
    },
    /// A variant still has a share in a segment's distribution.
    #[error("variant {0:?} still has a share in a distribution; set its percent to 0 first")]
    VariantInUse(String),
    /// The input is invalid; nothing was changed.
    #[error("{field}: {reason}")]
    Invalid {
        /// Which field (a path such as `distributions[1].percent`).
        field: String,
        /// Why, and how to write it correctly.
        reason: String,
    },
    /// An import document has problems; nothing was written.
    #[error("the document has {} problem(s); nothing was imported", .0.len())]
    ImportInvalid(Vec<crate::ImportProblem>),
    /// The tenant's plan does not allow this many flags; nothing was changed.
    #[error(transparent)]
    PlanLimit(#[from] flagent_types::LimitReached),
    /// The caller's scope does not grant what the use case needs; nothing was changed.
    #[error(transparent)]
    Denied(#[from] flagent_types::Denied),
    /// The database cannot be reached; nothing was changed.
    #[error("the database is unavailable")]
    Unavailable(#[source] StorageError),
    /// Anything else.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl FlagsError {
    /// An [`FlagsError::Invalid`] for `field`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FlagsError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<StorageError> for FlagsError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::Unavailable(_) => FlagsError::Unavailable(err),
            other => FlagsError::Unexpected(anyhow::Error::new(other)),
        }
    }
}

/// Results of flag operations.
pub type Result<T, E = FlagsError> = std::result::Result<T, E>;
