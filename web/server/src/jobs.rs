//! The node's background jobs, each a [`Job`] over one service, and the runner that carries them.
//!
//! | job | every | where | at shutdown |
//! |---|---|---|---|
//! | `usage-flush` | 10 s | each node (its own counters) | once more |
//! | `key-use-flush` | 60 s | each node (its own key uses) | once more |
//! | `policy-reload` | 30 s | each node (its own policy) | |
//! | `mail-relay` | 2 s | one node at a time (lease) | |
//! | `database-recovery` | 1 s, until it succeeds | a node started from its local copy | |
//! | `local-copy` | 5 s | each node with `evaluation.local_copy` | |
//! | `rate-limit-sweep` | 60 s | each node (its own signup limits) | |
//! | `sso-sign-in-expiry` | 10 min | one node at a time (lease) | |
//! | `exposure-flush` | 1 s | each node (its own server-side exposures) | once more |
//! | `analytics-rollup` | 1 s | one node at a time (lease) | |
//! | `analytics-retention` | 10 min | one node at a time (lease) | |
//!
//! Revision polling and the Redis announcements stay with `cluster.rs`: they react to the
//! subscription's state, not only to a clock.

use crate::local_copy;
use crate::mail::MailRelay;
use flagent_auth::Authenticator;
use flagent_auth::rbac::Policy;
use flagent_jobs::{Job, Outcome, RunFuture, Runner, Schedule};
use flagent_migrations::{Migrator, MigratorTrait};
use flagent_storage::Db;
use flagent_tenants::usage::Usage;
use flagent_types::SystemScope;
use flagent_web::AppState;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How often the evaluation counters are added to the database's usage counters.
const USAGE_FLUSH_INTERVAL: Duration = Duration::from_secs(10);

/// How often the API keys' last use is written to the database.
const KEY_USE_FLUSH_INTERVAL: Duration = Duration::from_secs(60);

/// How often the role policy is rebuilt from the database (picking up other nodes' changes).
const POLICY_RELOAD_INTERVAL: Duration = Duration::from_secs(30);

/// How often a node started from its local copy tries to reach the database.
const RECOVERY_INTERVAL: Duration = Duration::from_secs(1);

/// How often the signup limits forget replenished keys.
const RATE_LIMIT_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// What the jobs run over.
pub(crate) struct Services {
    pub(crate) db: Db,
    pub(crate) auth: Arc<Authenticator>,
    pub(crate) usage: Arc<Usage>,
    pub(crate) relay: Arc<MailRelay>,
    /// Started from the local copy: the database has yet to be reached.
    pub(crate) recovering: bool,
    /// Where the local copy is kept, and the flags whose cache it copies.
    pub(crate) local_copy: Option<(PathBuf, flagent_flags::Flags)>,
    /// What the handlers read (the signup limits live there).
    pub(crate) state: actix_web::web::Data<AppState>,
}

/// Every job of this node on `runner`.
pub(crate) fn add_all(runner: &mut Runner, services: Services) {
    let Services {
        db,
        auth,
        usage,
        relay,
        recovering,
        local_copy,
        state,
    } = services;
    runner.add(UsageFlush(usage));
    runner.add(KeyUseFlush(auth.clone()));
    runner.add(PolicyReload {
        db: db.clone(),
        system: crate::system("role policy reload"),
        auth: auth.clone(),
    });
    runner.add(relay);
    if recovering {
        runner.add(Recovery(PolicyReload {
            db,
            system: crate::system("database recovery"),
            auth: auth.clone(),
        }));
    }
    if let Some((path, flags)) = local_copy {
        runner.add(local_copy::Keeper::new(path, flags, auth));
    }
    runner.add(SignInExpiry(state.clone()));
    runner.add(ExposureFlush(state.clone()));
    runner.add(Rollup(state.clone()));
    runner.add(Retention(state.clone()));
    runner.add(RateLimitSweep(state));
}

/// How often the SSO sign-ins that never came back are deleted.
const SIGN_IN_EXPIRY_INTERVAL: Duration = Duration::from_secs(600);

/// How long one node holds the `sso-sign-in-expiry` lease.
const SIGN_IN_EXPIRY_LEASE: Duration = Duration::from_secs(60);

