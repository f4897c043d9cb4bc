//! The composition root: builds every service from `Settings`, runs migrations and the first-start
//! bootstrap, warms the evaluation cache, and serves HTTP.
//!
//! `main` and the API tests call the same [`Application::build`].

mod bootstrap;
mod cluster;
mod jobs;
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
use flagent_auth::secrets::SecretBox;
use flagent_auth::sessions::{SessionLifetimes, Sessions};
use flagent_auth::sso::Sso;
use flagent_config::Settings;
use flagent_evaluation::{EvalCache, Evaluator};
use flagent_flags::Flags;
use flagent_jobs::Runner;
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
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tracing_actix_web::TracingLogger;

/// How long a cached API key is trusted before it is checked against the database again.
const KEY_CACHE_TTL: Duration = Duration::from_secs(30);

/// A built server, bound to its port and ready to run.
pub struct Application {
    port: u16,
    server: Server,
    db: Db,
    bootstrap: Option<BootstrapKeys>,
    auth: Arc<Authenticator>,
    relay: Arc<mail::MailRelay>,
    usage: Arc<Usage>,
    analytics: Arc<flagent_analytics::Analytics>,
    cluster: Arc<cluster::Cluster>,
    jobs: Runner,
}

/// The database as the start found it: reachable (and migrated), or unreachable with a local copy to
/// serve evaluation from until it is.
struct Database {
    db: Db,
    offline: Option<local_copy::Copy>,
}

/// Sessions and accounts: what every identity service is built on.
struct Identity {
    sessions: Arc<Sessions>,
    accounts: Arc<Accounts>,
    /// Seals the secrets kept in the database.
    secrets: SecretBox,
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
    /// Builds everything `settings` describe and binds the listener: the database, identity, the
    /// first-start bootstrap and role policy, the evaluation and key caches, the services, the jobs,
    /// and the HTTP server, in that order.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let local_copy = settings.evaluation.local_copy.as_ref().map(PathBuf::from);
        let mut database = Database::open(&settings, local_copy.as_deref()).await?;
        #[allow(clippy::disallowed_methods)]
        let startup = SystemScope::assume_system("first-start bootstrap and cache warm-up");
        let identity = Identity::build(&database, &startup, &settings).await?;
        let (bootstrap, policy) = database
            .first_start(&startup, &settings, &identity.accounts)
            .await?;
        let flags = database.evaluation_cache(&startup).await?;
        let (auth, recovering) = database
            .authenticator(&flags, &identity, policy.clone())
            .await?;
        let db = database.db;
        #[allow(clippy::disallowed_methods)]
        let metering = SystemScope::assume_system("usage metering");
        let usage = Arc::new(Usage::new(db.clone(), metering));
        let metrics = Metrics::new().context("register metrics")?;
        let node = uuid::Uuid::new_v4().to_string();
        let cluster = cluster::Cluster::new(
            node.clone(),
            settings.cluster.clone(),
            flags.clone(),
            auth.clone(),
            db.clone(),
            system("cluster propagation"),
            metrics.clone(),
        );
        cluster.redis()?;
        let relay = Arc::new(mail::MailRelay::new(
            db.clone(),
            system("mail relay"),
            &settings.mail,
        )?);
        let state = app_state(
            &settings,
            &db,
            flags.clone(),
            identity,
            policy,
            auth.clone(),
            usage.clone(),
            metrics.clone(),
        )?;
        let mut jobs = Runner::new(node)
            .with_leases(db.clone(), system("job leases"))
            .with_metrics(metrics);
        jobs::add_all(
            &mut jobs,
            jobs::Services {
                db: db.clone(),
                auth: auth.clone(),
                usage: usage.clone(),
                relay: relay.clone(),
                recovering,
                local_copy: local_copy.map(|path| (path, flags.clone())),
                state: state.clone(),
            },
        );
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address).with_context(|| format!("bind {address}"))?;
        let port = listener.local_addr()?.port();
        let analytics = state.analytics.clone();
        let server = serve(listener, state, settings.server.workers)?;
        Ok(Application {
            analytics,
            port,
            server,
            db,
            bootstrap,
            auth,
            relay,
            usage,
            cluster,
            jobs,
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

    /// Measurement (tests flush exposures and roll up instead of waiting for the jobs).
    pub fn analytics(&self) -> &Arc<flagent_analytics::Analytics> {
        &self.analytics
    }

    /// The evaluation counters (tests flush them instead of waiting for the flush task).
    pub fn usage(&self) -> &Arc<Usage> {
        &self.usage
    }

    /// Serves until the process is stopped, with the jobs (see `jobs.rs`) and the cluster's tasks
    /// running beside it; at the end the jobs finish what they are doing and the counters are
    /// written once more.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let jobs = self.jobs.start();
        let cluster = self.cluster.spawn();
        let served = self.server.await;
        cluster.iter().for_each(tokio::task::JoinHandle::abort);
        jobs.shutdown().await;
        served
    }
}

