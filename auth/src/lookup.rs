//! Turning presented credentials into a [`TenantScope`], with positive and negative caching.
//!
//! Invariant: a key found in the cache is served without the database. When the database is unreachable
//! a stale entry keeps being served, so evaluation never depends on it.
//! Invariant: a key revoked through this node is refused by it from the next request on, whatever the
//! cache holds; other nodes refuse it once their cached entry is re-checked.
//! Uses are recorded in memory and written by [`Authenticator::flush_last_used`], never per request.

use crate::now_millis;
use crate::rbac::Policy;
use crate::sessions::{Claims, Sessions};
use crate::{AuthError, hash_key};
use flagent_storage::Db;
use flagent_storage::entities::{api_key, tenant};
use flagent_types::{
    EnvironmentId, Grant, Permission, Principal, ProjectId, Scope, ScopeSet, SystemScope, TenantId,
    TenantScope,
};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

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

/// A project as cached for users' requests: key, id, and its environments in order as (key, id).
type ProjectEntry = (String, i64, Vec<(String, i64)>);

/// A tenant's projects and environments as cached for users' requests.
struct TenantEntry {
    tenant: tenant::Model,
    /// Projects in creation order, each with its environments in order: (key, id).
    projects: Vec<ProjectEntry>,
    fetched: Instant,
}

/// A key as cached: the row, its tenant's status and its project's environments in order.
struct Entry {
    key: api_key::Model,
    tenant_active: bool,
    environments: Vec<(String, i64)>,
    fetched: Instant,
}

/// Most negative entries kept before the negative cache is emptied.
const NEGATIVE_CAPACITY: usize = 100_000;

/// Authenticates API keys.
pub struct Authenticator {
    db: Db,
    system: SystemScope,
    ttl: Duration,
    positive: RwLock<HashMap<String, Arc<Entry>>>,
    negative: RwLock<HashMap<String, Instant>>,
    /// Ids of keys revoked through this node: refused even if a lookup racing the revocation cached them.
    revoked: RwLock<HashSet<i64>>,
    /// The last use of each key since the previous flush: key id → (tenant id, milliseconds).
    used: Mutex<HashMap<i64, (i64, i64)>>,
    sessions: Arc<Sessions>,
    policy: Arc<Policy>,
    /// Tenants as users' requests need them, by id.
    tenants: RwLock<HashMap<i64, Arc<TenantEntry>>>,
    /// Changes made through this node that other nodes must apply too.
    events: broadcast::Sender<AuthEvent>,
}

/// A cached API key as the local copy keeps it (see [`Authenticator::export_keys`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyRecord {
    id: i64,
    tenant_id: i64,
    project_id: i64,
    environment_id: Option<i64>,
    name: String,
    prefix: String,
    key_hash: String,
    scopes: String,
    expires_at: Option<i64>,
    tenant_active: bool,
    environments: Vec<(String, i64)>,
}

/// A change to which credentials are accepted, announced to the other nodes of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuthEvent {
    /// An API key was revoked (or rotated out): refuse it at once.
    KeyRevoked {
        /// The key's id.
        id: i64,
    },
    /// Keys, tenants or environments changed (a tenant suspended, resumed or deleted; environments
    /// archived): check every cached entry again.
    Everything,
}

fn poisoned() -> AuthError {
    AuthError::Unexpected(anyhow::anyhow!("the key cache lock was poisoned"))
}

impl Authenticator {
    /// An authenticator over `db`, re-checking cached keys and tenants every `ttl`; users' sessions are
    /// checked by `sessions` and their roles by `policy`.
    pub fn new(
        db: Db,
        system: SystemScope,
        ttl: Duration,
        sessions: Arc<Sessions>,
        policy: Arc<Policy>,
    ) -> Self {
        Self {
            db,
            system,
            ttl,
            positive: RwLock::default(),
            negative: RwLock::default(),
            revoked: RwLock::default(),
            used: Mutex::default(),
            sessions,
            policy,
            tenants: RwLock::default(),
            events: broadcast::Sender::new(1024),
        }
    }

    /// Every [`AuthEvent`] this node causes from now on (revocations, [`Authenticator::forget_all`]),
    /// for telling other nodes; [`Authenticator::apply`] does not announce.
    pub fn events(&self) -> broadcast::Receiver<AuthEvent> {
        self.events.subscribe()
    }

