//! Storage errors: what a caller can act on, and everything else kept with its source.

use sea_orm::{DbErr, RuntimeErr, SqlErr, SqlxError};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A unique constraint rejected the write (a key already taken).
    #[error("a row with the same unique key exists")]
    Duplicate(#[source] DbErr),
    /// A foreign key rejected the write (a referenced row is missing, or a referencing row exists).
    #[error("the write would break a reference between rows")]
    Reference(#[source] DbErr),
    /// The database could not be reached.
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbErr> for StorageError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => return StorageError::Duplicate(err),
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => return StorageError::Reference(err),
            _ => {}
        }
        if is_unavailable(&err) {
            StorageError::Unavailable(err)
        } else {
            StorageError::Unexpected(anyhow::Error::new(err).context("database operation"))
        }
    }
}

fn is_unavailable(err: &DbErr) -> bool {
    match err {
        // Opening a connection failed, whatever the reason (refused, reset, or a peer that closed
        // before answering the TLS or startup handshake).
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => matches!(
            **e,
            SqlxError::PoolClosed
                | SqlxError::PoolTimedOut
                | SqlxError::Io(_)
                | SqlxError::Tls(_)
                | SqlxError::WorkerCrashed
        ),
        _ => false,
    }
}
