//! The audit log in storage: appending an event to a tenant's hash chain, and reading the chain back.
//!
//! Invariant: events are only ever inserted. Each event's `hash` is SHA-256 over the previous event's
//! hash, its sequence number, its tenant and every field (length-prefixed), and the newest hash is kept
//! on the tenant row, so an edited, removed or truncated event is detectable.

use crate::entities::audit_event;
use crate::{Scoped, StorageError, TenantTx};
use flagent_types::{AuditAction, TenantScope};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect};
use sha2::{Digest, Sha256};

/// An event to append.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAuditEvent {
    /// Milliseconds since the epoch.
    pub occurred_at: i64,
    /// Who, as shown (`key:name (prefix)`, a user's email…).
    pub actor: String,
    /// `api_key`, `user` or `system`.
    pub actor_type: String,
    /// The actor's id.
    pub actor_id: String,
    /// The client's IP address (empty when unknown).
    pub ip: String,
    /// The client's user agent (empty when unknown).
    pub user_agent: String,
    /// What happened (`flag.update`, `segment.create`, `key.revoke`…).
    pub action: String,
    /// The kind of resource (`flag`, `key`…).
    pub resource_type: String,
    /// The resource's id.
    pub resource_id: String,
    /// The environment's key, when the change belongs to one.
    pub environment: String,
    /// The resource before the change, as JSON text (`null` when created).
    pub before: String,
    /// The resource after the change, as JSON text (`null` when deleted).
    pub after: String,
}

impl NewAuditEvent {
    /// An event of the caller in `scope`, now: who and from where come from the scope.
    /// `before` and `after` are JSON text (`null` for nothing).
    pub fn by(
        scope: &TenantScope,
        action: AuditAction,
        resource: (&str, &str),
        environment: &str,
        before: String,
        after: String,
    ) -> Self {
        let principal = scope.principal();
        NewAuditEvent {
            occurred_at: chrono::Utc::now().timestamp_millis(),
            actor: principal.actor(),
            actor_type: principal.actor_type().as_str().to_owned(),
            actor_id: principal.actor_id(),
            ip: scope.origin().ip.clone(),
            user_agent: scope.origin().user_agent.clone(),
            action: action.as_str().to_owned(),
            resource_type: resource.0.to_owned(),
            resource_id: resource.1.to_owned(),
            environment: environment.to_owned(),
            before,
            after,
        }
    }
}

/// Filters for reading the log, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this action, or actions starting with it when it ends with `.` (e.g. `flag.`).
    pub action: Option<String>,
    /// Only this resource type.
    pub resource_type: Option<String>,
    /// Only this resource id.
    pub resource_id: Option<String>,
    /// Only events at or after this time (ms).
    pub from: Option<i64>,
    /// Only events before this time (ms).
    pub to: Option<i64>,
    /// Only events with a sequence number below this (the cursor of the previous page).
    pub before_seq: Option<i64>,
    /// At most this many.
    pub limit: u64,
}

fn field(hasher: &mut Sha256, value: &str) {
    hasher.update((value.len() as u64).to_be_bytes());
    hasher.update(value.as_bytes());
}

