//! The flag service: the one entry point for reading and changing flags, and the transaction shape every
//! change follows (lock the flag, change rows, write snapshots, bump revisions, commit, publish).
//!
//! Invariant: a change is applied to this node's [`EvalCache`] before the call that made it returns.

use crate::assemble::{self, Names};
use crate::audit::{self, Change};
use crate::sync::SyncState;
use crate::{Flag, FlagsError, Resource, Result};
use flagent_evaluation::{EnvUpdate, EvalCache};
use flagent_storage::entities::{environment, flag, flag_snapshot, project};
use flagent_storage::{Connection, Db, FlagSelection, Scoped, TenantDb, TenantTx};
use flagent_types::{
    AuditAction, EnvironmentId, Limit, ProjectId, SystemScope, TenantId, TenantScope,
};
use std::collections::HashMap;
use std::sync::Arc;

/// Flag management and the evaluation cache it keeps current.
#[derive(Clone)]
pub struct Flags {
    pub(crate) db: Db,
    cache: Arc<EvalCache>,
    pub(crate) sync: Arc<SyncState>,
}

/// Which environments a change touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Touch {
    /// Only the caller's environment (segments, enabled…).
    Current,
    /// Every environment of the project (key, variants, tags…).
    AllEnvironments,
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The environment's configuration revision as the database holds it now.
async fn environment_revision(tdb: &TenantDb, environment: i64) -> Result<u64> {
    let env = tdb
        .get::<environment::Model>(environment)
        .await?
        .ok_or(FlagsError::NotFound(Resource::Environment))?;
    Ok(env.revision.max(0) as u64)
}

impl Flags {
    /// A service over `db` publishing into `cache`.
    pub fn new(db: Db, cache: Arc<EvalCache>) -> Self {
        Self {
            db,
            cache,
            sync: Arc::default(),
        }
    }

    /// Whether the database answers (health checks).
    pub async fn database_ok(&self) -> bool {
        self.db.execute_health_probe().await.is_ok()
    }

