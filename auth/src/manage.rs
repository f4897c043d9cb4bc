//! Key management use cases: creating, listing, reading, rotating and revoking the API keys of the
//! caller's tenant and project.
//!
//! Invariant: every function needs the `admin` scope and acts inside the caller's tenant and project;
//! another tenant's or project's key is [`AuthError::KeyNotFound`], exactly like a missing one.
//! Invariant: a key's hash never leaves this module, and its plaintext leaves only in an [`IssuedKey`],
//! once.
//! Invariant: a key bound to one environment cannot mint wider access: it may only create or rotate keys
//! bound to that same environment.
//! A key may revoke itself: the request doing so succeeds, and the next one with that key is refused.
//! Revoking or rotating a key takes effect on this node at once (through
//! [`Authenticator::forget_revoked_key`]) and on other nodes when their cached entry is re-checked.

use crate::error::invalid;
use crate::now_millis;
use crate::{AuthError, Authenticator, NewKey, create_key};
use flagent_storage::entities::api_key;
use flagent_storage::{Connection, NewAuditEvent, Scoped, TenantTx};
use flagent_types::{AuditAction, Grant, Scope, ScopeSet, TenantScope, perm};

/// Longest key name, in characters.
const MAX_NAME_CHARS: usize = 200;

/// A key to create, as the caller sent it; [`create_api_key`] validates every field.
#[derive(Debug, Clone, Default)]
pub struct KeyRequest {
    /// Display name: not blank, at most 200 characters.
    pub name: String,
    /// Scope names (`evaluate`, `client`, `read`, `write`, `admin`); at least one.
    pub scopes: Vec<String>,
    /// The key of the environment to bind the key to; `None` for every environment of the project.
    pub environment: Option<String>,
    /// Expiry as an RFC 3339 time in the future; `None` for never.
    pub expires_at: Option<String>,
}

/// An API key as its tenant sees it: never its hash or plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Row id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// The first characters of the key, safe to show and log.
    pub prefix: String,
    /// Granted scopes.
    pub scopes: ScopeSet,
    /// The key of the environment it is bound to; `None` for every environment of the project.
    pub environment: Option<String>,
    /// Creation time, in milliseconds since the epoch.
    pub created_at: i64,
    /// Expiry, in milliseconds since the epoch.
    pub expires_at: Option<i64>,
    /// Revocation time, in milliseconds since the epoch.
    pub revoked_at: Option<i64>,
    /// Last use as last flushed (at most about a minute behind), in milliseconds since the epoch.
    pub last_used_at: Option<i64>,
}

/// A key just created or rotated, with its plaintext, which cannot be recovered later.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    /// The stored key.
    pub key: ApiKey,
    /// The full key.
    pub plaintext: String,
}

/// Creates a key in the caller's project and returns its plaintext once.
#[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
pub async fn create_api_key(
    auth: &Authenticator,
    scope: &TenantScope,
    request: KeyRequest,
) -> Result<IssuedKey, AuthError> {
    scope.require::<perm::ManageKeys>()?;
    let now = now_millis();
    let name = parse_name(&request.name)?;
    let scopes = parse_scopes(&request.scopes)?;
    let db = auth.db().scoped(scope);
    let environments = environments(&db, scope).await?;
    let environment_id = match request.environment.as_deref() {
        None => None,
        Some(key) => Some(environment_id(&environments, key)?),
    };
    let expires_at = match request.expires_at.as_deref() {
        None => None,
        Some(text) => Some(parse_expiry(text, now)?),
    };
    check_reach(scope, environment_id)?;
    let scim = scopes.contains(Scope::Scim);
    if scim && environment_id.is_some() {
        return Err(invalid(
            "environment",
            "a SCIM token acts on the whole tenant and is bound to no environment",
        ));
    }
    let new = NewKey {
        name,
        scopes,
        project_id: scope.project_id().0,
        environment_id,
        expires_at,
        plaintext: None,
    };
    let tx = db.begin().await?;
    let created = create_key(&tx, new, now).await?;
    let key = view(&created.row, &environments);
    let action = if scim {
        AuditAction::ScimTokenCreate
    } else {
        AuditAction::KeyCreate
    };
    audit(&tx, scope, action, key.id, None, Some(&key)).await?;
    tx.commit().await?;
    tracing::info!(key_id = key.id, prefix = %key.prefix, "API key created");
    Ok(IssuedKey {
        key,
        plaintext: created.plaintext,
    })
}

/// The keys of the caller's project, ascending id.
#[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id()))]
pub async fn list_api_keys(
    auth: &Authenticator,
    scope: &TenantScope,
) -> Result<Vec<ApiKey>, AuthError> {
    scope.require::<perm::ManageKeys>()?;
    let db = auth.db().scoped(scope);
    let environments = environments(&db, scope).await?;
    let rows = db.api_keys_of_project(scope.project_id().0).await?;
    Ok(rows.iter().map(|row| view(row, &environments)).collect())
}