    /// Applies a change another node announced.
    pub fn apply(&self, event: &AuthEvent) {
        match event {
            AuthEvent::KeyRevoked { id } => self.drop_revoked_key(*id),
            AuthEvent::Everything => self.drop_all(),
        }
    }

    fn announce(&self, event: AuthEvent) {
        // Nobody listening is fine: a single node has no one to tell.
        let _ = self.events.send(event);
    }

    /// The role policy users are checked against.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The sessions users sign in with.
    pub fn sessions(&self) -> &Arc<Sessions> {
        &self.sessions
    }

    /// Resolves `credentials` to a scope allowed to do what `need` guards: an API key in its tenant,
    /// project and environment, or a signed-in member in the tenant, project and environment they chose.
    pub async fn authenticate(
        &self,
        credentials: Credentials<'_>,
        need: Need,
    ) -> Result<Authenticated, AuthError> {
        if let Some(key) = credentials.key.filter(|k| k.starts_with("flg_")) {
            let scope = self.authenticate_key(key, credentials.environment).await?;
            let allowed =
                matches!(scope.grant(), Grant::Key { scopes, .. } if scopes.allows(need.scope));
            if !allowed {
                return Err(AuthError::Forbidden(format!(
                    "this API key lacks the {:?} scope this route needs",
                    need.scope.as_str()
                )));
            }
            return Ok(Authenticated {
                scope,
                session: None,
            });
        }
        let claims = self.session(&credentials).await?;
        self.authorize_user(claims, &credentials, need).await
    }

    /// The session a request presents, checked: a Bearer session token, or the session cookie, with
    /// which a request that changes data must echo the session's CSRF value (`X-CSRF-Token`).
    pub async fn session(&self, credentials: &Credentials<'_>) -> Result<Claims, AuthError> {
        match credentials.key.filter(|k| !k.is_empty()) {
            Some(key) if key.starts_with("flg_") => Err(AuthError::Forbidden(
                "this route is for signed-in users; API keys cannot use it".to_owned(),
            )),
            Some(token) => self.sessions.verify(token).await,
            None => {
                let cookie = credentials
                    .session_cookie
                    .filter(|c| !c.is_empty())
                    .ok_or(AuthError::Missing)?;
                let claims = self.sessions.verify(cookie).await?;
                if credentials.changes_data && credentials.csrf != Some(claims.csrf.as_str()) {
                    return Err(AuthError::CsrfFailed);
                }
                Ok(claims)
            }
        }
    }

    async fn authorize_user(
        &self,
        claims: Claims,
        credentials: &Credentials<'_>,
        need: Need,
    ) -> Result<Authenticated, AuthError> {
        let user = claims.user_id()?;
        let tenant = self.choose_tenant(user, credentials.tenant).await?;
        let entry = self.tenant_entry(tenant).await?;
        match entry.tenant.status.as_str() {
            "active" => {}
            "pending" => return Err(AuthError::TenantPending),
            _ => return Err(AuthError::Suspended),
        }
        let (project, environments) = match credentials.project.filter(|p| !p.is_empty()) {
            Some(key) => entry
                .projects
                .iter()
                .find(|(k, _, _)| k == key)
                .map(|(_, id, envs)| (*id, envs))
                .ok_or_else(|| AuthError::ProjectNotFound(key.to_owned()))?,
            None => entry
                .projects
                .first()
                .map(|(_, id, envs)| (*id, envs))
                .ok_or_else(|| AuthError::ProjectNotFound(String::new()))?,
        };
        let (env_key, environment) = match credentials.environment.filter(|e| !e.is_empty()) {
            Some(name) => environments
                .iter()
                .find(|(k, _)| k == name)
                .cloned()
                .ok_or_else(|| AuthError::EnvironmentNotFound(name.to_owned()))?,
            None => environments
                .first()
                .cloned()
                .ok_or_else(|| AuthError::EnvironmentNotFound(String::new()))?,
        };
        let granted = self.policy.granted(user, tenant, &env_key).await;
        if !granted.contains_index(need.index) {
            let role = self.policy.role_of(user, tenant).await.unwrap_or_default();
            let place = if need.per_environment {
                format!(" in {env_key}")
            } else {
                String::new()
            };
            return Err(AuthError::Forbidden(format!(
                "your role {role:?} does not grant {}{place}",
                need.permission
            )));
        }
        let principal = Principal::User {
            id: user,
            email: claims.email.clone(),
        };
        // A member's scope carries what their role grants, the per-environment part in this environment.
        #[allow(clippy::disallowed_methods)]
        let scope = TenantScope::assume_authenticated(
            TenantId(tenant),
            ProjectId(project),
            EnvironmentId(environment),
            principal,
            Grant::Member {
                permissions: granted,
                environment: EnvironmentId(environment),
            },
        );
        Ok(Authenticated {
            scope,
            session: Some(claims),
        })
    }