    /// The database engine's name: `sqlite`, `postgres` or `mysql`.
    pub fn database_backend(&self) -> &'static str {
        match self.db.backend() {
            flagent_storage::Backend::Sqlite => "sqlite",
            flagent_storage::Backend::Postgres => "postgres",
            flagent_storage::Backend::MySql => "mysql",
        }
    }

    /// The evaluation cache this service publishes to.
    pub fn cache(&self) -> &Arc<EvalCache> {
        &self.cache
    }

    /// Loads every environment of every tenant into the cache (at start, before serving).
    #[tracing::instrument(skip_all)]
    pub async fn warm(&self, system: &SystemScope) -> Result<usize> {
        let envs = self.db.system(system).all_environments().await?;
        for env in &envs {
            let tdb = self.db.scoped_for_system(system, TenantId(env.tenant_id));
            self.reload_environment(&tdb, env).await?;
        }
        Ok(envs.len())
    }

    /// Loads one environment of `tenant` from the database if the cache holds an older revision than
    /// `revision` (a change announced by another node). Returns whether it loaded.
    pub async fn refresh(
        &self,
        system: &SystemScope,
        tenant: TenantId,
        environment: EnvironmentId,
        revision: u64,
    ) -> Result<bool> {
        let held = self
            .cache
            .snapshot(tenant, environment)
            .map(|s| s.revision());
        if held.is_some_and(|held| held >= revision) {
            return Ok(false);
        }
        let tdb = self.db.scoped_for_system(system, tenant);
        let Some(env) = tdb.get::<environment::Model>(environment.0).await? else {
            return Ok(false);
        };
        self.reload_environment(&tdb, &env).await?;
        Ok(true)
    }

    /// Rebuilds one environment's snapshot from the database.
    ///
    /// The rows are read between two reads of the environment's revision, and kept only if both give
    /// the same revision: every change commits its rows and its revision bump together, so equal readings
    /// mean the rows are exactly that revision's. (A snapshot labelled with an older revision than its
    /// rows would make the next reload look like no change, and streams would never hear of it.) The
    /// snapshot replaces the cached one only if no newer change was applied meanwhile. Either failure
    /// retries the load. (Holding the cache writer across the reads instead would deadlock with a
    /// transaction waiting to publish.)
    pub(crate) async fn reload_environment(
        &self,
        tdb: &TenantDb,
        env: &environment::Model,
    ) -> Result<()> {
        let key = (TenantId(env.tenant_id), EnvironmentId(env.id));
        for _ in 0..5 {
            let revision = environment_revision(tdb, env.id).await?;
            let rows = tdb
                .load_flag_rows(env.project_id, env.id, &FlagSelection::Live)
                .await?;
            if environment_revision(tdb, env.id).await? != revision {
                continue;
            }
            let snapshot = compile(revision, assemble::configs(&rows)).await?;
            let writer = self.cache.writer(key.0, key.1).await;
            if writer.revision().is_none_or(|c| c <= revision) {
                writer.replace(snapshot);
                return Ok(());
            }
        }
        Err(FlagsError::Unexpected(anyhow::anyhow!(
            "environment {} kept changing while it was being loaded",
            env.id
        )))
    }

    /// Loads every environment of the caller tenant's project `project` that the cache does not hold yet
    /// (after environments or projects are created), so evaluating there reflects its flags at once.
    pub async fn load_new_environments(
        &self,
        scope: &TenantScope,
        project: ProjectId,
    ) -> Result<usize> {
        let project = project.0;
        let tdb = self.db.scoped(scope);
        let mut loaded = 0;
        for env in tdb.environments_of_project(project).await? {
            if self
                .cache
                .snapshot(scope.tenant_id(), EnvironmentId(env.id))
                .is_none()
            {
                self.reload_environment(&tdb, &env).await?;
                loaded += 1;
            }
        }
        Ok(loaded)
    }

    /// Reloads the caller's environment (used after bulk changes such as imports).
    pub async fn reload(&self, scope: &TenantScope) -> Result<()> {
        let tdb = self.db.scoped(scope);
        let env = tdb
            .get::<environment::Model>(scope.environment_id().0)
            .await?
            .ok_or(FlagsError::NotFound(Resource::Environment))?;
        self.reload_environment(&tdb, &env).await
    }

    /// The keys of the caller's environment and project.
    pub(crate) async fn names(
        &self,
        db: &Scoped<impl Connection>,
        scope: &TenantScope,
    ) -> Result<(environment::Model, project::Model)> {
        let env = db
            .get::<environment::Model>(scope.environment_id().0)
            .await?
            .ok_or(FlagsError::NotFound(Resource::Environment))?;
        let project = db
            .get::<project::Model>(scope.project_id().0)
            .await?
            .ok_or(FlagsError::NotFound(Resource::Environment))?;
        Ok((env, project))
    }
}

impl Flags {
    /// Runs `body` as one change to a live flag: locks the flag at `expected` (or its current version),
    /// runs the body, then writes snapshots, bumps revisions, commits and publishes.
    /// Returns the body's value and the flag as seen in the caller's environment after the change.
    pub(crate) async fn change<T>(
        &self,
        scope: &TenantScope,
        flag_id: i64,
        expected: Option<i64>,
        touch: Touch,
        action: AuditAction,
        body: impl AsyncFnOnce(&TenantTx, &flag::Model) -> Result<T>,
    ) -> Result<(T, Flag)> {
        let tx = self.db.scoped(scope).begin().await?;
        let row = lock_flag(&tx, scope, flag_id, expected, false).await?;
        let before = self.view_of(&tx, scope, row.id).await?;
        let value = body(&tx, &row).await?;
        let view = self
            .finish(tx, scope, row.id, touch, Change { action, before })
            .await?;
        Ok((value, view))
    }

