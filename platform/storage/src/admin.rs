//! Creating and dropping whole databases on a server (test isolation and operators' tools), and running a
//! raw statement for tests that tamper with rows directly.
#![allow(clippy::disallowed_methods)] // Database-level statements hold no tenant data.

use crate::StorageError;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

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
        // MySQL waits for every open transaction on the database before dropping it; end its sessions.
        let sessions = conn
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::MySql,
                "SELECT id FROM information_schema.processlist WHERE db = ?",
                [name.into()],
            ))
            .await?;
        for row in sessions {
            // MariaDB's `processlist.id` is signed, MySQL's unsigned.
            let id = row.try_get::<i64>("", "id").ok().or_else(|| {
                row.try_get::<u64>("", "id")
                    .ok()
                    .and_then(|id| i64::try_from(id).ok())
            });
            if let Some(id) = id {
                let _ = conn.execute_unprepared(&format!("KILL {id}")).await;
            }
        }
        format!("DROP DATABASE IF EXISTS {name}")
    };
    conn.execute_unprepared(&sql).await?;
    conn.close().await?;
    Ok(())
}

/// Runs one SQL statement against the database at `url` (tests that tamper with rows directly).
pub async fn execute(url: &str, sql: &str) -> Result<u64, StorageError> {
    let conn = Database::connect(url).await?;
    let result = conn.execute_unprepared(sql).await?;
    conn.close().await?;
    Ok(result.rows_affected())
}

/// Runs one SQL query returning a single integer column `n` against the database at `url` (tests that
/// count rows directly).
pub async fn query_count(url: &str, sql: &str) -> Result<i64, StorageError> {
    let conn = Database::connect(url).await?;
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_string(backend, sql.to_owned()))
        .await?;
    conn.close().await?;
    let row = row.ok_or_else(|| StorageError::Unexpected(anyhow::anyhow!("no row for {sql}")))?;
    Ok(row.try_get::<i64>("", "n")?)
}
