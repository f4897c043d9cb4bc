//! Server settings and how they are loaded: defaults < `config/base.toml` < `config/$FLAGENT_ENV.toml`
//! < environment variables `FLAGENT_SECTION__KEY` (and `DATABASE_URL`).
//!
//! Bad configuration fails at start, naming the key.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Every setting of the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP listener.
    pub server: ServerSettings,
    /// Database.
    pub database: DatabaseSettings,
    /// Logging.
    pub log: LogSettings,
    /// First-start bootstrap.
    pub bootstrap: BootstrapSettings,
    /// Evaluation limits.
    pub evaluation: EvaluationSettings,
    /// Users, sessions and signup.
    pub auth: AuthSettings,
    /// Outgoing mail.
    pub mail: MailSettings,
    /// Several nodes serving one database.
    pub cluster: ClusterSettings,
    /// Measurement: the ingest queue and the rollup.
    #[serde(default)]
    pub analytics: AnalyticsSettings,
}

/// How event ingestion and the rollup are sized.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyticsSettings {
    /// Bytes of accepted events and exposures one node holds while they wait for their commit;
    /// requests beyond it are refused with 429 and `Retry-After`.
    pub queue_bytes: usize,
    /// Rows one ingest transaction (group commit) writes at most.
    pub batch_rows: usize,
    /// How long, in milliseconds, new rows wait before the rollup reads them, so a row whose
    /// transaction committed after a later row's is not passed over (0 suits one node on SQLite).
    pub rollup_horizon_ms: i64,
}

impl Default for AnalyticsSettings {
    fn default() -> Self {
        AnalyticsSettings {
            queue_bytes: 64 << 20,
            batch_rows: 20_000,
            rollup_horizon_ms: 10_000,
        }
    }
}

/// How the nodes serving one database tell each other about changes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSettings {
    /// Redis for change announcements (`redis://host:6379`); without it, nodes rely on polling.
    #[serde(default)]
    pub redis_url: Option<String>,
    /// The Redis channel the nodes announce on.
    pub channel: String,
    /// How often each node compares its evaluation cache with the database's revisions, in
    /// milliseconds: the longest a missed announcement (or no Redis) leaves a node behind.
    pub poll_interval_ms: u64,
}

/// Users, sessions and signup settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// The key session tokens are signed with (shared by every node); generated once and kept in the
    /// database when not set.
    #[serde(default, skip_serializing)]
    pub session_secret: Option<SecretString>,
    /// The keys that seal secrets kept in the database (identity providers' client secrets and private
    /// keys), each `<id>:<base64 of 32 random bytes>`, the first one current; in the environment a
    /// comma-separated list (`FLAGENT_AUTH__SECRET_KEYS`). To rotate, put a new key first and keep the
    /// old ones until every secret was sealed again. When empty, one key is generated and kept in the
    /// database, which then protects the secrets no better than the database itself.
    #[serde(default, skip_serializing, deserialize_with = "keys_from_list_or_text")]
    pub secret_keys: Vec<SecretString>,
    /// The DNS server that claimed email domains are verified through (`127.0.0.1:53`); the system's
    /// resolver when unset.
    #[serde(default)]
    pub dns_server: Option<std::net::SocketAddr>,
    /// How long one session token is valid, in seconds (clients refresh before it runs out).
    pub token_ttl_secs: u64,
    /// How long a session lasts at most, in seconds.
    pub session_max_age_secs: u64,
    /// Whether session cookies are marked `Secure` (only sent over HTTPS; browsers treat localhost
    /// as secure).
    pub secure_cookies: bool,
    /// The address users reach this server at, for links in mail.
    pub public_url: String,
    /// Whether `POST /api/v1/signup` is open (hosted service).
    pub signup_enabled: bool,
    /// Signups accepted per client IP address per hour.
    pub signups_per_ip_per_hour: u32,
    /// Signups accepted per email domain per hour.
    pub signups_per_domain_per_hour: u32,
}

/// A list of keys, from a list or from one comma-separated text (as environment variables give it).
fn keys_from_list_or_text<'de, D>(deserializer: D) -> Result<Vec<SecretString>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Keys {
        Text(String),
        List(Vec<String>),
    }
    let keys = match Keys::deserialize(deserializer)? {
        Keys::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect(),
        Keys::List(list) => list,
    };
    Ok(keys.into_iter().map(SecretString::from).collect())
}

/// Outgoing mail settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// `smtp://user:pass@host:port` or `smtps://…`; when unset, mail goes to the log and the outbox table.
    #[serde(default, skip_serializing)]
    pub smtp_url: Option<SecretString>,
    /// The `From` address.
    pub from: String,
}

/// HTTP listener settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to bind.
    pub host: String,
    /// Port to bind (0 picks a free one).
    pub port: u16,
    /// Worker threads (0: one per core).
    pub workers: usize,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed (for client IPs in the audit
    /// log and rate limits); empty: the connection's address is the client's.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// Database settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://…`, `postgres://…` or `mysql://…`.
    pub url: String,
    /// Pool size (SQLite always uses 1).
    pub max_connections: u32,
}

