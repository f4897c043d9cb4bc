//! What a tenant uses, counted for its plan's limits: projects, live environments, live flags, members
//! and pending invitations, and evaluations per month (`usage_counters`).
//!
//! Invariant: counts run in whatever connection the caller holds; inside a `TenantTx` (which locked the
//! tenant row first) they cannot race another write of the same tenant, so a check and the insert it
//! guards see the same numbers.

use crate::{Millis, Scoped, StorageError, entities::*};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, QuerySelect};

impl<C: ConnectionTrait> Scoped<C> {
    /// How many projects this tenant has.
    pub async fn count_projects(&self) -> Result<u64, StorageError> {
        Ok(self.select::<project::Entity>().count(&self.conn).await?)
    }

    /// How many live (not archived) environments `project` has.
    pub async fn count_live_environments(&self, project: i64) -> Result<u64, StorageError> {
        Ok(self
            .select::<environment::Entity>()
            .filter(environment::Column::ProjectId.eq(project))
            .filter(environment::Column::ArchivedAt.is_null())
            .count(&self.conn)
            .await?)
    }

    /// The most live environments any one project of this tenant has (0 without projects).
    pub async fn most_live_environments(&self) -> Result<u64, StorageError> {
        let counts: Vec<(i64, i64)> = self
            .select::<environment::Entity>()
            .select_only()
            .column(environment::Column::ProjectId)
            .column_as(Expr::col(environment::Column::Id).count(), "n")
            .filter(environment::Column::ArchivedAt.is_null())
            .group_by(environment::Column::ProjectId)
            .into_tuple()
            .all(&self.conn)
            .await?;
        Ok(counts
            .into_iter()
            .map(|(_, n)| u64::try_from(n).unwrap_or(0))
            .max()
            .unwrap_or(0))
    }

    /// How many live (not deleted) flags this tenant has, in all its projects.
    pub async fn count_live_flags(&self) -> Result<u64, StorageError> {
        Ok(self
            .select::<flag::Entity>()
            .filter(flag::Column::DeletedAt.is_null())
            .count(&self.conn)
            .await?)
    }

    /// How many memberships (members) this tenant has.
    pub async fn count_memberships(&self) -> Result<u64, StorageError> {
        Ok(self
            .select::<membership::Entity>()
            .count(&self.conn)
            .await?)
    }

    /// How many invitations are pending at `now`: neither accepted, revoked nor expired.
    pub async fn count_pending_invitations(&self, now: Millis) -> Result<u64, StorageError> {
        Ok(self
            .select::<invitation::Entity>()
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::RevokedAt.is_null())
            .filter(invitation::Column::ExpiresAt.gt(now))
            .count(&self.conn)
            .await?)
    }

    /// The seats this tenant uses at `now`: its members plus its pending invitations.
    pub async fn seats_in_use(&self, now: Millis) -> Result<u64, StorageError> {
        Ok(self.count_memberships().await? + self.count_pending_invitations(now).await?)
    }

    /// The evaluations recorded for this tenant in `period` (`YYYY-MM`), 0 when none were.
    pub async fn evaluations_in(&self, period: &str) -> Result<u64, StorageError> {
        let row = self
            .select::<usage_counter::Entity>()
            .filter(usage_counter::Column::Period.eq(period))
            .one(&self.conn)
            .await?;
        Ok(row.map_or(0, |r| u64::try_from(r.evaluations).unwrap_or(0)))
    }
}
