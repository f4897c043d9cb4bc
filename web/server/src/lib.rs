//! The composition root: builds every service from `Settings`, runs migrations and the first-start
//! bootstrap, warms the evaluation cache, and serves HTTP.
//!
//! `main` and the API tests call the same [`Application::build`].

mod bootstrap;
mod cluster;
mod local_copy;
mod mail;

pub use bootstrap::BootstrapKeys;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use flagent_auth::Authenticator;
use flagent_auth::accounts::Accounts;
use flagent_auth::rbac::Policy;
use flagent_auth::sessions::{SessionLifetimes, Sessions};
use flagent_config::Settings;
use flagent_evaluation::{EvalCache, Evaluator};
use flagent_flags::Flags;
use flagent_migrations::{Migrator, MigratorTrait};
use flagent_storage::Db;
use flagent_telemetry::{Metrics, RootSpan};
use flagent_tenants::plans::Plans;
use flagent_tenants::projects::EnvironmentsChanged;
use flagent_tenants::usage::Usage;
use flagent_types::{SystemScope, TenantScope};
use flagent_web::{AppState, Limits, ReasonMetrics, SessionCookies, SignupLimits};
use secrecy::ExposeSecret;
use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tracing_actix_web::TracingLogger;

/// How long a cached API key is trusted before it is checked against the database again.
const KEY_CACHE_TTL: Duration = Duration::from_secs(30);

/// How often the role policy is rebuilt from the database (picking up other nodes' changes).
const POLICY_RELOAD_INTERVAL: Duration = Duration::from_secs(30);

/// How often the API keys' last use is written to the database.
const KEY_USE_FLUSH_INTERVAL: Duration = Duration::from_secs(60);

/// How often a node started from its local copy tries to reach the database.
const RECOVERY_INTERVAL: Duration = Duration::from_secs(1);

/// How often the evaluation counters are added to the database's usage counters.
const USAGE_FLUSH_INTERVAL: Duration = Duration::from_secs(10);

/// A built server, bound to its port and ready to run.
pub struct Application {
    port: u16,
    server: Server,
    db: Db,
    bootstrap: Option<BootstrapKeys>,
    auth: Arc<Authenticator>,
    relay: Arc<mail::MailRelay>,
    policy_source: (Db, SystemScope),
    usage: Arc<Usage>,
    cluster: Arc<cluster::Cluster>,
    /// Where the local copy is kept, and the flags whose cache it copies.
    local_copy: Option<(PathBuf, Flags)>,
    /// Started from the local copy: the database has yet to be reached.
    recovering: bool,
}

/// Connects to the configured database (creating the SQLite file's folder) and runs every migration.
pub async fn connect_and_migrate(settings: &Settings) -> anyhow::Result<Db> {
    let url = &settings.database.url;
    let max = if url.starts_with("sqlite:") {
        prepare_sqlite_dir(url)?;
        1
    } else {
        settings.database.max_connections
    };
    let db = Db::connect(url, max)
        .await
        .with_context(|| format!("connect to the database at {}", redact(url)))?;
    Migrator::up(db.migration_connection(), None)
        .await
        .context("run database migrations")?;
    Ok(db)
}

