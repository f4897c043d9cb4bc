//! The local copy (`evaluation.local_copy`): a file holding this node's evaluation cache (every
//! environment's flag configurations at their revision) and its API keys (hashes only), so that a node
//! started while the database is unreachable can still serve evaluation, OFREP, snapshots and streams.
//!
//! Invariants: the file is replaced atomically (written beside it, synced, renamed), never left half
//! written, and readable only by its owner; it is rewritten only when a revision or the set of keys
//! changed; a file that does not parse is ignored with a warning, never half loaded.

use anyhow::Context;
use flagent_auth::{Authenticator, KeyRecord};
use flagent_eval::{FlagConfig, Snapshot};
use flagent_flags::Flags;
use flagent_jobs::{Job, Outcome, RunFuture, Schedule};
use flagent_types::{EnvironmentId, TenantId};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// How often the copy is brought up to date.
pub(crate) const SAVE_INTERVAL: Duration = Duration::from_secs(5);

/// The file's content.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Copy {
    environments: Vec<EnvironmentCopy>,
    keys: Vec<KeyRecord>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct EnvironmentCopy {
    tenant: i64,
    environment: i64,
    revision: u64,
    flags: Vec<FlagConfig>,
}

impl Copy {
    /// What `flags`' cache and `auth`'s key cache hold now.
    pub(crate) fn of(flags: &Flags, auth: &Authenticator) -> Copy {
        let mut environments: Vec<EnvironmentCopy> = flags
            .cache()
            .snapshots()
            .into_iter()
            .map(|(tenant, environment, snapshot)| EnvironmentCopy {
                tenant: tenant.0,
                environment: environment.0,
                revision: snapshot.revision(),
                flags: snapshot.flags().map(|f| f.config().clone()).collect(),
            })
            .collect();
        environments.sort_by_key(|e| (e.tenant, e.environment));
        Copy {
            environments,
            keys: auth.export_keys(),
        }
    }

    /// Reads the copy at `path`; `None` when there is none or it does not parse.
    pub(crate) fn read(path: &Path) -> Option<Copy> {
        let text = std::fs::read(path).ok()?;
        match serde_json::from_slice(&text) {
            Ok(copy) => Some(copy),
            Err(error) => {
                tracing::warn!(%error, path = %path.display(), "ignored a local copy that does not parse");
                None
            }
        }
    }

    /// Fills the caches from the copy; returns how many environments and keys it held.
    pub(crate) async fn load_into(self, flags: &Flags, auth: &Authenticator) -> (usize, usize) {
        let environments = self.environments.len();
        for e in self.environments {
            let (tenant, environment) = (TenantId(e.tenant), EnvironmentId(e.environment));
            let writer = flags.cache().writer(tenant, environment).await;
            writer.replace(Snapshot::build(e.revision, e.flags));
        }
        (environments, auth.import_keys(self.keys))
    }

    /// A fingerprint of what the copy would hold, to skip rewriting an unchanged one.
    fn fingerprint(flags: &Flags, auth: &Authenticator) -> Fingerprint {
        let mut revisions: Vec<(i64, i64, u64)> = flags
            .cache()
            .revisions()
            .into_iter()
            .map(|((t, e), r)| (t.0, e.0, r))
            .collect();
        revisions.sort_unstable();
        (revisions, auth.export_keys())
    }

    /// Writes the copy to `path` atomically, readable by its owner only.
    pub(crate) fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut temporary = PathBuf::from(path);
        temporary.as_mut_os_string().push(".tmp");
        {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&temporary)?;
            file.write_all(&serde_json::to_vec(self)?)?;
            file.sync_all()?;
        }
        std::fs::rename(&temporary, path)
    }
}

/// What a copy's content was written from: its environments' revisions and its keys.
type Fingerprint = (Vec<(i64, i64, u64)>, Vec<KeyRecord>);

/// The `local-copy` job: keeps the copy at `path` current, checking every [`SAVE_INTERVAL`] and
/// rewriting it (off the runtime's threads) when something changed.
pub(crate) struct Keeper {
    path: PathBuf,
    flags: Flags,
    auth: Arc<Authenticator>,
    written: Mutex<Option<Fingerprint>>,
}

impl Keeper {
    pub(crate) fn new(path: PathBuf, flags: Flags, auth: Arc<Authenticator>) -> Keeper {
        Keeper {
            path,
            flags,
            auth,
            written: Mutex::new(None),
        }
    }

    async fn save(&self) -> anyhow::Result<Outcome> {
        let now = Copy::fingerprint(&self.flags, &self.auth);
        if self.written.lock().await.as_ref() == Some(&now) {
            return Ok(Outcome::Ran(0));
        }
        let copy = Copy::of(&self.flags, &self.auth);
        let environments = copy.environments.len();
        let target = self.path.clone();
        tokio::task::spawn_blocking(move || copy.write(&target))
            .await?
            .with_context(|| format!("write the local copy to {}", self.path.display()))?;
        *self.written.lock().await = Some(now);
        Ok(Outcome::Ran(environments))
    }
}

impl Job for Keeper {
    fn name(&self) -> &'static str {
        "local-copy"
    }

    fn schedule(&self) -> Schedule {
        Schedule::every(SAVE_INTERVAL).starting_now()
    }

    fn run(&self) -> RunFuture<'_> {
        Box::pin(self.save())
    }
}