/// Log settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `pretty` (development) or `json` (production).
    pub format: LogFormat,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// First-start bootstrap settings: chosen keys for scripted installs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapSettings {
    /// The management (admin) key to create instead of a random one.
    #[serde(default, skip_serializing)]
    pub management_key: Option<SecretString>,
    /// The evaluation key (production environment) to create instead of a random one.
    #[serde(default, skip_serializing)]
    pub evaluation_key: Option<SecretString>,
    /// The owner account's email address.
    #[serde(default = "default_admin_email")]
    pub admin_email: String,
    /// The owner account's password (also read from `FLAGENT_ADMIN_PASSWORD`); generated and printed
    /// once when unset.
    #[serde(default, skip_serializing)]
    pub admin_password: Option<SecretString>,
}

fn default_admin_email() -> String {
    "admin@localhost".to_owned()
}

/// Evaluation limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationSettings {
    /// Most results one batch request may produce (entities × flags).
    pub max_batch_results: usize,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Seconds between heartbeats on an idle change stream (`GET /api/v1/stream`).
    pub stream_heartbeat_secs: u64,
    /// A file this node keeps a copy of its evaluation cache and API keys in (key hashes only), and
    /// starts from when the database cannot be reached at start.
    #[serde(default)]
    pub local_copy: Option<String>,
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(#[from] Box<figment::Error>);

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: ServerSettings {
                host: "127.0.0.1".to_owned(),
                port: 18000,
                workers: 0,
                trusted_proxies: Vec::new(),
            },
            database: DatabaseSettings {
                url: "sqlite://data/flagent.db?mode=rwc".to_owned(),
                max_connections: 10,
            },
            log: LogSettings {
                format: LogFormat::Pretty,
            },
            bootstrap: BootstrapSettings {
                management_key: None,
                evaluation_key: None,
                admin_email: default_admin_email(),
                admin_password: None,
            },
            evaluation: EvaluationSettings {
                max_batch_results: 10_000,
                max_body_bytes: 4 * 1024 * 1024,
                stream_heartbeat_secs: 15,
                local_copy: None,
            },
            auth: AuthSettings {
                session_secret: None,
                secret_keys: Vec::new(),
                dns_server: None,
                token_ttl_secs: 15 * 60,
                session_max_age_secs: 7 * 24 * 3600,
                secure_cookies: true,
                public_url: "http://localhost:18000".to_owned(),
                signup_enabled: true,
                signups_per_ip_per_hour: 10,
                signups_per_domain_per_hour: 20,
            },
            mail: MailSettings {
                smtp_url: None,
                from: "Flagent <no-reply@localhost>".to_owned(),
            },
            cluster: ClusterSettings {
                redis_url: None,
                channel: "flagent:changes".to_owned(),
                poll_interval_ms: 1000,
            },
            analytics: AnalyticsSettings::default(),
        }
    }
}

impl Settings {
    /// Loads settings from the layered sources.
    pub fn load() -> Result<Settings, ConfigError> {
        let env = std::env::var("FLAGENT_ENV").unwrap_or_else(|_| "local".to_owned());
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file("config/base.toml"))
            .merge(Toml::file(format!("config/{env}.toml")))
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database.url".into()),
            )
            .merge(
                Env::raw()
                    .only(&["FLAGENT_ADMIN_PASSWORD"])
                    .map(|_| "bootstrap.admin_password".into()),
            )
            .merge(
                Env::prefixed("FLAGENT_")
                    .split("__")
                    .ignore(&["ENV", "ADMIN_PASSWORD"]),
            )
            .extract()
            .map_err(|e| ConfigError(Box::new(e)))
    }

    /// Settings for tests: a free port, the given database, quiet logs.
    pub fn for_tests(database_url: &str) -> Settings {
        let mut s = Settings::default();
        s.server.port = 0;
        s.server.workers = 2;
        s.database.url = database_url.to_owned();
        // Tests run the rollup themselves, right after their requests were answered.
        s.analytics.rollup_horizon_ms = 0;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail dictates the closure's error type.
    fn environment_overrides_defaults_and_names_bad_keys() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("FLAGENT_SERVER__PORT", "19000");
            jail.set_env("DATABASE_URL", "postgres://x/y");
            let s = Settings::load().map_err(|e| e.to_string())?;
            assert_eq!(s.server.port, 19000);
            assert_eq!(s.database.url, "postgres://x/y");
            jail.set_env("FLAGENT_SERVER__PORT", "not-a-port");
            let err = Settings::load()
                .expect_err("bad port must fail")
                .to_string();
            assert!(err.contains("port"), "{err}");
            jail.set_env("FLAGENT_SERVER__PORT", "19000");
            jail.set_env("FLAGENT_AUTH__SECRET_KEYS", "new:bmV3, old:b2xk");
            let s = Settings::load().map_err(|e| e.to_string())?;
            let keys: Vec<&str> = s
                .auth
                .secret_keys
                .iter()
                .map(|k| k.expose_secret())
                .collect();
            assert_eq!(keys, ["new:bmV3", "old:b2xk"]);
            Ok(())
        });
    }
}