impl Application {
    /// Builds everything `settings` describe and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let local_copy = settings.evaluation.local_copy.as_ref().map(PathBuf::from);
        // Without the database, a node with a local copy starts from it (see `local_copy.rs`).
        let (db, offline) = match connect_and_migrate(&settings).await {
            Ok(db) => (db, None),
            Err(error) => match local_copy.as_deref().and_then(local_copy::Copy::read) {
                Some(copy) => {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "the database cannot be reached: serving evaluation from the local copy until it can"
                    );
                    (connect_lazily(&settings).await?, Some(copy))
                }
                None => return Err(error),
            },
        };
        #[allow(clippy::disallowed_methods)]
        let startup = SystemScope::assume_system("first-start bootstrap and cache warm-up");
        let secret = match offline {
            None => session_secret(&db, &startup, &settings).await?,
            Some(_) => offline_session_secret(&settings),
        };
        let sessions = Arc::new(Sessions::new(
            db.clone(),
            system("sessions"),
            secret.as_bytes(),
            SessionLifetimes {
                token: Duration::from_secs(settings.auth.token_ttl_secs.max(60)),
                session: Duration::from_secs(settings.auth.session_max_age_secs.max(60)),
            },
        ));
        let accounts = Arc::new(Accounts::new(
            db.clone(),
            system("accounts"),
            sessions.clone(),
            settings.auth.public_url.clone(),
        ));
        let (bootstrap, policy) = match offline {
            None => (
                bootstrap::run(&db, &startup, &settings.bootstrap, &accounts).await?,
                load_policy(&db, &startup)
                    .await
                    .context("load the role policy")?,
            ),
            Some(_) => (None, Policy::new(&[], &[]).await?),
        };
        let policy = Arc::new(policy);
        let flags = Flags::new(db.clone(), Arc::new(EvalCache::new()));
        if offline.is_none() {
            let environments = flags
                .warm(&startup)
                .await
                .context("load flags into the evaluation cache")?;
            tracing::info!(environments, "evaluation cache loaded");
        }
        #[allow(clippy::disallowed_methods)]
        let auth_scope = SystemScope::assume_system("API key authentication");
        let auth = Authenticator::new(
            db.clone(),
            auth_scope,
            KEY_CACHE_TTL,
            sessions.clone(),
            policy.clone(),
        );
        let recovering = match offline {
            None => {
                let keys = auth
                    .warm()
                    .await
                    .context("load API keys into the key cache")?;
                tracing::info!(keys, "key cache loaded");
                false
            }
            Some(copy) => {
                let (environments, keys) = copy.load_into(&flags, &auth).await;
                tracing::info!(
                    environments,
                    keys,
                    "evaluation cache and key cache loaded from the local copy"
                );
                true
            }
        };
        let auth = Arc::new(auth);
        #[allow(clippy::disallowed_methods)]
        let metering = SystemScope::assume_system("usage metering");
        let usage = Arc::new(Usage::new(db.clone(), metering));
        let metrics = Metrics::new().context("register metrics")?;
        let cluster = cluster::Cluster::new(
            settings.cluster.clone(),
            flags.clone(),
            auth.clone(),
            db.clone(),
            system("cluster propagation"),
            metrics.clone(),
        );
        cluster.redis()?;
        let evaluator = Evaluator::new(
            flags.cache().clone(),
            usage.clone(),
            Arc::new(ReasonMetrics(metrics.clone())),
            settings.evaluation.max_batch_results,
        );
        let state = web::Data::new(AppState {
            flags: flags.clone(),
            evaluator,
            audit: flagent_tenants::audit::AuditLog::new(db.clone()),
            projects: flagent_tenants::projects::Projects::new(
                db.clone(),
                Arc::new(RefreshOnEnvironmentChange {
                    auth: auth.clone(),
                    flags: flags.clone(),
                }),
            ),
            plans: Plans::new(db.clone(), usage.clone()),
            usage: usage.clone(),
            auth: auth.clone(),
            metrics,
            limits: Limits {
                max_batch_results: settings.evaluation.max_batch_results,
                max_body_bytes: settings.evaluation.max_body_bytes,
            },
            features: vec![
                "flagr-api",
                "evaluation",
                "import-export",
                "metrics",
                "openapi",
                "users",
                "roles",
                "signup",
            ],
            members: flagent_tenants::members::Members::new(
                db.clone(),
                system("invitations"),
                accounts.clone(),
                policy.clone(),
            ),
            signups: flagent_tenants::signup::Signups::new(
                db.clone(),
                system("signup"),
                accounts.clone(),
                policy.clone(),
                auth.clone(),
            ),
            operators: flagent_tenants::operators::Operators::new(
                db.clone(),
                system("platform administration"),
                policy.clone(),
                accounts.clone(),
                auth.clone(),
            ),
            accounts,
            signup: SignupLimits::per_hour(
                settings.auth.signup_enabled,
                settings.auth.signups_per_ip_per_hour,
                settings.auth.signups_per_domain_per_hour,
            ),
            session_cookies: SessionCookies {
                secure: settings.auth.secure_cookies,
            },
            trusted_proxies: settings.server.trusted_proxies.clone(),
            stream_heartbeat: Duration::from_secs(settings.evaluation.stream_heartbeat_secs.max(1)),
            public_url: settings.auth.public_url.trim_end_matches('/').to_owned(),
        });
        let relay = Arc::new(mail::MailRelay::new(
            db.clone(),
            system("mail relay"),
            &settings.mail,
        )?);
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address).with_context(|| format!("bind {address}"))?;
        let port = listener.local_addr()?.port();
        let server = serve(listener, state, settings.server.workers)?;
        Ok(Application {
            policy_source: (db.clone(), system("role policy reload")),
            local_copy: local_copy.map(|path| (path, flags.clone())),
            recovering,
            port,
            server,
            db,
            bootstrap,
            auth,
            relay,
            usage,
            cluster,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database handle the server uses (tests close it to simulate an outage).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The keys created by the first-start bootstrap, if it ran.
    pub fn bootstrap_keys(&self) -> Option<&BootstrapKeys> {
        self.bootstrap.as_ref()
    }

    /// The API key authenticator (tests flush its recorded key uses instead of waiting a minute).
    pub fn authenticator(&self) -> &Arc<Authenticator> {
        &self.auth
    }

    /// Delivers the outbox's pending mail now (tests call it instead of waiting for the relay).
    pub async fn deliver_mail(&self) -> anyhow::Result<usize> {
        self.relay.deliver_pending().await
    }

    /// The evaluation counters (tests flush them instead of waiting for the flush task).
    pub fn usage(&self) -> &Arc<Usage> {
        &self.usage
    }

    /// Serves until the process is stopped, writing API keys' last use every minute and the evaluation
    /// counters every 10 s (both once more at the end), relaying mail, and rebuilding the role policy
    /// from the database every half minute.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let flusher = tokio::spawn(flush_key_uses(self.auth.clone()));
        let relay = tokio::spawn(relay_mail(self.relay.clone()));
        let (db, system) = self.policy_source;
        if self.recovering {
            tokio::spawn(recover(
                db.clone(),
                crate::system("database recovery"),
                self.auth.clone(),
            ));
        }
        let reload = tokio::spawn(reload_policy(db, system, self.auth.clone()));
        let cluster = self.cluster.spawn();
        let copier = self
            .local_copy
            .map(|(path, flags)| tokio::spawn(local_copy::keep(path, flags, self.auth.clone())));
        let (stop_metering, stopped) = tokio::sync::oneshot::channel();
        let metering = tokio::spawn(flush_usage(self.usage.clone(), stopped));
        let served = self.server.await;
        flusher.abort();
        relay.abort();
        reload.abort();
        cluster.iter().for_each(tokio::task::JoinHandle::abort);
        if let Some(copier) = copier {
            copier.abort();
        }
        // Not aborted: a flush cut off between taking the counts and writing them would lose them.
        let _ = stop_metering.send(());
        let _ = metering.await;
        if let Err(err) = self.auth.flush_last_used().await {
            tracing::warn!(error = %err, "could not record the API keys' last use at shutdown");
        }
        if let Err(err) = self.usage.flush().await {
            tracing::warn!(error = %err, "could not record the evaluation counts at shutdown");
        }
        served
    }
}

