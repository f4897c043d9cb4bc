//! Typed insert, update and fetch by id for every tenant-owned row type, through [`Scoped`].
//!
//! The domain crates hand plain model structs in and get them back; no sea-orm type crosses the boundary.

use crate::{Scoped, StorageError, entities::*};
use sea_orm::ConnectionTrait;
use std::future::Future;

mod sealed {
    pub trait Sealed {}
}

/// A row to insert into a tenant-owned table (`<table>::New`): it has no `id` or `tenant_id`, so no
/// caller can fill them in.
pub trait Insert: sealed::Sealed {
    /// The row it becomes.
    type Row: Row;
    /// The row, with `id` and `tenant_id` left for the database and the scope.
    fn into_row(self) -> Self::Row;
}

/// A row of a tenant-owned table.
pub trait Row: Sized + sealed::Sealed {
    /// Inserts the row into the scope's tenant (its `id` and `tenant_id` are ignored).
    fn insert_into<C: ConnectionTrait>(
        self,
        db: &Scoped<C>,
    ) -> impl Future<Output = Result<Self, StorageError>>;
    /// Overwrites the row with the same `id` in the scope's tenant.
    fn update_in<C: ConnectionTrait>(
        self,
        db: &Scoped<C>,
    ) -> impl Future<Output = Result<(), StorageError>>;
    /// Fetches the row with `id` in the scope's tenant.
    fn fetch<C: ConnectionTrait>(
        db: &Scoped<C>,
        id: i64,
    ) -> impl Future<Output = Result<Option<Self>, StorageError>>;
}

macro_rules! rows {
    ($($module:ident),* $(,)?) => {$(
        impl sealed::Sealed for $module::Model {}
        impl sealed::Sealed for $module::New {}
        impl Insert for $module::New {
            type Row = $module::Model;
            fn into_row(self) -> $module::Model {
                self.into_model()
            }
        }
        impl Row for $module::Model {
            async fn insert_into<C: ConnectionTrait>(self, db: &Scoped<C>) -> Result<Self, StorageError> {
                db.insert::<$module::Entity>(self).await
            }
            async fn update_in<C: ConnectionTrait>(self, db: &Scoped<C>) -> Result<(), StorageError> {
                db.update::<$module::Entity>(self).await
            }
            async fn fetch<C: ConnectionTrait>(db: &Scoped<C>, id: i64) -> Result<Option<Self>, StorageError> {
                db.by_id::<$module::Entity>(id).await
            }
        }
    )*};
}

rows!(
    project,
    environment,
    flag,
    flag_state,
    variant,
    segment,
    constraint,
    distribution,
    tag,
    flag_tag,
    entity_type,
    flag_snapshot,
    api_key,
    membership,
    role,
    invitation,
    sso_provider,
    sso_identity,
    sso_login,
    sso_domain,
    sso_assertion,
    scim_user,
    scim_group,
    scim_group_member,
    crash_group,
    metric,
    experiment,
    experiment_metric,
);

impl<C: ConnectionTrait> Scoped<C> {
    /// Inserts `new` into this tenant and returns the row as stored (with its new id).
    pub async fn insert_row<I: Insert>(&self, new: I) -> Result<I::Row, StorageError> {
        new.into_row().insert_into(self).await
    }

    /// Overwrites the row with `row.id` in this tenant; a row of another tenant is never touched.
    pub async fn update_row<R: Row>(&self, row: R) -> Result<(), StorageError> {
        row.update_in(self).await
    }

    /// The row of type `R` with `id` in this tenant.
    pub async fn get<R: Row>(&self, id: i64) -> Result<Option<R>, StorageError> {
        R::fetch(self, id).await
    }
}
