//! The global `plans` table: the plan of the scope's own tenant, as a [`Plan`].
//!
//! Invariant: this module reads only `plans` (global, no tenant rows) and the scope's own tenant row, so
//! it cannot reach another tenant's data; it holds the `find*` calls that reading a global table needs.
#![allow(clippy::disallowed_methods)] // `plans` is a global table; it is filtered by the scope's plan key.

use crate::{Scoped, StorageError, entities::plan};
use flagent_types::{Plan, PlanLimits};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// A stored count as a limit: negative numbers (never written) read as 0.
fn limit(value: Option<i64>) -> Option<u64> {
    value.map(|v| u64::try_from(v).unwrap_or(0))
}

fn plan_of(row: plan::Model) -> Plan {
    Plan {
        key: row.key,
        name: row.name,
        limits: PlanLimits {
            seats: limit(row.seats),
            projects: limit(row.projects),
            environments: limit(row.environments),
            flags: limit(row.flags),
            monthly_evaluations: limit(row.monthly_evaluations),
            audit_retention_days: limit(row.audit_retention_days),
            event_retention_days: limit(row.event_retention_days),
            sso: row.sso,
        },
    }
}

impl<C: ConnectionTrait> Scoped<C> {
    /// The plan this tenant is on (`tenants.plan`). A plan key with no row in `plans` is an error, never
    /// "unlimited".
    pub async fn tenant_plan(&self) -> Result<Plan, StorageError> {
        let tenant = self.tenant_row().await?;
        let row = plan::Entity::find()
            .filter(plan::Column::Key.eq(tenant.plan.as_str()))
            .one(&self.conn)
            .await?
            .ok_or_else(|| {
                StorageError::Unexpected(anyhow::anyhow!(
                    "tenant {} is on plan {:?}, which does not exist",
                    self.tenant_id(),
                    tenant.plan
                ))
            })?;
        Ok(plan_of(row))
    }
}