/// `sso-sign-in-expiry`: deletes the SSO sign-ins that went to an identity provider and expired
/// there (a sign-in that comes back is deleted at once), and the used SAML assertion ids that could no
/// longer be accepted anyway.
struct SignInExpiry(actix_web::web::Data<AppState>);

impl Job for SignInExpiry {
    fn name(&self) -> &'static str {
        "sso-sign-in-expiry"
    }

    fn schedule(&self) -> Schedule {
        Schedule::every(SIGN_IN_EXPIRY_INTERVAL).on_one_node(SIGN_IN_EXPIRY_LEASE)
    }

    fn run(&self) -> RunFuture<'_> {
        Box::pin(async move {
            let gone = self.0.sso.delete_expired_sign_ins().await?;
            Ok(Outcome::Ran(usize::try_from(gone).unwrap_or(usize::MAX)))
        })
    }
}

/// How often server-side exposures are written, and new rows rolled up.
const MEASUREMENT_INTERVAL: Duration = Duration::from_secs(1);

/// How long one node holds the `analytics-rollup` lease: longer than any pass takes.
const ROLLUP_LEASE: Duration = Duration::from_secs(60);

/// Rows of each kind one rollup pass reads; a run takes passes until it has caught up or
/// [`ROLLUP_PASSES`] are done.
const ROLLUP_BATCH: u64 = 5_000;

/// Passes one rollup run takes at most, so a run ends well inside its lease.
const ROLLUP_PASSES: usize = 20;

/// `exposure-flush`: writes the exposures server-side evaluations recorded on this node (first ones
/// only).
struct ExposureFlush(actix_web::web::Data<AppState>);

impl Job for ExposureFlush {
    fn name(&self) -> &'static str {
        "exposure-flush"
    }

    fn schedule(&self) -> Schedule {
        Schedule::every(MEASUREMENT_INTERVAL).and_at_shutdown()
    }

    fn run(&self) -> RunFuture<'_> {
        Box::pin(async move {
            let system = crate::system("exposure flush");
            let written = self.0.analytics.flush_exposures(&system).await?;
            Ok(Outcome::Ran(usize::try_from(written).unwrap_or(usize::MAX)))
        })
    }
}

/// `analytics-rollup`: turns new exposures and events into the sums experiment results read.
struct Rollup(actix_web::web::Data<AppState>);

impl Job for Rollup {
    fn name(&self) -> &'static str {
        "analytics-rollup"
    }

    fn schedule(&self) -> Schedule {
        Schedule::every(MEASUREMENT_INTERVAL).on_one_node(ROLLUP_LEASE)
    }

    fn run(&self) -> RunFuture<'_> {
        Box::pin(async move {
            let system = crate::system("analytics rollup");
            let mut rows = 0;
            for _ in 0..ROLLUP_PASSES {
                let pass = self.0.analytics.rollup(&system, ROLLUP_BATCH).await?;
                if pass == flagent_analytics::Pass::default() {
                    break;
                }
                rows += pass.exposures + pass.events;
            }
            Ok(Outcome::Ran(rows))
        })
    }
}

/// How often raw events and crash reports past their plan's retention are deleted.
const RETENTION_INTERVAL: Duration = Duration::from_secs(600);

/// How long one node holds the `analytics-retention` lease: longer than a run's bounded batches take.
const RETENTION_LEASE: Duration = Duration::from_secs(300);

/// `analytics-retention`: deletes the raw events and crash reports each tenant's plan no longer keeps
/// (at most 20 batches of 5,000 rows per plan and table a run) and, on PostgreSQL, makes and drops
/// their day partitions.
struct Retention(actix_web::web::Data<AppState>);

impl Job for Retention {
    fn name(&self) -> &'static str {
        "analytics-retention"
    }

    fn schedule(&self) -> Schedule {
        Schedule::every(RETENTION_INTERVAL).on_one_node(RETENTION_LEASE)
    }

    fn run(&self) -> RunFuture<'_> {
        Box::pin(async move {
            let system = crate::system("analytics retention");
            let analytics = &self.0.analytics;
            let expired = analytics
                .expire(&system, analytics.now_millis(), Default::default())
                .await?;
            let rows = expired.events + expired.crashes;
            Ok(Outcome::Ran(usize::try_from(rows).unwrap_or(usize::MAX)))
        })
    }
}