/// Adds the evaluation counts to the database every [`USAGE_FLUSH_INTERVAL`] until `stop` fires (between
/// flushes, never during one); what a failed write could not add is kept and retried next time.
async fn flush_usage(usage: Arc<Usage>, mut stop: tokio::sync::oneshot::Receiver<()>) {
    let start = tokio::time::Instant::now() + USAGE_FLUSH_INTERVAL;
    let mut ticks = tokio::time::interval_at(start, USAGE_FLUSH_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = &mut stop => return,
        }
        match usage.flush().await {
            Ok(counters) => tracing::debug!(counters, "recorded the evaluation counts"),
            Err(err) => tracing::warn!(error = %err, "could not record the evaluation counts"),
        }
    }
}

/// Writes the API keys' last use every [`KEY_USE_FLUSH_INTERVAL`]; a failed write is retried next time.
async fn flush_key_uses(auth: Arc<Authenticator>) {
    let start = tokio::time::Instant::now() + KEY_USE_FLUSH_INTERVAL;
    let mut ticks = tokio::time::interval_at(start, KEY_USE_FLUSH_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match auth.flush_last_used().await {
            Ok(keys) => tracing::debug!(keys, "recorded the API keys' last use"),
            Err(err) => tracing::warn!(error = %err, "could not record the API keys' last use"),
        }
    }
}

/// Connects to the configured database on first use (a start from the local copy).
async fn connect_lazily(settings: &Settings) -> anyhow::Result<Db> {
    let url = &settings.database.url;
    let max = if url.starts_with("sqlite:") {
        1
    } else {
        settings.database.max_connections
    };
    Db::connect_lazy(url, max)
        .await
        .with_context(|| format!("prepare the database pool for {}", redact(url)))
}

/// The session signing key of a node started without its database: the configured one, or else a
/// throwaway key (sessions issued by other nodes are then refused here until this node restarts).
fn offline_session_secret(settings: &Settings) -> String {
    match &settings.auth.session_secret {
        Some(secret) => secret.expose_secret().to_owned(),
        None => {
            tracing::warn!(
                "auth.session_secret is not set: until this node restarts with its database, it refuses every session"
            );
            format!(
                "{}{}",
                flagent_auth::random_token(),
                flagent_auth::random_token()
            )
        }
    }
}

/// Mints the system scope of one background job or service.
fn system(reason: &'static str) -> SystemScope {
    #[allow(clippy::disallowed_methods)]
    SystemScope::assume_system(reason)
}

