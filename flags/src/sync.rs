//! Revision polling: [`Flags::sync`] brings this node's evaluation cache to what the database holds,
//! reading only the environments whose change marker (`environments.revised_at`) moved since its last
//! pass, with a full pass at the first call and every [`FULL_PASS_EVERY`] passes.
//!
//! Invariants: passes run one at a time; a pass that fails does not advance the window, so the next
//! one covers what it missed; an environment created while a pass runs is never dropped by it.

use crate::service::now_millis;
use crate::{Flags, Result};
use flagent_evaluation::Revised;
use flagent_storage::EnvironmentMark;
use flagent_storage::entities::environment;
use flagent_types::{EnvironmentId, SystemScope, TenantId};
use std::collections::HashSet;

/// How far before the last pass's start an incremental pass looks, in milliseconds.
///
/// A marker is written with the writing node's clock when its statement runs, and becomes visible only
/// when its transaction commits; a node whose clock runs behind, or a transaction that commits late,
/// leaves a marker older than the reading node's last pass. Thirty seconds covers clock skew between
/// synchronised nodes and any transaction that is not stuck; what falls outside is caught by the next
/// full pass.
pub(crate) const CLOCK_MARGIN_MS: i64 = 30_000;

/// Every how many passes one is a full pass (once a minute at the default one-second poll interval):
/// it catches what no marker shows, such as a deleted tenant whose environments vanished with it.
pub const FULL_PASS_EVERY: u64 = 60;

/// Where revision polling stands, shared by the clones of one [`Flags`].
#[derive(Debug, Default)]
pub(crate) struct SyncState {
    progress: tokio::sync::Mutex<Progress>,
}

/// The last successful pass: when it started and how many passes have succeeded.
#[derive(Debug, Default)]
struct Progress {
    last_start: Option<i64>,
    passes: u64,
}

impl Flags {
    /// Brings the cache to the database's revisions (what other nodes changed): loads every environment
    /// that is newer in the database or not loaded yet, and drops the loaded ones that are gone (archived,
    /// or their tenant deleted). Returns the environments loaded, with their new revisions.
    ///
    /// The first pass and every [`FULL_PASS_EVERY`]th read every live environment; the others read only
    /// the marks of environments revised since the last pass started (less [`CLOCK_MARGIN_MS`]) and drop
    /// only the archived ones among them.
    #[tracing::instrument(skip_all)]
    pub async fn sync(&self, system: &SystemScope) -> Result<Vec<Revised>> {
        let mut progress = self.sync.progress.lock().await;
        let start = now_millis();
        let loaded = match progress.last_start {
            Some(last) if !progress.passes.is_multiple_of(FULL_PASS_EVERY) => {
                self.incremental_pass(system, last - CLOCK_MARGIN_MS)
                    .await?
            }
            _ => self.full_pass(system).await?,
        };
        progress.last_start = Some(start);
        progress.passes += 1;
        Ok(loaded)
    }

    /// Reads every live environment, reloads the newer or new ones and drops the cached ones not listed.
    ///
    /// Environments are listed after the cache is read, so one created meanwhile is never dropped.
    async fn full_pass(&self, system: &SystemScope) -> Result<Vec<Revised>> {
        let cached = self.cache().revisions();
        let envs = self.db.system(system).all_environments().await?;
        let mut loaded = Vec::new();
        let mut live = HashSet::with_capacity(envs.len());
        for env in &envs {
            let key = (TenantId(env.tenant_id), EnvironmentId(env.id));
            live.insert(key);
            let revision = env.revision.max(0) as u64;
            if cached.get(&key).is_none_or(|held| *held < revision) {
                let tdb = self.db.scoped_for_system(system, key.0);
                self.reload_environment(&tdb, env).await?;
                loaded.push(Revised {
                    tenant: key.0,
                    environment: key.1,
                    revision,
                });
            }
        }
        let gone: Vec<_> = cached.keys().filter(|key| !live.contains(*key)).collect();
        self.drop_environments(gone).await;
        tracing::debug!(read = envs.len(), loaded = loaded.len(), "full pass");
        Ok(loaded)
    }

    /// Reads the marks of the environments revised at or after `since`, reloads those newer than the
    /// cache or not in it, and drops the archived ones.
    async fn incremental_pass(&self, system: &SystemScope, since: i64) -> Result<Vec<Revised>> {
        let cached = self.cache().revisions();
        let marks = self
            .db
            .system(system)
            .environments_revised_since(since)
            .await?;
        let mut loaded = Vec::new();
        let mut archived = Vec::new();
        for mark in &marks {
            let key = (TenantId(mark.tenant_id), EnvironmentId(mark.id));
            let held = cached.get(&key);
            if mark.archived {
                if held.is_some() {
                    archived.push(key);
                }
            } else if held.is_none_or(|held| *held < mark.revision.max(0) as u64) {
                loaded.extend(self.load_marked(system, mark).await?);
            }
        }
        self.drop_environments(archived.iter()).await;
        tracing::debug!(
            read = marks.len(),
            loaded = loaded.len(),
            "incremental pass"
        );
        Ok(loaded)
    }

    /// Loads the environment `mark` names into the cache, unless it vanished or was archived since.
    async fn load_marked(
        &self,
        system: &SystemScope,
        mark: &EnvironmentMark,
    ) -> Result<Option<Revised>> {
        let tenant = TenantId(mark.tenant_id);
        let tdb = self.db.scoped_for_system(system, tenant);
        let Some(env) = tdb.get::<environment::Model>(mark.id).await? else {
            return Ok(None);
        };
        if env.archived_at.is_some() {
            return Ok(None);
        }
        self.reload_environment(&tdb, &env).await?;
        Ok(Some(Revised {
            tenant,
            environment: EnvironmentId(env.id),
            revision: env.revision.max(0) as u64,
        }))
    }

    /// Removes `gone` from the cache.
    async fn drop_environments<'a>(
        &self,
        gone: impl IntoIterator<Item = &'a (TenantId, EnvironmentId)>,
    ) {
        for (tenant, environment) in gone {
            self.cache().writer(*tenant, *environment).await.remove();
        }
    }
}