/// `rate-limit-sweep`: forgets the client addresses and email domains whose signup quota has
/// replenished, so the limits' memory follows the recent traffic (they are bounded regardless).
struct RateLimitSweep(actix_web::web::Data<AppState>);

impl Job for RateLimitSweep {
    fn name(&self) -> &'static str {
        "rate-limit-sweep"
    }

    fn schedule(&self) -> Schedule {
        Schedule::every(RATE_LIMIT_SWEEP_INTERVAL)
    }

    fn run(&self) -> RunFuture<'_> {
        Box::pin(async move { Ok(Outcome::Ran(self.0.signup.sweep())) })
    }
}

/// `usage-flush`: adds the evaluation counts to the database; what a failed write could not add is
/// kept and retried next time. Never cut off mid-flush (the runner waits for it at shutdown).
struct UsageFlush(Arc<Usage>);

impl Job for UsageFlush {
    fn name(&self) -> &'static str {
        "usage-flush"
    }

    fn schedule(&self) -> Schedule {
        Schedule::every(USAGE_FLUSH_INTERVAL).and_at_shutdown()
    }

    fn run(&self) -> RunFuture<'_> {
        Box::pin(async move { Ok(Outcome::Ran(self.0.flush().await?)) })
    }
}

/// `key-use-flush`: writes the API keys' last use; a failed write is retried next time.
struct KeyUseFlush(Arc<Authenticator>);

impl Job for KeyUseFlush {
    fn name(&self) -> &'static str {
        "key-use-flush"
    }

    fn schedule(&self) -> Schedule {
        Schedule::every(KEY_USE_FLUSH_INTERVAL).and_at_shutdown()
    }

    fn run(&self) -> RunFuture<'_> {
        Box::pin(async move { Ok(Outcome::Ran(self.0.flush_last_used().await?)) })
    }
}

/// `policy-reload`: rebuilds the role policy from the database, so changes made through other nodes
/// apply; when the database cannot be read, the current policy stays.
struct PolicyReload {
    db: Db,
    system: SystemScope,
    auth: Arc<Authenticator>,
}

impl PolicyReload {
    async fn reload(&self) -> anyhow::Result<usize> {
        let sys = self.db.system(&self.system);
        let (memberships, roles) = (sys.all_memberships().await?, sys.all_roles().await?);
        self.auth.policy().reload(&memberships, &roles).await?;
        Ok(memberships.len())
    }
}

impl Job for PolicyReload {
    fn name(&self) -> &'static str {
        "policy-reload"
    }

    fn schedule(&self) -> Schedule {
        Schedule::every(POLICY_RELOAD_INTERVAL)
    }

    fn run(&self) -> RunFuture<'_> {
        Box::pin(async move { Ok(Outcome::Ran(self.reload().await?)) })
    }
}

/// `database-recovery`, after a start from the local copy: once the database answers, runs the
/// migrations, rebuilds the role policy and loads every key, then finishes; the cluster's revision
/// polling brings the evaluation cache up to date on its own.
struct Recovery(PolicyReload);

impl Job for Recovery {
    fn name(&self) -> &'static str {
        "database-recovery"
    }

    fn schedule(&self) -> Schedule {
        Schedule::every(RECOVERY_INTERVAL).starting_now()
    }

    fn run(&self) -> RunFuture<'_> {
        Box::pin(async move {
            Migrator::up(self.0.db.migration_connection(), None).await?;
            self.0.reload().await?;
            let keys = self.0.auth.warm().await?;
            tracing::info!(keys, "the database is reachable again; management is back");
            Ok(Outcome::Finished)
        })
    }
}

/// The role policy as the database holds it (at start).
pub(crate) async fn load_policy(db: &Db, system: &SystemScope) -> anyhow::Result<Policy> {
    let sys = db.system(system);
    let memberships = sys.all_memberships().await?;
    let roles = sys.all_roles().await?;
    Ok(Policy::new(&memberships, &roles).await?)
}
