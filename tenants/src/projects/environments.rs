//! Environment changes: adding, renaming, recolouring, reordering and archiving a project's environments.
//!
//! Invariant: each change appends its audit event in its own transaction and, once committed, tells
//! [`EnvironmentsChanged`](super::EnvironmentsChanged) so API keys see the new environment list.

use super::{
    DEFAULT_COLOR, Environment, EnvironmentChanges, NewEnvironment, Projects,
    RESERVED_ENVIRONMENT_KEY, check_color, check_key, check_name, environment_by_key,
    environment_view, event, insert_environment, invalid, json, now_millis, project_by_key,
};
use crate::TenantsError;
use crate::plans::{Limit, check_limit};
use flagent_storage::entities::environment;
use flagent_storage::{NewAuditEvent, TenantTx};
use flagent_types::{AuditAction, TenantScope, perm};
use std::collections::HashSet;
impl Projects {
    /// Adds an environment to the caller tenant's project `project`, after its other environments.
    #[tracing::instrument(
        skip_all,
        fields(tenant_id = %scope.tenant_id(), project = %project, environment = %new.key)
    )]
    pub async fn create_environment(
        &self,
        scope: &TenantScope,
        project: &str,
        new: NewEnvironment,
    ) -> Result<Environment, TenantsError> {
        scope.require::<perm::ManageProjects>()?;
        check_key("key", &new.key)?;
        if new.key == RESERVED_ENVIRONMENT_KEY {
            return Err(invalid("key", "key must not be \"reorder\""));
        }
        let name = check_name(&new.name)?;
        let color = check_color(new.color.as_deref().unwrap_or(DEFAULT_COLOR))?;
        let tx = self.db.scoped(scope).begin().await?;
        let project = project_by_key(&tx, project).await?;
        let plan = tx.tenant_plan().await?;
        let live = tx.count_live_environments(project.id);
        check_limit(&plan, Limit::Environments, 1, live).await?;
        let order = tx
            .last_environment_order(project.id)
            .await?
            .map_or(0, |o| o + 1);
        let row = insert_environment(&tx, project.id, (&new.key, &name, &color), order).await?;
        let view = environment_view(&row);
        let audit = event(
            scope,
            AuditAction::EnvironmentCreate,
            ("environment", row.id),
            &row.key,
            (json::<Environment>(None), json(Some(&view))),
        );
        self.commit(tx, scope, project.id, audit).await?;
        Ok(view)
    }

    /// Renames or recolours an environment of the caller tenant's project `project`.
    #[tracing::instrument(
        skip_all,
        fields(tenant_id = %scope.tenant_id(), project = %project, environment = %environment)
    )]
    pub async fn update_environment(
        &self,
        scope: &TenantScope,
        project: &str,
        environment: &str,
        changes: EnvironmentChanges,
    ) -> Result<Environment, TenantsError> {
        scope.require::<perm::ManageProjects>()?;
        let name = changes.name.as_deref().map(check_name).transpose()?;
        let color = changes.color.as_deref().map(check_color).transpose()?;
        let tx = self.db.scoped(scope).begin().await?;
        let project = project_by_key(&tx, project).await?;
        let row = environment_by_key(&tx, &project, environment).await?;
        let before = environment_view(&row);
        let row = environment::Model {
            name: name.unwrap_or(row.name.clone()),
            color: color.unwrap_or(row.color.clone()),
            ..row
        };
        tx.update_row(row.clone()).await?;
        let after = environment_view(&row);
        let audit = event(
            scope,
            AuditAction::EnvironmentUpdate,
            ("environment", row.id),
            &row.key,
            (json(Some(&before)), json(Some(&after))),
        );
        self.commit(tx, scope, project.id, audit).await?;
        Ok(after)
    }

    /// Sets the order of the caller tenant's project `project`'s environments: `keys` must name every
    /// live environment exactly once.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), project = %project))]
    pub async fn reorder_environments(
        &self,
        scope: &TenantScope,
        project: &str,
        keys: Vec<String>,
    ) -> Result<Vec<Environment>, TenantsError> {
        scope.require::<perm::ManageProjects>()?;
        let tx = self.db.scoped(scope).begin().await?;
        let project = project_by_key(&tx, project).await?;
        let envs = tx.environments_of_project(project.id).await?;
        let live: HashSet<&str> = envs.iter().map(|e| e.key.as_str()).collect();
        let listed: HashSet<&str> = keys.iter().map(String::as_str).collect();
        if keys.len() != envs.len() || listed != live {
            return Err(invalid(
                "keys",
                "keys must list every environment of the project exactly once",
            ));
        }
        let before: Vec<Environment> = envs.iter().map(environment_view).collect();
        let mut after = Vec::with_capacity(envs.len());
        for (order, key) in keys.iter().enumerate() {
            let row = envs
                .iter()
                .find(|e| &e.key == key)
                .cloned()
                .ok_or_else(|| TenantsError::EnvironmentNotFound(key.clone()))?;
            let row = environment::Model {
                sort_order: order as i64,
                ..row
            };
            tx.update_row(row.clone()).await?;
            after.push(environment_view(&row));
        }
        let audit = event(
            scope,
            AuditAction::EnvironmentReorder,
            ("project", project.id),
            "",
            (json(Some(&before)), json(Some(&after))),
        );
        self.commit(tx, scope, project.id, audit).await?;
        Ok(after)
    }

    /// Archives an environment of the caller tenant's project `project`. The last one cannot be archived,
    /// nor one that live API keys are bound to (they would keep acting in it).
    #[tracing::instrument(
        skip_all,
        fields(tenant_id = %scope.tenant_id(), project = %project, environment = %environment)
    )]
    pub async fn archive_environment(
        &self,
        scope: &TenantScope,
        project: &str,
        environment: &str,
    ) -> Result<(), TenantsError> {
        scope.require::<perm::ManageProjects>()?;
        let tx = self.db.scoped(scope).begin().await?;
        let project = project_by_key(&tx, project).await?;
        let row = environment_by_key(&tx, &project, environment).await?;
        if tx.environments_of_project(project.id).await?.len() <= 1 {
            return Err(TenantsError::LastEnvironment(row.key));
        }
        let now = now_millis();
        let bound = tx.api_keys().await?.into_iter().filter(|k| {
            k.environment_id == Some(row.id)
                && k.revoked_at.is_none()
                && k.expires_at.is_none_or(|e| e > now)
        });
        if bound.count() > 0 {
            return Err(TenantsError::EnvironmentInUse(row.key));
        }
        let before = environment_view(&row);
        tx.update_row(environment::Model {
            archived_at: Some(now),
            revised_at: now,
            ..row.clone()
        })
        .await?;
        let audit = event(
            scope,
            AuditAction::EnvironmentArchive,
            ("environment", row.id),
            &row.key,
            (json(Some(&before)), json::<Environment>(None)),
        );
        self.commit(tx, scope, project.id, audit).await
    }

    /// Appends `audit`, commits `tx` and tells the caches that the environments of `project` changed.
    async fn commit(
        &self,
        tx: TenantTx,
        scope: &TenantScope,
        project: i64,
        audit: NewAuditEvent,
    ) -> Result<(), TenantsError> {
        tx.append_audit(audit).await?;
        tx.commit().await?;
        self.changed.environments_changed(scope, project).await;
        Ok(())
    }
}