/// The key session tokens are signed with: configured, or generated once and kept in the database so
/// every node shares it.
async fn session_secret(
    db: &Db,
    system: &SystemScope,
    settings: &Settings,
) -> anyhow::Result<String> {
    if let Some(secret) = &settings.auth.session_secret {
        anyhow::ensure!(
            secret.expose_secret().len() >= 32,
            "auth.session_secret must have at least 32 characters"
        );
        return Ok(secret.expose_secret().to_owned());
    }
    let proposed = format!(
        "{}{}",
        flagent_auth::random_token(),
        flagent_auth::random_token()
    );
    db.system(system)
        .setting_or_insert("session_secret", &proposed)
        .await
        .context("read or store the session signing key")
}

/// After a start from the local copy: waits for the database (every [`RECOVERY_INTERVAL`]), then runs
/// the migrations, rebuilds the role policy and loads every key; the cluster's revision polling
/// brings the evaluation cache up to date on its own.
async fn recover(db: Db, system: SystemScope, auth: Arc<Authenticator>) {
    let mut ticks = tokio::time::interval(RECOVERY_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let recovered = async {
            Migrator::up(db.migration_connection(), None).await?;
            let sys = db.system(&system);
            let (memberships, roles) = (sys.all_memberships().await?, sys.all_roles().await?);
            auth.policy().reload(&memberships, &roles).await?;
            let keys = auth.warm().await?;
            anyhow::Ok(keys)
        };
        if let Ok(keys) = recovered.await {
            tracing::info!(keys, "the database is reachable again; management is back");
            return;
        }
    }
}

/// The role policy as the database holds it.
async fn load_policy(db: &Db, system: &SystemScope) -> anyhow::Result<Policy> {
    let sys = db.system(system);
    let memberships = sys.all_memberships().await?;
    let roles = sys.all_roles().await?;
    Ok(Policy::new(&memberships, &roles).await?)
}

/// Rebuilds the role policy every [`POLICY_RELOAD_INTERVAL`], so changes made through other nodes apply.
async fn reload_policy(db: Db, system: SystemScope, auth: Arc<Authenticator>) {
    let start = tokio::time::Instant::now() + POLICY_RELOAD_INTERVAL;
    let mut ticks = tokio::time::interval_at(start, POLICY_RELOAD_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let sys = db.system(&system);
        let loaded = async {
            let memberships = sys.all_memberships().await?;
            let roles = sys.all_roles().await?;
            auth.policy().reload(&memberships, &roles).await?;
            anyhow::Ok(())
        };
        if let Err(error) = loaded.await {
            tracing::warn!(%error, "could not reload the role policy; keeping the current one");
        }
    }
}

/// Delivers the outbox every [`mail::RELAY_INTERVAL`].
async fn relay_mail(relay: Arc<mail::MailRelay>) {
    let mut ticks = tokio::time::interval(mail::RELAY_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = relay.deliver_pending().await {
            tracing::warn!(%error, "could not deliver mail; will retry");
        }
    }
}

/// Refreshes the caches built from environment lists after environments change: keys see the new list,
/// and new environments are loaded into the evaluation cache before the change's HTTP call returns.
struct RefreshOnEnvironmentChange {
    auth: Arc<Authenticator>,
    flags: Flags,
}

impl EnvironmentsChanged for RefreshOnEnvironmentChange {
    fn environments_changed<'a>(
        &'a self,
        scope: &'a TenantScope,
        project: i64,
    ) -> Pin<Box<dyn Future<Output = ()> + 'a>> {
        Box::pin(async move {
            self.auth.tenant_changed(scope.tenant_id());
            if let Err(error) = self.flags.load_new_environments(scope, project).await {
                tracing::warn!(%error, project, "load new environments into the evaluation cache");
            }
        })
    }
}

fn serve(
    listener: TcpListener,
    state: web::Data<AppState>,
    workers: usize,
) -> anyhow::Result<Server> {
    let limits = state.limits.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(flagent_web::json_errors())
            .wrap(from_fn(flagent_web::record_metrics))
            .wrap(Compress::default())
            .wrap(from_fn(flagent_web::normalize_path))
            .wrap(TracingLogger::<RootSpan>::new())
            .app_data(state.clone())
            .configure(|cfg| flagent_web::configure(cfg, &limits))
    })
    .listen(listener)?;
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.run())
}

/// Creates the folder of a `sqlite://path/file.db` URL.
fn prepare_sqlite_dir(url: &str) -> anyhow::Result<()> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return Ok(());
    }
    if let Some(dir) = std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    Ok(())
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}
