//! Which event keys a project accepts: those its metrics read (and the built-in `$error`), plus any
//! other when the project accepts new event keys. Cached per project for a few seconds, and dropped at
//! once on this node when a metric or the setting changes.

use crate::metrics::BUILT_IN_ERROR_EVENT;
use flagent_storage::entities::project;
use flagent_storage::{Db, StorageError};
use flagent_types::{ProjectId, TenantId, TenantScope};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a project's accepted keys are used before they are read again.
const FRESH_FOR: Duration = Duration::from_secs(10);

/// What one project accepts.
pub(crate) struct Accepts {
    new_keys: bool,
    keys: HashSet<String>,
}

impl Accepts {
    /// Whether an event with `key` is accepted, or the refusal's code and words.
    pub(crate) fn check(&self, key: &str) -> Result<(), (&'static str, String)> {
        if key.starts_with('$') && key != BUILT_IN_ERROR_EVENT {
            return Err((
                "reserved_key",
                format!(
                    "event keys starting with $ are reserved (only {BUILT_IN_ERROR_EVENT} may be sent)"
                ),
            ));
        }
        if self.new_keys || self.keys.contains(key) || key == BUILT_IN_ERROR_EVENT {
            return Ok(());
        }
        Err((
            "unknown_event",
            format!("no metric reads the event {key:?} and this project accepts no new event keys"),
        ))
    }
}

/// Each project's accepted keys, with when they were read.
type Projects = HashMap<(TenantId, ProjectId), (Instant, Arc<Accepts>)>;

/// The accepted keys of the projects this node has taken events for.
#[derive(Default)]
pub(crate) struct Catalog {
    projects: Mutex<Projects>,
}

impl Catalog {
    /// What the scope's project accepts.
    pub(crate) async fn of(
        &self,
        db: &Db,
        scope: &TenantScope,
    ) -> Result<Arc<Accepts>, StorageError> {
        let key = (scope.tenant_id(), scope.project_id());
        if let Some((read, accepts)) = self.lock().get(&key)
            && read.elapsed() < FRESH_FOR
        {
            return Ok(accepts.clone());
        }
        let tenant = db.scoped(scope);
        let project = tenant
            .get::<project::Model>(scope.project_id().0)
            .await?
            .ok_or_else(|| anyhow::anyhow!("project {} vanished", scope.project_id().0))?;
        let keys = tenant
            .metrics_of_project(project.id)
            .await?
            .into_iter()
            .filter_map(|m| m.event_key)
            .collect();
        let accepts = Arc::new(Accepts {
            new_keys: project.accept_new_events,
            keys,
        });
        self.lock().insert(key, (Instant::now(), accepts.clone()));
        Ok(accepts)
    }

    /// Forgets what the project accepts, after a change on this node.
    pub(crate) fn forget(&self, tenant: TenantId, project: ProjectId) {
        self.lock().remove(&(tenant, project));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Projects> {
        self.projects
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_accepted_by_metric_or_by_the_project_setting() {
        let strict = Accepts {
            new_keys: false,
            keys: HashSet::from(["purchase".to_owned()]),
        };
        assert!(strict.check("purchase").is_ok());
        assert!(strict.check(BUILT_IN_ERROR_EVENT).is_ok());
        assert_eq!(strict.check("signup").unwrap_err().0, "unknown_event");
        assert_eq!(strict.check("$crash").unwrap_err().0, "reserved_key");
        let open = Accepts {
            new_keys: true,
            keys: HashSet::new(),
        };
        assert!(open.check("signup").is_ok());
        assert_eq!(open.check("$pageview").unwrap_err().0, "reserved_key");
    }
}
