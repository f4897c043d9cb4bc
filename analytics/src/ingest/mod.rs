//! Ingestion of events and exposures sent by applications and local-evaluation SDKs
//! (`POST /api/v1/events`, `POST /api/v1/exposures`), in the environment of the caller's key.
//!
//! Invariant: a request malformed as a whole changes nothing; otherwise every item is checked on its
//! own, the good ones are committed together (group commit, `queue.rs`) before the answer, and each
//! refused one is named with its index and reason. Entity ids are hashed before anything is queued.

pub(crate) mod catalog;
pub(crate) mod queue;
pub(crate) mod validate;

pub use validate::{
    Ingested, MAX_AGE_MS, MAX_AHEAD_MS, MAX_ITEMS, MAX_KEY_BYTES, MAX_PROPERTIES_BYTES, Refusal,
};

use crate::entity::{Door, hash_entity};
use crate::{Analytics, AnalyticsError};
use flagent_storage::entities::{event, exposure};
use flagent_types::{TenantScope, perm};
use queue::{Refused, Rows};
use serde_json::Value;
use validate::{Item, items};

/// Seconds a client is told to wait when the queue is full.
const RETRY_AFTER_SECS: u64 = 1;

impl Analytics {
    /// Checks and commits a batch of events (`{events: [{key, entityID, timestamp, value?,
    /// properties?}]}`) in the caller's environment.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn ingest_events(
        &self,
        scope: &TenantScope,
        body: &Value,
    ) -> Result<Ingested, AnalyticsError> {
        scope.require::<perm::Client>()?;
        let items = items(body, "events")?;
        let accepts = self.catalog.of(&self.db, scope).await?;
        let salt = self.salts.of(&self.db, Door::Scope(scope)).await?;
        let now = self.clock.now_millis();
        let mut rows = Vec::with_capacity(items.len());
        let mut rejected = Vec::new();
        for (index, value) in items.iter().enumerate() {
            let read = Item::new(index, value).and_then(|item| {
                let key = item.key("key", "invalid_key")?;
                accepts
                    .check(key)
                    .map_err(|(code, message)| item.refuse(code, message))?;
                Ok(event::Model {
                    id: 0,
                    tenant_id: 0,
                    environment_id: scope.environment_id().0,
                    event_key: key.to_owned(),
                    entity: hash_entity(&salt, item.key("entityID", "invalid_entity")?),
                    occurred_at: item.timestamp(now)?,
                    value: item.value()?,
                    properties: item.properties()?,
                    received_at: now,
                })
            });
            match read {
                Ok(row) => rows.push(row),
                Err(refusal) => rejected.push(refusal),
            }
        }
        let accepted = rows.len();
        let rows = Rows {
            events: rows,
            ..Rows::default()
        };
        self.commit(scope, rows).await?;
        Ok(Ingested { accepted, rejected })
    }

    /// Checks and commits a batch of exposures (`{exposures: [{flagKey, variantKey, entityID,
    /// timestamp}]}`) that an SDK evaluated in-process, in the caller's environment; flag and
    /// variant keys are resolved against the environment's current configuration.
    #[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
    pub async fn ingest_exposures(
        &self,
        scope: &TenantScope,
        body: &Value,
    ) -> Result<Ingested, AnalyticsError> {
        scope.require::<perm::Client>()?;
        let items = items(body, "exposures")?;
        let snapshot = self
            .cache
            .snapshot(scope.tenant_id(), scope.environment_id())
            .unwrap_or_default();
        let salt = self.salts.of(&self.db, Door::Scope(scope)).await?;
        let now = self.clock.now_millis();
        let mut rows = Vec::with_capacity(items.len());
        let mut rejected = Vec::new();
        for (index, value) in items.iter().enumerate() {
            let read = Item::new(index, value).and_then(|item| {
                let key = item.key("flagKey", "invalid_flag")?;
                let flag = snapshot.flag_by_key(key).ok_or_else(|| {
                    item.refuse("unknown_flag", format!("no flag has the key {key:?} here"))
                })?;
                let variant_key = item.key("variantKey", "invalid_variant")?;
                let variant = flag
                    .config()
                    .variants
                    .iter()
                    .find(|v| v.key == variant_key)
                    .ok_or_else(|| {
                        item.refuse(
                            "unknown_variant",
                            format!("the flag {key:?} has no variant {variant_key:?}"),
                        )
                    })?;
                Ok(exposure::Model {
                    id: 0,
                    tenant_id: 0,
                    environment_id: scope.environment_id().0,
                    flag_id: flag.id(),
                    variant_id: variant.id,
                    entity: hash_entity(&salt, item.key("entityID", "invalid_entity")?),
                    exposed_at: item.timestamp(now)?,
                })
            });
            match read {
                Ok(row) => rows.push(row),
                Err(refusal) => rejected.push(refusal),
            }
        }
        let accepted = rows.len();
        let rows = Rows {
            exposures: rows,
            ..Rows::default()
        };
        self.commit(scope, rows).await?;
        Ok(Ingested { accepted, rejected })
    }

    /// Queues `rows` and waits for their commit.
    pub(crate) async fn commit(
        &self,
        scope: &TenantScope,
        rows: Rows,
    ) -> Result<(), AnalyticsError> {
        match self.queue.submit(scope, rows).await {
            Ok(()) => Ok(()),
            Err(Refused::Full) => Err(AnalyticsError::Overloaded(RETRY_AFTER_SECS)),
            Err(Refused::Failed(err)) => Err(AnalyticsError::Unexpected(anyhow::anyhow!(
                "commit the ingested rows: {err}"
            ))),
        }
    }
}