impl Database {
    /// Connects and migrates; without the database, a node with a local copy starts from it (see
    /// `local_copy.rs`).
    async fn open(settings: &Settings, local_copy: Option<&Path>) -> anyhow::Result<Database> {
        match connect_and_migrate(settings).await {
            Ok(db) => Ok(Database { db, offline: None }),
            Err(error) => match local_copy.and_then(local_copy::Copy::read) {
                Some(copy) => {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "the database cannot be reached: serving evaluation from the local copy until it can"
                    );
                    Ok(Database {
                        db: connect_lazily(settings).await?,
                        offline: Some(copy),
                    })
                }
                None => Err(error),
            },
        }
    }

    /// The first-start bootstrap's keys (if it ran now) and the role policy (empty when offline).
    async fn first_start(
        &self,
        startup: &SystemScope,
        settings: &Settings,
        accounts: &Arc<Accounts>,
    ) -> anyhow::Result<(Option<BootstrapKeys>, Arc<Policy>)> {
        if self.offline.is_some() {
            return Ok((None, Arc::new(Policy::new(&[], &[]).await?)));
        }
        let bootstrap = bootstrap::run(&self.db, startup, &settings.bootstrap, accounts).await?;
        let policy = jobs::load_policy(&self.db, startup)
            .await
            .context("load the role policy")?;
        Ok((bootstrap, Arc::new(policy)))
    }

    /// The flags service over a warm evaluation cache (filled from the local copy later when offline).
    async fn evaluation_cache(&self, startup: &SystemScope) -> anyhow::Result<Flags> {
        let flags = Flags::new(self.db.clone(), Arc::new(EvalCache::new()));
        if self.offline.is_none() {
            let environments = flags
                .warm(startup)
                .await
                .context("load flags into the evaluation cache")?;
            tracing::info!(environments, "evaluation cache loaded");
        }
        Ok(flags)
    }

    /// The API key authenticator over a warm key cache, and whether the node starts offline (its
    /// caches then come from the local copy, and the recovery job waits for the database).
    async fn authenticator(
        &mut self,
        flags: &Flags,
        identity: &Identity,
        policy: Arc<Policy>,
    ) -> anyhow::Result<(Arc<Authenticator>, bool)> {
        #[allow(clippy::disallowed_methods)]
        let auth_scope = SystemScope::assume_system("API key authentication");
        let auth = Authenticator::new(
            self.db.clone(),
            auth_scope,
            KEY_CACHE_TTL,
            identity.sessions.clone(),
            policy,
        );
        let recovering = match self.offline.take() {
            None => {
                let keys = auth
                    .warm()
                    .await
                    .context("load API keys into the key cache")?;
                tracing::info!(keys, "key cache loaded");
                false
            }
            Some(copy) => {
                let (environments, keys) = copy.load_into(flags, &auth).await;
                tracing::info!(
                    environments,
                    keys,
                    "evaluation cache and key cache loaded from the local copy"
                );
                true
            }
        };
        Ok((Arc::new(auth), recovering))
    }
}

impl Identity {
    /// Sessions signed with the shared key, and accounts over them.
    async fn build(
        database: &Database,
        startup: &SystemScope,
        settings: &Settings,
    ) -> anyhow::Result<Identity> {
        let (secret, secrets) = match database.offline {
            None => (
                session_secret(&database.db, startup, settings).await?,
                secret_keys(&database.db, startup, settings).await?,
            ),
            Some(_) => (
                offline_session_secret(settings),
                offline_secret_keys(settings)?,
            ),
        };
        let sessions = Arc::new(Sessions::new(
            database.db.clone(),
            system("sessions"),
            secret.as_bytes(),
            SessionLifetimes {
                token: Duration::from_secs(settings.auth.token_ttl_secs.max(60)),
                session: Duration::from_secs(settings.auth.session_max_age_secs.max(60)),
            },
        ));
        let accounts = Arc::new(Accounts::new(
            database.db.clone(),
            system("accounts"),
            sessions.clone(),
            settings.auth.public_url.clone(),
        ));
        Ok(Identity {
            sessions,
            accounts,
            secrets,
        })
    }
}

