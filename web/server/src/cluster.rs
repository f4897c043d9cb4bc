//! Several nodes serving one database: each change made through one node reaches the others' caches.
//!
//! Two paths, both always on:
//! - **Announcements** over Redis pub/sub (`cluster.redis_url`, channel `cluster.channel`): a node
//!   publishes every new revision its evaluation cache reaches through its own writes, every key it
//!   revokes, every "check all cached credentials again" (tenant status, deletion, environments) and every
//!   role-policy change. The other nodes reload that environment from the database (only if they hold an
//!   older revision), drop the key, drop their credential caches or rebuild the policy. Milliseconds.
//! - **Revision polling** (`cluster.poll_interval_ms`, default 1 s): each node compares its cache with
//!   the environments' revisions in the database and loads what is newer, new or gone. This repairs
//!   any announcement missed (Redis down, a message lost, a node restarting), and is the only path
//!   when no Redis is configured, so staleness is bounded by the interval. After the Redis subscription
//!   (re)connects, the node polls at once.
//!
//! Invariants: nothing here blocks a request (announcing is a send on an in-process channel; the tasks
//! publish and apply); a Redis failure only delays propagation to the polling interval, logged once per
//! outage; a node ignores its own announcements (each message names its node), and environments it
//! loaded because of an announcement are not announced again.

use flagent_auth::{AuthEvent, Authenticator};
use flagent_config::ClusterSettings;
use flagent_flags::{Flags, Revised};
use flagent_storage::Db;
use flagent_telemetry::Metrics;
use flagent_types::{EnvironmentId, SystemScope, TenantId};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast::error::RecvError;

/// Shortest and longest wait before reconnecting to Redis.
const RECONNECT_MIN: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// One announcement on the channel.
#[derive(Debug, Serialize, Deserialize)]
struct Message {
    /// The announcing node.
    node: String,
    /// When it was announced, in milliseconds since the epoch (for the propagation delay metric).
    at: i64,
    #[serde(flatten)]
    event: Event,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    /// An environment's configuration reached `revision`.
    Config {
        tenant: i64,
        environment: i64,
        revision: u64,
    },
    /// Credentials changed (see [`AuthEvent`]).
    Auth(AuthEvent),
    /// Memberships or roles changed: rebuild the role policy.
    Policy,
}

/// This node's part in the cluster.
pub(crate) struct Cluster {
    node: String,
    settings: ClusterSettings,
    flags: Flags,
    auth: Arc<Authenticator>,
    db: Db,
    system: SystemScope,
    metrics: Metrics,
    /// Revisions this node loaded because another node announced them (not to be announced again).
    heard: Mutex<HashMap<(TenantId, EnvironmentId), u64>>,
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

impl Cluster {
    pub(crate) fn new(
        node: String,
        settings: ClusterSettings,
        flags: Flags,
        auth: Arc<Authenticator>,
        db: Db,
        system: SystemScope,
        metrics: Metrics,
    ) -> Arc<Self> {
        Arc::new(Cluster {
            node,
            settings,
            flags,
            auth,
            db,
            system,
            metrics,
            heard: Mutex::default(),
        })
    }

    /// Checks the settings (a Redis address that does not parse stops the start).
    pub(crate) fn redis(&self) -> anyhow::Result<Option<redis::Client>> {
        let Some(url) = self.settings.redis_url.as_deref() else {
            return Ok(None);
        };
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("cluster.redis_url is not a Redis address: {e}"))?;
        Ok(Some(client))
    }

    /// Starts the polling task and, with Redis configured, the announcing and listening tasks.
    pub(crate) fn spawn(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = vec![tokio::spawn(Arc::clone(self).poll())];
        if let Ok(Some(client)) = self.redis() {
            tasks.push(tokio::spawn(Arc::clone(self).announce(client.clone())));
            tasks.push(tokio::spawn(Arc::clone(self).listen(client)));
        }
        tasks
    }

