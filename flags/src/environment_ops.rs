//! Use cases across a project's environments: copying a flag's configuration from one environment to
//! another, and comparing a flag across environments.
//!
//! Only per-environment state moves (enabled, segments, constraints, distributions); variants, tags and
//! the salt are shared by every environment already.

use crate::transfer::{Document, SegmentDoc, flag_doc};
use crate::{Flag, Flags, FlagsError, Resource, Result};
use flagent_types::{AuditAction, EnvironmentId, FlagId, TenantScope, perm};
use serde::Serialize;
use utoipa::ToSchema;

/// A flag's per-environment state in several environments.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlagComparison {
    /// The flag's id.
    pub flag_id: i64,
    /// The flag's key.
    pub key: String,
    /// The state in each compared environment, in the project's order.
    pub environments: Vec<EnvironmentState>,
    /// Whether every environment has the same state.
    pub identical: bool,
    /// What differs from the first environment: `"<env>.enabled"`, `"<env>.segments"`.
    pub differences: Vec<String>,
}

/// A flag's state in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentState {
    /// The environment's key.
    pub environment: String,
    /// Whether the flag is on there.
    pub enabled: bool,
    /// Its segments there, with constraints and distributions by variant key.
    pub segments: Vec<SegmentDoc>,
}

impl Flags {
    /// The ids of the caller project's environments with these keys (all of them when `keys` is empty),
    /// in the project's order.
    async fn environment_ids(
        &self,
        scope: &TenantScope,
        keys: &[String],
    ) -> Result<Vec<(String, EnvironmentId)>> {
        let envs = self
            .db
            .scoped(scope)
            .environments_of_project(scope.project_id().0)
            .await?;
        if keys.iter().any(|k| !envs.iter().any(|e| &e.key == k)) {
            return Err(FlagsError::NotFound(Resource::Environment));
        }
        Ok(envs
            .into_iter()
            .filter(|e| keys.is_empty() || keys.contains(&e.key))
            .map(|e| (e.key, EnvironmentId(e.id)))
            .collect())
    }

    /// Makes the flag's state in environment `to` a copy of its state in `from`, in one transaction
    /// (recorded as `flag.copy` in `to`). Returns the flag as it now stands in `to`.
    ///
    /// `scope` must hold `flags:write` in `to` itself: a member's scope authorised in `to`, or a key
    /// that may write there.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), flag_id))]
    pub async fn copy_between_environments(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        from: &str,
        to: &str,
    ) -> Result<Flag> {
        let flag_id = flag_id.0;
        if from == to {
            return Err(FlagsError::invalid(
                "to",
                "copying needs two different environments",
            ));
        }
        let ids = self
            .environment_ids(scope, &[from.to_owned(), to.to_owned()])
            .await?;
        let id_of = |key: &str| ids.iter().find(|(k, _)| k == key).map(|(_, id)| *id);
        let (Some(source_env), Some(target_env)) = (id_of(from), id_of(to)) else {
            return Err(FlagsError::NotFound(Resource::Environment));
        };
        // Reading needs no environment; writing is checked in the environment written to.
        scope.require::<perm::Read>()?;
        let target = scope.in_environment(target_env);
        target.require::<perm::Write>()?;
        let source = self
            .view(&scope.in_environment(source_env), flag_id)
            .await?;
        let document = Document {
            flags: vec![flag_doc(&source)],
        };
        self.apply_document(&target, document, false, AuditAction::FlagCopy)
            .await?;
        self.view(&target, flag_id).await
    }

    /// The flag's state in the given environments (all of the project's when `keys` is empty).
    pub async fn compare_environments(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        keys: &[String],
    ) -> Result<FlagComparison> {
        let flag_id = flag_id.0;
        scope.require::<perm::Read>()?;
        let mut environments = Vec::new();
        let mut key = String::new();
        for (env, id) in self.environment_ids(scope, keys).await? {
            let view = self
                .flag(&scope.in_environment(id), FlagId(flag_id))
                .await?;
            key.clone_from(&view.key);
            environments.push(EnvironmentState {
                environment: env,
                enabled: view.enabled,
                segments: flag_doc(&view).segments,
            });
        }
        let mut differences = Vec::new();
        if let Some((first, rest)) = environments.split_first() {
            for other in rest {
                if other.enabled != first.enabled {
                    differences.push(format!("{}.enabled", other.environment));
                }
                if other.segments != first.segments {
                    differences.push(format!("{}.segments", other.environment));
                }
            }
        }
        Ok(FlagComparison {
            flag_id,
            key,
            identical: differences.is_empty(),
            environments,
            differences,
        })
    }
}
