//! A project's event settings (`GET`/`PUT /api/v1/events/settings`): whether events whose key no metric
//! reads yet are accepted or refused item by item with `unknown_event`. Accepted events count for the
//! metrics that read them when they arrive; a metric defined later reads the events that arrive after
//! it.
//!
//! Invariant: a change is audited in its own transaction and this node's ingestion sees it at once
//! (other nodes within the catalog's freshness).

use crate::{Analytics, AnalyticsError};
use flagent_storage::NewAuditEvent;
use flagent_storage::entities::project;
use flagent_types::{AuditAction, TenantScope, perm};
use serde::{Deserialize, Serialize};

/// A project's event settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventSettings {
    /// Whether events whose key no metric of the project reads are accepted (and kept for the
    /// retention period).
    pub accept_new_events: bool,
}

impl Analytics {
    /// The event settings of the caller's project.
    pub async fn event_settings(
        &self,
        scope: &TenantScope,
    ) -> Result<EventSettings, AnalyticsError> {
        scope.require::<perm::Read>()?;
        let row = self
            .db
            .scoped(scope)
            .get::<project::Model>(scope.project_id().0)
            .await?
            .ok_or_else(|| anyhow::anyhow!("project {} vanished", scope.project_id().0))?;
        Ok(EventSettings {
            accept_new_events: row.accept_new_events,
        })
    }

    /// Replaces the event settings of the caller's project.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn set_event_settings(
        &self,
        scope: &TenantScope,
        settings: EventSettings,
    ) -> Result<EventSettings, AnalyticsError> {
        scope.require::<perm::WriteFlags>()?;
        let tx = self.db.scoped(scope).begin().await?;
        let row = tx
            .get::<project::Model>(scope.project_id().0)
            .await?
            .ok_or_else(|| anyhow::anyhow!("project {} vanished", scope.project_id().0))?;
        let before = EventSettings {
            accept_new_events: row.accept_new_events,
        };
        if before != settings {
            let key = row.key.clone();
            tx.update_row(project::Model {
                accept_new_events: settings.accept_new_events,
                ..row
            })
            .await?;
            let json = |s: &EventSettings| {
                serde_json::to_string(s).map_err(|e| AnalyticsError::Unexpected(e.into()))
            };
            tx.append_audit(NewAuditEvent::by(
                scope,
                AuditAction::EventSettingsUpdate,
                ("project", &key),
                "",
                json(&before)?,
                json(&settings)?,
            ))
            .await?;
            tx.commit().await?;
            self.catalog.forget(scope.tenant_id(), scope.project_id());
        }
        Ok(settings)
    }
}