    /// The tenant a user's request acts in: the one named (by id or key) if they are a member, else
    /// their only one.
    async fn choose_tenant(&self, user: i64, asked: Option<&str>) -> Result<i64, AuthError> {
        match asked.map(str::trim).filter(|t| !t.is_empty()) {
            Some(asked) => {
                let id = match asked.parse::<i64>() {
                    Ok(id) => Some(id),
                    Err(_) => self
                        .db
                        .system(&self.system)
                        .tenant_by_key(asked)
                        .await?
                        .map(|t| t.id),
                };
                match id {
                    Some(id) if self.policy.role_of(user, id).await.is_some() => Ok(id),
                    _ => Err(AuthError::TenantNotFound(asked.to_owned())),
                }
            }
            None => match self.policy.tenants_of(user).await.as_slice() {
                [] => Err(AuthError::TenantNotFound(String::new())),
                [only] => Ok(*only),
                _ => Err(AuthError::TenantRequired),
            },
        }
    }

    async fn tenant_entry(&self, tenant: i64) -> Result<Arc<TenantEntry>, AuthError> {
        let cached = self
            .tenants
            .read()
            .ok()
            .and_then(|t| t.get(&tenant).cloned());
        if let Some(entry) = cached.as_ref().filter(|e| e.fetched.elapsed() < self.ttl) {
            return Ok(entry.clone());
        }
        match (self.load_tenant(tenant).await, cached) {
            (Ok(entry), _) => {
                let entry = Arc::new(entry);
                if let Ok(mut t) = self.tenants.write() {
                    t.insert(tenant, entry.clone());
                }
                Ok(entry)
            }
            (Err(AuthError::Unavailable(_)), Some(stale)) => Ok(stale),
            (Err(e), _) => Err(e),
        }
    }

    async fn load_tenant(&self, id: i64) -> Result<TenantEntry, AuthError> {
        let tenant = self
            .db
            .system(&self.system)
            .tenant(id)
            .await?
            .ok_or_else(|| AuthError::TenantNotFound(id.to_string()))?;
        let db = self.db.scoped_for_system(&self.system, TenantId(id));
        let mut projects = Vec::new();
        for project in db.projects().await? {
            let environments = db
                .environments_of_project(project.id)
                .await?
                .into_iter()
                .map(|e| (e.key, e.id))
                .collect();
            projects.push((project.key, project.id, environments));
        }
        Ok(TenantEntry {
            tenant,
            projects,
            fetched: Instant::now(),
        })
    }

    /// Resolves an API key to a scope in its tenant, project and environment.
    async fn authenticate_key(
        &self,
        key: &str,
        environment: Option<&str>,
    ) -> Result<TenantScope, AuthError> {
        if key.len() > 128 {
            return Err(AuthError::Invalid);
        }
        let entry = self
            .lookup(&hash_key(key))
            .await?
            .ok_or(AuthError::Invalid)?;
        let row = &entry.key;
        let now = now_millis();
        let revoked_here = self
            .revoked
            .read()
            .map_err(|_| poisoned())?
            .contains(&row.id);
        if row.revoked_at.is_some() || revoked_here || row.expires_at.is_some_and(|e| e <= now) {
            return Err(AuthError::Invalid);
        }
        if !entry.tenant_active {
            return Err(AuthError::Suspended);
        }
        let environment = resolve_environment(&entry, environment)?;
        let scopes = ScopeSet::from_csv(&row.scopes).map_err(|_| AuthError::Invalid)?;
        self.record_use(row.tenant_id, row.id, now);
        let principal = Principal::ApiKey {
            id: row.id,
            name: row.name.clone(),
            prefix: row.prefix.clone(),
        };
        #[allow(clippy::disallowed_methods)]
        let scope = TenantScope::assume_authenticated(
            TenantId(row.tenant_id),
            ProjectId(row.project_id),
            EnvironmentId(environment),
            principal,
            Grant::Key {
                scopes,
                bound: row.environment_id.map(EnvironmentId),
            },
        );
        Ok(scope)
    }

