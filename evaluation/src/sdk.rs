//! What local-evaluation SDKs receive: the environment's snapshot in the caller's view, and what
//! changed since a revision the SDK holds (for the change stream).
//!
//! Invariant: a `client`-only caller (who may not evaluate server-side) gets the `client` view, in
//! which every segment's description is emptied; the engine's model carries no other management
//! metadata, and everything else changes answers, so it stays. Anyone else gets the `server` view.
//! Nothing here counts as an evaluation.

use crate::cache::Since;
use crate::evaluator::Evaluator;
use flagent_eval::{FlagConfig, Snapshot};
use flagent_types::{Denied, EnvironmentId, TenantScope, perm};
use std::sync::Arc;
use tokio::sync::watch;

/// Which configuration an SDK may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The full configuration.
    Server,
    /// Segment descriptions removed.
    Client,
}

impl View {
    /// The view the caller is entitled to.
    pub fn of(scope: &TenantScope) -> Self {
        if scope.permits::<perm::Evaluate>() {
            View::Server
        } else {
            View::Client
        }
    }

    /// The wire name: `server` or `client`.
    pub fn as_str(self) -> &'static str {
        match self {
            View::Server => "server",
            View::Client => "client",
        }
    }

    /// A flag as this view shows it.
    pub fn shape(self, mut flag: FlagConfig) -> FlagConfig {
        if self == View::Client {
            for segment in &mut flag.segments {
                segment.description.clear();
            }
        }
        flag
    }

    /// Every flag of `snapshot`, by ascending id, as this view shows it.
    pub fn flags(self, snapshot: &Snapshot) -> Vec<FlagConfig> {
        snapshot
            .flags()
            .map(|f| self.shape(f.config().clone()))
            .collect()
    }
}

/// The caller's environment's snapshot in the caller's view.
pub struct SdkSnapshot {
    /// The environment.
    pub environment: EnvironmentId,
    /// The view.
    pub view: View,
    /// The snapshot.
    pub snapshot: Arc<Snapshot>,
    tenant: flagent_types::TenantId,
}

impl SdkSnapshot {
    /// The configuration revision.
    pub fn revision(&self) -> u64 {
        self.snapshot.revision()
    }

    /// What the strong `ETag` hashes: the tenant, the environment, the revision and the view.
    pub fn etag_input(&self) -> [String; 4] {
        [
            self.tenant.0.to_string(),
            self.environment.0.to_string(),
            self.revision().to_string(),
            self.view.as_str().to_owned(),
        ]
    }

    /// Every flag, by ascending id, in the view.
    pub fn flags(&self) -> Vec<FlagConfig> {
        self.view.flags(&self.snapshot)
    }
}

impl Evaluator {
    /// The caller's environment's snapshot for local evaluation (empty when it has none yet), for a
    /// scope that may evaluate (any key).
    pub fn sdk_snapshot(&self, scope: &TenantScope) -> Result<SdkSnapshot, Denied> {
        scope.require::<perm::Client>()?;
        Ok(SdkSnapshot {
            environment: scope.environment_id(),
            view: View::of(scope),
            snapshot: self.snapshot(scope),
            tenant: scope.tenant_id(),
        })
    }

    /// A channel holding the caller's environment's newest revision, woken on every change and
    /// closed when the environment leaves the cache.
    pub fn subscribe(&self, scope: &TenantScope) -> Result<watch::Receiver<u64>, Denied> {
        scope.require::<perm::Client>()?;
        Ok(self
            .cache()
            .subscribe(scope.tenant_id(), scope.environment_id()))
    }

    /// What changed in the caller's environment since the revision an SDK holds (`None`: it holds
    /// nothing, so the whole snapshot, if the environment is loaded).
    pub fn changes_since(&self, scope: &TenantScope, held: Option<u64>) -> Result<Since, Denied> {
        scope.require::<perm::Client>()?;
        let (tenant, environment) = (scope.tenant_id(), scope.environment_id());
        Ok(match held {
            Some(held) => self.cache().changes_since(tenant, environment, held),
            None => match self.cache().snapshot(tenant, environment) {
                Some(snapshot) => Since::Snapshot(snapshot),
                None => Since::Gone,
            },
        })
    }
}