/// The chain hash of an event, given the previous event's hash.
pub fn chain_hash(prev_hash: &str, tenant_id: i64, seq: i64, e: &NewAuditEvent) -> String {
    let mut h = Sha256::new();
    for v in [
        prev_hash,
        &tenant_id.to_string(),
        &seq.to_string(),
        &e.occurred_at.to_string(),
    ] {
        field(&mut h, v);
    }
    for v in [
        &e.actor,
        &e.actor_type,
        &e.actor_id,
        &e.ip,
        &e.user_agent,
        &e.action,
        &e.resource_type,
        &e.resource_id,
        &e.environment,
        &e.before,
        &e.after,
    ] {
        field(&mut h, v);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The fields of a stored event, for recomputing its hash.
pub fn event_fields(row: &audit_event::Model) -> NewAuditEvent {
    NewAuditEvent {
        occurred_at: row.occurred_at,
        actor: row.actor.clone(),
        actor_type: row.actor_type.clone(),
        actor_id: row.actor_id.clone(),
        ip: row.ip.clone(),
        user_agent: row.user_agent.clone(),
        action: row.action.clone(),
        resource_type: row.resource_type.clone(),
        resource_id: row.resource_id.clone(),
        environment: row.environment.clone(),
        before: row.before.clone(),
        after: row.after.clone(),
    }
}

impl TenantTx {
    /// Appends an event to this tenant's chain; it is part of the transaction, so it exists exactly when
    /// the change it describes is committed.
    pub async fn append_audit(
        &self,
        event: NewAuditEvent,
    ) -> Result<audit_event::Model, StorageError> {
        let (seq, prev_hash) = self.advance_audit_seq().await?;
        let hash = chain_hash(&prev_hash, self.tenant_id().0, seq, &event);
        let row = self
            .insert_audit_event(audit_event::Model {
                id: 0,
                tenant_id: 0,
                seq,
                occurred_at: event.occurred_at,
                actor: event.actor,
                actor_type: event.actor_type,
                actor_id: event.actor_id,
                ip: event.ip,
                user_agent: event.user_agent,
                action: event.action,
                resource_type: event.resource_type,
                resource_id: event.resource_id,
                environment: event.environment,
                before: event.before,
                after: event.after,
                prev_hash,
                hash: hash.clone(),
            })
            .await?;
        self.set_audit_head(&hash).await?;
        Ok(row)
    }
}

impl<C: ConnectionTrait> Scoped<C> {
    /// Events matching `query`, newest first.
    pub async fn audit_events(
        &self,
        query: &AuditQuery,
    ) -> Result<Vec<audit_event::Model>, StorageError> {
        use audit_event::Column as Col;
        let mut q = self.select::<audit_event::Entity>();
        if let Some(actor) = &query.actor {
            q = q.filter(Col::Actor.eq(actor.as_str()));
        }
        match query.action.as_deref() {
            Some(prefix) if prefix.ends_with('.') => q = q.filter(Col::Action.starts_with(prefix)),
            Some(action) => q = q.filter(Col::Action.eq(action)),
            None => {}
        }
        if let Some(t) = &query.resource_type {
            q = q.filter(Col::ResourceType.eq(t.as_str()));
        }
        if let Some(id) = &query.resource_id {
            q = q.filter(Col::ResourceId.eq(id.as_str()));
        }
        if let Some(from) = query.from {
            q = q.filter(Col::OccurredAt.gte(from));
        }
        if let Some(to) = query.to {
            q = q.filter(Col::OccurredAt.lt(to));
        }
        if let Some(before) = query.before_seq {
            q = q.filter(Col::Seq.lt(before));
        }
        Ok(q.order_by_desc(Col::Seq)
            .limit(query.limit)
            .all(&self.conn)
            .await?)
    }

    /// Up to `limit` events with a sequence number above `after_seq`, in chain order; with `from`, only
    /// those that occurred at or after it (ms).
    pub async fn audit_chain(
        &self,
        after_seq: i64,
        from: Option<i64>,
        limit: u64,
    ) -> Result<Vec<audit_event::Model>, StorageError> {
        let mut q = self
            .select::<audit_event::Entity>()
            .filter(audit_event::Column::Seq.gt(after_seq));
        if let Some(from) = from {
            q = q.filter(audit_event::Column::OccurredAt.gte(from));
        }
        Ok(q.order_by_asc(audit_event::Column::Seq)
            .limit(limit)
            .all(&self.conn)
            .await?)
    }

    /// This tenant's newest sequence number and chain head, as recorded on the tenant row.
    pub async fn audit_head(&self) -> Result<(i64, String), StorageError> {
        let row = self.tenant_row().await?;
        Ok((row.audit_seq, row.audit_head))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_hash_depends_on_every_field_and_the_previous_hash() {
        let base = NewAuditEvent {
            action: "flag.update".into(),
            after: "{}".into(),
            ..Default::default()
        };
        let h = chain_hash("", 1, 1, &base);
        assert_eq!(h.len(), 64);
        assert_ne!(h, chain_hash("x", 1, 1, &base));
        assert_ne!(h, chain_hash("", 2, 1, &base));
        assert_ne!(h, chain_hash("", 1, 2, &base));
        let moved = NewAuditEvent {
            action: "flag.updat".into(),
            after: "e{}".into(),
            ..base.clone()
        };
        assert_ne!(
            h,
            chain_hash("", 1, 1, &moved),
            "length prefixes keep field boundaries"
        );
    }
}