    /// Compares the cache with the database every poll interval.
    async fn poll(self: Arc<Self>) {
        let period = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            ticks.tick().await;
            match self.sync().await {
                Ok(()) if failing => {
                    failing = false;
                    tracing::info!("revision polling works again");
                }
                Ok(()) => {}
                Err(error) if !failing => {
                    failing = true;
                    tracing::warn!(%error, "revision polling failed; the evaluation cache keeps serving what it holds");
                }
                Err(_) => {}
            }
        }
    }

    /// Loads what the database holds newer than the cache.
    async fn sync(&self) -> anyhow::Result<()> {
        let loaded = self.flags.sync(&self.system).await?;
        self.remember(&loaded);
        Ok(())
    }

    fn remember(&self, loaded: &[Revised]) {
        let mut heard = self.heard.lock().unwrap_or_else(PoisonError::into_inner);
        for r in loaded {
            let held = heard.entry((r.tenant, r.environment)).or_default();
            *held = (*held).max(r.revision);
        }
    }

    /// Whether `revised` came from another node (and so must not be announced).
    fn was_heard(&self, revised: &Revised) -> bool {
        let heard = self.heard.lock().unwrap_or_else(PoisonError::into_inner);
        heard
            .get(&(revised.tenant, revised.environment))
            .is_some_and(|held| *held >= revised.revision)
    }

    /// Publishes this node's changes.
    async fn announce(self: Arc<Self>, client: redis::Client) {
        let mut revised = self.flags.cache().revised();
        let mut auth = self.auth.events();
        let mut policy = self.auth.policy().changed();
        let mut connection: Option<redis::aio::MultiplexedConnection> = None;
        let mut failing = false;
        loop {
            let event = tokio::select! {
                r = revised.recv() => match r {
                    Ok(r) if self.was_heard(&r) => continue,
                    Ok(r) => Event::Config {
                        tenant: r.tenant.0,
                        environment: r.environment.0,
                        revision: r.revision,
                    },
                    // Lost announcements are repaired by the other nodes' polling.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return,
                },
                e = auth.recv() => match e {
                    Ok(e) => Event::Auth(e),
                    Err(RecvError::Lagged(_)) => Event::Auth(AuthEvent::Everything),
                    Err(RecvError::Closed) => return,
                },
                p = policy.recv() => match p {
                    Ok(()) | Err(RecvError::Lagged(_)) => Event::Policy,
                    Err(RecvError::Closed) => return,
                },
            };
            let message = Message {
                node: self.node.clone(),
                at: now_millis(),
                event,
            };
            let Ok(payload) = serde_json::to_string(&message) else {
                continue;
            };
            match self.publish(&client, &mut connection, &payload).await {
                Ok(()) if failing => {
                    failing = false;
                    tracing::info!("announcing changes over Redis works again");
                }
                Ok(()) => {}
                Err(error) => {
                    connection = None;
                    if !failing {
                        failing = true;
                        tracing::warn!(%error, "could not announce a change over Redis; other nodes will pick it up by polling");
                    }
                }
            }
        }
    }

    async fn publish(
        &self,
        client: &redis::Client,
        connection: &mut Option<redis::aio::MultiplexedConnection>,
        payload: &str,
    ) -> redis::RedisResult<()> {
        if connection.is_none() {
            *connection = Some(client.get_multiplexed_async_connection().await?);
        }
        let Some(conn) = connection.as_mut() else {
            return Ok(());
        };
        redis::cmd("PUBLISH")
            .arg(&self.settings.channel)
            .arg(payload)
            .query_async::<i64>(conn)
            .await?;
        Ok(())
    }

    /// Applies the other nodes' announcements, reconnecting with back-off.
    async fn listen(self: Arc<Self>, client: redis::Client) {
        let mut delay = RECONNECT_MIN;
        let mut failing = false;
        loop {
            match client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(&self.settings.channel).await {
                    Ok(()) => {
                        if failing {
                            tracing::info!("listening for changes over Redis again");
                        }
                        failing = false;
                        delay = RECONNECT_MIN;
                        // What was announced while nobody listened is in the database.
                        if let Err(error) = self.sync().await {
                            tracing::warn!(%error, "revision check after subscribing failed");
                        }
                        let mut messages = pubsub.on_message();
                        while let Some(message) = messages.next().await {
                            if let Ok(payload) = message.get_payload::<String>() {
                                self.receive(&payload).await;
                            }
                        }
                    }
                    Err(error) => failing = self.listen_failed(failing, &error),
                },
                Err(error) => failing = self.listen_failed(failing, &error),
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(RECONNECT_MAX);
        }
    }

    fn listen_failed(&self, failing: bool, error: &redis::RedisError) -> bool {
        if !failing {
            tracing::warn!(%error, "lost the Redis subscription; changes arrive by polling until it is back");
        }
        true
    }

    /// Applies one announcement.
    async fn receive(&self, payload: &str) {
        let message: Message = match serde_json::from_str(payload) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(%error, "ignored a malformed cluster announcement");
                return;
            }
        };
        if message.node == self.node {
            return;
        }
        match message.event {
            Event::Config {
                tenant,
                environment,
                revision,
            } => {
                let (tenant, environment) = (TenantId(tenant), EnvironmentId(environment));
                // Marked before loading, so the load's own revision is not announced back.
                self.remember(&[Revised {
                    tenant,
                    environment,
                    revision,
                }]);
                let loaded = self
                    .flags
                    .refresh(&self.system, tenant, environment, revision)
                    .await;
                let delay = (now_millis() - message.at).max(0) as f64 / 1000.0;
                self.metrics.observe_propagation(delay);
                match loaded {
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, tenant = tenant.0, environment = environment.0, "could not load an announced change; polling will retry");
                    }
                }
            }
            Event::Auth(event) => self.auth.apply(&event),
            Event::Policy => {
                if let Err(error) = self.reload_policy().await {
                    tracing::warn!(%error, "could not rebuild the role policy after an announcement");
                }
            }
        }
    }

    async fn reload_policy(&self) -> anyhow::Result<()> {
        let sys = self.db.system(&self.system);
        let memberships = sys.all_memberships().await?;
        let roles = sys.all_roles().await?;
        self.auth.policy().reload(&memberships, &roles).await?;
        Ok(())
    }
}