/// Key `id` of the caller's project.
#[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), key_id = id))]
pub async fn read_api_key(
    auth: &Authenticator,
    scope: &TenantScope,
    id: i64,
) -> Result<ApiKey, AuthError> {
    scope.require::<perm::ManageKeys>()?;
    let db = auth.db().scoped(scope);
    let row = db
        .api_key_in_project(scope.project_id().0, id)
        .await?
        .ok_or(AuthError::KeyNotFound(id))?;
    Ok(view(&row, &environments(&db, scope).await?))
}

/// Replaces key `id` by a new key with the same name, scopes, environment and expiry, and revokes it,
/// in one transaction; returns the new key's plaintext once. A revoked or expired key is not rotated.
#[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), key_id = id))]
pub async fn rotate_api_key(
    auth: &Authenticator,
    scope: &TenantScope,
    id: i64,
) -> Result<IssuedKey, AuthError> {
    scope.require::<perm::ManageKeys>()?;
    let now = now_millis();
    let project = scope.project_id().0;
    let db = auth.db().scoped(scope);
    let environments = environments(&db, scope).await?;
    let tx = db.begin().await?;
    let old = tx
        .api_key_in_project(project, id)
        .await?
        .ok_or(AuthError::KeyNotFound(id))?;
    if old.revoked_at.is_some() || old.expires_at.is_some_and(|e| e <= now) {
        return Err(AuthError::KeyInactive(id));
    }
    check_reach(scope, old.environment_id)?;
    // A concurrent rotation or revocation that committed first leaves nothing to revoke here.
    if !tx.revoke_api_key(project, id, now).await? {
        return Err(AuthError::KeyInactive(id));
    }
    let created = create_key(&tx, replacement(&old)?, now).await?;
    let before = view(&old, &environments);
    let key = view(&created.row, &environments);
    audit(
        &tx,
        scope,
        AuditAction::KeyRotate,
        id,
        Some(&before),
        Some(&key),
    )
    .await?;
    tx.commit().await?;
    auth.forget_revoked_key(id);
    tracing::info!(new_key_id = key.id, prefix = %key.prefix, "API key rotated");
    Ok(IssuedKey {
        key,
        plaintext: created.plaintext,
    })
}

/// Revokes key `id` (idempotent: an already revoked key keeps its revocation time) and stops accepting it
/// on this node at once.
#[tracing::instrument(skip_all, fields(tenant_id = %scope.tenant_id(), key_id = id))]
pub async fn revoke_api_key(
    auth: &Authenticator,
    scope: &TenantScope,
    id: i64,
) -> Result<ApiKey, AuthError> {
    scope.require::<perm::ManageKeys>()?;
    let now = now_millis();
    let project = scope.project_id().0;
    let db = auth.db().scoped(scope);
    let environments = environments(&db, scope).await?;
    let tx = db.begin().await?;
    let old = tx
        .api_key_in_project(project, id)
        .await?
        .ok_or(AuthError::KeyNotFound(id))?;
    let revoked_now = tx.revoke_api_key(project, id, now).await?;
    let before = view(&old, &environments);
    let key = ApiKey {
        revoked_at: old.revoked_at.or(Some(now)),
        ..before.clone()
    };
    if revoked_now {
        let action = if before.scopes.contains(Scope::Scim) {
            AuditAction::ScimTokenRevoke
        } else {
            AuditAction::KeyRevoke
        };
        audit(&tx, scope, action, id, Some(&before), Some(&key)).await?;
    }
    tx.commit().await?;
    auth.forget_revoked_key(id);
    Ok(key)
}

fn parse_name(name: &str) -> Result<String, AuthError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("name", "a key needs a name"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(
            "name",
            format!("a key name has at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_owned())
}

fn parse_scopes(names: &[String]) -> Result<ScopeSet, AuthError> {
    let unknown: Vec<String> = names
        .iter()
        .filter(|n| Scope::parse(n).is_none())
        .map(|n| format!("{n:?}"))
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
        return Err(invalid(
            "scopes",
            format!(
                "unknown scopes {}; the scopes are {}",
                unknown.join(", "),
                known.join(", ")
            ),
        ));
    }
    let scopes: Vec<Scope> = names.iter().filter_map(|n| Scope::parse(n)).collect();
    if scopes.is_empty() {
        return Err(invalid("scopes", "a key needs at least one scope"));
    }
    if scopes.contains(&Scope::Scim) && scopes.iter().any(|s| *s != Scope::Scim) {
        return Err(invalid(
            "scopes",
            "a SCIM token has the scim scope alone: give the identity provider a key of its own",
        ));
    }
    Ok(ScopeSet::of(&scopes))
}

fn parse_expiry(text: &str, now: i64) -> Result<i64, AuthError> {
    let at = chrono::DateTime::parse_from_rfc3339(text)
        .map_err(|_| {
            invalid(
                "expiresAt",
                format!("{text:?} is not an RFC 3339 time such as \"2030-01-31T12:00:00Z\""),
            )
        })?
        .timestamp_millis();
    if at <= now {
        return Err(invalid("expiresAt", "the expiry must be in the future"));
    }
    Ok(at)
}

/// The environments of the caller's project, as (key, id).
async fn environments(
    db: &Scoped<impl Connection>,
    scope: &TenantScope,
) -> Result<Vec<(String, i64)>, AuthError> {
    Ok(db
        .environments_of_project(scope.project_id().0)
        .await?
        .into_iter()
        .map(|e| (e.key, e.id))
        .collect())
}

fn environment_id(environments: &[(String, i64)], key: &str) -> Result<i64, AuthError> {
    environments
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, id)| *id)
        .ok_or_else(|| {
            invalid(
                "environment",
                format!("environment {key:?} not found in this project"),
            )
        })
}

