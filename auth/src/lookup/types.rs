//! The values the authenticator takes and gives: what a request presented ([`Credentials`]), what a
//! route needs ([`Need`]), the outcome ([`Authenticated`]), a key as the local copy keeps it
//! ([`KeyRecord`]) and the changes nodes announce to each other ([`AuthEvent`]).
//!
//! Invariant: [`AuthEvent`] is JSON on the cluster channel; an event kind this version does not know
//! reads as [`AuthEvent::Everything`], so a newer node's announcement makes an older one re-check all
//! it holds rather than be ignored.

use crate::sessions::Claims;
use flagent_types::{Permission, Scope, TenantScope};

/// What a request presented.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials<'a> {
    /// The token from `Authorization: Bearer` or `X-API-Key`: an API key (`flg_…`) or a session token.
    pub key: Option<&'a str>,
    /// The session token from the session cookie.
    pub session_cookie: Option<&'a str>,
    /// The `X-CSRF-Token` header, which a cookie-authenticated request that changes data must carry.
    pub csrf: Option<&'a str>,
    /// Whether the request may change data (any method but GET, HEAD and OPTIONS).
    pub changes_data: bool,
    /// The tenant asked for with `X-Tenant-ID` (its id or key); users only.
    pub tenant: Option<&'a str>,
    /// The project asked for with `X-Project` (its key); users only, default the tenant's first.
    pub project: Option<&'a str>,
    /// The environment asked for with `X-Environment` or `?environment=`.
    pub environment: Option<&'a str>,
}

/// What a route needs: the API key scope and the role permission of its [`Permission`].
#[derive(Debug, Clone, Copy)]
pub struct Need {
    /// The scope an API key must hold.
    pub scope: Scope,
    /// The permission a user's role must grant.
    pub permission: &'static str,
    /// Whether the permission is checked in the request's environment.
    pub per_environment: bool,
    /// The permission's marker ([`Permission::INDEX`]).
    pub index: u8,
}

impl Need {
    /// What `P` guards.
    pub fn of<P: Permission>() -> Need {
        Need {
            scope: P::SCOPE,
            permission: P::NAME,
            per_environment: P::PER_ENVIRONMENT,
            index: P::INDEX,
        }
    }
}

/// An authenticated, authorised request.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The caller's scope.
    pub scope: TenantScope,
    /// The session's claims, when a user signed in.
    pub session: Option<Claims>,
}

/// A cached API key as the local copy keeps it (see [`Authenticator::export_keys`]).
///
/// [`Authenticator::export_keys`]: crate::Authenticator::export_keys
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyRecord {
    pub(super) id: i64,
    pub(super) tenant_id: i64,
    pub(super) project_id: i64,
    pub(super) environment_id: Option<i64>,
    pub(super) name: String,
    pub(super) prefix: String,
    pub(super) key_hash: String,
    pub(super) scopes: String,
    pub(super) expires_at: Option<i64>,
    pub(super) tenant_active: bool,
    pub(super) environments: Vec<(String, i64)>,
}

/// A change to which credentials are accepted, announced to the other nodes of a cluster.
///
/// Only a revocation drops an entry; the other kinds mark entries stale, so they are read again on
/// their next use and the last good copy keeps serving while the database cannot be reached.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuthEvent {
    /// An API key was revoked (or rotated out): refuse it at once.
    KeyRevoked {
        /// The key's id.
        id: i64,
    },
    /// A tenant changed (suspended, resumed, activated, deleted, or its environments changed): check its
    /// cached keys and its cached projects again on their next use.
    TenantChanged {
        /// The tenant's id.
        tenant: i64,
    },
    /// Anything may have changed (announcements were lost, or an older node said so, or a newer node
    /// sent a kind this version does not know): check every cached entry again on its next use.
    #[serde(other)]
    Everything,
}