    /// Loads every live key into the cache, so keys are served from memory from the first request on,
    /// even if the database becomes unreachable later. Returns how many keys were loaded.
    pub async fn warm(&self) -> Result<usize, AuthError> {
        let system = self.db.system(&self.system);
        let active: HashMap<i64, bool> = system
            .tenants()
            .await?
            .into_iter()
            .map(|t| (t.id, t.status == "active"))
            .collect();
        let mut environments: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
        for e in system.all_environments().await? {
            environments
                .entry(e.project_id)
                .or_default()
                .push((e.key, e.id));
        }
        let keys = system.live_api_keys().await?;
        let count = keys.len();
        let fetched = Instant::now();
        let mut positive = self.positive.write().map_err(|_| poisoned())?;
        for key in keys {
            let entry = Entry {
                tenant_active: active.get(&key.tenant_id).copied().unwrap_or(false),
                environments: environments
                    .get(&key.project_id)
                    .cloned()
                    .unwrap_or_default(),
                fetched,
                key,
            };
            positive.insert(entry.key.key_hash.clone(), Arc::new(entry));
        }
        Ok(count)
    }

    /// Every live key this node holds in its cache, for the local copy a node starts from while the
    /// database is unreachable (hashes only: a key cannot be recovered from its record).
    pub fn export_keys(&self) -> Vec<KeyRecord> {
        let Ok(positive) = self.positive.read() else {
            return Vec::new();
        };
        let revoked = self.revoked.read().map(|r| r.clone()).unwrap_or_default();
        let mut records: Vec<KeyRecord> = positive
            .values()
            .filter(|e| e.key.revoked_at.is_none() && !revoked.contains(&e.key.id))
            .map(|e| KeyRecord {
                id: e.key.id,
                tenant_id: e.key.tenant_id,
                project_id: e.key.project_id,
                environment_id: e.key.environment_id,
                name: e.key.name.clone(),
                prefix: e.key.prefix.clone(),
                key_hash: e.key.key_hash.clone(),
                scopes: e.key.scopes.clone(),
                expires_at: e.key.expires_at,
                tenant_active: e.tenant_active,
                environments: e.environments.clone(),
            })
            .collect();
        records.sort_by_key(|r| r.id);
        records
    }

    /// Fills the cache from a local copy ([`Authenticator::export_keys`]) when the database cannot be
    /// reached at start; entries are re-checked against the database once it answers.
    pub fn import_keys(&self, records: Vec<KeyRecord>) -> usize {
        let Ok(mut positive) = self.positive.write() else {
            return 0;
        };
        let count = records.len();
        for r in records {
            let entry = Entry {
                key: api_key::Model {
                    id: r.id,
                    tenant_id: r.tenant_id,
                    project_id: r.project_id,
                    environment_id: r.environment_id,
                    name: r.name,
                    prefix: r.prefix,
                    key_hash: r.key_hash,
                    scopes: r.scopes,
                    created_at: 0,
                    expires_at: r.expires_at,
                    revoked_at: None,
                    last_used_at: None,
                },
                tenant_active: r.tenant_active,
                environments: r.environments,
                fetched: Instant::now(),
            };
            positive.insert(entry.key.key_hash.clone(), Arc::new(entry));
        }
        count
    }

    /// Drops every cached entry (after keys, tenants or environments change), here and, through the
    /// announced event, on the other nodes.
    pub fn forget_all(&self) {
        self.drop_all();
        self.announce(AuthEvent::Everything);
    }

    fn drop_all(&self) {
        if let Ok(mut t) = self.tenants.write() {
            t.clear();
        }
        if let Ok(mut p) = self.positive.write() {
            p.clear();
        }
        if let Ok(mut n) = self.negative.write() {
            n.clear();
        }
    }

    /// Stops accepting key `id` on this node at once, after it was revoked: its cached entry is dropped
    /// and the id is refused from now on, even if a lookup that raced the revocation caches the old row.
    pub fn forget_revoked_key(&self, id: i64) {
        self.drop_revoked_key(id);
        self.announce(AuthEvent::KeyRevoked { id });
    }

    fn drop_revoked_key(&self, id: i64) {
        if let Ok(mut revoked) = self.revoked.write() {
            revoked.insert(id);
        }
        if let Ok(mut p) = self.positive.write() {
            p.retain(|_, entry| entry.key.id != id);
        }
    }