    /// Writes a snapshot and a new revision for each touched environment and the audit event, commits,
    /// and applies the flag's new configuration to the cache. Returns the flag in the caller's environment.
    pub(crate) async fn finish(
        &self,
        tx: TenantTx,
        scope: &TenantScope,
        flag_id: i64,
        touch: Touch,
        change: Change,
    ) -> Result<Flag> {
        let (env, project) = self.names(&tx, scope).await?;
        let envs = match touch {
            Touch::Current => vec![env.clone()],
            Touch::AllEnvironments => tx.environments_of_project(project.id).await?,
        };
        let recorded = record(&tx, scope, &project, &envs, &[flag_id]).await?;
        let after = recorded
            .views
            .iter()
            .find(|(e, _)| *e == env.id)
            .map(|(_, view)| view.clone())
            .ok_or(FlagsError::NotFound(Resource::Flag))?;
        let event = audit::event(
            scope,
            change.action,
            flag_id,
            &env.key,
            change.before.as_ref(),
            Some(&after),
        );
        tx.append_audit(event).await?;
        self.commit_and_publish(tx, scope, recorded.updates).await?;
        Ok(after)
    }

    /// Commits `tx` and applies recorded changes to the cache in commit order: the writers of the
    /// touched environments (only those) are held across the commit.
    pub(crate) async fn commit_and_publish(
        &self,
        tx: TenantTx,
        scope: &TenantScope,
        updates: Vec<EnvUpdate>,
    ) -> Result<()> {
        let touched = updates.iter().map(|u| u.environment);
        let writer = self.cache.writers(scope.tenant_id(), touched).await;
        tx.commit().await?;
        let missing = writer.apply(updates);
        drop(writer);
        for environment in missing {
            self.load_environment(scope, environment).await?;
        }
        Ok(())
    }

    /// Loads one environment of the caller's tenant into the cache from the database.
    async fn load_environment(
        &self,
        scope: &TenantScope,
        environment: EnvironmentId,
    ) -> Result<()> {
        let tdb = self.db.scoped(scope);
        let env = tdb
            .get::<environment::Model>(environment.0)
            .await?
            .ok_or(FlagsError::NotFound(Resource::Environment))?;
        self.reload_environment(&tdb, &env).await
    }
}

/// Environments with more flags than this are compiled on the blocking pool: compiling every flag
/// (regular expressions, semver bounds, distributions) of a large environment would hold an async
/// worker, and the evaluations queued on it, for milliseconds.
const COMPILE_INLINE_MAX_FLAGS: usize = 64;

/// A snapshot of `configs` at `revision`, compiled off the async workers when there are many.
pub(crate) async fn compile(
    revision: u64,
    configs: Vec<flagent_eval::FlagConfig>,
) -> Result<flagent_eval::Snapshot> {
    if configs.len() <= COMPILE_INLINE_MAX_FLAGS {
        return Ok(flagent_eval::Snapshot::build(revision, configs));
    }
    tokio::task::spawn_blocking(move || flagent_eval::Snapshot::build(revision, configs))
        .await
        .map_err(|e| FlagsError::Unexpected(anyhow::anyhow!("compiling a snapshot failed: {e}")))
}

/// What [`record`] wrote: cache updates per environment and the flag views per environment.
pub(crate) struct Recorded {
    pub(crate) updates: Vec<EnvUpdate>,
    pub(crate) views: Vec<(i64, Flag)>,
}

/// For each environment, writes a snapshot of each flag as it now stands in the transaction and bumps
/// the environment's revision once; returns the cache updates to apply after commit.
pub(crate) async fn record(
    tx: &TenantTx,
    scope: &TenantScope,
    project: &project::Model,
    envs: &[environment::Model],
    flag_ids: &[i64],
) -> Result<Recorded> {
    let actor = scope.principal().actor();
    let now = now_millis();
    let mut recorded = Recorded {
        updates: Vec::with_capacity(envs.len()),
        views: Vec::new(),
    };
    for e in envs {
        let names = Names {
            environment: &e.key,
            project: &project.key,
        };
        let rows = tx
            .load_flag_rows(project.id, e.id, &FlagSelection::Ids(flag_ids.to_vec()))
            .await?;
        let mut update = EnvUpdate {
            environment: EnvironmentId(e.id),
            revision: 0,
            upserts: Vec::new(),
            removed: Vec::new(),
        };
        for view in assemble::flags(&rows, &names) {
            let snapshot = tx
                .insert_row(flag_snapshot::New {
                    flag_id: view.id,
                    environment_id: e.id,
                    flag: serde_json::to_value(&view)
                        .map_err(|e| FlagsError::Unexpected(e.into()))?,
                    updated_by: actor.clone(),
                    created_at: now,
                })
                .await?;
            if view.archived {
                update.removed.push(view.id);
            } else {
                let ids = HashMap::from([(view.id, snapshot.id)]);
                update.upserts.push(assemble::config(view.clone(), &ids));
            }
            recorded.views.push((e.id, view));
        }
        update.revision = tx.bump_revision(e.id).await?.max(0) as u64;
        recorded.updates.push(update);
    }
    Ok(recorded)
}

