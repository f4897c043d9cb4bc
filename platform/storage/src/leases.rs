//! Job leases: a background job that must run on one node at a time runs only while its node holds
//! the job's row in `job_leases`, taken with one conditional `UPDATE` (free or expired, or already
//! ours) so two nodes racing for it cannot both win.
//!
//! Invariant: reached only through [`SystemDb`]; times are the callers' clock in milliseconds, so a
//! test moves them forward without waiting.
#![allow(clippy::disallowed_methods)] // A global table, reached only with a SystemScope.

use crate::{Millis, StorageError, SystemDb, entities::job_lease};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter,
};

impl SystemDb<'_> {
    /// Takes or renews the lease on job `name` for `owner` until `until`, if it is free, expired at
    /// `now`, or already `owner`'s; true when `owner` holds it afterwards.
    pub async fn take_lease(
        &self,
        name: &str,
        owner: &str,
        now: Millis,
        until: Millis,
    ) -> Result<bool, StorageError> {
        if self.update_lease(name, owner, now, until).await? {
            return Ok(true);
        }
        let exists = job_lease::Entity::find()
            .filter(job_lease::Column::Name.eq(name))
            .one(&self.db.conn)
            .await?
            .is_some();
        if exists {
            return Ok(false);
        }
        // The job's first run anywhere: create its row free, then race for it like any other.
        let mut row = job_lease::Model {
            id: 0,
            name: name.to_owned(),
            owner: String::new(),
            lease_until: 0,
            generation: 0,
        }
        .into_active_model()
        .reset_all();
        row.not_set(job_lease::Column::Id);
        // Another node creating it at the same moment makes this insert fail; the row exists either way.
        let _ = row.insert(&self.db.conn).await;
        self.update_lease(name, owner, now, until).await
    }

    async fn update_lease(
        &self,
        name: &str,
        owner: &str,
        now: Millis,
        until: Millis,
    ) -> Result<bool, StorageError> {
        let updated = job_lease::Entity::update_many()
            .col_expr(job_lease::Column::Owner, Expr::value(owner))
            .col_expr(job_lease::Column::LeaseUntil, Expr::value(until))
            .col_expr(
                job_lease::Column::Generation,
                Expr::col(job_lease::Column::Generation).add(1),
            )
            .filter(job_lease::Column::Name.eq(name))
            .filter(
                Condition::any()
                    .add(job_lease::Column::LeaseUntil.lt(now))
                    .add(job_lease::Column::Owner.eq(owner)),
            )
            .exec(&self.db.conn)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Gives up `owner`'s lease on job `name` (at shutdown), so another node may take it at once.
    pub async fn release_lease(&self, name: &str, owner: &str) -> Result<(), StorageError> {
        job_lease::Entity::update_many()
            .col_expr(job_lease::Column::LeaseUntil, Expr::value(0i64))
            .filter(job_lease::Column::Name.eq(name))
            .filter(job_lease::Column::Owner.eq(owner))
            .exec(&self.db.conn)
            .await?;
        Ok(())
    }

    /// Who holds the lease on job `name` at `now`, if anyone.
    pub async fn lease_holder(
        &self,
        name: &str,
        now: Millis,
    ) -> Result<Option<String>, StorageError> {
        Ok(job_lease::Entity::find()
            .filter(job_lease::Column::Name.eq(name))
            .filter(job_lease::Column::LeaseUntil.gte(now))
            .one(&self.db.conn)
            .await?
            .map(|row| row.owner))
    }
}