/// The services and settings every HTTP handler reads.
#[allow(clippy::too_many_arguments)]
fn app_state(
    settings: &Settings,
    db: &Db,
    flags: Flags,
    identity: Identity,
    policy: Arc<Policy>,
    auth: Arc<Authenticator>,
    usage: Arc<Usage>,
    metrics: Metrics,
) -> anyhow::Result<web::Data<AppState>> {
    let Identity {
        accounts, secrets, ..
    } = identity;
    let sso = Sso::new(
        db.clone(),
        system("single sign-on"),
        secrets,
        accounts.clone(),
        policy.clone(),
        &settings.auth.public_url,
        settings.auth.dns_server,
    )
    .context("prepare single sign-on")?;
    let analytics = Arc::new(flagent_analytics::Analytics::start(
        db.clone(),
        flags.cache().clone(),
        Arc::new(flagent_jobs::SystemClock),
        flagent_analytics::AnalyticsSettings {
            queue_bytes: settings.analytics.queue_bytes,
            batch_rows: settings.analytics.batch_rows,
            rollup_horizon_ms: settings.analytics.rollup_horizon_ms,
        },
    ));
    let evaluator = Evaluator::new(
        flags.cache().clone(),
        usage.clone(),
        Arc::new(ReasonMetrics(metrics.clone())),
        settings.evaluation.max_batch_results,
    )
    .with_exposures(analytics.exposure_sink());
    Ok(web::Data::new(AppState {
        flags: flags.clone(),
        evaluator,
        analytics,
        audit: flagent_tenants::audit::AuditLog::new(db.clone()),
        projects: flagent_tenants::projects::Projects::new(
            db.clone(),
            Arc::new(RefreshOnEnvironmentChange {
                auth: auth.clone(),
                flags,
            }),
        ),
        plans: Plans::new(db.clone(), usage.clone()),
        usage,
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
        sso: Arc::new(sso),
        operators: flagent_tenants::operators::Operators::new(
            db.clone(),
            system("platform administration"),
            policy,
            accounts.clone(),
            auth,
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
    }))
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

/// The keys that seal secrets in the database: configured, or generated once and kept in the database
/// (with a warning: the database then holds the key to its own secrets).
async fn secret_keys(
    db: &Db,
    system: &SystemScope,
    settings: &Settings,
) -> anyhow::Result<SecretBox> {
    if !settings.auth.secret_keys.is_empty() {
        return configured_secret_keys(settings);
    }
    let proposed = SecretBox::generate_key("generated");
    let key = db
        .system(system)
        .setting_or_insert("secret_key", &proposed)
        .await
        .context("read or store the secret sealing key")?;
    tracing::warn!(
        "auth.secret_keys is not set: secrets are sealed with a key kept in the database; configure keys to keep them safe from a copy of the database"
    );
    SecretBox::from_config(&[key]).context("the stored secret sealing key")
}

/// The configured secret keys, or a throwaway one for a node started without its database (which
/// then cannot open the secrets stored by others until it restarts with its database).
fn offline_secret_keys(settings: &Settings) -> anyhow::Result<SecretBox> {
    if settings.auth.secret_keys.is_empty() {
        return SecretBox::from_config(&[SecretBox::generate_key("offline")])
            .context("a throwaway secret key");
    }
    configured_secret_keys(settings)
}

fn configured_secret_keys(settings: &Settings) -> anyhow::Result<SecretBox> {
    let keys: Vec<&str> = settings
        .auth
        .secret_keys
        .iter()
        .map(|k| k.expose_secret())
        .collect();
    SecretBox::from_config(&keys).context("auth.secret_keys")
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
            if let Err(error) = self
                .flags
                .load_new_environments(scope, flagent_types::ProjectId(project))
                .await
            {
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