/// Refuses adding `adding` live flags to the caller's tenant beyond its plan's `flags` limit (all
/// projects count). Run inside the change's transaction, after `begin` locked the tenant row, so two
/// concurrent creations cannot both take the last place; adding none is always allowed.
pub(crate) async fn check_flag_limit(tx: &TenantTx, adding: u64) -> Result<()> {
    if adding == 0 {
        return Ok(());
    }
    let plan = tx.tenant_plan().await?;
    if plan.limits.allowed(Limit::Flags).is_some() {
        plan.check(Limit::Flags, tx.count_live_flags().await?, adding)?;
    }
    Ok(())
}

/// Locks a flag of the caller's project for a change: raises its version if it is at `expected`.
pub(crate) async fn lock_flag(
    tx: &TenantTx,
    scope: &TenantScope,
    flag_id: i64,
    expected: Option<i64>,
    deleted: bool,
) -> Result<flag::Model> {
    let row = tx
        .get::<flag::Model>(flag_id)
        .await?
        .filter(|f| f.project_id == scope.project_id().0 && f.deleted_at.is_some() == deleted)
        .ok_or(FlagsError::NotFound(Resource::Flag))?;
    let expected = expected.unwrap_or(row.version);
    let conflict = FlagsError::VersionConflict {
        expected,
        current: row.version,
    };
    if expected != row.version {
        return Err(conflict);
    }
    let actor = scope.principal().actor();
    let now = now_millis();
    if !tx
        .bump_flag_version(row.id, row.version, &actor, now)
        .await?
    {
        let current = tx
            .get::<flag::Model>(flag_id)
            .await?
            .map_or(0, |f| f.version);
        return Err(FlagsError::VersionConflict { expected, current });
    }
    Ok(flag::Model {
        version: row.version + 1,
        updated_by: actor,
        updated_at: now,
        ..row
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configs(count: i64) -> Vec<flagent_eval::FlagConfig> {
        (1..=count)
            .map(|id| {
                serde_json::from_value(serde_json::json!({
                    "id": id,
                    "key": format!("flag-{id}"),
                    "salt": format!("flag-{id}"),
                    "enabled": true,
                    "variants": [{"id": 1, "key": "on"}],
                    "segments": [{
                        "id": 1,
                        "rank": 1,
                        "rolloutPercent": 100,
                        "constraints": [{"id": 1, "property": "email", "operator": "EREG", "value": format!("^user-{id}-[a-z]+@example\\.com$")}],
                        "distributions": [{"variantId": 1, "variantKey": "on", "percent": 100}]
                    }]
                }))
                .expect("a flag config")
            })
            .collect()
    }

    /// On a single-threaded runtime, compiling inline would hold the only thread until it is done; a
    /// large environment is compiled on the blocking pool, so other tasks run meanwhile.
    #[tokio::test(flavor = "current_thread")]
    async fn a_large_environment_compiles_off_the_async_worker() {
        let compiling = tokio::spawn(compile(7, configs(3_000)));
        let mut turns = 0u64;
        while !compiling.is_finished() {
            turns += 1;
            tokio::task::yield_now().await;
        }
        assert!(
            turns > 100,
            "the worker ran only {turns} turns while compiling"
        );
        let snapshot = compiling.await.unwrap().unwrap();
        assert_eq!((snapshot.revision(), snapshot.len()), (7, 3_000));
        assert!(snapshot.flag_by_key("flag-2999").is_some());
    }
}