/// Refuses a key bound to one environment issuing a key for another (or for every environment): the
/// binding is part of the caller's grant. A member whose role grants `keys:manage` may issue keys for
/// any environment of the project.
fn check_reach(scope: &TenantScope, environment: Option<i64>) -> Result<(), AuthError> {
    match scope.grant() {
        Grant::Key {
            bound: Some(bound), ..
        } if Some(bound.0) != environment => Err(AuthError::Forbidden(
            "a key bound to one environment may only issue keys bound to that environment"
                .to_owned(),
        )),
        _ => Ok(()),
    }
}

/// The key that replaces `old` on rotation.
fn replacement(old: &api_key::Model) -> Result<NewKey, AuthError> {
    let scopes = ScopeSet::from_csv(&old.scopes).map_err(|name| {
        AuthError::Unexpected(anyhow::anyhow!(
            "API key {} has the unknown scope {name:?}",
            old.id
        ))
    })?;
    Ok(NewKey {
        name: old.name.clone(),
        scopes,
        project_id: old.project_id,
        environment_id: old.environment_id,
        expires_at: old.expires_at,
        plaintext: None,
    })
}

fn view(row: &api_key::Model, environments: &[(String, i64)]) -> ApiKey {
    let environment = row.environment_id.and_then(|id| {
        environments
            .iter()
            .find(|(_, e)| *e == id)
            .map(|(k, _)| k.clone())
    });
    ApiKey {
        id: row.id,
        name: row.name.clone(),
        prefix: row.prefix.clone(),
        // Invariant: stored scopes were written from a `ScopeSet`; an unreadable value shows as none.
        scopes: ScopeSet::from_csv(&row.scopes).unwrap_or_default(),
        environment,
        created_at: row.created_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        last_used_at: row.last_used_at,
    }
}

/// JSON text of a key view for the audit log, or `null`.
fn audit_json(key: Option<&ApiKey>) -> String {
    let Some(key) = key else {
        return "null".to_owned();
    };
    let scopes: Vec<&str> = key.scopes.iter().map(Scope::as_str).collect();
    serde_json::json!({
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": scopes,
        "environment": key.environment,
        "createdAt": key.created_at,
        "expiresAt": key.expires_at,
        "revokedAt": key.revoked_at,
    })
    .to_string()
}

/// Appends a key event to the tenant's audit log inside `tx`.
async fn audit(
    tx: &TenantTx,
    scope: &TenantScope,
    action: AuditAction,
    id: i64,
    before: Option<&ApiKey>,
    after: Option<&ApiKey>,
) -> Result<(), AuthError> {
    let environment = after.or(before).and_then(|k| k.environment.clone());
    let id = id.to_string();
    let event = NewAuditEvent::by(
        scope,
        action,
        ("key", &id),
        &environment.unwrap_or_default(),
        audit_json(before),
        audit_json(after),
    );
    tx.append_audit(event).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_need_one_known_name_and_list_unknown_ones() {
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            parse_scopes(&names(&["read", "write"])).unwrap(),
            ScopeSet::of(&[Scope::Read, Scope::Write])
        );
        let err = parse_scopes(&names(&["read", "root", "god"])).unwrap_err();
        assert!(err.to_string().contains("\"root\", \"god\""), "{err}");
        assert!(parse_scopes(&[]).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("  ci  ").unwrap(), "ci");
        assert!(parse_name("   ").is_err());
        assert!(parse_name(&"é".repeat(200)).is_ok());
        assert!(parse_name(&"a".repeat(201)).is_err());
    }

    #[test]
    fn expiry_must_parse_and_lie_ahead() {
        let now = 1_700_000_000_000;
        assert_eq!(
            parse_expiry("2023-11-14T22:13:21Z", now).unwrap(),
            1_700_000_001_000
        );
        assert!(parse_expiry("2023-11-14T22:13:20Z", now).is_err());
        assert!(parse_expiry("tomorrow", now).is_err());
    }
}
