//! The `job_leases` table: which node holds a background job that runs on one node at a time, and until when.

use sea_orm::entity::prelude::*;

/// One row of `job_leases`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "job_leases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The job's name.
    pub name: String,
    /// The node holding the lease ("" before anyone took it).
    pub owner: String,
    /// Until when the holder may run the job (milliseconds); after that any node may take it.
    pub lease_until: i64,
    /// How many times the lease was taken or renewed.
    pub generation: i64,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
