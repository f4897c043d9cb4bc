//! Creating and dropping whole databases on a server (test isolation and operators' tools).
#![allow(clippy::disallowed_methods)] // Database-level statements hold no tenant data.

use crate::StorageError;
use sea_orm::{ConnectionTrait, Database};

fn check_name(name: &str) -> Result<(), StorageError> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(StorageError::Unexpected(anyhow::anyhow!(
            "invalid database name {name:?}"
        )));
    }
    Ok(())
}

/// Creates database `name` on the server of `server_url` (`postgres://…` or `mysql://…`).
pub async fn create_database(server_url: &str, name: &str) -> Result<(), StorageError> {
    check_name(name)?;
    let conn = Database::connect(server_url).await?;
    conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    conn.close().await?;
    Ok(())
}

/// Drops database `name` on the server of `server_url`, disconnecting its sessions on PostgreSQL.
pub async fn drop_database(server_url: &str, name: &str) -> Result<(), StorageError> {
    check_name(name)?;
    let conn = Database::connect(server_url).await?;
    let sql = if server_url.starts_with("postgres") {
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    } else {
        format!("DROP DATABASE IF EXISTS {name}")
    };
    conn.execute_unprepared(&sql).await?;
    conn.close().await?;
    Ok(())
}
