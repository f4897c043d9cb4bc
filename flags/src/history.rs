//! A flag's history in an environment: the snapshot every change writes, and putting the flag back as
//! one of them stood.
//!
//! Invariant: restoring goes through the import path (one transaction, validated whole first), so a
//! snapshot that no longer fits (a prerequisite on a flag since deleted, say) is refused with the
//! problems and changes nothing. It restores the configuration in the snapshot's environment: variants,
//! segments, on/off, description, tags and the other settings; never the key, which clients use.

use crate::transfer::{Document, flag_doc};
use crate::{FlagSnapshot, Flags, FlagsError, Resource, Result};
use flagent_storage::entities::flag_snapshot;
use flagent_types::{AuditAction, FlagId, SnapshotId, TenantScope, perm};

/// Paging and order of `GET /flags/{id}/snapshots`.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotPage {
    /// At most this many (default 100, at most 1,000).
    pub limit: u64,
    /// Skip this many.
    pub offset: u64,
    /// Oldest first instead of newest first.
    pub ascending: bool,
}

impl Flags {
    /// The saved snapshots of a flag in the caller's environment.
    pub async fn snapshots(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        page: SnapshotPage,
    ) -> Result<Vec<FlagSnapshot>> {
        let flag_id = flag_id.0;
        scope.require::<perm::Read>()?;
        let db = self.db.scoped(scope);
        db.get::<flagent_storage::entities::flag::Model>(flag_id)
            .await?
            .filter(|f| f.project_id == scope.project_id().0)
            .ok_or(FlagsError::NotFound(Resource::Flag))?;
        let rows = db
            .snapshots_of_flag(
                flag_id,
                scope.environment_id().0,
                page.limit.min(1000),
                page.offset,
                page.ascending,
            )
            .await?;
        rows.into_iter().map(snapshot_of).collect()
    }

    /// One saved snapshot of a flag in the caller's environment.
    pub async fn snapshot(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        snapshot_id: SnapshotId,
    ) -> Result<FlagSnapshot> {
        let flag_id = flag_id.0;
        let snapshot_id = snapshot_id.0;
        scope.require::<perm::Read>()?;
        self.saved(scope, flag_id, snapshot_id).await
    }

    /// [`Flags::snapshot`] for use cases that have checked their own permission.
    async fn saved(
        &self,
        scope: &TenantScope,
        flag_id: i64,
        snapshot_id: i64,
    ) -> Result<FlagSnapshot> {
        let row = self
            .db
            .scoped(scope)
            .get::<flag_snapshot::Model>(snapshot_id)
            .await?
            .filter(|s| s.flag_id == flag_id && s.environment_id == scope.environment_id().0)
            .ok_or(FlagsError::NotFound(Resource::Snapshot))?;
        snapshot_of(row)
    }

    /// Brings the flag in the caller's environment back to snapshot `snapshot_id` of that environment
    /// (recorded as `flag.rollback`, and as a new snapshot). Returns the flag as it now stands.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), flag_id, snapshot_id))]
    pub async fn restore_snapshot(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        snapshot_id: SnapshotId,
    ) -> Result<crate::Flag> {
        let flag_id = flag_id.0;
        let snapshot_id = snapshot_id.0;
        scope.require::<perm::WriteFlags>()?;
        let current = self.view(scope, flag_id).await?;
        let then = self.saved(scope, flag_id, snapshot_id).await?;
        let mut doc = flag_doc(&then.flag);
        doc.key.clone_from(&current.key);
        let document = Document { flags: vec![doc] };
        self.apply_document(scope, document, false, AuditAction::FlagRollback)
            .await?;
        self.view(scope, flag_id).await
    }
}

fn snapshot_of(row: flag_snapshot::Model) -> Result<FlagSnapshot> {
    Ok(FlagSnapshot {
        id: row.id,
        updated_by: row.updated_by,
        flag: serde_json::from_value(row.flag).map_err(|e| FlagsError::Unexpected(e.into()))?,
        updated_at: crate::assemble::rfc3339(row.created_at),
    })
}