    /// Writes the last use of every key used since the previous flush (one update per key) and returns
    /// how many keys were written. The server calls it every minute, so `last_used_at` moves at most once
    /// a minute per key and no request waits for it; tests call it directly. When the database fails,
    /// the unwritten uses are kept for the next flush.
    #[tracing::instrument(skip_all)]
    pub async fn flush_last_used(&self) -> Result<usize, AuthError> {
        let pending: Vec<(i64, (i64, i64))> =
            std::mem::take(&mut *self.used.lock().map_err(|_| poisoned())?)
                .into_iter()
                .collect();
        for (done, &(id, (tenant, at))) in pending.iter().enumerate() {
            let db = self.db.scoped_for_system(&self.system, TenantId(tenant));
            if let Err(err) = db.record_api_key_use(id, at).await {
                self.keep_uses(&pending[done..]);
                return Err(err.into());
            }
        }
        Ok(pending.len())
    }

    /// The database keys are managed in.
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    fn record_use(&self, tenant: i64, id: i64, at: i64) {
        if let Ok(mut used) = self.used.lock() {
            used.insert(id, (tenant, at));
        }
    }

    fn keep_uses(&self, uses: &[(i64, (i64, i64))]) {
        if let Ok(mut used) = self.used.lock() {
            for &(id, (tenant, at)) in uses {
                let kept = used.entry(id).or_insert((tenant, at));
                kept.1 = kept.1.max(at);
            }
        }
    }

    async fn lookup(&self, hash: &str) -> Result<Option<Arc<Entry>>, AuthError> {
        let cached = self.positive.read().ok().and_then(|p| p.get(hash).cloned());
        if let Some(entry) = cached.as_ref().filter(|e| e.fetched.elapsed() < self.ttl) {
            return Ok(Some(entry.clone()));
        }
        let negative = self.negative.read().ok().and_then(|n| n.get(hash).copied());
        if cached.is_none() && negative.is_some_and(|at| at.elapsed() < self.ttl) {
            return Ok(None);
        }
        match self.load(hash).await {
            Ok(Some(entry)) => {
                let entry = Arc::new(entry);
                if let Ok(mut p) = self.positive.write() {
                    p.insert(hash.to_owned(), entry.clone());
                }
                Ok(Some(entry))
            }
            Ok(None) => {
                if let Ok(mut n) = self.negative.write() {
                    if n.len() >= NEGATIVE_CAPACITY {
                        n.clear();
                    }
                    n.insert(hash.to_owned(), Instant::now());
                }
                if let Ok(mut p) = self.positive.write() {
                    p.remove(hash);
                }
                Ok(None)
            }
            Err(AuthError::Unavailable(_)) if cached.is_some() => Ok(cached),
            Err(e) => Err(e),
        }
    }

    async fn load(&self, hash: &str) -> Result<Option<Entry>, AuthError> {
        let system = self.db.system(&self.system);
        let Some(key) = system.api_key_by_hash(hash).await? else {
            return Ok(None);
        };
        let tenant_active = system
            .tenant(key.tenant_id)
            .await?
            .is_some_and(|t| t.status == "active");
        let environments = self
            .db
            .scoped_for_system(&self.system, TenantId(key.tenant_id))
            .environments_of_project(key.project_id)
            .await?
            .into_iter()
            .map(|e| (e.key, e.id))
            .collect();
        Ok(Some(Entry {
            key,
            tenant_active,
            environments,
            fetched: Instant::now(),
        }))
    }
}

/// The environment a request acts in: the key's own, or the requested one of its project, or the
/// project's first.
fn resolve_environment(entry: &Entry, requested: Option<&str>) -> Result<i64, AuthError> {
    let requested = requested.filter(|r| !r.is_empty());
    match (entry.key.environment_id, requested) {
        (Some(bound), None) => Ok(bound),
        (Some(bound), Some(name)) => match entry.environments.iter().find(|(k, _)| k == name) {
            Some((_, id)) if *id == bound => Ok(bound),
            _ => Err(AuthError::EnvironmentForbidden(name.to_owned())),
        },
        (None, Some(name)) => entry
            .environments
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, id)| *id)
            .ok_or_else(|| AuthError::EnvironmentNotFound(name.to_owned())),
        (None, None) => entry
            .environments
            .first()
            .map(|(_, id)| *id)
            .ok_or_else(|| AuthError::EnvironmentNotFound(String::new())),
    }
}
